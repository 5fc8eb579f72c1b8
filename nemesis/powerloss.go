package nemesis

import (
	"context"
	"slices"

	"github.com/kchaos/kchaos/broker"
)

// KindPowerLoss SIGKILLs several brokers at once and drops what their filesystems never made
// durable.
const KindPowerLoss Kind = "power-loss"

// PowerLossFailpoint is a crash of several brokers at once, as a power loss of a rack or a data
// centre: a majority (TargetMajority), every broker (TargetAll, and any target that names fewer
// than a majority), or the in-sync replicas of one partition of the topic (TargetPrimaries).
// With Kafka's default flush policy, losing every replica of a partition loses what acks=all
// acknowledged; replication alone covers a minority. Its lines are crash's (CrashValue).
var PowerLossFailpoint Failpoint = powerLossFailpoint{}

type powerLossFailpoint struct{}

func (powerLossFailpoint) Kind() Kind                    { return KindPowerLoss }
func (powerLossFailpoint) Available(c ClusterInfo) error { return needFaultFS(c, 1) }
func (powerLossFailpoint) Need(cfg Config) Need          { return sessionNeed(cfg) }
func (powerLossFailpoint) healRank() int                 { return healProcesses }
func (powerLossFailpoint) draw(s Step, t Target, _ Shape) Step {
	if t != TargetMajority && t != TargetPrimaries {
		t = TargetAll
	}
	s.Target = t
	return s
}

func (powerLossFailpoint) resolve(step Step, v view) (Fault, error) {
	if step.Target != TargetPrimaries {
		return resolveTargets(step, v)
	}
	f := Fault{Kind: step.Kind, Target: step.Target, Shape: step.Shape}
	st, err := v.pickPartition(step.rng(), func(p broker.PartitionState) bool { return p.Leader > 0 })
	if err != nil {
		return f, err
	}
	for _, id := range st.ISR {
		f.Nodes = append(f.Nodes, broker.BrokerName(id))
	}
	f.Nodes, f.Key = sortNodes(slices.Compact(slices.Sorted(slices.Values(f.Nodes)))), st.Key
	return f, nil
}

func (powerLossFailpoint) apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	return applyCrash(ctx, n, f)
}
