package nemesis

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/stretchr/testify/require"
)

// failingDescribe fails its first `failures` calls, each with an error naming the call, and then
// returns snap. It counts its calls.
type failingDescribe struct {
	failures int
	snap     broker.Snapshot
	calls    int
}

func (d *failingDescribe) describe(context.Context) (broker.Snapshot, error) {
	d.calls++
	if d.calls <= d.failures {
		return broker.Snapshot{}, fmt.Errorf("describe call %d failed", d.calls)
	}
	return d.snap, nil
}

// retryWithin runs retryDescribe and fails the test if it has not returned after limit.
func retryWithin(t *testing.T, limit time.Duration, ctx context.Context, describe func(context.Context) (broker.Snapshot, error), within, every time.Duration) (broker.Snapshot, error) {
	t.Helper()
	type result struct {
		snap broker.Snapshot
		err  error
	}
	done := make(chan result, 1)
	go func() {
		snap, err := retryDescribe(ctx, describe, within, every)
		done <- result{snap, err}
	}()
	select {
	case r := <-done:
		return r.snap, r.err
	case <-time.After(limit):
		t.Fatalf("retryDescribe has not returned after %s", limit)
		return broker.Snapshot{}, nil
	}
}

func TestRetryDescribeSucceedsAfterFailures(t *testing.T) {
	want := broker.Snapshot{Registered: []int{1, 2, 3}, Partitions: []broker.PartitionState{{Key: "kchaos/0", Leader: 2, ISR: []int{2, 3}}}}
	for _, failures := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("%d failures", failures), func(t *testing.T) {
			d := &failingDescribe{failures: failures, snap: want}
			snap, err := retryWithin(t, 30*time.Second, t.Context(), d.describe, time.Minute, time.Millisecond)
			require.NoError(t, err)
			require.Equal(t, want, snap)
			require.Equal(t, failures+1, d.calls, "describe is called until it succeeds, and no more")
		})
	}
}

func TestRetryDescribeGivesUpAfterTheDeadline(t *testing.T) {
	d := &failingDescribe{failures: 1 << 30}
	within := 50 * time.Millisecond
	start := time.Now()
	_, err := retryWithin(t, 30*time.Second, t.Context(), d.describe, within, 5*time.Millisecond)
	require.GreaterOrEqual(t, time.Since(start), within, "it tries for as long as it was told")
	require.Greater(t, d.calls, 1, "it tries again before the deadline")
	require.EqualError(t, err, fmt.Sprintf("describe call %d failed", d.calls), "it returns the last error")
}

func TestRetryDescribeReturnsAtOnceWhenCtxEnds(t *testing.T) {
	t.Run("during a call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		calls := 0
		errDown := errors.New("the brokers are down")
		describe := func(context.Context) (broker.Snapshot, error) {
			calls++
			cancel()
			return broker.Snapshot{}, errDown
		}
		_, err := retryWithin(t, 30*time.Second, ctx, describe, time.Hour, time.Hour)
		require.ErrorIs(t, err, errDown)
		require.Equal(t, 1, calls, "no call after ctx ended")
	})
	t.Run("between two calls", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		d := &failingDescribe{failures: 1 << 30}
		called := make(chan struct{})
		describe := func(ctx context.Context) (broker.Snapshot, error) {
			defer close(called)
			return d.describe(ctx)
		}
		go func() {
			<-called
			cancel()
		}()
		// Waiting an hour between calls, it returns in time only if it stops waiting when ctx ends.
		_, err := retryWithin(t, 30*time.Second, ctx, describe, time.Hour, time.Hour)
		require.EqualError(t, err, "describe call 1 failed", "it returns describe's error, not ctx's")
		require.Equal(t, 1, d.calls)
	})
}

func TestStepOutcome(t *testing.T) {
	noTarget := fmt.Errorf("%w: no leader for kchaos/0", ErrNoTarget)
	refused := refusal(fmt.Errorf("pause n2: %w: %w", broker.ErrUnableToFreeze, errors.New("unable to freeze")))
	failed := errors.New("nemesis: kill n1: docker is gone")
	cut := fmt.Errorf("nemesis: describe the cluster: %w", context.Canceled)
	for _, tc := range []struct {
		name     string
		err      error
		resolved bool
		ended    bool
		record   bool
		stop     bool
		ret      error
	}{
		{name: "a step that ran goes on", resolved: true},
		{name: "a step that ran as the run ended goes on to its end", resolved: true, ended: true},
		{name: "no target is recorded and skipped", err: noTarget, record: true},
		{name: "a resolve error ends the run", err: failed, record: true, stop: true, ret: failed},
		{name: "a resolve cut short by the run's end records nothing", err: cut, ended: true, stop: true},
		{name: "no target as the run ends records nothing", err: noTarget, ended: true, stop: true},
		{name: "a refused start is skipped, start recorded it", err: refused, resolved: true},
		{name: "no target at start is skipped, start recorded it", err: noTarget, resolved: true},
		{name: "a start or stop error ends the run", err: failed, resolved: true, stop: true, ret: failed},
		{name: "an error as the run ends returns nil", err: failed, resolved: true, ended: true, stop: true},
		{name: "a start refused after Close returns nil", err: ErrClosed, resolved: true, ended: true, stop: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			record, stop, ret := stepOutcome(tc.err, tc.resolved, tc.ended)
			require.Equal(t, tc.record, record, "record")
			require.Equal(t, tc.stop, stop, "stop")
			require.Equal(t, tc.ret, ret, "returned error")
		})
	}
}

func TestRefusal(t *testing.T) {
	freeze := fmt.Errorf("pause n2: %w: %w", broker.ErrUnableToFreeze, errors.New("unable to freeze cgroup"))
	for _, tc := range []struct {
		name    string
		err     error
		refused bool
	}{
		{name: "a node docker could not freeze", err: freeze, refused: true},
		{name: "one of the nodes paused at once", err: errors.Join(nil, freeze, errors.New("pause n3: context canceled")), refused: true},
		{name: "another error", err: errors.New("pause n2: no such container")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := refusal(tc.err)
			require.Equal(t, tc.refused, errors.Is(err, ErrRefused), "refused")
			require.ErrorIs(t, err, tc.err, "the cause stays in the chain")
			if tc.refused {
				require.ErrorIs(t, err, broker.ErrUnableToFreeze)
				_, stop, _ := stepOutcome(err, true, false)
				require.False(t, stop, "Run skips a refused step")
			} else {
				require.Same(t, tc.err, err, "an error that is no refusal is returned as it is")
			}
		})
	}
}
