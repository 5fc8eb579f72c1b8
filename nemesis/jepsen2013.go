package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kchaos/kchaos/broker"
)

// KindJepsen2013 is the scenario of Jepsen's 2013 Kafka analysis: a leader cut off from the
// other brokers until the ISR shrinks to it alone, then isolated completely.
const KindJepsen2013 Kind = "jepsen-2013"

// Jepsen2013Value is the value of the start-jepsen-2013 and isolate-jepsen-2013 lines.
type Jepsen2013Value struct {
	Key    string `json:"key"`
	Leader string `json:"leader"`
	// ISR is the partition's ISR when the phase began.
	ISR []int `json:"isr"`
	// Phase is "cut-replication" (the leader drops what the other brokers send to its
	// inter-broker port, see CutReplication) or "isolate-leader" (it is cut off from everything).
	Phase  string `json:"phase"`
	Grudge Grudge `json:"grudge"`
	// Port, when set, limits the grudge to TCP packets sent to that port of the holder.
	Port int `json:"port,omitempty"`
	// WaitedMs is how long the ISR took to shrink to the leader alone (isolate-leader).
	WaitedMs int64 `json:"waited_ms,omitempty"`
	// AloneMs is how long the leader then served as the ISR's only member, reachable by the
	// clients, before it was isolated (isolate-leader): the writes it acknowledged then are the
	// ones an unclean election discards.
	AloneMs int64 `json:"alone_ms,omitempty"`
}

// The phases of jepsen-2013.
const (
	PhaseCutReplication = "cut-replication"
	PhaseIsolateLeader  = "isolate-leader"
)

// Jepsen2013Failpoint runs the scenario of Jepsen's 2013 Kafka analysis on a partition. Its start
// cuts the other brokers' replication from the partition's leader (CutReplication: the leader
// still reaches the controller, ZooKeeper and the clients), waits until the leader has shrunk the
// ISR to itself alone, which takes replica.lag.time.max.ms while records are written, then
// lets it acknowledge writes alone for jepsen2013Alone, then isolates it completely. Run holds the isolation past the schedule's hold until a new
// leader of the partition is seen, or for at most jepsen2013Sessions session timeouts after the
// isolation: with unclean leader election off no new leader may come, and the partition stays
// without one until the heal. The fault stays until Stop or Heal, which remove both cuts.
var Jepsen2013Failpoint Failpoint = jepsen2013Failpoint{}

// jepsen2013Alone is how long the leader serves alone in the ISR, still reachable by the clients,
// ZooKeeper and the controller, before it is isolated. Jepsen's 2013 analysis lost the writes the
// leader acknowledged in that state; isolating it the moment the ISR shrank left a window of about a
// second, which with Kafka's own timeouts often held no acknowledged write (every send to the
// partition had been waiting out the replica lag and timed out).
const jepsen2013Alone = 5 * time.Second

// jepsen2013Sessions caps the isolation's hold, in session timeouts: the isolated leader's session
// expires after one, and the controller elects within a few seconds after.
const jepsen2013Sessions = 3

type jepsen2013Failpoint struct{}

func (jepsen2013Failpoint) Kind() Kind                             { return KindJepsen2013 }
func (jepsen2013Failpoint) Available(c ClusterInfo) error          { return needBrokers(c, 2) }
func (jepsen2013Failpoint) healRank() int                          { return healNetwork }
func (jepsen2013Failpoint) draw(step Step, _ Target, _ Shape) Step { return step }

// Need is the first phase's: the ISR shrinks after replica.lag.time.max.ms, a wait bounded by
// Config.RecoverTimeout. The second phase holds itself until a new leader or its own cap.
func (jepsen2013Failpoint) Need(cfg Config) Need { return replicaLagNeed(cfg) }

func (jepsen2013Failpoint) resolve(step Step, v view) (Fault, error) {
	f := Fault{Kind: step.Kind, Target: step.Target, Shape: step.Shape}
	st, err := v.pickPartition(step.rng(), func(p broker.PartitionState) bool { return p.Leader > 0 && len(p.ISR) > 1 })
	if err != nil {
		return f, err
	}
	f.Key = st.Key
	return f, nil
}

// jepsen2013Run is what the phases of one jepsen-2013 share. Its phases run one after the other
// on the goroutine that started the fault (Start, then Run's await).
type jepsen2013Run struct {
	key      string
	leader   string
	leaderID int
	// isolatedAt is when the leader was isolated; zero while it is not.
	isolatedAt time.Time
}

// apply is the first phase: find the leader, cut the replication from it.
func (jepsen2013Failpoint) apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	value := Jepsen2013Value{Key: f.Key, Phase: PhaseCutReplication}
	snap, err := n.c.Describe(ctx)
	if err != nil {
		return nil, value, fmt.Errorf("nemesis: jepsen-2013: describe the cluster: %w", err)
	}
	i := slices.IndexFunc(snap.Partitions, func(p broker.PartitionState) bool { return p.Key == f.Key })
	if i < 0 {
		return nil, value, fmt.Errorf("%w: no partition %q", ErrNoTarget, f.Key)
	}
	st := snap.Partitions[i]
	if st.Leader < 1 {
		return nil, value, fmt.Errorf("%w: partition %s has no leader", ErrNoTarget, f.Key)
	}
	value.Leader, value.ISR = broker.BrokerName(st.Leader), st.ISR
	value.Port = broker.InterBrokerPort
	run := &jepsen2013Run{key: f.Key, leader: value.Leader, leaderID: st.Leader}
	others := slices.DeleteFunc(names(n.c.Brokers()), func(b string) bool { return b == value.Leader })
	cut, err := CutReplication(ctx, n.c, value.Leader, others)
	flt := &fault{
		desc:      fmt.Sprintf("jepsen-2013 %s: replication from leader %s cut", f.Key, value.Leader),
		stopValue: nodesStop([]string{value.Leader}, f.Key),
		then:      func(ctx context.Context, id ID) error { return run.isolate(ctx, n, id) },
		await:     func(ctx context.Context, self *fault) { run.awaitNewLeader(ctx, n, self) },
	}
	if err != nil {
		if cut == nil {
			return nil, value, err
		}
		flt.undo = []func(context.Context) error{cut.Heal}
		return flt, value, err
	}
	value.Grudge = cut.Grudge()
	flt.undo = []func(context.Context) error{cut.Heal}
	return flt, value, nil
}

// isolate is the second phase: wait until the leader has shrunk the ISR to itself alone, let it
// serve alone for jepsen2013Alone, then isolate it completely. The waits do not hold the
// nemesis's lock, so a Heal or Close may end the scenario while it waits.
func (r *jepsen2013Run) isolate(ctx context.Context, n *Nemesis, id ID) error {
	started := time.Now()
	st, err := n.waitPartition(ctx, id, started.Add(n.cfg.RecoverTimeout), r.key, func(st broker.PartitionState) bool {
		return st.Leader == r.leaderID && slices.Equal(st.ISR, []int{r.leaderID})
	})
	if ctx.Err() != nil || n.isClosed() {
		return errors.Join(ctx.Err(), closedErr(n))
	}
	next := Jepsen2013Value{Key: r.key, Leader: r.leader, ISR: st.ISR, Phase: PhaseIsolateLeader,
		WaitedMs: time.Since(started).Milliseconds()}
	if err != nil && n.lookup(id) != nil {
		// Not an error of the run: Kafka did not shrink the ISR. The history says so and the
		// scenario holds in its first phase.
		n.emit("isolate-jepsen-2013", next, fmt.Errorf("the ISR never shrank to the leader alone, so it was not isolated: %w", err))
		return nil
	}
	alone := time.Now()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(jepsen2013Alone):
	}
	next.AloneMs = time.Since(alone).Milliseconds()

	n.opMu.Lock()
	defer n.opMu.Unlock()
	flt := n.lookup(id)
	if flt == nil {
		return fmt.Errorf("nemesis: jepsen-2013 on %s was healed before its leader could be isolated", r.key)
	}
	cut, err := Partition(ctx, n.c, Isolate([]string{r.leader}, names(n.c.Brokers())), TrafficAll)
	if cut != nil {
		flt.undo = append(flt.undo, cut.Heal)
	}
	if err != nil {
		n.emit("isolate-jepsen-2013", next, err)
		return fmt.Errorf("nemesis: jepsen-2013: isolate %s: %w", r.leader, err)
	}
	r.isolatedAt = time.Now()
	next.Grudge = cut.Grudge()
	n.mu.Lock()
	flt.desc = fmt.Sprintf("jepsen-2013 %s: leader %s isolated", r.key, r.leader)
	n.mu.Unlock()
	n.emit("isolate-jepsen-2013", next, nil)
	return nil
}

// awaitNewLeader holds the isolation until a leader other than the isolated one is seen, or
// until jepsen2013Sessions session timeouts after the isolation. A scenario whose leader was
// never isolated has nothing to wait for.
func (r *jepsen2013Run) awaitNewLeader(ctx context.Context, n *Nemesis, self *fault) {
	if r.isolatedAt.IsZero() {
		return
	}
	limit := n.cfg.RecoverTimeout
	if n.cfg.SessionTimeout > 0 {
		limit = jepsen2013Sessions * n.cfg.SessionTimeout
	}
	_, _ = n.waitPartition(ctx, self.id, r.isolatedAt.Add(limit), r.key, func(st broker.PartitionState) bool {
		return st.Leader > 0 && st.Leader != r.leaderID
	})
}

func closedErr(n *Nemesis) error {
	if n.isClosed() {
		return ErrClosed
	}
	return nil
}
