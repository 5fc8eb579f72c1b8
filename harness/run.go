package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/results"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/workloads"
)

// Options are how a run reports itself; none of them changes what is tested.
type Options struct {
	// Logf receives a line at each phase and step ("starting the cluster", "healing").
	Logf func(format string, args ...any)
	// Progress is called about once a second while the workload runs.
	Progress func(Progress)
}

// Progress is the state of the workload phase, for a live progress line.
type Progress struct {
	Elapsed, TimeLimit time.Duration
	Counts             Counts
	// Faults are the faults active now.
	Faults []string
}

// Outcome is what a run produced.
type Outcome struct {
	// RunDir holds test.json, history.jsonl, results.json, the report and node logs.
	RunDir string
	// Checked is false when the run failed before there was a history to check.
	Checked bool
	// Verdict is valid, invalid or unknown.
	Verdict checkers.Validity
	// AnomalyTypes are the anomalies found, sorted.
	AnomalyTypes []string
	// Result holds every checker's details, as written to results.json; nil when not checked.
	Result *checkers.Result
}

// Run runs the test spec against a fresh cluster and checks its history. An error means the run
// could not be done (bad spec, no Docker, a cluster that never became ready); the verdict, valid
// or not, is in the Outcome. Cancelling ctx (Ctrl-C) stops the workload, heals every fault and
// removes the cluster; the history recorded so far is kept and checked.
func Run(ctx context.Context, s spec.Spec, opts Options) (Outcome, error) {
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		return Outcome{}, err
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	started := time.Now()
	dir, err := results.NewRunDir(s.ResultsDir, s.Name, started)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{RunDir: dir.Path}
	if err := dir.WriteJSON(results.SpecFile, s); err != nil {
		return out, err
	}
	rec, err := NewRecorder(dir.File(results.HistoryFile), started)
	if err != nil {
		return out, err
	}
	r := &run{spec: s, opts: opts, dir: dir, rec: rec, started: started}
	runErr := r.phases(ctx)
	if err := rec.Close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if runErr != nil && !r.workloadStarted {
		// No operation ran against Kafka: there is no history worth a verdict.
		return out, runErr
	}
	opts.Logf("checking the history and writing the report")
	res, err := CheckRunDir(dir.Path, checkers.Options{})
	if err != nil {
		return out, errors.Join(runErr, err)
	}
	out.Checked, out.Verdict, out.AnomalyTypes, out.Result = true, res.Valid, res.AnomalyTypes, res
	return out, runErr
}

type run struct {
	spec    spec.Spec
	started time.Time // the start of the history's clock
	opts    Options
	dir     results.RunDir
	rec     *Recorder
	cluster *broker.Cluster
	faults  Faults
	work    workloads.Workload
	// workloadStarted is set once the first operation may have reached Kafka.
	workloadStarted bool
}

func (r *run) logf(format string, args ...any) { r.opts.Logf(format, args...) }

// phases runs everything from cluster start to teardown. The cluster is always removed, and every
// fault healed, whatever happens, even when ctx is cancelled.
func (r *run) phases(ctx context.Context) (err error) {
	r.logf("starting the cluster (%s, image %s)", r.spec.Cluster.Topology(), r.spec.Cluster.Image)
	c, err := broker.Start(ctx, r.spec.Cluster, broker.Options{Logf: r.opts.Logf})
	if err != nil {
		return fmt.Errorf("start the cluster: %w", err)
	}
	r.cluster = c
	cleanup := context.WithoutCancel(ctx)
	defer func() {
		if r.workloadStarted {
			r.recordMetadataHistory(cleanup)
		}
		r.logf("collecting node logs into %s", r.dir.NodesPath())
		for _, n := range c.Nodes() {
			if lerr := n.CollectLogs(cleanup, r.dir.NodesPath()); lerr != nil {
				r.logf("logs of %s: %v", n.Name, lerr)
			}
		}
		r.logf("removing the cluster")
		err = errors.Join(err, c.Close(cleanup))
	}()

	obs, err := c.Observe(ctx, r.recordObservation)
	if err != nil {
		return err
	}
	defer obs.Close()

	created := time.Now()
	r.logf("creating topic %s (%d partitions, replication factor %d)", r.spec.Topic, r.spec.Partitions, r.spec.Cluster.ReplicationFactor)
	if err := c.CreateTopic(ctx, broker.TopicSpec{Name: r.spec.Topic, Partitions: r.spec.Partitions,
		ReplicationFactor: r.spec.Cluster.ReplicationFactor}); err != nil {
		return err
	}
	if r.faults, err = newFaults(c, r.spec, r.rec); err != nil {
		return err
	}
	r.work = newWorkload(r.spec, c, r.opts.Logf)
	if p, ok := r.work.(workloads.Preparer); ok {
		r.logf("preparing the workload")
		prepCtx, cancel := context.WithTimeout(ctx, r.spec.RecoveryTimeout.D())
		err := p.Prepare(prepCtx)
		cancel()
		if err != nil {
			return fmt.Errorf("prepare the workload: %w", err)
		}
	}
	defer r.work.Close()
	// ZooKeeper says the topic is healthy before the brokers all know it: operations sent before
	// they do fail or time out, and an unknown outcome retires a process for nothing.
	if err := r.work.WaitReady(ctx); err != nil {
		return fmt.Errorf("wait for the workload's keys: %w", err)
	}
	r.logf("every partition has a leader and a full ISR in every broker's metadata, %s after the topic's creation began",
		time.Since(created).Round(time.Millisecond))

	if err := r.dir.MarkLatest(r.spec.ResultsDir); err != nil {
		return err
	}
	r.logf("running the workload for %s", r.spec.TimeLimit.D())
	r.workloadStarted = true
	workErr := r.workload(ctx)
	healErr := r.heal(cleanup)
	if err := errors.Join(workErr, healErr, r.rec.Sync()); err != nil {
		r.skipFinalReads("the run failed: " + err.Error())
		return err
	}
	if ctx.Err() != nil {
		r.skipFinalReads("the run was interrupted")
		return r.rec.Sync()
	}
	r.recover(ctx)
	r.logf("final reads")
	readCtx, cancel := context.WithTimeout(ctx, r.spec.FinalReadTimeout.D())
	defer cancel()
	if err := r.work.FinalReads(readCtx, r.rec); err != nil {
		return err
	}
	return r.rec.Sync()
}

// skipFinalReads records, for every key, final reads that did not happen: without them nothing can
// be called lost or unseen with certainty, and the checkers answer unknown at best.
func (r *run) skipFinalReads(reason string) {
	if r.work != nil {
		r.work.SkipFinalReads(r.rec, reason)
	}
}

// workload runs the clients and the nemesis together for the time limit, with progress.
func (r *run) workload(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.spec.TimeLimit.D())
	defer cancel()
	var wg sync.WaitGroup
	var faultErr error
	if r.faults != nil {
		wg.Go(func() { faultErr = r.faults.Run(ctx) })
	}
	limit := rate.Inf
	if r.spec.Rate > 0 {
		limit = rate.Limit(r.spec.Rate)
	}
	limiter := rate.NewLimiter(limit, max(1, r.spec.Concurrency))
	workerErrs := make([]error, r.spec.Concurrency)
	for w := range r.spec.Concurrency {
		wg.Go(func() { workerErrs[w] = r.worker(ctx, w, limiter) })
	}
	progressDone := make(chan struct{})
	go r.progress(ctx, progressDone)
	wg.Wait()
	<-progressDone
	return errors.Join(append(workerErrs, faultErr)...)
}

func (r *run) progress(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	if r.opts.Progress == nil {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p := Progress{Elapsed: time.Since(start), TimeLimit: r.spec.TimeLimit.D(), Counts: r.rec.Counts()}
			if r.faults != nil {
				p.Faults = r.faults.Active()
			}
			r.opts.Progress(p)
		}
	}
}

// worker runs one client slot. Its processes are w, w+concurrency, w+2*concurrency, ...: a process
// whose operation ended info never issues another, the worker goes on under the next one with a
// fresh client.
func (r *run) worker(ctx context.Context, w int, limiter *rate.Limiter) error {
	rng := rand.New(rand.NewPCG(uint64(r.spec.Seed), uint64(w)))
	process := history.Process(w)
	client, err := r.work.NewClient()
	if err != nil {
		return err
	}
	defer func() { client.Close() }()
	for {
		if err := limiter.Wait(ctx); err != nil {
			return nil // the time limit or an interrupt
		}
		inv := client.Next(process, rng)
		r.rec.Append(&inv)
		// An operation in flight when the time limit passes completes: cancelling it would turn
		// it into an info the cluster did not cause. OpTimeout bounds it.
		done := client.Invoke(context.WithoutCancel(ctx), inv)
		r.rec.Append(&done)
		if done.Type == history.Info {
			process += history.Process(r.spec.Concurrency)
			client.Close()
			if client, err = r.work.NewClient(); err != nil {
				return err
			}
		}
		if err := r.rec.Err(); err != nil {
			return err
		}
	}
}

// heal heals every fault; a heal that fails is returned, not swallowed.
func (r *run) heal(ctx context.Context) error {
	if r.faults == nil {
		return nil
	}
	r.logf("healing every fault")
	if err := r.faults.Heal(ctx); err != nil {
		return fmt.Errorf("heal: %w", err)
	}
	return nil
}

// recover waits, bounded, for every broker to be registered and every partition to have a leader.
// A cluster that does not recover is not an error of the run: final reads then find out what can be
// read, and the checkers judge.
func (r *run) recover(ctx context.Context) {
	r.logf("waiting for the cluster to recover")
	ctx, cancel := context.WithTimeout(ctx, r.spec.RecoveryTimeout.D())
	defer cancel()
	if err := r.cluster.WaitReady(ctx); err != nil {
		r.logf("cluster not recovered: %v", err)
		return
	}
	for {
		snap, err := r.cluster.Describe(ctx)
		if err == nil && allLed(snap, r.work.Keys()) {
			return
		}
		select {
		case <-ctx.Done():
			r.logf("partitions still without a leader after %s", r.spec.RecoveryTimeout.D())
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// allLed reports whether every key has a leader in snap.
func allLed(snap broker.Snapshot, keys []string) bool {
	led := 0
	for _, p := range snap.Partitions {
		if p.Leader >= 0 && slices.Contains(keys, p.Key) {
			led++
		}
	}
	return led == len(keys)
}

// metadataReadTimeout bounds reading the metadata log off the nodes after the run.
const metadataReadTimeout = time.Minute

// recordMetadataHistory appends the exact history of the cluster's metadata, read from the
// system's own log, after everything the run recorded: the election checker decides from it.
func (r *run) recordMetadataHistory(ctx context.Context) {
	r.logf("reading the metadata log")
	ctx, cancel := context.WithTimeout(ctx, metadataReadTimeout)
	defer cancel()
	lines, err := r.cluster.ReadMetadataHistory(ctx, r.started)
	if err != nil {
		// The lines say what could not be read (an incomplete metadata-log line): the verdict
		// then rests on the live observer, and the run goes on.
		r.logf("metadata log: %v", err)
	}
	for i := range lines {
		r.rec.Append(&lines[i])
	}
	if n := len(lines); n > 0 {
		if m, err := lines[n-1].MetadataLog(); err == nil && !m.Complete {
			r.logf("metadata log incomplete: %s", m.Reason)
		}
	}
}

// recordObservation turns what the broker observer saw into an observer line.
func (r *run) recordObservation(o broker.Observation) {
	var op history.Op
	switch v := o.Value.(type) {
	case history.PartitionState:
		op = history.ObservePartitionState(v)
	case history.Controller:
		op = history.ObserveController(v)
	case history.ObserverGap:
		op = history.ObserveGap(v)
	default:
		return
	}
	r.rec.Append(&op)
}
