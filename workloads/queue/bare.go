package queue

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/kchaos/kchaos/history"
)

// Sample is one operation a throughput benchmark timed: its f, whether it ended ok, and how
// long it took.
type Sample struct {
	F       string
	OK      bool
	Latency time.Duration
}

// RunBare runs concurrency workers for d, each sending and polling as the workload's clients do
// (the same mix of operations and the same Produce and Fetch requests, through kafka-go's
// transport) but with none of the rest: no history operations, no recorder, no classification,
// no offset tracking and no rate limit. It is what kchaos's own throughput is measured against:
// the difference is the cost of recording a history. It returns every operation it timed.
func RunBare(ctx context.Context, opts Options, concurrency int, d time.Duration) ([]Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var values Values
	// One transport for every worker, as the workload's clients share theirs.
	tr := newTransport(opts)
	defer tr.CloseIdleConnections()
	samples := make([][]Sample, concurrency)
	errs := make([]error, concurrency)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() { samples[w], errs[w] = bareWorker(ctx, opts, tr, &values, w) })
	}
	wg.Wait()
	var all []Sample
	for w := range samples {
		if errs[w] != nil {
			return nil, errs[w]
		}
		all = append(all, samples[w]...)
	}
	return all, nil
}

func bareWorker(ctx context.Context, opts Options, tr *kafka.Transport, values *Values, w int) ([]Sample, error) {
	c, err := newClient(opts, values, tr)
	if err != nil {
		return nil, err
	}
	defer func() { c.Close() }()
	rng := rand.New(rand.NewPCG(1, uint64(w)))
	keys := opts.Keys()
	var samples []Sample
	for ctx.Err() == nil {
		// The generator's choices, as Client.Next makes them.
		if c.needAssign || rng.IntN(100) == 0 {
			perm := rng.Perm(len(keys))[:1+rng.IntN(len(keys))]
			assign := make([]string, len(perm))
			for i, k := range perm {
				assign[i] = keys[k]
			}
			c.assign(assign)
		}
		send := rng.IntN(2) == 0
		key := keys[rng.IntN(len(keys))]
		// An operation in flight at the end completes, as in the harness.
		opCtx, opCancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.OpTimeout)
		start := time.Now()
		var err error
		if send {
			topic, partition, _ := SplitKey(key)
			_, err = c.produce(opCtx, topic, partition, []byte(strconv.FormatInt(values.Next(), 10)))
		} else {
			var f map[string]fetched
			if f, err = c.fetch(opCtx, c.assigned); err == nil {
				for k, kf := range f {
					c.positions[k] = kf.next
				}
			}
		}
		opCancel()
		f := history.FPoll
		if send {
			f = history.FSend
		}
		samples = append(samples, Sample{F: f, OK: err == nil, Latency: time.Since(start)})
		if err != nil && send && Classify(err) == history.Info {
			// Like the harness after an unknown outcome: a fresh client.
			c.Close()
			if c, err = newClient(opts, values, tr); err != nil {
				return samples, err
			}
		}
	}
	return samples, nil
}
