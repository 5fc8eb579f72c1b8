package harness

import (
	"context"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/workloads"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/time/rate"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/workloads/queue"
)

// sendOnly makes the queue client generate only sends, so that the harness can be compared with
// a bare producer loop doing the same requests.
type sendOnly struct {
	workloads.Client
	values *queue.Values
}

func (s sendOnly) Next(p history.Process, rng *rand.Rand) history.Op {
	return history.SendInvoke(p, "bench/"+strconv.Itoa(rng.IntN(4)), history.IntValue(s.values.Next()))
}

// BenchmarkHarnessOverhead compares, against the same cluster, the sends per second the harness
// records (queue client, recorder, history file, process discipline) with a bare kafka-go loop of
// single-record Produce requests at the same concurrency and acks=all. It reports both rates and
// their ratio (target: at least 90 %). Run it with
// go test -run '^$' -bench HarnessOverhead -benchtime 1x ./harness
func BenchmarkHarnessOverhead(b *testing.B) {
	const concurrency = 10
	const phase = 5 * time.Second
	const rounds = 4
	ctx := context.Background()
	c, err := broker.Start(ctx, broker.ClusterSpec{}, broker.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.CreateTopic(ctx, broker.TopicSpec{Name: "bench", Partitions: 4, ReplicationFactor: 3}); err != nil {
		b.Fatal(err)
	}
	// The cluster gets faster as its JIT warms and the machine's load varies: warm up first, then
	// alternate short phases of each kind and compare the totals.
	bareLoop(ctx, c, concurrency, 5*time.Second)
	var bare, harness float64
	for b.Loop() {
		for round := range rounds {
			if round%2 == 0 {
				bare += float64(bareLoop(ctx, c, concurrency, phase))
				harness += harnessSends(b, c, concurrency, phase)
			} else {
				harness += harnessSends(b, c, concurrency, phase)
				bare += float64(bareLoop(ctx, c, concurrency, phase))
			}
		}
	}
	measured := float64(b.N*rounds) * phase.Seconds()
	bareRate, harnessRate := bare/measured, harness/measured
	b.ReportMetric(bareRate, "bare-sends/s")
	b.ReportMetric(harnessRate, "harness-sends/s")
	b.ReportMetric(100*harnessRate/bareRate, "%-of-bare")
}

func bareLoop(ctx context.Context, c *broker.Cluster, concurrency int, d time.Duration) int64 {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var ok atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() {
			tr := &kafka.Transport{MetadataTTL: time.Second}
			defer tr.CloseIdleConnections()
			kc := &kafka.Client{Addr: kafka.TCP(c.BootstrapAddrs()...), Transport: tr}
			rng := rand.New(rand.NewPCG(1, uint64(w)))
			for ctx.Err() == nil {
				v := next.Add(1)
				opCtx, opCancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				resp, err := kc.Produce(opCtx, &kafka.ProduceRequest{Topic: "bench", Partition: rng.IntN(4), RequiredAcks: kafka.RequireAll,
					Records: kafka.NewRecordReader(kafka.Record{Value: kafka.NewBytes([]byte(strconv.FormatInt(v, 10)))})})
				opCancel()
				if err == nil && resp.Error == nil {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return ok.Load()
}

func harnessSends(b *testing.B, c *broker.Cluster, concurrency int, d time.Duration) float64 {
	rec, err := NewRecorder(filepath.Join(b.TempDir(), "history.jsonl"), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	s := spec.Spec{Topic: "bench", Partitions: 4, Acks: "all", Concurrency: concurrency, OpTimeout: spec.Duration(5 * time.Second)}
	queueWork := newWorkload(s, c, nil)
	defer queueWork.Close()
	var values queue.Values
	r := &run{spec: s, rec: rec, cluster: c, work: workloadFunc(func() (workloads.Client, error) {
		cl, err := queueWork.NewClient()
		return sendOnly{cl, &values}, err
	})}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	limiter := rate.NewLimiter(rate.Inf, concurrency)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() { _ = r.worker(ctx, w, limiter) })
	}
	wg.Wait()
	if err := rec.Close(); err != nil {
		b.Fatal(err)
	}
	return float64(rec.Counts().OK)
}
