package nemesis

import (
	"context"
	"fmt"
	"time"

	"github.com/kchaos/kchaos/broker"
)

// Failpoint is one kind of fault: what it needs of the cluster, how long it needs to play out, how
// a schedule step becomes a concrete Fault, and how that fault is put in place and undone. Every
// fault is a small value in a file of its own, registered in failpoints; the nemesis, the schedule,
// ParseKinds and Validate know faults only through this interface.
//
// The methods that touch the nemesis's internals are unexported: faults are registered here, not
// implemented elsewhere.
type Failpoint interface {
	// Kind names the fault, as the --nemesis flag and the history lines (start-<kind>) do.
	Kind() Kind
	// Available says whether the fault can run on a cluster of this shape; an error says why not.
	Available(c ClusterInfo) error
	// Need says how long the fault must last to play out on a cluster with cfg's timings (the zero
	// Need when cfg does not know the timings it depends on).
	Need(cfg Config) Need

	// draw fills in the parts of a schedule step that apply to this kind from the schedule's
	// draws. The schedule draws a target and a shape for every step, whatever the kind, so that
	// its random stream does not depend on the kinds.
	draw(step Step, target Target, shape Shape) Step
	// resolve picks the concrete fault of a step from the cluster's current view, using the
	// step's pick (Step.rng) for every random choice.
	resolve(step Step, v view) (Fault, error)
	// apply puts the fault in place and returns how to undo it, the value of its start line, and
	// an error. On an error it returns the fault only when something stayed in place that its
	// undo must remove. A fault whose start goes on after its start line (jepsen-2013) sets
	// fault.then; one that watches for its outcome past the schedule's hold sets fault.await.
	apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error)
	// healRank orders heals, lowest first: see the heal ranks.
	healRank() int
}

// The heal ranks. Processes come back before network rules are removed: a paused node cannot be
// reached by exec to remove its rules.
const (
	healProcesses = 0
	healNetwork   = 1
)

// failpoints is the registry: every fault kind, in the order `--nemesis all` runs them. Adding a
// fault is a file with its Failpoint value, a line here, and its test.
var failpoints = []Failpoint{
	KillFailpoint,
	PauseFailpoint,
	PartitionFailpoint,
	ZKIsolateFailpoint,
	ControllerIsolateFailpoint,
	LagFailpoint,
	Jepsen2013Failpoint,
	CrashFailpoint,
	PowerLossFailpoint,
	DiskFullFailpoint,
	DiskErrorFailpoint,
	SlowDiskFailpoint,
	ISRDrainFailpoint,
	ISRDrainCleanFailpoint,
}

// Failpoints returns every registered fault, in the order `--nemesis all` runs them.
func Failpoints() []Failpoint { return append([]Failpoint(nil), failpoints...) }

// FailpointOf returns the registered fault of kind k, and false if there is none.
func FailpointOf(k Kind) (Failpoint, bool) {
	for _, fp := range failpoints {
		if fp.Kind() == k {
			return fp, true
		}
	}
	return nil, false
}

// ClusterInfo is what a Failpoint needs to know of a cluster to say whether it can run there.
type ClusterInfo struct {
	// Brokers and ZooKeeperNodes count the nodes of each role (no ZooKeeper nodes in KRaft mode).
	Brokers        int
	ZooKeeperNodes int
	// KRaft says the cluster runs KRaft controllers instead of ZooKeeper; Controllers counts the
	// voters, and DedicatedControllers says they are nodes of their own (c1..) rather than the
	// first brokers.
	KRaft                bool
	Controllers          int
	DedicatedControllers bool
	// FaultFS says the brokers' log dirs are on faultfs (ClusterSpec.FaultFS), which crash,
	// power-loss and the disk faults need.
	FaultFS bool
}

// ClusterInfoOf describes a running cluster for Failpoint.Available.
func ClusterInfoOf(c *broker.Cluster) ClusterInfo {
	return ClusterInfoOfSpec(c.Spec)
}

// ClusterInfoOfSpec describes the cluster a spec starts (its defaults applied), for checks
// made before it starts.
func ClusterInfoOfSpec(s broker.ClusterSpec) ClusterInfo {
	s = s.WithDefaults()
	if s.KRaft() {
		return ClusterInfo{Brokers: s.Brokers, KRaft: true, Controllers: s.Controllers,
			DedicatedControllers: s.ControllerMode == broker.ControllersDedicated, FaultFS: s.FaultFS}
	}
	return ClusterInfo{Brokers: s.Brokers, ZooKeeperNodes: s.ZooKeeperNodes, FaultFS: s.FaultFS}
}

// Available reports the first of kinds that cannot run on the cluster, with the reason.
func Available(kinds []Kind, c ClusterInfo) error {
	for _, k := range kinds {
		fp, ok := FailpointOf(k)
		if !ok {
			return fmt.Errorf("nemesis: unknown fault %q; valid: %s", k, kindList())
		}
		if err := fp.Available(c); err != nil {
			return fmt.Errorf("nemesis: %s cannot run on this cluster: %w", k, err)
		}
	}
	return nil
}

// AvailableTargets reports the first of targets that cannot be resolved on the cluster, with the
// reason: the controller quorum's minority and majority need KRaft controllers, because kchaos
// does not kill, pause or partition ZooKeeper nodes.
func AvailableTargets(targets []Target, c ClusterInfo) error {
	for _, t := range targets {
		if t.quorumTarget() && !c.KRaft {
			return fmt.Errorf("nemesis: target %s needs KRaft controllers, and the cluster runs ZooKeeper, whose nodes kchaos never kills, pauses or partitions (use --metadata kraft)", t)
		}
	}
	return nil
}

// needBrokers is the Available of faults that act between brokers.
func needBrokers(c ClusterInfo, n int) error {
	if c.Brokers < n {
		return fmt.Errorf("needs at least %d brokers, the cluster has %d", n, c.Brokers)
	}
	return nil
}

// Need is how long a fault must last to play out: for a kill, long enough that ZooKeeper expires
// the broker's session and the controller elects new leaders; for a lag, long enough that the
// follower leaves the ISR.
type Need struct {
	// Min is the shortest time the fault must be held; zero when the timings are unknown.
	Min time.Duration
	// Why spells Min out for error messages: "18s (zookeeper.session.timeout.ms) + 2s".
	Why string
	// Waits says that the fault watches the cluster and holds itself until it has played out (a
	// lag until its follower left the ISR, jepsen-2013 until the ISR shrank): its wait is bounded
	// by Config.RecoverTimeout, not by the schedule's hold, so that is what must cover Min.
	Waits bool
}

// playOutMargin is added to a Kafka timeout for what comes after it: the controller noticing an
// expired session and electing, a leader noticing a lagging follower.
const playOutMargin = 2 * time.Second

// sessionNeed is the need of faults that play out when a broker's session expires: its ZooKeeper
// session, or in KRaft mode its lease with the controllers (broker.session.timeout.ms).
func sessionNeed(cfg Config) Need {
	if cfg.SessionTimeout <= 0 {
		return Need{}
	}
	return Need{Min: cfg.SessionTimeout + playOutMargin,
		Why: fmt.Sprintf("%s (%s) + %s", cfg.SessionTimeout, cfg.sessionTimeoutSetting(), playOutMargin)}
}

// sessionTimeoutSetting names the setting SessionTimeout comes from.
func (cfg Config) sessionTimeoutSetting() string {
	if cfg.SessionTimeoutSetting != "" {
		return cfg.SessionTimeoutSetting
	}
	return broker.ZooKeeperSessionTimeoutKey
}

// replicaLagNeed is the need of faults that play out when a follower leaves the ISR.
func replicaLagNeed(cfg Config) Need {
	if cfg.ReplicaLagMax <= 0 {
		return Need{}
	}
	return Need{Min: cfg.ReplicaLagMax + playOutMargin, Waits: true,
		Why: fmt.Sprintf("%s (replica.lag.time.max.ms) + %s", cfg.ReplicaLagMax, playOutMargin)}
}

// drawTarget is the draw of faults that hit brokers chosen by a target.
func drawTarget(step Step, target Target, _ Shape) Step {
	step.Target = target
	return step
}
