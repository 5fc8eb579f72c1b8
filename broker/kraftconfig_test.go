package broker

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKRaftDefaults(t *testing.T) {
	tests := []struct {
		name        string
		spec        ClusterSpec
		image       string
		metadata    string
		controllers int
		mode        string
	}{
		{"zero spec: 3.9.1 ZooKeeper", ClusterSpec{}, DefaultImage, MetadataZooKeeper, 0, ""},
		{"4.x is KRaft", ClusterSpec{KafkaVersion: "4.1.1"}, "kchaos/kafka:4.1.1", MetadataKRaft, 3, ControllersCombined},
		{"one broker, one controller", ClusterSpec{KafkaVersion: "4.1.1", Brokers: 1}, "kchaos/kafka:4.1.1", MetadataKRaft, 1, ControllersCombined},
		{"3.9 KRaft asked for", ClusterSpec{Metadata: MetadataKRaft}, DefaultImage, MetadataKRaft, 3, ControllersCombined},
		{"controllers imply KRaft", ClusterSpec{Controllers: 1}, DefaultImage, MetadataKRaft, 1, ControllersCombined},
		{"a controller mode implies KRaft", ClusterSpec{ControllerMode: ControllersDedicated}, DefaultImage, MetadataKRaft, 3, ControllersDedicated},
		{"an image of one's own", ClusterSpec{KafkaVersion: "4.1.1", Image: "apache/kafka:4.1.1"}, "apache/kafka:4.1.1", MetadataKRaft, 3, ControllersCombined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.spec.WithDefaults()
			require.NoError(t, s.Validate())
			require.Equal(t, tt.image, s.Image)
			require.Equal(t, tt.metadata, s.Metadata)
			require.Equal(t, tt.controllers, s.Controllers)
			require.Equal(t, tt.mode, s.ControllerMode)
		})
	}
}

func TestKRaftValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name  string
		spec  ClusterSpec
		field string
		says  string
	}{
		{"4.x has no ZooKeeper", ClusterSpec{KafkaVersion: "4.1.1", Metadata: MetadataZooKeeper}, "metadata", "--kafka-version 4.1.1 --metadata zookeeper"},
		{"not a release", ClusterSpec{KafkaVersion: "4.1"}, "kafka-version", "not a Kafka release"},
		{"too old", ClusterSpec{KafkaVersion: "2.8.2"}, "kafka-version", "3.x and 4.x"},
		{"unknown mode", ClusterSpec{Metadata: "etcd"}, "metadata", "zookeeper or kraft"},
		{"KRaft before 3.9", ClusterSpec{KafkaVersion: "3.7.0", Metadata: MetadataKRaft}, "metadata", "from Kafka 3.9"},
		{"controllers in ZooKeeper mode", ClusterSpec{Metadata: MetadataZooKeeper, Controllers: 3}, "controllers", "ZooKeeper mode"},
		{"controller mode in ZooKeeper mode", ClusterSpec{Metadata: MetadataZooKeeper, ControllerMode: ControllersCombined}, "controller-mode", "ZooKeeper mode"},
		{"unknown controller mode", ClusterSpec{Metadata: MetadataKRaft, ControllerMode: "mixed"}, "controller-mode", "combined or dedicated"},
		{"too many controllers", ClusterSpec{KafkaVersion: "4.1.1", Brokers: 9, Controllers: 7}, "controllers", "1..5"},
		{"negative controllers", ClusterSpec{KafkaVersion: "4.1.1", Controllers: -1}, "controllers", "1..5"},
		{"more combined controllers than brokers", ClusterSpec{KafkaVersion: "4.1.1", Brokers: 2, ReplicationFactor: 2, Controllers: 3}, "controllers", "--controller-mode dedicated"},
		{"node.id is kchaos's", ClusterSpec{KafkaVersion: "4.1.1", ServerProperties: map[string]string{"node.id": "7"}}, "node.id", "set by kchaos"},
		{"process.roles is kchaos's", ClusterSpec{KafkaVersion: "4.1.1", ServerProperties: map[string]string{"process.roles": "broker"}}, "process.roles", "set by kchaos"},
		{"voters are kchaos's", ClusterSpec{KafkaVersion: "4.1.1", ServerProperties: map[string]string{"controller.quorum.voters": "1@x:9093"}}, "controller.quorum.voters", "set by kchaos"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.WithDefaults().Validate()
			var specErr *SpecError
			require.ErrorAs(t, err, &specErr)
			require.Equal(t, tt.field, specErr.Field)
			require.Contains(t, err.Error(), tt.says)
		})
	}
	// Dedicated controllers may outnumber the brokers.
	require.NoError(t, ClusterSpec{KafkaVersion: "4.1.1", Brokers: 1, Controllers: 3, ControllerMode: ControllersDedicated}.WithDefaults().Validate())
	// ZooKeeper settings are ignored in KRaft mode, not checked.
	require.NoError(t, ClusterSpec{KafkaVersion: "4.1.1", ZooKeeperNodes: 2}.WithDefaults().Validate())
}

// testIP places hosts on 172.30.9.0/24 as the cluster network would.
func testIP(host int) netip.Addr { return netip.AddrFrom4([4]byte{172, 30, 9, byte(host)}) }

func TestKRaftPlacement(t *testing.T) {
	combined := ClusterSpec{KafkaVersion: "4.1.1", Brokers: 4}.WithDefaults()
	brokers, controllers := combined.kraftNodes(testIP, []int{1001, 1002, 1003, 1004})
	require.Empty(t, controllers)
	require.Len(t, brokers, 4)
	for i, want := range []Role{RoleCombined, RoleCombined, RoleCombined, RoleBroker} {
		require.Equal(t, want, brokers[i].Role, brokers[i].Name)
		require.Equal(t, i+1, brokers[i].ID)
		require.Equal(t, 1001+i, brokers[i].HostPort)
	}
	dedicated := ClusterSpec{KafkaVersion: "4.1.1", Brokers: 1, Controllers: 3, ControllerMode: ControllersDedicated}.WithDefaults()
	brokers, controllers = dedicated.kraftNodes(testIP, []int{1001})
	require.Equal(t, RoleBroker, brokers[0].Role)
	require.Len(t, controllers, 3)
	require.Equal(t, "c2", controllers[1].Name)
	require.Equal(t, 102, controllers[1].ID)
	require.Equal(t, RoleController, controllers[1].Role)
	for _, n := range append(brokers, controllers...) {
		require.Equal(t, n.Name, NodeName(n.ID), "NodeName maps every node id to its node's name")
	}
	require.Zero(t, controllers[1].HostPort, "a controller serves no clients")
	require.True(t, RoleCombined.IsBroker() && RoleCombined.IsController())
	require.False(t, RoleController.IsBroker() || RoleBroker.IsController() || RoleZooKeeper.IsBroker())
}

func TestKRaftServerPropertiesRendering(t *testing.T) {
	type node struct {
		role Role
		id   int
	}
	tests := []struct {
		name       string
		spec       ClusterSpec
		node       node
		contains   []string
		notContain []string
	}{
		{"4.x combined", ClusterSpec{KafkaVersion: "4.1.1", MinInsyncReplicas: 2}, node{RoleCombined, 2},
			[]string{"process.roles=broker,controller\n", "node.id=2\n",
				"controller.quorum.voters=1@172.30.9.20:9093,2@172.30.9.21:9093,3@172.30.9.22:9093\n",
				"controller.listener.names=CONTROLLER\n",
				"listeners=INTERNAL://0.0.0.0:9092,EXTERNAL://0.0.0.0:9094,CONTROLLER://172.30.9.21:9093\n",
				"advertised.listeners=INTERNAL://n2:9092,EXTERNAL://127.0.0.1:40002\n",
				"listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT\n",
				"inter.broker.listener.name=INTERNAL\n", "metadata.max.idle.interval.ms=5000\n", "min.insync.replicas=2\n"},
			[]string{"zookeeper", "broker.id="}},
		{"broker only", ClusterSpec{KafkaVersion: "4.1.1", Brokers: 4}, node{RoleBroker, 4},
			[]string{"process.roles=broker\n", "node.id=4\n", "listeners=INTERNAL://0.0.0.0:9092,EXTERNAL://0.0.0.0:9094\n",
				"controller.quorum.voters=1@172.30.9.20:9093,"},
			[]string{"CONTROLLER://"}},
		{"dedicated controller", ClusterSpec{KafkaVersion: "4.1.1", ControllerMode: ControllersDedicated}, node{RoleController, 101},
			[]string{"process.roles=controller\n", "node.id=101\n", "listeners=CONTROLLER://172.30.9.30:9093\n",
				"controller.quorum.voters=101@172.30.9.30:9093,102@172.30.9.31:9093,103@172.30.9.32:9093\n",
				"default.replication.factor=3\n"},
			[]string{"advertised.listeners", "inter.broker.listener.name", "EXTERNAL"}},
		{"3.9 KRaft with overrides", ClusterSpec{Metadata: MetadataKRaft, ServerProperties: map[string]string{"compression.type": "lz4"}}, node{RoleCombined, 1},
			[]string{"process.roles=broker,controller\n", "compression.type=lz4\n"},
			[]string{"zookeeper"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.spec.WithDefaults()
			require.NoError(t, s.Validate())
			ports := make([]int, s.Brokers)
			for i := range ports {
				ports[i] = 40001 + i
			}
			brokers, dedicated := s.kraftNodes(testIP, ports)
			var voters []*Node
			var n *Node
			for _, m := range append(brokers, dedicated...) {
				if m.Role.IsController() {
					voters = append(voters, m)
				}
				if m.ID == tt.node.id {
					n = m
				}
			}
			require.NotNil(t, n)
			require.Equal(t, tt.node.role, n.Role)
			props := s.kraftProperties(n, voters)
			for _, want := range tt.contains {
				require.Contains(t, props, want)
			}
			for _, not := range tt.notContain {
				require.NotContains(t, props, not)
			}
		})
	}
}

func TestKafkaCommandPerVersionAndMode(t *testing.T) {
	tests := []struct {
		name       string
		spec       ClusterSpec
		contains   []string
		notContain []string
	}{
		{"3.9 ZooKeeper: log4j, no format", ClusterSpec{}, []string{"-Dlog4j.configuration=file:/etc/kchaos/log4j.properties", "kafka.Kafka /etc/kchaos/server.properties"},
			[]string{"StorageTool", "log4j2"}},
		{"3.9 KRaft: log4j, format once", ClusterSpec{Metadata: MetadataKRaft}, []string{"-Dlog4j.configuration=", "[ -f /var/lib/kafka/data/meta.properties ] || ", "kafka.tools.StorageTool format -t ID -c /etc/kchaos/server.properties"},
			[]string{"log4j2"}},
		{"4.x KRaft: log4j2, format once", ClusterSpec{KafkaVersion: "4.1.1"}, []string{"-Dlog4j2.configurationFile=/etc/kchaos/log4j2.properties", "kafka.tools.StorageTool format -t ID "},
			[]string{"-Dlog4j.configuration=", "--feature"}},
		{"4.x KRaft with features: sorted, on the format command", ClusterSpec{KafkaVersion: "4.1.1", Features: map[string]int{FeatureELR: 0, "group.version": 1}},
			[]string{"kafka.tools.StorageTool format -t ID -c /etc/kchaos/server.properties --feature eligible.leader.replicas.version=0 --feature group.version=1; } && "}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := tt.spec.WithDefaults().kafkaCommand("ID")
			for _, want := range tt.contains {
				require.Contains(t, cmd, want)
			}
			for _, not := range tt.notContain {
				require.NotContains(t, cmd, not)
			}
			require.True(t, strings.HasSuffix(cmd, "kafka.Kafka /etc/kchaos/server.properties"))
		})
	}
}

func TestClusterIDLooksLikeKafkas(t *testing.T) {
	for range 100 {
		id := newClusterID()
		require.Len(t, id, 22)
		require.NotEqual(t, byte('-'), id[0])
		require.NotContains(t, id, "=")
	}
}

// The session timeout that bounds failover is the metadata mode's: ZooKeeper's session, or the
// KRaft controllers' broker session (Kafka's 9000 ms unless a server property sets it), never the
// zookeeper.session.timeout.ms a KRaft spec carries unused.
func TestSessionTimeoutFollowsTheMode(t *testing.T) {
	tests := []struct {
		name string
		spec ClusterSpec
		key  string
		ms   int
	}{
		{"ZooKeeper, default", ClusterSpec{}, "zookeeper.session.timeout.ms", 18000},
		{"ZooKeeper, set", ClusterSpec{ZooKeeperSessionTimeoutMs: 6000}, "zookeeper.session.timeout.ms", 6000},
		{"4.x is KRaft: Kafka's default", ClusterSpec{KafkaVersion: "4.1.1"}, "broker.session.timeout.ms", 9000},
		{"KRaft ignores the ZooKeeper setting", ClusterSpec{Metadata: MetadataKRaft, ZooKeeperSessionTimeoutMs: 6000}, "broker.session.timeout.ms", 9000},
		{"KRaft, set by a server property", ClusterSpec{KafkaVersion: "4.1.1", ServerProperties: map[string]string{"broker.session.timeout.ms": "4500"}},
			"broker.session.timeout.ms", 4500},
		{"KRaft, a value that is no number: unknown", ClusterSpec{KafkaVersion: "4.1.1", ServerProperties: map[string]string{"broker.session.timeout.ms": "9s"}},
			"broker.session.timeout.ms", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, ms := tt.spec.SessionTimeout()
			require.Equal(t, tt.key, key)
			require.Equal(t, tt.ms, ms)
		})
	}
	// What the controllers are given is what SessionTimeout reads.
	s := ClusterSpec{KafkaVersion: "4.1.1", ControllerMode: ControllersDedicated,
		ServerProperties: map[string]string{"broker.session.timeout.ms": "4500"}}.WithDefaults()
	require.NoError(t, s.Validate())
	_, controllers := s.kraftNodes(testIP, []int{40001, 40002, 40003})
	require.NotEmpty(t, controllers)
	for _, c := range controllers {
		props := s.kraftProperties(c, controllers)
		require.Contains(t, props, "\nbroker.session.timeout.ms=4500\n", c.Name)
		require.NotContains(t, props, "zookeeper", c.Name)
	}
}

func TestNodeName(t *testing.T) {
	tests := []struct {
		id   int
		want string
	}{
		{1, "n1"}, {9, "n9"}, {101, "c1"}, {105, "c5"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, NodeName(tt.id), "node id %d", tt.id)
	}
}
