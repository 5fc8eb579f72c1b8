package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/kchaos/kchaos/broker"
)

// propertyFlag collects repeated --server-property key=value flags.
type propertyFlag map[string]string

func (p propertyFlag) String() string { return fmt.Sprint(map[string]string(p)) }

func (p propertyFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	p[k] = v
	return nil
}

// clusterFlags registers the flags of a cluster spec on fs (names follow Jepsen's Kafka test) and
// returns a function that gives the spec once fs is parsed.
func clusterFlags(fs *flag.FlagSet) func() broker.ClusterSpec {
	var s broker.ClusterSpec
	props := propertyFlag{}
	fs.StringVar(&s.Image, "image", broker.DefaultImage, "Kafka image (any image laid out like the official one, e.g. apache/kafka:3.9.1)")
	fs.IntVar(&s.Brokers, "brokers", 3, "number of Kafka brokers")
	fs.IntVar(&s.ZooKeeperNodes, "zk-nodes", 1, "number of ZooKeeper nodes (1 or 3)")
	fs.IntVar(&s.ReplicationFactor, "replication-factor", 3, "default.replication.factor")
	fs.IntVar(&s.MinInsyncReplicas, "min-insync-replicas", 2, "min.insync.replicas")
	fs.BoolVar(&s.UncleanLeaderElection, "unclean-leader-election", false, "unclean.leader.election.enable")
	fs.IntVar(&s.ReplicaLagTimeMaxMs, "replica-lag-time-max-ms", 30000, "replica.lag.time.max.ms")
	fs.IntVar(&s.ZooKeeperSessionTimeoutMs, "zookeeper-session-timeout-ms", 18000, "zookeeper.session.timeout.ms")
	fs.IntVar(&s.BrokerHeapMB, "broker-heap-mb", 512, "JVM heap of each broker, in MB")
	fs.IntVar(&s.ZooKeeperHeapMB, "zk-heap-mb", 256, "JVM heap of each ZooKeeper node, in MB")
	fs.Var(props, "server-property", "any other server.properties `key=value` (repeatable)")
	return func() broker.ClusterSpec {
		if len(props) > 0 {
			s.ServerProperties = props
		}
		return s
	}
}
