package broker

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTopology(t *testing.T) {
	for _, tc := range []struct {
		spec ClusterSpec
		want string
	}{
		{ClusterSpec{}, "Kafka 3.9.1 ZooKeeper, 1 ZooKeeper node, 3 brokers"},
		{ClusterSpec{ZooKeeperNodes: 3, Brokers: 5}, "Kafka 3.9.1 ZooKeeper, 3 ZooKeeper nodes, 5 brokers"},
		{ClusterSpec{KafkaVersion: "4.1.1"}, "Kafka 4.1.1 KRaft, 3 controllers (combined), 3 brokers"},
		{ClusterSpec{Metadata: MetadataKRaft, ControllerMode: ControllersDedicated, Brokers: 1}, "Kafka 3.9.1 KRaft, 1 controller (dedicated), 1 broker"},
	} {
		require.Equal(t, tc.want, tc.spec.Topology())
	}
}
