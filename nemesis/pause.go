package nemesis

import (
	"context"

	"github.com/kchaos/kchaos/broker"
)

// KindPause freezes brokers (Docker pause) and resumes them when the fault stops.
const KindPause Kind = "pause"

// PauseFailpoint freezes brokers; its stop resumes them. A frozen broker keeps its TCP
// connections but answers nothing, ZooKeeper's heartbeats included: like a kill, it plays out
// once ZooKeeper expires its session and the controller elects new leaders.
var PauseFailpoint Failpoint = pauseFailpoint{}

type pauseFailpoint struct{}

func (pauseFailpoint) Kind() Kind                           { return KindPause }
func (pauseFailpoint) Available(c ClusterInfo) error        { return needBrokers(c, 1) }
func (pauseFailpoint) Need(cfg Config) Need                 { return sessionNeed(cfg) }
func (pauseFailpoint) healRank() int                        { return healProcesses }
func (pauseFailpoint) draw(s Step, t Target, sh Shape) Step { return drawTarget(s, t, sh) }
func (pauseFailpoint) resolve(step Step, v view) (Fault, error) {
	return resolveNodeTargets(step, v)
}

func (pauseFailpoint) apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	return applyToNodes(ctx, n, f, pauseNodes, resumeNodes)
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
