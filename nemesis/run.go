package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kchaos/kchaos/broker"
)

// Run runs the schedule until ctx ends or the nemesis is closed: it waits Config.Interval, draws a
// step (see Plan), resolves it against the cluster, starts the fault, holds it for Config.Hold and
// stops it, again and again. A step that finds no target (ErrNoTarget) is recorded as a start
// line with that error and skipped. Run returns after healing every active fault, whatever ended
// it: nil when ctx ended or Close was called, otherwise the first error of a start or a stop,
// joined with any error of the final heal. A config that does not validate is returned at once.
func (n *Nemesis) Run(ctx context.Context) (err error) {
	if err := n.cfg.Validate(); err != nil {
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
		if err == nil {
			err = n.runStep(ctx, f)
		} else {
			n.emit("start-"+string(step.Kind), step, err)
		}
		switch {
		case err == nil:
		case ctx.Err() != nil || n.isClosed():
			return nil
		case errors.Is(err, ErrNoTarget):
		default:
			return err
		}
	}
}

// runStep starts a fault, holds it and stops it.
func (n *Nemesis) runStep(ctx context.Context, f Fault) error {
	started := time.Now()
	id, err := n.Start(ctx, f)
	if err != nil {
		return err
	}
	if !n.sleep(ctx, n.cfg.Hold) {
		return nil
	}
	if f.Kind == KindLag {
		// A lag holds until its follower has left the ISR, within RecoverTimeout of its start.
		wctx, cancel := context.WithDeadline(ctx, started.Add(n.cfg.RecoverTimeout))
		_, _ = WaitISR(wctx, n.c, f.Key, func(st broker.PartitionState) bool {
			return !slices.Contains(st.ISR, nodeID(n.c, f.Follower))
		})
		cancel()
		if ctx.Err() != nil || n.isClosed() {
			return nil
		}
	}
	return n.Stop(ctx, id)
}

// Resolve turns a step into the fault to start, against the cluster as ZooKeeper describes it now.
// It returns an error wrapping ErrNoTarget when the step has nothing to act on.
func (n *Nemesis) Resolve(ctx context.Context, step Step) (Fault, error) {
	snap, err := n.c.Describe(ctx)
	if err != nil {
		return Fault{Kind: step.Kind}, fmt.Errorf("nemesis: describe the cluster: %w", err)
	}
	return resolve(step, view{brokers: names(n.c.Brokers()), snap: snap, topic: n.cfg.Topic,
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

func nodeID(c *broker.Cluster, name string) int {
	if n := c.Node(name); n != nil {
		return n.ID
	}
	return -1
}

// startJepsen2013 runs the scenario of Jepsen's 2013 Kafka analysis on partition f.Key: it cuts the
// other brokers' replication from the leader (CutReplication: the leader still reaches the
// controller, ZooKeeper and the clients), waits until the leader has shrunk the ISR to itself
// alone, then isolates the leader completely. The fault stays
// until Stop or Heal, which remove both cuts. The wait does not hold the nemesis's lock, so a Heal
// or Close may end the scenario while it waits.
func (n *Nemesis) startJepsen2013(ctx context.Context, f Fault) (ID, error) {
	id, value, err := n.jepsen2013CutReplication(ctx, f)
	if err != nil {
		return 0, err
	}
	started := time.Now()
	leaderID := nodeID(n.c, value.Leader)

	wctx, cancel := context.WithTimeout(ctx, n.cfg.RecoverTimeout)
	defer cancel()
	go func() {
		select {
		case <-n.closed:
			cancel()
		case <-wctx.Done():
		}
	}()
	st, err := WaitISR(wctx, n.c, f.Key, func(st broker.PartitionState) bool {
		return n.lookup(id) == nil || (st.Leader == leaderID && slices.Equal(st.ISR, []int{leaderID}))
	})
	if ctx.Err() != nil || n.isClosed() {
		return id, errors.Join(ctx.Err(), closedErr(n))
	}
	next := Jepsen2013Value{Key: f.Key, Leader: value.Leader, ISR: st.ISR, Phase: PhaseIsolateLeader,
		WaitedMs: time.Since(started).Milliseconds()}
	if err != nil {
		// Not an error of the run: Kafka did not shrink the ISR. The history says so and the
		// scenario holds in its first phase.
		n.emit("isolate-jepsen-2013", next, fmt.Errorf("the ISR never shrank to the leader alone, so it was not isolated: %w", err))
		return id, nil
	}

	n.opMu.Lock()
	defer n.opMu.Unlock()
	flt := n.lookup(id)
	if flt == nil {
		return id, fmt.Errorf("nemesis: jepsen-2013 on %s was healed before its leader could be isolated", f.Key)
	}
	cut, err := Partition(ctx, n.c, Isolate([]string{value.Leader}, names(n.c.Brokers())), TrafficAll)
	if cut != nil {
		flt.undo = append(flt.undo, cut.Heal)
	}
	if err != nil {
		n.emit("isolate-jepsen-2013", next, err)
		return id, fmt.Errorf("nemesis: jepsen-2013: isolate %s: %w", value.Leader, err)
	}
	next.Grudge = cut.Grudge()
	n.mu.Lock()
	flt.desc = fmt.Sprintf("jepsen-2013 %s: leader %s isolated", f.Key, value.Leader)
	n.mu.Unlock()
	n.emit("isolate-jepsen-2013", next, nil)
	return id, nil
}

func closedErr(n *Nemesis) error {
	if n.isClosed() {
		return ErrClosed
	}
	return nil
}

// jepsen2013CutReplication is the first phase: find the leader, cut the replication from it.
func (n *Nemesis) jepsen2013CutReplication(ctx context.Context, f Fault) (ID, Jepsen2013Value, error) {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	value := Jepsen2013Value{Key: f.Key, Phase: PhaseCutReplication}
	if n.isClosed() {
		return 0, value, ErrClosed
	}
	fail := func(err error) (ID, Jepsen2013Value, error) {
		n.emit("start-jepsen-2013", value, err)
		return 0, value, err
	}
	snap, err := n.c.Describe(ctx)
	if err != nil {
		return fail(fmt.Errorf("nemesis: jepsen-2013: describe the cluster: %w", err))
	}
	i := slices.IndexFunc(snap.Partitions, func(p broker.PartitionState) bool { return p.Key == f.Key })
	if i < 0 {
		return fail(fmt.Errorf("%w: no partition %q", ErrNoTarget, f.Key))
	}
	st := snap.Partitions[i]
	if st.Leader < 1 {
		return fail(fmt.Errorf("%w: partition %s has no leader", ErrNoTarget, f.Key))
	}
	value.Leader, value.ISR = broker.BrokerName(st.Leader), st.ISR
	value.Port = broker.InterBrokerPort
	others := slices.DeleteFunc(names(n.c.Brokers()), func(b string) bool { return b == value.Leader })
	cut, err := CutReplication(ctx, n.c, value.Leader, others)
	flt := &fault{kind: KindJepsen2013, stopValue: NodesValue{Nodes: []string{value.Leader}, Key: f.Key},
		desc: fmt.Sprintf("jepsen-2013 %s: replication from leader %s cut", f.Key, value.Leader)}
	if err != nil {
		if cut != nil {
			flt.undo = []func(context.Context) error{cut.Heal}
			n.register(flt)
		}
		return fail(err)
	}
	value.Grudge = cut.Grudge()
	flt.undo = []func(context.Context) error{cut.Heal}
	id := n.register(flt)
	n.emit("start-jepsen-2013", value, nil)
	return id, value, nil
}
