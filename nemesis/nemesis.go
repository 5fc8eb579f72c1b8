package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kchaos/kchaos/broker"
)

// Event is one nemesis line of the history: a fault started, escalated or stopped. Time is when
// the action finished (a start line follows the fault being in place, a stop line its healing).
// Error, when set, says the action failed: a start with an error did not happen (nothing is left
// to stop), a stop with an error left the fault in place, and a later heal tries again.
type Event struct {
	Time time.Time `json:"time"`
	// F is start-<kind> or stop-<kind> (start-partition, stop-kill, ...), or isolate-jepsen-2013
	// for the second phase of that scenario.
	F string `json:"f"`
	// Value is JSON-marshalable: a NodesValue, PartitionValue, LagValue, Jepsen2013Value or Step
	// (a start that found no target), or nil for stop-partition.
	Value any    `json:"value"`
	Error string `json:"error,omitempty"`
}

// NodesValue is the value of kill, pause and zk-isolate lines, and of the stop lines of lag and
// jepsen-2013: the brokers hit, and how they were chosen.
type NodesValue struct {
	Nodes  []string `json:"nodes"`
	Target Target   `json:"target,omitempty"`
	// Key is the partition whose leader was chosen (TargetPrimaries).
	Key string `json:"key,omitempty"`
}

// PartitionValue is the value of a start-partition line.
type PartitionValue struct {
	Shape   Shape   `json:"shape,omitempty"`
	Target  Target  `json:"target,omitempty"`
	Key     string  `json:"key,omitempty"`
	Traffic Traffic `json:"traffic"`
	// Grudge is what was cut, ZooKeeper and clients included.
	Grudge Grudge `json:"grudge"`
}

// LagValue is the value of a start-lag line: the follower slowed, the share of its replication
// packets dropped, and the partition (and its leader then) that it was chosen for.
type LagValue struct {
	Key      string  `json:"key,omitempty"`
	Follower string  `json:"follower"`
	Leader   string  `json:"leader,omitempty"`
	Loss     float64 `json:"loss"`
}

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
}

// The phases of jepsen-2013.
const (
	PhaseCutReplication = "cut-replication"
	PhaseIsolateLeader  = "isolate-leader"
)

// Fault says what Start does. Which fields matter depends on Kind:
//
//   - kill, pause, zk-isolate: Nodes, the brokers to hit.
//   - partition: Grudge, over brokers or naming ZooKeeper nodes and Clients, and Traffic.
//   - lag: Follower, and Loss (Config.LagLoss when zero); Key and Leader say what it was chosen for.
//   - jepsen-2013: Key, the partition "topic/N" whose leader is cut off.
//
// Target, Shape and Key (for the other kinds) are only recorded, to say how the fault was chosen.
type Fault struct {
	Kind     Kind     `json:"kind"`
	Nodes    []string `json:"nodes,omitempty"`
	Grudge   Grudge   `json:"grudge,omitempty"`
	Traffic  Traffic  `json:"traffic,omitempty"`
	Follower string   `json:"follower,omitempty"`
	Leader   string   `json:"leader,omitempty"`
	Loss     float64  `json:"loss,omitempty"`
	Key      string   `json:"key,omitempty"`
	Target   Target   `json:"target,omitempty"`
	Shape    Shape    `json:"shape,omitempty"`
}

// ID names an active fault for Stop.
type ID int

// Nemesis starts, tracks and heals faults on one cluster, and runs a schedule of them. Every start
// and stop is passed to the record function given to New, one call at a time.
type Nemesis struct {
	c      *broker.Cluster
	cfg    Config
	record func(Event)
	recMu  sync.Mutex

	// opMu serialises changes of the cluster's faults: a start puts a fault in place and registers
	// it under it, a stop or heal removes it under it, so that a heal never misses a fault.
	opMu sync.Mutex

	mu     sync.Mutex // guards what follows
	active []*fault
	nextID ID

	closeOnce sync.Once
	closed    chan struct{}
}

// fault is an active fault and how to undo it.
type fault struct {
	id        ID
	kind      Kind
	desc      string
	stopValue any
	// undo heals the fault; every step is idempotent, so a failed heal can be tried again.
	undo []func(context.Context) error
}

// New returns a nemesis for the cluster. cfg is given its defaults; Run checks it. record receives
// every Event (nil discards them).
func New(c *broker.Cluster, cfg Config, record func(Event)) *Nemesis {
	if record == nil {
		record = func(Event) {}
	}
	return &Nemesis{c: c, cfg: cfg.WithDefaults(), record: record, closed: make(chan struct{})}
}

// Config returns the nemesis's config, with defaults applied.
func (n *Nemesis) Config() Config { return n.cfg }

func (n *Nemesis) emit(f string, value any, err error) {
	ev := Event{Time: time.Now(), F: f, Value: value}
	if err != nil {
		ev.Error = err.Error()
	}
	n.recMu.Lock()
	defer n.recMu.Unlock()
	n.record(ev)
}

// ErrClosed is returned by Start after Close.
var ErrClosed = errors.New("nemesis: closed")

// Active describes the faults active now, oldest first, e.g. "partition isolate n1<-n2,n3 ...",
// "pause n2": for a live progress line.
func (n *Nemesis) Active() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, len(n.active))
	for i, f := range n.active {
		out[i] = f.desc
	}
	return out
}

func (n *Nemesis) register(f *fault) ID {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nextID++
	f.id = n.nextID
	n.active = append(n.active, f)
	return f.id
}

func (n *Nemesis) lookup(id ID) *fault {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, f := range n.active {
		if f.id == id {
			return f
		}
	}
	return nil
}

func (n *Nemesis) unregister(id ID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.active = slices.DeleteFunc(n.active, func(f *fault) bool { return f.id == id })
}

// Start puts a fault in place, records its start line and returns its ID for Stop. The fault stays
// until Stop or Heal. A kill, pause, partition, zk-isolate or lag returns as soon as it is in
// place; a jepsen-2013 returns once the leader is isolated completely (or once the ISR failed to
// shrink within Config.RecoverTimeout, which its isolate line reports). A start that fails
// removes what it had put in place; if that fails too, the fault stays active for Heal.
func (n *Nemesis) Start(ctx context.Context, f Fault) (ID, error) {
	if f.Kind == KindJepsen2013 {
		return n.startJepsen2013(ctx, f)
	}
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if n.isClosed() {
		return 0, ErrClosed
	}
	flt, value, err := n.apply(ctx, f)
	if err != nil {
		if flt != nil {
			flt.desc += " (partly started, not healed)"
			n.register(flt)
		}
		n.emit("start-"+string(f.Kind), startValue(f, value), err)
		return 0, err
	}
	id := n.register(flt)
	n.emit("start-"+string(f.Kind), value, nil)
	return id, nil
}

// startValue is the value of a start line that failed before the fault had a value of its own.
func startValue(f Fault, value any) any {
	if value != nil {
		return value
	}
	return f
}

// apply puts a fault in place. On an error it returns the fault only when something stayed in
// place that its undo must remove.
func (n *Nemesis) apply(ctx context.Context, f Fault) (*fault, any, error) {
	flt := &fault{kind: f.Kind}
	switch f.Kind {
	case KindKill, KindPause:
		nodes, err := n.brokers(f.Nodes)
		if err != nil {
			return nil, nil, err
		}
		value := NodesValue{Nodes: names(nodes), Target: f.Target, Key: f.Key}
		flt.desc = fmt.Sprintf("%s %s", f.Kind, strings.Join(value.Nodes, ","))
		flt.stopValue = NodesValue{Nodes: value.Nodes}
		act, undo := killNodes, n.restartNodes
		if f.Kind == KindPause {
			act, undo = pauseNodes, resumeNodes
		}
		flt.undo = []func(context.Context) error{func(ctx context.Context) error { return undo(ctx, nodes) }}
		if err := act(ctx, nodes); err != nil {
			if uerr := n.undo(ctx, flt); uerr != nil {
				return flt, value, errors.Join(err, uerr)
			}
			return nil, value, err
		}
		return flt, value, nil
	case KindPartition:
		traffic := f.Traffic
		if traffic == "" {
			traffic = n.cfg.Traffic
		}
		cut, err := Partition(ctx, n.c, f.Grudge, traffic)
		if err != nil {
			return cutFault(flt, cut), nil, err
		}
		value := PartitionValue{Shape: f.Shape, Target: f.Target, Key: f.Key, Traffic: traffic, Grudge: cut.Grudge()}
		flt.desc = fmt.Sprintf("partition %s%s (%s traffic)", shapeLabel(f.Shape), cut.Grudge(), traffic)
		flt.undo = []func(context.Context) error{cut.Heal}
		return flt, value, nil
	case KindZKIsolate:
		nodes, err := n.brokers(f.Nodes)
		if err != nil {
			return nil, nil, err
		}
		value := NodesValue{Nodes: names(nodes), Target: f.Target, Key: f.Key}
		cut, err := IsolateFromZooKeeper(ctx, n.c, value.Nodes)
		if err != nil {
			return cutFault(flt, cut), value, err
		}
		flt.desc = "zk-isolate " + strings.Join(value.Nodes, ",")
		flt.stopValue = NodesValue{Nodes: value.Nodes}
		flt.undo = []func(context.Context) error{cut.Heal}
		return flt, value, nil
	case KindLag:
		loss := f.Loss
		if loss == 0 {
			loss = n.cfg.LagLoss
		}
		value := LagValue{Key: f.Key, Follower: f.Follower, Leader: f.Leader, Loss: loss}
		cut, err := Lag(ctx, n.c, f.Follower, loss)
		if err != nil {
			return cutFault(flt, cut), value, err
		}
		flt.desc = fmt.Sprintf("lag %s %.0f%% loss", f.Follower, loss*100)
		flt.stopValue = NodesValue{Nodes: []string{f.Follower}}
		flt.undo = []func(context.Context) error{cut.Heal}
		return flt, value, nil
	}
	return nil, nil, fmt.Errorf("nemesis: unknown fault %q", f.Kind)
}

// cutFault is the fault to keep when a cut could not remove its own partial rules.
func cutFault(flt *fault, cut *Cut) *fault {
	if cut == nil {
		return nil
	}
	flt.desc = fmt.Sprintf("%s %s", flt.kind, cut.Grudge())
	flt.undo = []func(context.Context) error{cut.Heal}
	return flt
}

func shapeLabel(s Shape) string {
	if s == "" {
		return ""
	}
	return string(s) + " "
}

// brokers looks up the named brokers.
func (n *Nemesis) brokers(nodeNames []string) ([]*broker.Node, error) {
	if len(nodeNames) == 0 {
		return nil, errors.New("nemesis: no broker named")
	}
	out := make([]*broker.Node, 0, len(nodeNames))
	for _, name := range sortNodes(slices.Compact(slices.Sorted(slices.Values(nodeNames)))) {
		node := n.c.Node(name)
		if node == nil || node.Role != broker.RoleBroker {
			return nil, fmt.Errorf("nemesis: %q is not a broker of the cluster", name)
		}
		out = append(out, node)
	}
	return out, nil
}

// Stop heals the fault with the given ID and records its stop line. Stopping a fault that is no
// longer active (a heal got there first) does nothing. Stop does not give up when ctx ends: it
// heals within Config.RecoverTimeout.
func (n *Nemesis) Stop(ctx context.Context, id ID) error {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	f := n.lookup(id)
	if f == nil {
		return nil
	}
	return n.stop(ctx, f)
}

// stop heals one fault and records it; the caller holds opMu.
func (n *Nemesis) stop(ctx context.Context, f *fault) error {
	if err := n.undo(ctx, f); err != nil {
		err = fmt.Errorf("nemesis: heal %s: %w", f.desc, err)
		n.emit("stop-"+string(f.kind), f.stopValue, err)
		return err
	}
	n.unregister(f.id)
	n.emit("stop-"+string(f.kind), f.stopValue, nil)
	return nil
}

// undo runs a fault's heal steps, newest first, on a context that outlives ctx's cancellation but
// not Config.RecoverTimeout: a heal must happen even when the run is being interrupted.
func (n *Nemesis) undo(ctx context.Context, f *fault) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.RecoverTimeout)
	defer cancel()
	var errs []error
	for i := len(f.undo) - 1; i >= 0; i-- {
		errs = append(errs, f.undo[i](ctx))
	}
	return errors.Join(errs...)
}

// Heal heals every active fault: it resumes paused brokers and restarts killed ones (waiting until
// they are registered again) before it removes the iptables rules of partitions, ZooKeeper
// isolations, lags and jepsen-2013, newest first. Each healed fault gets its stop line; a fault
// that cannot be healed gets a stop line with the error, stays active for the next Heal, and its
// error is returned. Heal is idempotent, safe to call at any time and from several goroutines (it
// waits for a start or stop under way), and does not give up when ctx ends (see Stop).
func (n *Nemesis) Heal(ctx context.Context) error {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	n.mu.Lock()
	faults := slices.Clone(n.active)
	n.mu.Unlock()
	slices.Reverse(faults)
	// Processes first: a paused node cannot be reached by exec to remove its rules.
	slices.SortStableFunc(faults, func(a, b *fault) int { return healRank(a.kind) - healRank(b.kind) })
	var errs []error
	for _, f := range faults {
		errs = append(errs, n.stop(ctx, f))
	}
	return errors.Join(errs...)
}

func healRank(k Kind) int {
	if k == KindPause || k == KindKill {
		return 0
	}
	return 1
}

// Close stops the nemesis for good: Start refuses new faults, Run returns, and every active fault
// is healed as by Heal, whose error it returns. It may be called more than once.
func (n *Nemesis) Close(ctx context.Context) error {
	n.closeOnce.Do(func() { close(n.closed) })
	return n.Heal(ctx)
}

func (n *Nemesis) isClosed() bool {
	select {
	case <-n.closed:
		return true
	default:
		return false
	}
}

// sleep waits for d, and reports false if ctx ended or the nemesis was closed first.
func (n *Nemesis) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-n.closed:
		return false
	case <-t.C:
		return true
	}
}

func killNodes(ctx context.Context, nodes []*broker.Node) error {
	return forEach(nodes, func(node *broker.Node) error { return node.Kill(ctx) })
}

func pauseNodes(ctx context.Context, nodes []*broker.Node) error {
	return forEach(nodes, func(node *broker.Node) error { return node.Pause(ctx) })
}

// resumeNodes resumes the nodes that are paused.
func resumeNodes(ctx context.Context, nodes []*broker.Node) error {
	return forEach(nodes, func(node *broker.Node) error {
		_, paused, err := node.Running(ctx)
		if err != nil {
			return err
		}
		if paused {
			return node.Resume(ctx)
		}
		return nil
	})
}

// restartNodes starts the nodes that are not running and waits until every one is registered
// again. A broker started while ZooKeeper still holds the registration of its killed process
// exits at once (the ephemeral /brokers/ids/N exists and belongs to another session), so a
// killed broker is started only once that registration is gone, which takes up to
// zookeeper.session.timeout.ms after the kill.
func (n *Nemesis) restartNodes(ctx context.Context, nodes []*broker.Node) error {
	return forEach(nodes, func(node *broker.Node) error {
		running, _, err := node.Running(ctx)
		if err != nil {
			return err
		}
		if !running {
			if err := n.waitRegistration(ctx, node, false); err != nil {
				return err
			}
			if err := node.Start(ctx); err != nil {
				return err
			}
		}
		return n.waitRegistration(ctx, node, true)
	})
}

// waitRegistration waits until the broker's registration is present (or absent). Waiting for it to
// be present fails at once if the broker's process is not running.
func (n *Nemesis) waitRegistration(ctx context.Context, node *broker.Node, present bool) error {
	for {
		snap, err := n.c.Describe(ctx)
		if err == nil && slices.Contains(snap.Registered, node.ID) == present {
			return nil
		}
		if present {
			if running, _, err := node.Running(ctx); err == nil && !running {
				return fmt.Errorf("nemesis: %s exited after its restart, before it registered in ZooKeeper", node.Name)
			}
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			what := "registered in ZooKeeper again"
			if !present {
				what = "rid of the registration of its killed process (the old ZooKeeper session never expired)"
			}
			return fmt.Errorf("nemesis: %s never got %s: %w", node.Name, what, ctx.Err())
		case <-t.C:
		}
	}
}

// forEach runs fn on every node at once and joins the errors.
func forEach(nodes []*broker.Node, fn func(*broker.Node) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Go(func() { errs[i] = fn(node) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
