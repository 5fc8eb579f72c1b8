package nemesis

import (
	"context"
	"fmt"
	"strings"
)

// KindControllerIsolate cuts Kafka nodes off from the KRaft controller quorum only: the KRaft
// counterpart of zk-isolate.
const KindControllerIsolate Kind = "controller-isolate"

// ControllerIsolateFailpoint cuts nodes off from every KRaft controller voter but themselves, on
// the controller listener alone (see IsolateFromControllers): a broker can no longer heartbeat,
// while it still replicates and serves clients. It plays out once the broker's lease with the
// controllers runs out (broker.session.timeout.ms): the active controller fences it and moves
// its leaderships. A combined node stays a voter of its own and is cut from the other voters
// both ways, so an active controller among the targets also loses the quorum's leadership. In
// ZooKeeper mode it cannot run: zk-isolate is the fault of that mode.
var ControllerIsolateFailpoint Failpoint = controllerIsolateFailpoint{}

type controllerIsolateFailpoint struct{}

func (controllerIsolateFailpoint) Kind() Kind { return KindControllerIsolate }

func (controllerIsolateFailpoint) Available(c ClusterInfo) error {
	if !c.KRaft {
		return fmt.Errorf("needs KRaft controllers, and the cluster runs ZooKeeper: %s is its ZooKeeper-mode counterpart", KindZKIsolate)
	}
	if !c.DedicatedControllers && c.Brokers <= 1 {
		return fmt.Errorf("needs a controller other than the broker it cuts off, the cluster has one combined node")
	}
	return needBrokers(c, 1)
}

func (controllerIsolateFailpoint) Need(cfg Config) Need                 { return sessionNeed(cfg) }
func (controllerIsolateFailpoint) healRank() int                        { return healNetwork }
func (controllerIsolateFailpoint) draw(s Step, t Target, sh Shape) Step { return drawTarget(s, t, sh) }

// resolve takes any Kafka node a target names: a dedicated controller (the controller target in
// dedicated mode, a quorum minority) is cut from the other voters.
func (controllerIsolateFailpoint) resolve(step Step, v view) (Fault, error) {
	return resolveNodeTargets(step, v)
}

func (controllerIsolateFailpoint) apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	nodes, err := n.kafkaNodes(f.Nodes)
	if err != nil {
		return nil, nil, err
	}
	value := NodesValue{Nodes: names(nodes), Target: f.Target, Key: f.Key}
	cut, err := IsolateFromControllers(ctx, n.c, value.Nodes)
	if err != nil {
		return cutFault(f.Kind, cut), value, err
	}
	return &fault{
		desc:      "controller-isolate " + strings.Join(value.Nodes, ","),
		stopValue: nodesStop(value.Nodes, ""),
		undo:      []func(context.Context) error{cut.Heal},
	}, value, nil
}
