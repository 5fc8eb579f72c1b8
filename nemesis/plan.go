package nemesis

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/kchaos/kchaos/broker"
)

// Step is one fault of a schedule before it meets the cluster: what Run draws from the seed.
// Target applies to kill, pause, zk-isolate, controller-isolate and to the isolate and one-way
// shapes; Shape to
// partitions. Pick seeds the choices made against the cluster when the step starts (which
// brokers, which partition, which follower), so that a seed and a cluster state give the same
// nodes.
type Step struct {
	Kind   Kind   `json:"kind"`
	Target Target `json:"target,omitempty"`
	Shape  Shape  `json:"shape,omitempty"`
	Pick   uint64 `json:"pick"`
}

// schedule draws Steps from the seed.
type schedule struct {
	cfg Config
	rng *rand.Rand
}

// scheduleStream separates the schedule's random stream from any other use of the seed.
const scheduleStream = 0x6b6368616f73 // "kchaos"

func newSchedule(cfg Config) *schedule {
	return &schedule{cfg: cfg, rng: rand.New(rand.NewPCG(uint64(cfg.Seed), scheduleStream))}
}

// next draws the next step. It always draws a kind, a target, a shape and a pick, whichever apply,
// so that the stream does not depend on what the kinds are.
func (s *schedule) next() Step {
	kind := s.cfg.Kinds[s.rng.IntN(len(s.cfg.Kinds))]
	target := s.cfg.Targets[s.rng.IntN(len(s.cfg.Targets))]
	shape := s.cfg.Shapes[s.rng.IntN(len(s.cfg.Shapes))]
	step := Step{Kind: kind, Pick: s.rng.Uint64()}
	if fp, ok := FailpointOf(kind); ok {
		step = fp.draw(step, target, shape)
	}
	return step
}

// rng is the random stream of the choices a step makes against the cluster: a function of its
// pick alone.
func (s Step) rng() *rand.Rand { return rand.New(rand.NewPCG(s.Pick, scheduleStream)) }

// Plan returns the first n steps that Run draws with cfg (defaults applied): the schedule is a
// function of the config and its seed alone. It returns nil when cfg has no kinds.
func Plan(cfg Config, n int) []Step {
	cfg = cfg.WithDefaults()
	if len(cfg.Kinds) == 0 {
		return nil
	}
	s := newSchedule(cfg)
	steps := make([]Step, n)
	for i := range steps {
		steps[i] = s.next()
	}
	return steps
}

// ErrNoTarget says that a step found nothing to act on: no controller during an election, a
// partition without a leader, no follower in the ISR. Run records it and goes on.
var ErrNoTarget = errors.New("no target")

// ErrRefused says that the system refused a fault and it did not happen: what it had done was
// undone (Docker could not freeze a broker on a loaded machine, broker.ErrUnableToFreeze). Like
// ErrNoTarget, Run records the step with the error and goes on.
var ErrRefused = errors.New("refused")

// view is what a step is resolved against: the cluster's brokers, its KRaft controller voters and
// its description (ZooKeeper's, or the brokers' and the quorum's in KRaft mode).
type view struct {
	brokers     []string // broker names, n1 first
	controllers []string // KRaft controller voters (combined nodes n1.. or c1..); none with ZooKeeper
	snap        broker.Snapshot
	topic       string
	traffic     Traffic
	loss        float64
}

// resolve turns a step into the fault to start, using the step's pick for every random choice.
func resolve(step Step, v view) (Fault, error) {
	fp, ok := FailpointOf(step.Kind)
	if !ok {
		return Fault{Kind: step.Kind, Target: step.Target, Shape: step.Shape}, fmt.Errorf("nemesis: unknown fault %q", step.Kind)
	}
	return fp.resolve(step, v)
}

// targets resolves a target to broker names, and the partition key it looked at for primaries.
func (v view) targets(rng *rand.Rand, t Target) ([]string, string, error) {
	n := len(v.brokers)
	if n == 0 {
		return nil, "", fmt.Errorf("%w: the cluster has no brokers", ErrNoTarget)
	}
	switch t {
	case TargetOne:
		return []string{v.brokers[rng.IntN(n)]}, "", nil
	case TargetMinority:
		return sortNodes(shuffled(rng, v.brokers)[:max(1, Minority(n))]), "", nil
	case TargetMajority:
		return sortNodes(shuffled(rng, v.brokers)[:Majority(n)]), "", nil
	case TargetAll:
		return slices.Clone(v.brokers), "", nil
	case TargetPrimaries:
		st, err := v.pickPartition(rng, func(p broker.PartitionState) bool { return p.Leader > 0 })
		if err != nil {
			return nil, "", err
		}
		return []string{broker.BrokerName(st.Leader)}, st.Key, nil
	case TargetController:
		if v.snap.Controller.Broker < 1 {
			return nil, "", fmt.Errorf("%w: there is no controller", ErrNoTarget)
		}
		// A broker in ZooKeeper mode; in KRaft mode the quorum leader, a dedicated controller
		// (node id 101.., c1..) or a combined node.
		return []string{broker.NodeName(v.snap.Controller.Broker)}, "", nil
	case TargetControllersMinority, TargetControllersMajority:
		c := len(v.controllers)
		if c == 0 {
			return nil, "", fmt.Errorf("nemesis: target %s needs KRaft controllers, the cluster has none", t)
		}
		size := max(1, Minority(c))
		if t == TargetControllersMajority {
			size = Majority(c)
		}
		return sortNodes(shuffled(rng, v.controllers)[:size]), "", nil
	}
	return nil, "", fmt.Errorf("nemesis: unknown target %q", t)
}

// kafkaNodes returns the brokers, then the dedicated controllers: every node a fault may cut.
func (v view) kafkaNodes() []string {
	out := slices.Clone(v.brokers)
	for _, c := range v.controllers {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// pickPartition picks one of the topic's partitions that satisfy ok.
func (v view) pickPartition(rng *rand.Rand, ok func(broker.PartitionState) bool) (broker.PartitionState, error) {
	var candidates []broker.PartitionState
	for _, p := range v.snap.Partitions {
		if inTopic(p.Key, v.topic) && ok(p) {
			candidates = append(candidates, p)
		}
	}
	if len(candidates) == 0 {
		where := "any topic"
		if v.topic != "" {
			where = "topic " + v.topic
		}
		return broker.PartitionState{}, fmt.Errorf("%w: no suitable partition of %s", ErrNoTarget, where)
	}
	return candidates[rng.IntN(len(candidates))], nil
}
