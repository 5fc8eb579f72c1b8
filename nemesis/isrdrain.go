package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/history"
)

// KindISRDrain drains a partition's ISR replica by replica into the eligible leader replicas
// (KRaft, KIP-966), kills its last member, and brings the replicas back in an order that shows
// which of them the controller may elect.
const KindISRDrain Kind = "isr-drain"

// KindISRDrainClean is isr-drain with clean shutdowns: each broker is stopped with SIGTERM (a
// controlled shutdown) instead of SIGKILL. KIP-966 keeps a cleanly shut down replica in the
// ELR when it comes back; one that was killed is dropped from the ELR when it registers again,
// its unflushed log being suspect.
const KindISRDrainClean Kind = "isr-drain-clean"

// ISRDrainFailpoint plays KIP-966's scenario on one partition of Config.Topic with leader L and
// followers F1, F2 in its ISR. Its start kills F1 and waits until the controller has fenced it
// and removed it from the ISR (broker.session.timeout.ms); then kills F2 and waits until the ISR
// is L alone (with eligible leader replicas on, F2 goes to the ELR, the ISR having fallen below
// min.insync.replicas); then kills L, the last member of the ISR, and waits until the partition
// has no leader. Each wait is bounded by drainSessions session timeouts; a state that never comes
// is a step line with an error, and the drain goes no further. Its heal restarts F2 first (an
// ELR member: with ELR on the controller elects it, with ELR off nobody is elected until L
// returns) and watches the partition for a session timeout, then F1 (never eligible without an
// unclean election), then L, each watched the same way.
//
// It runs in KRaft mode only, on a cluster where a broker outside the three answers for the
// cluster while they are down (4 brokers at least), and never kills a majority of the KRaft
// controllers.
var ISRDrainFailpoint Failpoint = isrDrainFailpoint{}

// ISRDrainCleanFailpoint is ISRDrainFailpoint stopping the brokers cleanly (SIGTERM, within
// drainStopTimeout; then Docker kills them). Its lines are those of isr-drain, named
// start-isr-drain-clean, shutdown-isr-drain-clean, reached-isr-drain-clean, ...
var ISRDrainCleanFailpoint Failpoint = isrDrainFailpoint{clean: true}

// drainStopTimeout bounds a clean shutdown of isr-drain-clean before Docker kills the broker.
const drainStopTimeout = 60 * time.Second

// The steps of isr-drain, the "step" of its lines; isr-drain-clean writes shutdown-... for each
// kill-... step.
const (
	DrainKillFollower1 = "kill-follower-1"
	DrainFollower1Out  = "follower-1-out-of-isr"
	DrainKillFollower2 = "kill-follower-2"
	DrainLeaderAlone   = "isr-leader-alone"
	DrainKillLeader    = "kill-leader"
	DrainLeaderless    = "leaderless"
	DrainRestart       = "restart"
)

// The roles of isr-drain's brokers.
const (
	RoleLeader    = "leader"
	RoleFollower1 = "follower-1"
	RoleFollower2 = "follower-2"
)

// ISRDrainValue is the value of isr-drain's lines: start-isr-drain (F1 killed), then kill-isr-drain
// (F2, L killed), reached-isr-drain (a state awaited was seen, or with an error never came) and,
// during the heal, restart-isr-drain (a replica back and registered, and the partition's state
// after watching it).
type ISRDrainValue struct {
	Key       string   `json:"key"`
	Leader    string   `json:"leader"`
	Followers []string `json:"followers"`
	// Step is one of the Drain* steps.
	Step string `json:"step"`
	// Node and Role name the broker the step killed or restarted.
	Node string `json:"node,omitempty"`
	Role string `json:"role,omitempty"`
	// State is the partition's state when the step ended: the state awaited, or the last one seen.
	State *broker.PartitionState `json:"state,omitempty"`
	// WaitedMs is how long the step waited for its state.
	WaitedMs int64 `json:"waited_ms,omitempty"`
	// Elected, on restart lines, is the leader the partition had when the watch ended, "" when none.
	Elected string `json:"elected,omitempty"`
}

// drainSessions bounds each of isr-drain's waits, in session timeouts: a killed broker is fenced
// after one, and the controller acts within a few seconds after.
const drainSessions = 3

type isrDrainFailpoint struct {
	clean bool // SIGTERM (controlled shutdown) instead of SIGKILL
}

func (fp isrDrainFailpoint) Kind() Kind {
	if fp.clean {
		return KindISRDrainClean
	}
	return KindISRDrain
}
func (isrDrainFailpoint) healRank() int                          { return healProcesses }
func (isrDrainFailpoint) draw(step Step, _ Target, _ Shape) Step { return step }

// Need is one kill's: the session timeout + 2 s until the controller fences the broker. The
// drain waits for its states itself, within its own bounds, so Config.RecoverTimeout must cover it.
func (isrDrainFailpoint) Need(cfg Config) Need {
	need := sessionNeed(cfg)
	need.Waits = need.Min > 0
	return need
}

// Available needs KRaft, a broker beyond the three it kills, and controllers that keep a
// majority when the three are down.
func (isrDrainFailpoint) Available(c ClusterInfo) error {
	if !c.KRaft {
		return errors.New("needs KRaft mode (--metadata kraft, or Kafka 4.x): it drains an ISR into the eligible leader replicas of KIP-966, which ZooKeeper mode has not")
	}
	if err := needBrokers(c, 4); err != nil {
		return fmt.Errorf("%w: it kills a partition's three replicas and a fourth broker must answer for the cluster", err)
	}
	if !c.DedicatedControllers {
		// At most controllers - majority voters may be among the three killed.
		if tolerated := c.Controllers - Majority(c.Controllers); c.Brokers-c.Controllers+tolerated < 3 {
			return fmt.Errorf("kills three brokers, and with %d combined controllers on %d brokers that takes the KRaft quorum down: use --controller-mode dedicated, or more brokers", c.Controllers, c.Brokers)
		}
	}
	return nil
}

// pickDrain picks a partition of the view with a leader and two followers in its ISR whose loss
// leaves a broker answering and the quorum standing, and the order of its followers.
func pickDrain(v view, rng *rand.Rand) (key string, leader int, followers [2]int, err error) {
	alive := func(ids []int) bool {
		down := 0
		for _, b := range v.brokers {
			id := brokerID(b)
			if slices.Contains(ids, id) {
				down++
			}
		}
		return down < len(v.brokers)
	}
	quorum := func(ids []int) bool {
		killed := 0
		for _, id := range ids {
			if slices.Contains(v.controllers, broker.NodeName(id)) {
				killed++
			}
		}
		return killed == 0 || killed <= len(v.controllers)-Majority(len(v.controllers))
	}
	st, err := v.pickPartition(rng, func(p broker.PartitionState) bool {
		if p.Leader < 1 || !p.InISR(p.Leader) || len(p.ISR) < 3 {
			return false
		}
		// The leader and its first two followers in the ISR: the ones that must go.
		ids := append([]int{p.Leader}, slices.DeleteFunc(slices.Clone(p.ISR), func(id int) bool { return id == p.Leader })[:2]...)
		return alive(ids) && quorum(ids)
	})
	if err != nil {
		return "", 0, followers, err
	}
	others := slices.DeleteFunc(slices.Clone(st.ISR), func(id int) bool { return id == st.Leader })[:2]
	if rng.IntN(2) == 1 {
		others[0], others[1] = others[1], others[0]
	}
	return st.Key, st.Leader, [2]int{others[0], others[1]}, nil
}

func (isrDrainFailpoint) resolve(step Step, v view) (Fault, error) {
	f := Fault{Kind: step.Kind, Target: step.Target, Shape: step.Shape}
	key, leader, followers, err := pickDrain(v, step.rng())
	if err != nil {
		return f, err
	}
	f.Key, f.Leader = key, broker.BrokerName(leader)
	f.Nodes = []string{broker.BrokerName(followers[0]), broker.BrokerName(followers[1])}
	return f, nil
}

// drainStage is one kill of the drain and the state it waits for.
type drainStage struct {
	kill, reached string // the steps
	role          string
	node          int
	// done says whether a snapshot shows the state awaited, and the partition's state in it.
	done func(snap broker.Snapshot) (broker.PartitionState, bool)
}

// drainStages are the three kills of a drain of partition key led by leader, followers f1, f2.
func drainStages(key string, leader, f1, f2 int) []drainStage {
	state := func(snap broker.Snapshot) (broker.PartitionState, bool) {
		i := slices.IndexFunc(snap.Partitions, func(p broker.PartitionState) bool { return p.Key == key })
		if i < 0 {
			return broker.PartitionState{Key: key, Leader: history.NoLeader}, false
		}
		return snap.Partitions[i], true
	}
	fenced := func(snap broker.Snapshot, id int) bool { return !slices.Contains(snap.Registered, id) }
	return []drainStage{
		{kill: DrainKillFollower1, reached: DrainFollower1Out, role: RoleFollower1, node: f1,
			done: func(snap broker.Snapshot) (broker.PartitionState, bool) {
				st, ok := state(snap)
				return st, ok && fenced(snap, f1) && !st.InISR(f1)
			}},
		{kill: DrainKillFollower2, reached: DrainLeaderAlone, role: RoleFollower2, node: f2,
			done: func(snap broker.Snapshot) (broker.PartitionState, bool) {
				st, ok := state(snap)
				return st, ok && fenced(snap, f2) && st.Leader == leader && slices.Equal(st.ISR, []int{leader})
			}},
		{kill: DrainKillLeader, reached: DrainLeaderless, role: RoleLeader, node: leader,
			done: func(snap broker.Snapshot) (broker.PartitionState, bool) {
				st, ok := state(snap)
				return st, ok && fenced(snap, leader) && st.Leader == history.NoLeader
			}},
	}
}

// isrDrainRun is what the steps of one isr-drain share.
type isrDrainRun struct {
	kind   Kind
	clean  bool
	value  ISRDrainValue // the fields every line repeats
	stages []drainStage
	// nodes are L, F1, F2.
	nodes map[string]*broker.Node
}

func (r *isrDrainRun) line(step string, node int, role string) ISRDrainValue {
	v := r.value
	if rest, ok := strings.CutPrefix(step, "kill-"); ok && r.clean {
		step = "shutdown-" + rest // isr-drain-clean stops its brokers with SIGTERM
	}
	v.Step, v.Role = step, role
	if node > 0 {
		v.Node = broker.BrokerName(node)
	}
	return v
}

// apply kills F1; the drain goes on in then.
func (fp isrDrainFailpoint) apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	if len(f.Nodes) != 2 || f.Leader == "" || f.Key == "" {
		return nil, f, fmt.Errorf("nemesis: isr-drain needs a partition, its leader and two followers, got %+v", f)
	}
	nodes, err := n.brokers([]string{f.Leader, f.Nodes[0], f.Nodes[1]})
	if err != nil {
		return nil, f, err
	}
	leader, f1, f2 := nodeID(n.c, f.Leader), nodeID(n.c, f.Nodes[0]), nodeID(n.c, f.Nodes[1])
	r := &isrDrainRun{
		kind:   fp.Kind(),
		clean:  fp.clean,
		value:  ISRDrainValue{Key: f.Key, Leader: f.Leader, Followers: slices.Clone(f.Nodes)},
		stages: drainStages(f.Key, leader, f1, f2),
		nodes:  map[string]*broker.Node{},
	}
	for _, node := range nodes {
		r.nodes[node.Name] = node
	}
	value := r.line(DrainKillFollower1, f1, RoleFollower1)
	flt := &fault{
		desc:      fmt.Sprintf("%s %s: %s %s", r.kind, f.Key, f.Nodes[0], r.stopped()),
		stopValue: nodesStop([]string{f.Nodes[1], f.Nodes[0], f.Leader}, f.Key),
		undo:      []func(context.Context) error{func(ctx context.Context) error { return r.heal(ctx, n) }},
		then:      func(ctx context.Context, id ID) error { return r.drain(ctx, n, id) },
		// The heal restarts three brokers one after the other and watches each.
		healTimeout: 3 * n.cfg.RecoverTimeout,
	}
	if err := r.stop(ctx, r.nodes[f.Nodes[0]]); err != nil {
		return nil, value, fmt.Errorf("nemesis: %s: stop %s: %w", r.kind, f.Nodes[0], err)
	}
	return flt, value, nil
}

// stop kills the broker, or shuts it down cleanly.
func (r *isrDrainRun) stop(ctx context.Context, node *broker.Node) error {
	if r.clean {
		return node.Stop(ctx, drainStopTimeout)
	}
	return node.Kill(ctx)
}

// stopped says how the brokers were stopped, for the progress line.
func (r *isrDrainRun) stopped() string {
	if r.clean {
		return "shut down"
	}
	return "killed"
}

// drainWait bounds one wait of the drain.
func (n *Nemesis) drainWait() time.Duration {
	if n.cfg.SessionTimeout > 0 {
		return min(drainSessions*n.cfg.SessionTimeout, n.cfg.RecoverTimeout)
	}
	return n.cfg.RecoverTimeout
}

// drain waits for each stage's state and kills the next broker. The waits do not hold the
// nemesis's lock, so a Heal or Close may end the drain while it waits.
func (r *isrDrainRun) drain(ctx context.Context, n *Nemesis, id ID) error {
	for i, stage := range r.stages {
		if i > 0 {
			if err := r.kill(ctx, n, id, stage); err != nil {
				return err
			}
		}
		started := time.Now()
		st, err := n.waitSnapshot(ctx, id, started.Add(n.drainWait()), stage.done)
		if ctx.Err() != nil || n.isClosed() || n.lookup(id) == nil {
			return errors.Join(ctx.Err(), closedErr(n))
		}
		line := r.line(stage.reached, 0, "")
		line.State, line.WaitedMs = &st, time.Since(started).Milliseconds()
		if err != nil {
			// Not an error of the run: Kafka never reached the state. The drain stops here and
			// holds what it did until the heal.
			n.emit("reached-"+string(r.kind), line, fmt.Errorf("%s gave up after %s %s: %s never came: %w",
				r.kind, stage.kill, broker.BrokerName(stage.node), stage.reached, err))
			return nil
		}
		n.emit("reached-"+string(r.kind), line, nil)
	}
	return nil
}

// kill kills the broker of a stage under the nemesis's lock, unless the drain was healed.
func (r *isrDrainRun) kill(ctx context.Context, n *Nemesis, id ID, stage drainStage) error {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	flt := n.lookup(id)
	if flt == nil {
		return fmt.Errorf("nemesis: %s on %s was healed before %s could be stopped", r.kind, r.value.Key, broker.BrokerName(stage.node))
	}
	name := broker.BrokerName(stage.node)
	err := r.stop(ctx, r.nodes[name])
	f := "kill-" + string(r.kind)
	if r.clean {
		f = "shutdown-" + string(r.kind)
	}
	n.emit(f, r.line(stage.kill, stage.node, stage.role), err)
	if err != nil {
		return fmt.Errorf("nemesis: %s: stop %s: %w", r.kind, name, err)
	}
	n.mu.Lock()
	flt.desc = fmt.Sprintf("%s %s: %s %s (%s)", r.kind, r.value.Key, name, r.stopped(), stage.role)
	n.mu.Unlock()
	return nil
}

// heal restarts F2, F1 and L in that order, each once it is registered again, and watches the
// partition after each for a session timeout or until it has a leader, recording what it saw.
// Brokers still running are only waited for, so a heal tried again goes on where it failed.
func (r *isrDrainRun) heal(ctx context.Context, n *Nemesis) error {
	for _, o := range r.healOrder() {
		node := r.nodes[o.name]
		running, _, err := node.Running(ctx)
		if err != nil {
			return fmt.Errorf("nemesis: %s: is %s running: %w", r.kind, o.name, err)
		}
		if running {
			continue
		}
		if err := n.restartNodes(ctx, []*broker.Node{node}); err != nil {
			return fmt.Errorf("nemesis: %s: restart %s: %w", r.kind, o.name, err)
		}
		line := r.line(DrainRestart, node.ID, o.role)
		started := time.Now()
		watch := n.cfg.SessionTimeout
		if watch <= 0 {
			watch = 10 * time.Second
		}
		wctx, cancel := context.WithTimeout(ctx, watch)
		st, _ := WaitISR(wctx, n.c, r.value.Key, func(st broker.PartitionState) bool { return st.Leader > 0 })
		cancel()
		line.State, line.WaitedMs = &st, time.Since(started).Milliseconds()
		if st.Leader > 0 {
			line.Elected = broker.BrokerName(st.Leader)
		}
		n.emit("restart-"+string(r.kind), line, nil)
	}
	return nil
}

// drainReturn is a broker the heal brings back, and its role.
type drainReturn struct{ name, role string }

// healOrder is the order the heal brings the brokers back in: F2 (the ELR member), F1, L.
func (r *isrDrainRun) healOrder() []drainReturn {
	return []drainReturn{{r.value.Followers[1], RoleFollower2}, {r.value.Followers[0], RoleFollower1}, {r.value.Leader, RoleLeader}}
}

// waitSnapshot polls the cluster's description until done says it shows the state awaited, until
// deadline, and ends early when the fault id is no longer active or the nemesis is closed. It
// returns the partition's last state seen.
func (n *Nemesis) waitSnapshot(ctx context.Context, id ID, deadline time.Time, done func(broker.Snapshot) (broker.PartitionState, bool)) (broker.PartitionState, error) {
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var last broker.PartitionState
	var lastErr error
	for {
		snap, err := n.c.Describe(wctx)
		if err == nil {
			st, ok := done(snap)
			last, lastErr = st, nil
			if ok || n.lookup(id) == nil {
				return st, nil
			}
		} else {
			lastErr = err
		}
		select {
		case <-wctx.Done():
			if lastErr != nil {
				return last, fmt.Errorf("%w (last error: %v)", wctx.Err(), lastErr)
			}
			return last, fmt.Errorf("%w (last seen: leader %d, ISR %v, ELR %v)", wctx.Err(), last.Leader, last.ISR, last.ELR)
		case <-n.closed:
			return last, ErrClosed
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// brokerID is the id of broker name "nK"; -1 for another name.
func brokerID(name string) int {
	var id int
	if _, err := fmt.Sscanf(name, "n%d", &id); err != nil {
		return -1
	}
	return id
}
