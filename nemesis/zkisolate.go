package nemesis

import (
	"context"
	"fmt"
	"strings"
)

// KindZKIsolate cuts brokers off from ZooKeeper only.
const KindZKIsolate Kind = "zk-isolate"

// ZKIsolateFailpoint cuts brokers off from every ZooKeeper node and from nothing else (see
// IsolateFromZooKeeper). It plays out once their sessions expire: their registrations go and the
// controller moves their leaderships.
var ZKIsolateFailpoint Failpoint = zkIsolateFailpoint{}

type zkIsolateFailpoint struct{}

func (zkIsolateFailpoint) Kind() Kind { return KindZKIsolate }

func (zkIsolateFailpoint) Available(c ClusterInfo) error {
	if c.KRaft {
		return fmt.Errorf("needs ZooKeeper, and the cluster runs KRaft: %s is its KRaft counterpart", KindControllerIsolate)
	}
	if c.ZooKeeperNodes < 1 {
		return fmt.Errorf("needs ZooKeeper, the cluster has none")
	}
	return needBrokers(c, 1)
}

func (zkIsolateFailpoint) Need(cfg Config) Need                 { return sessionNeed(cfg) }
func (zkIsolateFailpoint) healRank() int                        { return healNetwork }
func (zkIsolateFailpoint) draw(s Step, t Target, sh Shape) Step { return drawTarget(s, t, sh) }
func (zkIsolateFailpoint) resolve(step Step, v view) (Fault, error) {
	return resolveTargets(step, v)
}

func (zkIsolateFailpoint) apply(ctx context.Context, n *Nemesis, f Fault) (*fault, any, error) {
	nodes, err := n.brokers(f.Nodes)
	if err != nil {
		return nil, nil, err
	}
	value := NodesValue{Nodes: names(nodes), Target: f.Target, Key: f.Key}
	cut, err := IsolateFromZooKeeper(ctx, n.c, value.Nodes)
	if err != nil {
		return cutFault(f.Kind, cut), value, err
	}
	return &fault{
		desc:      "zk-isolate " + strings.Join(value.Nodes, ","),
		stopValue: nodesStop(value.Nodes, ""),
		undo:      []func(context.Context) error{cut.Heal},
	}, value, nil
}
