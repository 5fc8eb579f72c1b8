package broker

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name  string
		spec  ClusterSpec
		field string
		says  string
	}{
		{"no brokers", ClusterSpec{Brokers: -1}, "brokers", "at least 1"},
		{"replication above brokers", ClusterSpec{Brokers: 3, ReplicationFactor: 4}, "replication-factor", "exceeds the number of brokers"},
		{"min isr above replication", ClusterSpec{ReplicationFactor: 2, MinInsyncReplicas: 3}, "min-insync-replicas", "exceeds the replication factor"},
		{"two zookeepers", ClusterSpec{ZooKeeperNodes: 2}, "zk-nodes", "1 or 3"},
		{"malformed key", ClusterSpec{ServerProperties: map[string]string{"log retention": "1"}}, "log retention", "malformed"},
		{"upper-case key", ClusterSpec{ServerProperties: map[string]string{"Log.Dirs": "/x"}}, "Log.Dirs", "malformed"},
		{"reserved key", ClusterSpec{ServerProperties: map[string]string{"broker.id": "7"}}, "broker.id", "set by kchaos"},
		{"value with newline", ClusterSpec{ServerProperties: map[string]string{"compression.type": "lz4\nbroker.id=9"}}, "compression.type", "line break"},
		{"non-integer ms", ClusterSpec{ServerProperties: map[string]string{"log.flush.interval.ms": "soon"}}, "log.flush.interval.ms", "not an integer"},
		{"non-boolean enable", ClusterSpec{ServerProperties: map[string]string{"auto.leader.rebalance.enable": "yes"}}, "auto.leader.rebalance.enable", "not true or false"},
		{"empty value", ClusterSpec{ServerProperties: map[string]string{"compression.type": " "}}, "compression.type", "empty"},
		{"image with space", ClusterSpec{Image: "kchaos/kafka 3.9.1"}, "image", "not an image reference"},
		{"feature in ZooKeeper mode", ClusterSpec{Features: map[string]int{FeatureELR: 0}}, "feature", "KRaft features in ZooKeeper mode (got --feature eligible.leader.replicas.version=0)"},
		{"feature name with a space", ClusterSpec{KafkaVersion: "4.1.1", Features: map[string]int{"eligible leader": 0}}, "feature", "not a feature name"},
		{"negative feature level", ClusterSpec{KafkaVersion: "4.1.1", Features: map[string]int{FeatureELR: -1}}, "feature", "within 0..32767, got -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.WithDefaults().Validate()
			var specErr *SpecError
			require.ErrorAs(t, err, &specErr)
			require.Equal(t, tt.field, specErr.Field)
			require.Contains(t, err.Error(), tt.says)
			require.ErrorIs(t, err, ErrInvalidSpec)
		})
	}
}

func TestValidateAcceptsDefaultsAndOverrides(t *testing.T) {
	spec := ClusterSpec{ServerProperties: map[string]string{
		"log.flush.interval.messages": "1", "auto.leader.rebalance.enable": "false", "compression.type": "lz4",
	}}.WithDefaults()
	require.NoError(t, spec.Validate())
	require.Equal(t, 3, spec.Brokers)
	require.Equal(t, 3, spec.ReplicationFactor)
	require.Equal(t, 2, spec.MinInsyncReplicas)
	require.Equal(t, 1, ClusterSpec{Brokers: 1}.WithDefaults().MinInsyncReplicas)
}

// An invalid spec must fail before anything is started: Start returns the spec error without
// touching the Docker engine at all, so not even a network is created.
func TestStartRejectsInvalidSpecBeforeStarting(t *testing.T) {
	before, err := OwnedObjects(context.Background())
	require.NoError(t, err)
	_, err = Start(context.Background(), ClusterSpec{Brokers: 2, ReplicationFactor: 3}, Options{})
	require.ErrorIs(t, err, ErrInvalidSpec)
	require.Contains(t, err.Error(), "replication-factor")
	after, err := OwnedObjects(context.Background())
	require.NoError(t, err)
	require.Equal(t, before, after)
}

func TestServerPropertiesRendering(t *testing.T) {
	spec := ClusterSpec{UncleanLeaderElection: true, MinInsyncReplicas: 1,
		ServerProperties: map[string]string{"compression.type": "lz4", "log.retention.ms": "1000"}}.WithDefaults()
	props := spec.serverProperties(2, 40123)
	require.Contains(t, props, "broker.id=2\n")
	require.Contains(t, props, "advertised.listeners=INTERNAL://n2:9092,EXTERNAL://127.0.0.1:40123\n")
	require.Contains(t, props, "zookeeper.connect=zk1:2181\n")
	require.Contains(t, props, "unclean.leader.election.enable=true\n")
	require.Contains(t, props, "compression.type=lz4\n")
	require.Contains(t, props, "log.retention.ms=1000\n")
	require.Contains(t, props, "min.insync.replicas=1\n")
}

func TestZooConfigRendering(t *testing.T) {
	one := ClusterSpec{}.WithDefaults().zooConfig(1)
	require.NotContains(t, one, "server.")
	three := ClusterSpec{ZooKeeperNodes: 3}.WithDefaults()
	cfg := three.zooConfig(2)
	require.Contains(t, cfg, "server.1=zk1:2888:3888\n")
	require.Contains(t, cfg, "server.2=0.0.0.0:2888:3888\n")
	require.Contains(t, cfg, "server.3=zk3:2888:3888\n")
	require.Equal(t, "zk1:2181,zk2:2181,zk3:2181", three.zkConnect())
}

func TestIsStale(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		stale  bool
	}{
		{"live owner", map[string]string{labelOwnerHost: "h", labelOwnerPID: "1"}, false},
		{"other host", map[string]string{labelOwnerHost: "other", labelOwnerPID: "999999999"}, false},
		{"dead owner", map[string]string{labelOwnerHost: "h", labelOwnerPID: "999999999"}, true},
		{"detached", map[string]string{labelOwnerHost: "h", labelOwnerPID: detachedOwner}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.stale, isStale(tt.labels, "h")) })
	}
}
