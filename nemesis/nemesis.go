package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	// (a start that found no target); stop lines carry what the fault achieved (a NodesValue, or
	// a PartitionStopValue for stop-partition, with its Achieved).
	Value any    `json:"value"`
	Error string `json:"error,omitempty"`
}

// Fault says what Start does. Which fields matter depends on Kind:
//
//   - kill, pause, controller-isolate: Nodes, the Kafka nodes to hit (KRaft controllers too).
//   - zk-isolate: Nodes, the brokers to hit.
//   - partition: Grudge, over brokers or naming ZooKeeper nodes and Clients, and Traffic.
//   - lag: Follower, and Loss (Config.LagLoss when zero); Key and Leader say what it was chosen for.
//   - jepsen-2013: Key, the partition "topic/N" whose leader is cut off.
//   - isr-drain: Key, its Leader and Nodes, its two followers in the order they are killed.
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
	id   ID
	kind Kind
	fp   Failpoint
	desc string
	// stopValue is the value of the stop line, given what the fault achieved.
	stopValue func(*Achieved) any
	// undo heals the fault; every step is idempotent, so a failed heal can be tried again.
	undo []func(context.Context) error
	// then, when set, goes on with the start after the start line is recorded and without the
	// nemesis's lock, so that a Heal or Close may end the fault while it waits (jepsen-2013's
	// second phase). An error it returns is Start's.
	then func(ctx context.Context, id ID) error
	// await, when set, holds the fault past the schedule's hold until it has played out, within
	// a bound of its own (a lag until its follower left the ISR). Only Run calls it, on the
	// goroutine that started the fault.
	await func(ctx context.Context, self *fault)
	// healTimeout, when longer than Config.RecoverTimeout, bounds the heal instead: a heal that
	// restarts brokers one after the other (isr-drain).
	healTimeout time.Duration

	// What the fault's stop line measures its achievement against (see Achieved).
	key     string
	started time.Time
	before  *broker.Snapshot
	// beforeErr says why before is missing.
	beforeErr error
}

// New returns a nemesis for the cluster. cfg is given the cluster's timings where it has none
// (broker.Cluster.Spec) and its defaults; Run checks it. record receives every Event (nil
// discards them).
func New(c *broker.Cluster, cfg Config, record func(Event)) *Nemesis {
	if record == nil {
		record = func(Event) {}
	}
	if cfg.SessionTimeout == 0 {
		setting, ms := c.Spec.SessionTimeout()
		cfg.SessionTimeout, cfg.SessionTimeoutSetting = time.Duration(ms)*time.Millisecond, setting
	}
	if cfg.ReplicaLagMax == 0 {
		cfg.ReplicaLagMax = time.Duration(c.Spec.ReplicaLagTimeMaxMs) * time.Millisecond
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
	id, flt, err := n.start(ctx, f)
	if err != nil || flt.then == nil {
		return id, err
	}
	return id, flt.then(ctx, id)
}

// start puts a fault in place under the nemesis's lock and records its start line.
func (n *Nemesis) start(ctx context.Context, f Fault) (ID, *fault, error) {
	n.opMu.Lock()
	defer n.opMu.Unlock()
	if n.isClosed() {
		return 0, nil, ErrClosed
	}
	fp, ok := FailpointOf(f.Kind)
	if !ok {
		err := fmt.Errorf("nemesis: unknown fault %q", f.Kind)
		n.emit("start-"+string(f.Kind), f, err)
		return 0, nil, err
	}
	// The state before the fault is what its stop line measures the fault's achievement against.
	before, beforeErr := n.describe(ctx)
	started := time.Now()
	flt, value, err := fp.apply(ctx, n, f)
	if flt != nil {
		flt.kind, flt.fp, flt.key, flt.started = f.Kind, fp, f.Key, started
		flt.before, flt.beforeErr = before, beforeErr
	}
	if err != nil {
		if flt != nil {
			flt.desc += " (partly started, not healed)"
			n.register(flt)
		}
		n.emit("start-"+string(f.Kind), startValue(f, value), err)
		return 0, nil, err
	}
	id := n.register(flt)
	n.emit("start-"+string(f.Kind), value, nil)
	return id, flt, nil
}

// describe reads the cluster's state for Achieved; nil with the error when it cannot. A slow read
// must not hold up a fault for long: tries and all, it takes describeFor at most, and it goes on
// when ctx ends (a stop measures what the fault did even during an interrupt).
func (n *Nemesis) describe(ctx context.Context) (*broker.Snapshot, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), describeFor)
	defer cancel()
	snap, err := n.describeRetrying(ctx)
	if err != nil {
		return nil, fmt.Errorf("nemesis: describe the cluster: %w", err)
	}
	return &snap, nil
}

// startValue is the value of a start line that failed before the fault had a value of its own.
func startValue(f Fault, value any) any {
	if value != nil {
		return value
	}
	return f
}

// cutFault is the fault to keep when a cut could not remove its own partial rules.
func cutFault(kind Kind, cut *Cut) *fault {
	if cut == nil {
		return nil
	}
	return &fault{desc: fmt.Sprintf("%s %s", kind, cut.Grudge()), undo: []func(context.Context) error{cut.Heal}}
}

// brokers looks up the named brokers.
func (n *Nemesis) brokers(nodeNames []string) ([]*broker.Node, error) {
	return n.lookupNodes(nodeNames, "broker", func(r broker.Role) bool { return r.IsBroker() })
}

// kafkaNodes looks up the named Kafka nodes: brokers and KRaft controllers, dedicated ones too.
func (n *Nemesis) kafkaNodes(nodeNames []string) ([]*broker.Node, error) {
	return n.lookupNodes(nodeNames, "Kafka node", func(r broker.Role) bool { return r.IsBroker() || r.IsController() })
}

// lookupNodes looks up the named nodes, sorted, each of a role that ok accepts.
func (n *Nemesis) lookupNodes(nodeNames []string, what string, ok func(broker.Role) bool) ([]*broker.Node, error) {
	if len(nodeNames) == 0 {
		return nil, fmt.Errorf("nemesis: no %s named", what)
	}
	out := make([]*broker.Node, 0, len(nodeNames))
	for _, name := range sortNodes(slices.Compact(slices.Sorted(slices.Values(nodeNames)))) {
		node := n.c.Node(name)
		if node == nil || !ok(node.Role) {
			return nil, fmt.Errorf("nemesis: %q is not a %s of the cluster", name, what)
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

// stop heals one fault and records it with what it achieved; the caller holds opMu.
func (n *Nemesis) stop(ctx context.Context, f *fault) error {
	achieved := n.achieved(ctx, f)
	value := any(nil)
	if f.stopValue != nil {
		value = f.stopValue(achieved)
	}
	if err := n.undo(ctx, f); err != nil {
		err = fmt.Errorf("nemesis: heal %s: %w", f.desc, err)
		n.emit("stop-"+string(f.kind), value, err)
		return err
	}
	n.unregister(f.id)
	n.emit("stop-"+string(f.kind), value, nil)
	return nil
}

// undo runs a fault's heal steps, newest first, on a context that outlives ctx's cancellation but
// not Config.RecoverTimeout: a heal must happen even when the run is being interrupted.
func (n *Nemesis) undo(ctx context.Context, f *fault) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(n.cfg.RecoverTimeout, f.healTimeout))
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
	slices.SortStableFunc(faults, func(a, b *fault) int { return healRank(a) - healRank(b) })
	var errs []error
	for _, f := range faults {
		errs = append(errs, n.stop(ctx, f))
	}
	return errors.Join(errs...)
}

func healRank(f *fault) int {
	if f.fp == nil {
		return healNetwork
	}
	return f.fp.healRank()
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
