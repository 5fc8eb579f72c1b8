package nemesis

import (
	"context"
	"fmt"
)

// KindPartition cuts the network in one of the Shapes, with iptables inside the nodes.
const KindPartition Kind = "partition"

// PartitionFailpoint cuts the network as a Grudge says (see Partition); its stop removes the
// rules. With TrafficAll a leader on the minority side loses ZooKeeper too, so the fault plays out
// once its session expires and the controller elects a leader on the majority side.
var PartitionFailpoint Failpoint = partitionFailpoint{}

// PartitionValue is the value of a start-partition line.
type PartitionValue struct {
	Shape   Shape   `json:"shape,omitempty"`
	Target  Target  `json:"target,omitempty"`
	Key     string  `json:"key,omitempty"`
	Traffic Traffic `json:"traffic"`
	// Grudge is what was cut, ZooKeeper and clients included.
	Grudge Grudge `json:"grudge"`
}

// PartitionStopValue is the value of a stop-partition line (null before kchaos recorded what a
// fault achieved).
type PartitionStopValue struct {
	Achieved *Achieved `json:"achieved,omitempty"`
}

type partitionFailpoint struct{}

func (partitionFailpoint) Kind() Kind                    { return KindPartition }
func (partitionFailpoint) Available(c ClusterInfo) error { return needBrokers(c, 2) }
func (partitionFailpoint) Need(cfg Config) Need          { return sessionNeed(cfg) }
func (partitionFailpoint) healRank() int                 { return healNetwork }

// draw: the target applies only to the shapes that cut chosen brokers.
func (partitionFailpoint) draw(step Step, target Target, shape Shape) Step {
	step.Shape = shape
	if shape == ShapeIsolate || shape == ShapeOneWay {
		step.Target = target
	}
	return step
}

func (partitionFailpoint) resolve(step Step, v view) (Fault, error) {
	rng := step.rng()
	f := Fault{Kind: step.Kind, Target: step.Target, Shape: step.Shape, Traffic: v.traffic}
	switch step.Shape {
	case ShapeIsolate, ShapeOneWay:
		nodes, key, err := v.targets(rng, step.Target)
		if err != nil {
			return f, err
		}
		f.Key = key
		// The cut is among the brokers, unless the target names a dedicated controller (the
		// controller, a quorum minority or majority in dedicated mode): that is cut from the
		// brokers and the other controllers.
		among := v.brokers
		if len(without(nodes, v.brokers)) > 0 {
			among = v.kafkaNodes()
		}
		switch {
		case step.Shape == ShapeOneWay:
			f.Grudge = OneWay(nodes, without(among, nodes))
		case step.Target == TargetAll:
			parts := make([][]string, len(nodes))
			for i, n := range nodes {
				parts[i] = []string{n}
			}
			f.Grudge = Complete(parts...)
		default:
			f.Grudge = Isolate(nodes, among)
		}
	case ShapeHalves:
		f.Grudge = RandomHalves(rng, v.brokers)
	case ShapeMajoritiesRing:
		f.Grudge = MajoritiesRing(rng, v.brokers)
	case ShapeBridge:
		f.Grudge = Bridge(rng, v.brokers)
	default:
		return f, fmt.Errorf("nemesis: unknown shape %q", step.Shape)
	}
	if len(f.Grudge) == 0 {
		return f, fmt.Errorf("%w: %s cuts nothing among %d brokers", ErrNoTarget, step.Shape, len(v.brokers))
	}
	return f, nil
}

func (partitionFailpoint) apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	traffic := f.Traffic
	if traffic == "" {
		traffic = n.cfg.Traffic
	}
	cut, err := Partition(ctx, n.c, f.Grudge, traffic)
	if err != nil {
		return cutFault(f.Kind, cut), nil, err
	}
	value := PartitionValue{Shape: f.Shape, Target: f.Target, Key: f.Key, Traffic: traffic, Grudge: cut.Grudge()}
	return &fault{
		desc:      fmt.Sprintf("partition %s%s (%s traffic)", shapeLabel(f.Shape), cut.Grudge(), traffic),
		stopValue: func(a *Achieved) any { return PartitionStopValue{Achieved: a} },
		undo:      []func(context.Context) error{cut.Heal},
	}, value, nil
}

func shapeLabel(s Shape) string {
	if s == "" {
		return ""
	}
	return string(s) + " "
}
