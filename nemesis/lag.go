package nemesis

import (
	"context"
	"fmt"
	"slices"

	"github.com/kchaos/kchaos/broker"
)

// KindLag drops a share of the packets between a follower and its leader until the follower
// leaves the ISR.
const KindLag Kind = "lag"

// LagFailpoint slows a follower's replication (see Lag) until it leaves the ISR, which takes
// replica.lag.time.max.ms while records are written. Run holds it past the schedule's hold until
// the follower has left the ISR, within Config.RecoverTimeout of its start.
var LagFailpoint Failpoint = lagFailpoint{}

// LagValue is the value of a start-lag line: the follower slowed, the share of its replication
// packets dropped, and the partition (and its leader then) that it was chosen for.
type LagValue struct {
	Key      string  `json:"key,omitempty"`
	Follower string  `json:"follower"`
	Leader   string  `json:"leader,omitempty"`
	Loss     float64 `json:"loss"`
}

type lagFailpoint struct{}

func (lagFailpoint) Kind() Kind                             { return KindLag }
func (lagFailpoint) Available(c ClusterInfo) error          { return needBrokers(c, 2) }
func (lagFailpoint) Need(cfg Config) Need                   { return replicaLagNeed(cfg) }
func (lagFailpoint) healRank() int                          { return healNetwork }
func (lagFailpoint) draw(step Step, _ Target, _ Shape) Step { return step }

func (lagFailpoint) resolve(step Step, v view) (Fault, error) {
	rng := step.rng()
	f := Fault{Kind: step.Kind, Target: step.Target, Shape: step.Shape}
	st, err := v.pickPartition(rng, func(p broker.PartitionState) bool { return p.Leader > 0 && len(p.ISR) > 1 })
	if err != nil {
		return f, err
	}
	followers := slices.DeleteFunc(slices.Clone(st.ISR), func(id int) bool { return id == st.Leader })
	f.Key = st.Key
	f.Leader = broker.BrokerName(st.Leader)
	f.Follower = broker.BrokerName(followers[rng.IntN(len(followers))])
	f.Loss = v.loss
	return f, nil
}

func (lagFailpoint) apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	loss := f.Loss
	if loss == 0 {
		loss = n.cfg.LagLoss
	}
	value := LagValue{Key: f.Key, Follower: f.Follower, Leader: f.Leader, Loss: loss}
	cut, err := Lag(ctx, n.c, f.Follower, loss)
	if err != nil {
		return cutFault(f.Kind, cut), value, err
	}
	return &fault{
		desc:      fmt.Sprintf("lag %s %.0f%% loss", f.Follower, loss*100),
		stopValue: nodesStop([]string{f.Follower}, ""),
		undo:      []func(context.Context) error{cut.Heal},
		await: func(ctx context.Context, self *fault) {
			// A lag holds until its follower has left the ISR, within RecoverTimeout of its start.
			follower := nodeID(n.c, f.Follower)
			_, _ = n.waitPartition(ctx, self.id, self.started.Add(n.cfg.RecoverTimeout), f.Key, func(st broker.PartitionState) bool {
				return !slices.Contains(st.ISR, follower)
			})
		},
	}, value, nil
}
