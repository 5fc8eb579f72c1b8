package nemesis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kchaos/kchaos/broker"
)

// Run runs the schedule until ctx ends or the nemesis is closed: it waits Config.Interval, draws a
// step (see Plan), resolves it against the cluster, starts the fault, holds it for Config.Hold
// (and, for a fault that waits for its own outcome, until it has played out: a lag's follower out
// of the ISR, a new leader after jepsen-2013's isolation) and stops it, again and again. A step
// that finds no target (ErrNoTarget), or a fault the system refused and that was undone
// (ErrRefused), is recorded as a start line with that error and skipped. Run
// returns after healing every active fault, whatever ended it: nil when ctx ended or Close was
// called, otherwise the first error of a start or a stop, joined with any error of the final
// heal. A config that does not validate, or a kind that cannot run on the cluster (see
// Failpoint.Available), is returned at once.
func (n *Nemesis) Run(ctx context.Context) (err error) {
	if err := n.cfg.Validate(); err != nil {
		return err
	}
	if err := Available(n.cfg.Kinds, ClusterInfoOf(n.c)); err != nil {
		return err
	}
	if err := AvailableTargets(n.cfg.Targets, ClusterInfoOf(n.c)); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, n.Heal(context.WithoutCancel(ctx))) }()
	if len(n.cfg.Kinds) == 0 {
		select {
		case <-ctx.Done():
		case <-n.closed:
		}
		return nil
	}
	sched := newSchedule(n.cfg)
	for {
		if !n.sleep(ctx, n.cfg.Interval) {
			return nil
		}
		step := sched.next()
		f, err := n.Resolve(ctx, step)
		resolved := err == nil
		if resolved {
			err = n.runStep(ctx, f)
		}
		record, stop, ret := stepOutcome(err, resolved, ctx.Err() != nil || n.isClosed())
		if record {
			n.emit("start-"+string(step.Kind), step, err)
		}
		if stop {
			return ret
		}
	}
}

// stepOutcome says what Run does after a step that returned err: the error of its Resolve, or
// when resolved that of its start or stop, which record their own lines. ended says the run has
// ended (ctx, Close). A step that finds no target or that the system refused is skipped, one
// that failed to resolve recorded as a start line with its error; any other error ends the run,
// which returns it; a run that has ended returns nil, and records nothing of a step it cut
// short while it was being resolved: nothing was tried.
func stepOutcome(err error, resolved, ended bool) (record, stop bool, ret error) {
	if err == nil {
		return false, false, nil
	}
	if ended {
		return false, true, nil
	}
	record = !resolved
	if errors.Is(err, ErrNoTarget) || errors.Is(err, ErrRefused) {
		return record, false, nil
	}
	return record, true, err
}

// runStep starts a fault, holds it for Config.Hold, then for as long as the fault itself waits to
// play out (see fault.await), and stops it.
func (n *Nemesis) runStep(ctx context.Context, f Fault) error {
	id, err := n.Start(ctx, f)
	if err != nil {
		return err
	}
	if !n.sleep(ctx, n.cfg.Hold) {
		return nil
	}
	if flt := n.lookup(id); flt != nil && flt.await != nil {
		flt.await(ctx, flt)
		if ctx.Err() != nil || n.isClosed() {
			return nil
		}
	}
	return n.Stop(ctx, id)
}

// Resolve turns a step into the fault to start, against the cluster as ZooKeeper describes it now.
// It returns an error wrapping ErrNoTarget when the step has nothing to act on, or when no broker
// answered for a while (the brokers of the last fault still restarting, all of them paused):
// a fault aimed at a cluster that cannot be read is skipped, with its reason, not the run.
func (n *Nemesis) Resolve(ctx context.Context, step Step) (Fault, error) {
	snap, err := n.describeRetrying(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return Fault{Kind: step.Kind}, fmt.Errorf("nemesis: describe the cluster: %w", err)
		}
		return Fault{Kind: step.Kind}, fmt.Errorf("%w: the cluster could not be described: %v", ErrNoTarget, err)
	}
	return resolve(step, view{brokers: names(n.c.Brokers()), controllers: names(n.c.ControllerNodes()), snap: snap, topic: n.cfg.Topic,
		traffic: n.cfg.Traffic, loss: n.cfg.LagLoss})
}

// WaitISR polls ZooKeeper until the state of partition key satisfies ok, and returns that state.
// It returns the last state seen with ctx's error if that never happens.
func WaitISR(ctx context.Context, c *broker.Cluster, key string, ok func(broker.PartitionState) bool) (broker.PartitionState, error) {
	var last broker.PartitionState
	var lastErr error
	for {
		snap, err := c.Describe(ctx)
		if err == nil {
			lastErr = fmt.Errorf("no partition %s", key)
			for _, p := range snap.Partitions {
				if p.Key == key {
					last, lastErr = p, nil
					if ok(p) {
						return p, nil
					}
				}
			}
		} else {
			lastErr = err
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			if lastErr != nil {
				return last, fmt.Errorf("nemesis: wait for partition %s: %w (last error: %v)", key, ctx.Err(), lastErr)
			}
			return last, fmt.Errorf("nemesis: wait for partition %s (last seen leader %d, ISR %v): %w", key, last.Leader, last.ISR, ctx.Err())
		case <-t.C:
		}
	}
}

// waitPartition waits as WaitISR does, until deadline, and ends early when the fault id is no
// longer active (a Heal got there first) or the nemesis is closed.
func (n *Nemesis) waitPartition(ctx context.Context, id ID, deadline time.Time, key string, ok func(broker.PartitionState) bool) (broker.PartitionState, error) {
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	go func() {
		select {
		case <-n.closed:
			cancel()
		case <-wctx.Done():
		}
	}()
	return WaitISR(wctx, n.c, key, func(st broker.PartitionState) bool {
		return n.lookup(id) == nil || ok(st)
	})
}

func nodeID(c *broker.Cluster, name string) int {
	if n := c.Node(name); n != nil {
		return n.ID
	}
	return -1
}

// describeFor is how long describeRetrying tries a cluster that does not answer, and describeEvery
// how long it waits between two tries.
const (
	describeFor   = 10 * time.Second
	describeEvery = 500 * time.Millisecond
)

// describeRetrying describes the cluster, retrying for describeFor (or until ctx ends): a
// cluster whose brokers restart, or that a loaded machine slows down, answers a little later.
func (n *Nemesis) describeRetrying(ctx context.Context) (broker.Snapshot, error) {
	return retryDescribe(ctx, n.c.Describe, describeFor, describeEvery)
}

// retryDescribe calls describe until it succeeds, waiting every between two calls, and gives up
// once within has passed or ctx has ended, returning what the last call returned.
func retryDescribe(ctx context.Context, describe func(context.Context) (broker.Snapshot, error), within, every time.Duration) (broker.Snapshot, error) {
	deadline := time.Now().Add(within)
	for {
		snap, err := describe(ctx)
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return snap, err
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return snap, err
		case <-t.C:
		}
	}
}
