package harness

import (
	"context"
	"github.com/kchaos/kchaos/broker/brokertest"
	"github.com/kchaos/kchaos/results"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/workloads"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/kchaos/kchaos/history"
)

// scriptedClient completes every third operation info and every fifth fail: the scheduling under
// test does not care what a client talks to.
type scriptedClient struct {
	calls  *atomic.Int64
	closed *atomic.Int64
}

func (c scriptedClient) Next(p history.Process, _ *rand.Rand) history.Op {
	return history.SendInvoke(p, "k/0", history.IntValue(c.calls.Load()))
}

func (c scriptedClient) Invoke(_ context.Context, inv history.Op) history.Op {
	n := c.calls.Add(1)
	switch {
	case n%3 == 0:
		return inv.Complete(history.Info, "timeout")
	case n%5 == 0:
		return inv.Complete(history.Fail, "refused")
	}
	return history.SendOK(inv.Process, "k/0", n, inv.Mops[0].Value)
}

func (c scriptedClient) Close() { c.closed.Add(1) }

// workloadFunc is a workload of clients only, opened by the function: no keys, no final reads.
type workloadFunc func() (workloads.Client, error)

func (w workloadFunc) Keys() []string                                       { return nil }
func (w workloadFunc) NewClient() (workloads.Client, error)                 { return w() }
func (w workloadFunc) WaitReady(context.Context) error                      { return nil }
func (w workloadFunc) Close()                                               {}
func (w workloadFunc) FinalReads(context.Context, workloads.Recorder) error { return nil }
func (w workloadFunc) SkipFinalReads(workloads.Recorder, string)            {}

func TestWorkerRetiresProcessAfterInfo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	rec, err := NewRecorder(path, time.Now())
	require.NoError(t, err)
	var calls, closed, opened atomic.Int64
	const concurrency = 3
	r := &run{spec: spec.Spec{Concurrency: concurrency}, rec: rec,
		work: workloadFunc(func() (workloads.Client, error) { opened.Add(1); return scriptedClient{&calls, &closed}, nil })}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	limiter := rate.NewLimiter(rate.Limit(300), 1)
	done := make(chan error, concurrency)
	for w := range concurrency {
		go func() { done <- r.worker(ctx, w, limiter) }()
	}
	for range concurrency {
		require.NoError(t, <-done)
	}
	require.NoError(t, rec.Close())
	require.Equal(t, opened.Load(), closed.Load(), "every client opened is closed")

	ops, err := history.ReadFile(path)
	require.NoError(t, err)
	retired := map[history.Process]bool{}
	open := map[history.Process]bool{}
	infos := 0
	for _, op := range ops {
		p := op.Process
		switch op.Type {
		case history.Invoke:
			require.False(t, retired[p], "process %d invoked after its info", p)
			require.False(t, open[p], "process %d invoked twice without completing", p)
			open[p] = true
		default:
			require.True(t, open[p], "process %d completed without invoking", p)
			open[p] = false
			if op.Type == history.Info {
				retired[p] = true
				infos++
			}
		}
	}
	require.NotZero(t, infos)
	// Worker w goes through processes w, w+concurrency, w+2*concurrency, ... in turn: every one but
	// its last ended with an info.
	used := map[history.Process]bool{}
	for _, op := range ops {
		used[op.Process] = true
	}
	for w := range history.Process(concurrency) {
		p := w
		for used[p+concurrency] {
			require.True(t, retired[p], "worker %d moved on from process %d without an info", w, p)
			p += concurrency
		}
	}
	require.Len(t, retired, infos)
	for p := range used {
		require.True(t, p == p%concurrency || retired[p-concurrency], "process %d has no retired predecessor", p)
	}
}

// An invalid spec fails before anything is created: not even the run directory.
func TestRunRejectsInvalidSpecBeforeStarting(t *testing.T) {
	dir := t.TempDir()
	_, err := Run(context.Background(), spec.Spec{ResultsDir: dir, Partitions: -1}, Options{})
	require.ErrorContains(t, err, "partitions")
	entries, rerr := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, rerr)
	require.Empty(t, entries)
}

// TestFailedStartLeavesLatestAlone: a run whose cluster never started tested nothing, so
// results/latest stays on the last run that did.
func TestFailedStartLeavesLatestAlone(t *testing.T) {
	brokertest.RequireEngine(t)
	dir := t.TempDir()
	previous := filepath.Join(dir, "earlier", "20260101T000000")
	require.NoError(t, os.MkdirAll(previous, 0o755))
	require.NoError(t, os.Symlink("earlier/20260101T000000", filepath.Join(dir, results.LatestLink)))
	s := spec.Spec{ResultsDir: dir, Name: "never-started", Nemesis: []string{"none"}}
	s.Cluster.Image = "kchaos/no-such-image:0"
	out, err := Run(context.Background(), s, Options{})
	require.ErrorContains(t, err, "no-such-image")
	require.False(t, out.Checked)
	target, err := os.Readlink(filepath.Join(dir, results.LatestLink))
	require.NoError(t, err)
	require.Equal(t, "earlier/20260101T000000", target)
}
