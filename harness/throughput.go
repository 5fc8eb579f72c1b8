package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/workloads/queue"
)

// ThroughputOptions configure BenchThroughput; zero fields take the defaults shown.
type ThroughputOptions struct {
	// Cluster is the cluster to start (zero: kchaos run's default cluster).
	Cluster broker.ClusterSpec
	// Partitions of the benchmark's topic (8).
	Partitions int
	// Levels are the concurrencies measured (1, 4, 16, 64).
	Levels []int
	// Phase is how long each measurement lasts (10s).
	Phase time.Duration
	// Rounds is how many measurements of each client each level gets (2), alternating which
	// client goes first, so that a cluster that warms up or a machine whose load changes favours
	// neither.
	Rounds int
	// Logf receives a line per phase; nil discards them.
	Logf func(format string, args ...any)
}

// Clients measured by BenchThroughput.
const (
	// ClientKchaos is kchaos's queue workload driven by the harness's workers, recording its
	// history as a run does.
	ClientKchaos = "kchaos"
	// ClientBare is the same sends and polls through kafka-go alone (queue.RunBare).
	ClientBare = "kafka-go"
)

// ThroughputRow is what one client did at one concurrency, over all its rounds.
type ThroughputRow struct {
	Concurrency int
	Client      string
	// OK and NotOK count the sends and polls that ended ok, and those that did not.
	OK, NotOK int
	// Elapsed is the time measured.
	Elapsed time.Duration
	// Send and Poll are the latencies of the ok sends and polls.
	Send, Poll Quantiles
}

// OKPerSecond is the rate of ok sends and polls.
func (r ThroughputRow) OKPerSecond() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

// Quantiles of a set of latencies.
type Quantiles struct {
	N             int
	P50, P90, P99 time.Duration
}

// quantiles returns the quantiles of ds, which it sorts.
func quantiles(ds []time.Duration) Quantiles {
	if len(ds) == 0 {
		return Quantiles{}
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration { return ds[int(q*float64(len(ds)-1))] }
	return Quantiles{N: len(ds), P50: at(.5), P90: at(.9), P99: at(.99)}
}

// ThroughputTable is BenchThroughput's answer: a row per concurrency and client.
type ThroughputTable struct {
	Partitions int
	Phase      time.Duration
	Rounds     int
	Rows       []ThroughputRow
}

// Markdown writes the table as Markdown, with kchaos's rate as a share of the bare client's.
func (t ThroughputTable) Markdown() string {
	var b strings.Builder
	b.WriteString("| concurrency | client | ok ops/s | of bare | send p50 | send p99 | poll p50 | poll p99 | not ok |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	bare := map[int]float64{}
	for _, r := range t.Rows {
		if r.Client == ClientBare {
			bare[r.Concurrency] = r.OKPerSecond()
		}
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	for _, r := range t.Rows {
		share := ""
		if base := bare[r.Concurrency]; base > 0 {
			share = fmt.Sprintf("%.0f %%", 100*r.OKPerSecond()/base)
		}
		fmt.Fprintf(&b, "| %d | %s | %.0f | %s | %s | %s | %s | %s | %d |\n", r.Concurrency, r.Client, r.OKPerSecond(), share,
			ms(r.Send.P50), ms(r.Send.P99), ms(r.Poll.P50), ms(r.Poll.P99), r.NotOK)
	}
	return b.String()
}

// BenchThroughput starts a cluster and measures, at each concurrency, the ok sends and polls per
// second and their latencies of kchaos's workload (harness workers, queue clients, the recorder
// writing a history) and of the same requests through kafka-go alone, in alternating phases
// against one topic per concurrency. The workers run unthrottled: the rate is what the cluster, the machine
// and the client allow.
func BenchThroughput(ctx context.Context, opts ThroughputOptions) (ThroughputTable, error) {
	if opts.Partitions == 0 {
		opts.Partitions = 8
	}
	if len(opts.Levels) == 0 {
		opts.Levels = []int{1, 4, 16, 64}
	}
	if opts.Phase == 0 {
		opts.Phase = 10 * time.Second
	}
	if opts.Rounds == 0 {
		opts.Rounds = 2
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	table := ThroughputTable{Partitions: opts.Partitions, Phase: opts.Phase, Rounds: opts.Rounds}
	s := spec.Defaults()
	if opts.Cluster.Brokers != 0 {
		s.Cluster = opts.Cluster
	}
	s = s.WithDefaults()
	s.Topic, s.Partitions, s.Rate = "bench", opts.Partitions, spec.Unlimited

	dir, err := os.MkdirTemp("", "kchaos-bench-")
	if err != nil {
		return table, fmt.Errorf("benchmark histories: %w", err)
	}
	defer os.RemoveAll(dir)

	logf("starting the cluster")
	c, err := broker.Start(ctx, s.Cluster, broker.Options{Logf: logf})
	if err != nil {
		return table, fmt.Errorf("start the cluster: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	// Consumers read their partitions from offset 0 when assigned: each concurrency gets a topic
	// of its own, so that the later ones do not read what the earlier ones wrote.
	topic := func(s spec.Spec) error {
		if err := c.CreateTopic(ctx, broker.TopicSpec{Name: s.Topic, Partitions: s.Partitions, ReplicationFactor: s.Cluster.ReplicationFactor}); err != nil {
			return err
		}
		ready := queue.New(queueOptions(s, c, nil))
		defer ready.Close()
		return ready.WaitReady(ctx)
	}
	if err := topic(s); err != nil {
		return table, err
	}
	// A JVM that just started is slower than it will be: warm it before measuring.
	logf("warming up")
	warm := s
	warm.Concurrency = 16
	if _, err := queue.RunBare(ctx, queueOptions(warm, c, nil), warm.Concurrency, 2*opts.Phase); err != nil {
		return table, err
	}

	phases := 0
	for i, level := range opts.Levels {
		ls := s
		ls.Concurrency, ls.Topic = level, fmt.Sprintf("%s-%d", s.Topic, level)
		if err := topic(ls); err != nil {
			return table, err
		}
		var kchaos, bare []queue.Sample
		var kchaosTime, bareTime time.Duration
		for round := range opts.Rounds {
			order := []string{ClientKchaos, ClientBare}
			if (i+round)%2 == 1 {
				slices.Reverse(order)
			}
			for _, client := range order {
				if err := ctx.Err(); err != nil {
					return table, err
				}
				logf("concurrency %d, round %d: %s", level, round+1, client)
				started := time.Now()
				var samples []queue.Sample
				var err error
				if client == ClientKchaos {
					phases++
					var elapsed time.Duration
					samples, elapsed, err = kchaosPhase(ctx, c, ls, filepath.Join(dir, fmt.Sprintf("history-%d.jsonl", phases)), opts.Phase)
					kchaos, kchaosTime = append(kchaos, samples...), kchaosTime+elapsed
				} else {
					samples, err = queue.RunBare(ctx, queueOptions(ls, c, nil), level, opts.Phase)
					bare, bareTime = append(bare, samples...), bareTime+time.Since(started)
				}
				if err != nil {
					return table, fmt.Errorf("%s at concurrency %d: %w", client, level, err)
				}
			}
		}
		table.Rows = append(table.Rows, throughputRow(level, ClientKchaos, kchaos, kchaosTime),
			throughputRow(level, ClientBare, bare, bareTime))
	}
	return table, nil
}

func throughputRow(level int, client string, samples []queue.Sample, elapsed time.Duration) ThroughputRow {
	row := ThroughputRow{Concurrency: level, Client: client, Elapsed: elapsed}
	var send, poll []time.Duration
	for _, s := range samples {
		if !s.OK {
			row.NotOK++
			continue
		}
		row.OK++
		if s.F == history.FSend {
			send = append(send, s.Latency)
		} else {
			poll = append(poll, s.Latency)
		}
	}
	row.Send, row.Poll = quantiles(send), quantiles(poll)
	return row
}

// kchaosPhase runs the harness's workers with the queue workload for d, recording the history to
// path, and returns the sends and polls the history holds, timed from invocation to completion,
// and how long the workers ran.
func kchaosPhase(ctx context.Context, c *broker.Cluster, s spec.Spec, path string, d time.Duration) ([]queue.Sample, time.Duration, error) {
	work := newWorkload(s, c, nil)
	defer work.Close()
	if err := work.WaitReady(ctx); err != nil {
		return nil, 0, err
	}
	started := time.Now()
	rec, err := NewRecorder(path, started)
	if err != nil {
		return nil, 0, err
	}
	r := &run{spec: s, rec: rec, cluster: c, work: work, opts: Options{Logf: func(string, ...any) {}}}
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	limiter := rate.NewLimiter(rate.Inf, s.Concurrency)
	errs := make([]error, s.Concurrency)
	var wg sync.WaitGroup
	for w := range s.Concurrency {
		wg.Go(func() { errs[w] = r.worker(wctx, w, limiter) })
	}
	wg.Wait()
	elapsed := time.Since(started)
	if err := rec.Close(); err != nil {
		return nil, 0, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, 0, err
		}
	}
	ops, err := history.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	partner, err := history.Pair(ops)
	if err != nil {
		return nil, 0, fmt.Errorf("benchmark history: %w", err)
	}
	var samples []queue.Sample
	for i, op := range ops {
		if op.Type == history.Invoke || !op.Process.IsClient() || (op.F != history.FSend && op.F != history.FPoll) {
			continue
		}
		samples = append(samples, queue.Sample{F: op.F, OK: op.Type == history.OK,
			Latency: time.Duration(op.Time - ops[partner[i]].Time)})
	}
	return samples, elapsed, nil
}
