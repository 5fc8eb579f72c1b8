package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kchaos/kchaos/broker"
)

// Faults that act on broker processes (kill, pause) share their start: look the brokers up, act
// on them all at once, and undo on a failure.

// NodesValue is the value of kill, pause and zk-isolate lines, and of the stop lines of lag and
// jepsen-2013: the brokers hit, and how they were chosen.
type NodesValue struct {
	Nodes  []string `json:"nodes"`
	Target Target   `json:"target,omitempty"`
	// Key is the partition whose leader was chosen (TargetPrimaries).
	Key string `json:"key,omitempty"`
	// Achieved, on stop lines only, is what the fault did to the cluster.
	Achieved *Achieved `json:"achieved,omitempty"`
}

// applyToNodes acts on the Kafka nodes f names (brokers, or KRaft controllers); undo brings them
// back.
func applyToNodes(ctx context.Context, n *Nemesis, f Fault, act, undo func(context.Context, []*broker.Node) error) (*fault, any, error) {
	nodes, err := n.kafkaNodes(f.Nodes)
	if err != nil {
		return nil, nil, err
	}
	value := NodesValue{Nodes: names(nodes), Target: f.Target, Key: f.Key}
	flt := &fault{
		desc:      fmt.Sprintf("%s %s", f.Kind, strings.Join(value.Nodes, ",")),
		stopValue: nodesStop(value.Nodes, ""),
		undo:      []func(context.Context) error{func(ctx context.Context) error { return undo(ctx, nodes) }},
	}
	if err := act(ctx, nodes); err != nil {
		if uerr := n.undo(ctx, flt); uerr != nil {
			return flt, value, errors.Join(err, uerr)
		}
		return nil, value, refusal(err)
	}
	return flt, value, nil
}

// refusal returns the error of a fault's act that was undone: wrapped in ErrRefused when the
// system refused the fault (broker.ErrUnableToFreeze), so that Run skips the step, and as it is
// otherwise.
func refusal(err error) error {
	if errors.Is(err, broker.ErrUnableToFreeze) {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return err
}

// nodesStop is the stop value of faults whose stop line names the brokers hit (and the
// partition they were chosen for, when key is set).
func nodesStop(nodes []string, key string) func(*Achieved) any {
	return func(a *Achieved) any { return NodesValue{Nodes: nodes, Key: key, Achieved: a} }
}

// resolveTargets is the resolve of faults that hit the brokers a target names. A target that
// names a dedicated KRaft controller (the active controller, a quorum minority) finds no target.
func resolveTargets(step Step, v view) (Fault, error) {
	f, err := resolveNodeTargets(step, v)
	if err != nil {
		return f, err
	}
	for _, node := range f.Nodes {
		if !slices.Contains(v.brokers, node) {
			return Fault{Kind: step.Kind, Target: step.Target, Shape: step.Shape},
				fmt.Errorf("%w: %s acts on brokers, and target %s names %s, a dedicated controller", ErrNoTarget, step.Kind, step.Target, node)
		}
	}
	return f, nil
}

// resolveNodeTargets is the resolve of faults that hit the Kafka nodes a target names, dedicated
// KRaft controllers included (kill, pause, controller-isolate).
func resolveNodeTargets(step Step, v view) (Fault, error) {
	f := Fault{Kind: step.Kind, Target: step.Target, Shape: step.Shape}
	nodes, key, err := v.targets(step.rng(), step.Target)
	if err != nil {
		return f, err
	}
	f.Nodes, f.Key = nodes, key
	return f, nil
}
