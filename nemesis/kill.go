package nemesis

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kchaos/kchaos/broker"
)

// KindKill SIGKILLs brokers and restarts them with their data when the fault stops.
const KindKill Kind = "kill"

// KillFailpoint SIGKILLs brokers. Its stop waits until ZooKeeper has dropped each killed process's
// registration, restarts the container with its data and waits for the new registration. It
// needs the session timeout to play out: until ZooKeeper expires the dead broker's session, the
// controller elects no new leader for the partitions it led.
var KillFailpoint Failpoint = killFailpoint{}

type killFailpoint struct{}

func (killFailpoint) Kind() Kind                           { return KindKill }
func (killFailpoint) Available(c ClusterInfo) error        { return needBrokers(c, 1) }
func (killFailpoint) Need(cfg Config) Need                 { return sessionNeed(cfg) }
func (killFailpoint) healRank() int                        { return healProcesses }
func (killFailpoint) draw(s Step, t Target, sh Shape) Step { return drawTarget(s, t, sh) }
func (killFailpoint) resolve(step Step, v view) (Fault, error) {
	return resolveNodeTargets(step, v)
}

func (killFailpoint) apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	return applyToNodes(ctx, n, f, killNodes, n.restartNodes)
}

func killNodes(ctx context.Context, nodes []*broker.Node) error {
	return forEach(nodes, func(node *broker.Node) error { return node.Kill(ctx) })
}

// restartNodes starts the nodes that are not running and waits until every one is registered
// again. In ZooKeeper mode a broker started while ZooKeeper still holds the registration of its
// killed process exits at once (the ephemeral /brokers/ids/N exists and belongs to another
// session), so a killed broker is started only once that registration is gone, which takes up to
// zookeeper.session.timeout.ms after the kill. A KRaft broker registers again with a new
// incarnation and the controller replaces the old registration, so it starts at once: waiting
// would never end when the kill took the controller quorum's majority, which alone can fence.
//
// A dedicated KRaft controller registers nowhere: it is started at once, and the wait is for the
// quorum to have a leader with the controller running.
func (n *Nemesis) restartNodes(ctx context.Context, nodes []*broker.Node) error {
	return forEach(nodes, func(node *broker.Node) error {
		running, _, err := node.Running(ctx)
		if err != nil {
			return err
		}
		if !node.Role.IsBroker() {
			if !running {
				if err := node.Start(ctx); err != nil {
					return err
				}
			}
			return n.waitQuorumLeader(ctx, node)
		}
		if !running {
			if !n.c.Spec.KRaft() {
				if err := n.waitRegistration(ctx, node, false); err != nil {
					return err
				}
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
				return fmt.Errorf("nemesis: %s exited after its restart, before it registered %s", node.Name, n.registry())
			}
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			what := "registered " + n.registry() + " again"
			if !present {
				what = "rid of the registration of its killed process (the old ZooKeeper session never expired)"
			}
			return fmt.Errorf("nemesis: %s never got %s: %w", node.Name, what, ctx.Err())
		case <-t.C:
		}
	}
}

// registry says where brokers register: ZooKeeper, or the KRaft controllers.
func (n *Nemesis) registry() string {
	if n.c.Spec.KRaft() {
		return "with the KRaft controllers (unfenced)"
	}
	return "in ZooKeeper"
}

// waitQuorumLeader waits until the KRaft quorum has a leader while the controller node runs:
// after its restart, a dedicated controller is back among the voters once they agree on a leader.
func (n *Nemesis) waitQuorumLeader(ctx context.Context, node *broker.Node) error {
	for {
		if running, _, err := node.Running(ctx); err == nil && !running {
			return fmt.Errorf("nemesis: %s exited after its restart", node.Name)
		}
		snap, err := n.c.Describe(ctx)
		if err == nil && snap.Controller.Broker > 0 {
			return nil
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("nemesis: the quorum found no leader after %s restarted: %w", node.Name, ctx.Err())
		case <-t.C:
		}
	}
}
