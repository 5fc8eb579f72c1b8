// Package broker owns the system under test: a real Apache Kafka cluster in Docker containers, in
// ZooKeeper mode (3.x) or KRaft mode (3.9 and 4.x). It renders configuration from a ClusterSpec,
// starts ZooKeeper or the KRaft controllers and the brokers on a private network, gives each node
// its lifecycle (kill, restart, stop, pause, resume), exec inside its network namespace, its
// address and its logs, observes partition state and the controller (ZooKeeper watches, or KRaft
// polls), and reads the exact metadata history off the nodes after a run. It knows nothing of
// workloads or checkers.
package broker

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/images"
)

// DefaultImage is the Kafka image kchaos builds from Maven Central for DefaultKafkaVersion (kchaos
// setup, or Start on demand).
// Any image laid out like the official distribution (/opt/kafka/libs, java on PATH) works, e.g.
// apache/kafka:3.9.1 or apache/kafka:4.1.1.
const DefaultImage = ImagePrefix + DefaultKafkaVersion

// ImagePrefix is the repository of the images package images builds: ImagePrefix+version is the
// image of a ClusterSpec that names no Image.
const ImagePrefix = images.KafkaRepository + ":"

// DefaultKafkaVersion is the Kafka release of a spec that names none: the last line with
// ZooKeeper mode.
const DefaultKafkaVersion = "3.9.1"

// The metadata modes of a cluster: ZooKeeper (3.x only) or KRaft (3.9 and 4.x).
const (
	MetadataZooKeeper = "zookeeper"
	MetadataKRaft     = "kraft"
)

// The placements of KRaft controllers: on the first brokers (combined nodes, process.roles
// broker,controller) or on nodes of their own (c1, c2, ...).
const (
	ControllersCombined  = "combined"
	ControllersDedicated = "dedicated"
)

// ClusterSpec describes the cluster to start. The zero value of each field means its default
// (see WithDefaults); Validate reports what is wrong before anything starts.
type ClusterSpec struct {
	// Image is the Kafka image; ImagePrefix+KafkaVersion when empty.
	Image string `json:"image"`
	// KafkaVersion is the Kafka release the image holds (DefaultKafkaVersion when empty): it
	// decides the default metadata mode and the configuration rendered (log4j2 from 4.0 on).
	KafkaVersion string `json:"kafka_version"`
	// Metadata is MetadataZooKeeper or MetadataKRaft; when empty, KRaft for 4.x (which has no
	// ZooKeeper mode) or when Controllers or ControllerMode is set, else ZooKeeper.
	Metadata string `json:"metadata"`
	// Controllers is the number of KRaft controller voters (KRaft only): 3 by default, 1 with a
	// single broker.
	Controllers int `json:"controllers,omitempty"`
	// ControllerMode places the controllers (KRaft only): ControllersCombined (the default, on
	// brokers n1..nN) or ControllersDedicated (nodes c1..cN of their own).
	ControllerMode string `json:"controller_mode,omitempty"`
	// ZooKeeperNodes is 1 or 3 (ZooKeeper mode; ignored in KRaft mode).
	ZooKeeperNodes int `json:"zk_nodes"`
	// Brokers is the number of Kafka brokers, named n1, n2, ... with broker.id 1, 2, ...
	Brokers int `json:"brokers"`
	// BrokerHeapMB and ZooKeeperHeapMB size the JVM heaps (-Xms and -Xmx).
	BrokerHeapMB    int `json:"broker_heap_mb"`
	ZooKeeperHeapMB int `json:"zk_heap_mb"`
	// ReplicationFactor is default.replication.factor, used for topics created without one.
	ReplicationFactor int `json:"replication_factor"`
	// MinInsyncReplicas is min.insync.replicas.
	MinInsyncReplicas int `json:"min_insync_replicas"`
	// UncleanLeaderElection is unclean.leader.election.enable.
	UncleanLeaderElection bool `json:"unclean_leader_election"`
	// ReplicaLagTimeMaxMs is replica.lag.time.max.ms; Kafka's 30000 when zero.
	ReplicaLagTimeMaxMs int `json:"replica_lag_time_max_ms"`
	// ZooKeeperSessionTimeoutMs is zookeeper.session.timeout.ms; Kafka's 18000 when zero
	// (ZooKeeper mode; ignored in KRaft mode).
	ZooKeeperSessionTimeoutMs int `json:"zookeeper_session_timeout_ms"`
	// ServerProperties holds any other server.properties keys; they override the rendered ones.
	ServerProperties map[string]string `json:"server_properties,omitempty"`
	// FaultFS serves each broker's log dir from a faultfs mount on the host, for the crash,
	// power-loss and disk faults (see faultfs.go).
	FaultFS bool `json:"faultfs,omitempty"`
	// Features are KRaft features set when the storage is formatted (StorageTool format
	// --feature NAME=LEVEL), by name: e.g. eligible.leader.replicas.version 0 runs Kafka 4.1
	// without eligible leader replicas (KIP-966), which it finalizes at level 1 by default. A
	// feature not named takes the release's default level (KRaft only).
	Features map[string]int `json:"features,omitempty"`
}

// FeatureELR is the KRaft feature of eligible leader replicas (KIP-966): level 1 turns them on
// (the default of a new 4.1 cluster), 0 off.
const FeatureELR = history.FeatureELR

// The defaults WithDefaults gives, and the flags of kchaos run show (spec.Fields).
const (
	DefaultBrokers                   = 3
	DefaultZooKeeperNodes            = 1
	DefaultBrokerHeapMB              = 512
	DefaultZooKeeperHeapMB           = 256
	DefaultReplicationFactor         = 3
	DefaultMinInsyncReplicas         = 2
	DefaultReplicaLagTimeMaxMs       = 30000
	DefaultZooKeeperSessionTimeoutMs = 18000
	DefaultControllers               = 3
)

// WithDefaults returns a copy of s with every unset field given its default. Brokers is left as it
// is when negative, so that Validate can name it.
func (s ClusterSpec) WithDefaults() ClusterSpec {
	if s.KafkaVersion == "" {
		s.KafkaVersion = DefaultKafkaVersion
	}
	if s.Image == "" {
		s.Image = ImagePrefix + s.KafkaVersion
	}
	if s.Metadata == "" {
		s.Metadata = MetadataZooKeeper
		if major, _, ok := images.ParseRelease(s.KafkaVersion); (ok && major >= 4) || s.Controllers != 0 || s.ControllerMode != "" {
			s.Metadata = MetadataKRaft
		}
	}
	if s.Metadata == MetadataKRaft {
		if s.ControllerMode == "" {
			s.ControllerMode = ControllersCombined
		}
		if s.Controllers == 0 {
			s.Controllers = DefaultControllers
			if s.Brokers == 1 {
				s.Controllers = 1 // a quorum of three over one broker would need two nodes of its own
			}
		}
	}
	if s.ZooKeeperNodes == 0 {
		s.ZooKeeperNodes = DefaultZooKeeperNodes
	}
	if s.Brokers == 0 {
		s.Brokers = DefaultBrokers
	}
	if s.BrokerHeapMB == 0 {
		s.BrokerHeapMB = DefaultBrokerHeapMB
	}
	if s.ZooKeeperHeapMB == 0 {
		s.ZooKeeperHeapMB = DefaultZooKeeperHeapMB
	}
	if s.ReplicationFactor == 0 {
		s.ReplicationFactor = min(DefaultReplicationFactor, max(s.Brokers, 1))
	}
	if s.MinInsyncReplicas == 0 {
		s.MinInsyncReplicas = min(DefaultMinInsyncReplicas, max(s.ReplicationFactor, 1))
	}
	if s.ReplicaLagTimeMaxMs == 0 {
		s.ReplicaLagTimeMaxMs = DefaultReplicaLagTimeMaxMs
	}
	if s.ZooKeeperSessionTimeoutMs == 0 {
		s.ZooKeeperSessionTimeoutMs = DefaultZooKeeperSessionTimeoutMs
	}
	s.ServerProperties = maps.Clone(s.ServerProperties)
	s.Features = maps.Clone(s.Features)
	return s
}

// The server properties that bound how long a cluster waits for a broker that stopped answering
// before it fences the broker and elects other leaders for its partitions: the broker's
// ZooKeeper session in ZooKeeper mode, its heartbeats to the KRaft controllers in KRaft mode.
const (
	ZooKeeperSessionTimeoutKey = "zookeeper.session.timeout.ms"
	BrokerSessionTimeoutKey    = "broker.session.timeout.ms"
)

// DefaultBrokerSessionTimeoutMs is Kafka's broker.session.timeout.ms (3.x and 4.x alike), which
// kchaos leaves to Kafka: how long a broker's lease with the controllers lasts without a
// heartbeat (one every broker.heartbeat.interval.ms, 2000 by default).
const DefaultBrokerSessionTimeoutMs = 9000

// SessionTimeout returns the setting that bounds failover after a broker stops answering, and
// its value in milliseconds: zookeeper.session.timeout.ms in ZooKeeper mode; in KRaft mode the
// controllers' broker.session.timeout.ms, as a server property sets it, else Kafka's default (the
// spec's zookeeper.session.timeout.ms, which KRaft has not, plays no part). ms is 0 when the spec
// does not say: a server property that is not a positive whole number, which Validate refuses.
func (s ClusterSpec) SessionTimeout() (key string, ms int) {
	s = s.WithDefaults()
	if !s.KRaft() {
		return ZooKeeperSessionTimeoutKey, s.ZooKeeperSessionTimeoutMs
	}
	v, ok := s.ServerProperties[BrokerSessionTimeoutKey]
	if !ok {
		return BrokerSessionTimeoutKey, DefaultBrokerSessionTimeoutMs
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return BrokerSessionTimeoutKey, n
	}
	return BrokerSessionTimeoutKey, 0
}

// SpecError is a ClusterSpec field with a value that cannot be used.
type SpecError struct {
	Field   string // the field or server.properties key, as a user spells it
	Problem string
}

func (e *SpecError) Error() string { return fmt.Sprintf("cluster spec: %s: %s", e.Field, e.Problem) }

var (
	propertyKey = regexp.MustCompile(`^[a-z][a-z0-9]*([._-][a-z0-9]+)*$`)

	// Keys kchaos renders itself and must stay under its control: overriding them breaks addressing,
	// storage or identity, not just behaviour.
	reservedKeys = []string{"broker.id", "listeners", "advertised.listeners", "listener.security.protocol.map",
		"inter.broker.listener.name", "zookeeper.connect", "log.dirs",
		"node.id", "process.roles", "controller.quorum.voters", "controller.quorum.bootstrap.servers",
		"controller.listener.names", "zookeeper.metadata.migration.enable"}

	// Keys a ClusterSpec field renders, by the flag that sets it: overriding them through
	// ServerProperties would make the spec say one thing and the brokers do another.
	typedKeys = map[string]string{
		"default.replication.factor":     "replication-factor",
		"min.insync.replicas":            "min-insync-replicas",
		"unclean.leader.election.enable": "unclean-leader-election",
		"replica.lag.time.max.ms":        "replica-lag-time-max-ms",
		"zookeeper.session.timeout.ms":   "zookeeper-session-timeout-ms",
	}
)

// Validate reports the first problem with the spec as a *SpecError naming the field; it starts nothing.
// Call it on a spec with defaults applied.
func (s ClusterSpec) Validate() error {
	switch {
	case s.Brokers < 1:
		return &SpecError{"brokers", fmt.Sprintf("must be at least 1, got %d", s.Brokers)}
	case s.Brokers > 9:
		return &SpecError{"brokers", fmt.Sprintf("at most 9 fit this harness, got %d", s.Brokers)}
	case s.Metadata != MetadataKRaft && s.ZooKeeperNodes != 1 && s.ZooKeeperNodes != 3:
		return &SpecError{"zk-nodes", fmt.Sprintf("must be 1 or 3, got %d", s.ZooKeeperNodes)}
	case s.ReplicationFactor < 1:
		return &SpecError{"replication-factor", fmt.Sprintf("must be at least 1, got %d", s.ReplicationFactor)}
	case s.ReplicationFactor > s.Brokers:
		return &SpecError{"replication-factor", fmt.Sprintf("%d exceeds the number of brokers (%d)", s.ReplicationFactor, s.Brokers)}
	case s.MinInsyncReplicas < 1:
		return &SpecError{"min-insync-replicas", fmt.Sprintf("must be at least 1, got %d", s.MinInsyncReplicas)}
	case s.MinInsyncReplicas > s.ReplicationFactor:
		return &SpecError{"min-insync-replicas", fmt.Sprintf("%d exceeds the replication factor (%d)", s.MinInsyncReplicas, s.ReplicationFactor)}
	case s.BrokerHeapMB < 128:
		return &SpecError{"broker-heap-mb", fmt.Sprintf("must be at least 128, got %d", s.BrokerHeapMB)}
	case s.ZooKeeperHeapMB < 64:
		return &SpecError{"zk-heap-mb", fmt.Sprintf("must be at least 64, got %d", s.ZooKeeperHeapMB)}
	case s.ReplicaLagTimeMaxMs < 1:
		return &SpecError{"replica-lag-time-max-ms", fmt.Sprintf("must be positive, got %d", s.ReplicaLagTimeMaxMs)}
	case s.ZooKeeperSessionTimeoutMs < 1:
		return &SpecError{"zookeeper-session-timeout-ms", fmt.Sprintf("must be positive, got %d", s.ZooKeeperSessionTimeoutMs)}
	case strings.TrimSpace(s.Image) == "" || strings.ContainsAny(s.Image, " \t\n"):
		return &SpecError{"image", fmt.Sprintf("%q is not an image reference", s.Image)}
	}
	if err := s.validateMetadata(); err != nil {
		return err
	}
	for _, key := range slices.Sorted(maps.Keys(s.ServerProperties)) {
		if err := validateProperty(key, s.ServerProperties[key]); err != nil {
			return err
		}
	}
	return s.validateFeatures()
}

// featureName is what StorageTool takes as a feature's name: lower-case words joined by dots.
var featureName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// validateFeatures checks the KRaft features: KRaft mode only, names StorageTool can take,
// levels not negative. Whether the release knows the feature and level, StorageTool says when
// the first node formats its storage.
func (s ClusterSpec) validateFeatures() error {
	if len(s.Features) > 0 && s.Metadata != MetadataKRaft {
		return &SpecError{"feature", fmt.Sprintf("KRaft features in ZooKeeper mode (got %s): use --metadata %s", s.featureArgs(), MetadataKRaft)}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Features)) {
		switch level := s.Features[name]; {
		case !featureName.MatchString(name):
			return &SpecError{"feature", fmt.Sprintf("%q is not a feature name such as %s", name, FeatureELR)}
		case level < 0 || level > math.MaxInt16:
			return &SpecError{"feature", fmt.Sprintf("%s: level must be within 0..%d, got %d", name, math.MaxInt16, level)}
		}
	}
	return nil
}

// featureArgs renders the features as StorageTool's options, sorted by name: "--feature
// eligible.leader.replicas.version=0"; "" when there are none.
func (s ClusterSpec) featureArgs() string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(s.Features)) {
		parts = append(parts, fmt.Sprintf("--feature %s=%d", name, s.Features[name]))
	}
	return strings.Join(parts, " ")
}

// maxControllers bounds the KRaft voters: more than five only slows every commit down.
const maxControllers = 5

// validateMetadata checks the version, the metadata mode and the controllers against each other.
func (s ClusterSpec) validateMetadata() error {
	major, minor, ok := images.ParseRelease(s.KafkaVersion)
	switch {
	case !ok:
		return &SpecError{"kafka-version", fmt.Sprintf("%q is not a Kafka release such as 3.9.1 or 4.1.1", s.KafkaVersion)}
	case major < 3 || major > 4:
		return &SpecError{"kafka-version", fmt.Sprintf("%s: kchaos runs Kafka 3.x and 4.x", s.KafkaVersion)}
	case s.Metadata != MetadataZooKeeper && s.Metadata != MetadataKRaft:
		return &SpecError{"metadata", fmt.Sprintf("want %s or %s, got %q", MetadataZooKeeper, MetadataKRaft, s.Metadata)}
	case s.Metadata == MetadataZooKeeper && major >= 4:
		return &SpecError{"metadata", fmt.Sprintf("Kafka %s has no ZooKeeper mode (--kafka-version %s --metadata %s): use --metadata %s, or a 3.x --kafka-version",
			s.KafkaVersion, s.KafkaVersion, MetadataZooKeeper, MetadataKRaft)}
	case s.Metadata == MetadataKRaft && major == 3 && minor < 9:
		return &SpecError{"metadata", fmt.Sprintf("kchaos runs KRaft from Kafka 3.9 on, got --kafka-version %s", s.KafkaVersion)}
	}
	if s.Metadata == MetadataZooKeeper {
		if s.Controllers != 0 {
			return &SpecError{"controllers", fmt.Sprintf("KRaft controllers in ZooKeeper mode (got %d): use --metadata %s", s.Controllers, MetadataKRaft)}
		}
		if s.ControllerMode != "" {
			return &SpecError{"controller-mode", fmt.Sprintf("KRaft controllers in ZooKeeper mode (got %q): use --metadata %s", s.ControllerMode, MetadataKRaft)}
		}
		return nil
	}
	switch {
	case s.ControllerMode != ControllersCombined && s.ControllerMode != ControllersDedicated:
		return &SpecError{"controller-mode", fmt.Sprintf("want %s or %s, got %q", ControllersCombined, ControllersDedicated, s.ControllerMode)}
	case s.Controllers < 1 || s.Controllers > maxControllers:
		return &SpecError{"controllers", fmt.Sprintf("must be within 1..%d, got %d", maxControllers, s.Controllers)}
	case s.ControllerMode == ControllersCombined && s.Controllers > s.Brokers:
		return &SpecError{"controllers", fmt.Sprintf("%d combined controllers need as many brokers, got %d brokers (or use --controller-mode %s)",
			s.Controllers, s.Brokers, ControllersDedicated)}
	}
	return nil
}

func validateProperty(key, value string) error {
	if !propertyKey.MatchString(key) {
		return &SpecError{key, "malformed server.properties key (want lower-case words joined by '.', '-' or '_')"}
	}
	if slices.Contains(reservedKeys, key) {
		return &SpecError{key, "is set by kchaos itself and cannot be overridden"}
	}
	if flag, ok := typedKeys[key]; ok {
		return &SpecError{key, fmt.Sprintf("has a setting of its own (--%s): set it there, so that test.json, the report and the ISR analysis agree with the brokers", flag)}
	}
	if strings.ContainsAny(value, "\n\r\x00") {
		return &SpecError{key, fmt.Sprintf("value %q holds a line break or NUL", value)}
	}
	if strings.TrimSpace(value) == "" {
		return &SpecError{key, "value is empty"}
	}
	// Kafka's naming says the type of most keys, so a typo is caught before a cluster starts.
	if strings.HasSuffix(key, ".enable") {
		if value != "true" && value != "false" {
			return &SpecError{key, fmt.Sprintf("value %q is not true or false", value)}
		}
	}
	if strings.HasSuffix(key, ".ms") || strings.HasSuffix(key, ".bytes") || strings.HasSuffix(key, ".replicas") ||
		strings.HasSuffix(key, ".factor") || strings.HasPrefix(key, "num.") {
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return &SpecError{key, fmt.Sprintf("value %q is not an integer", value)}
		}
	}
	return nil
}

// ErrInvalidSpec is matched by errors.Is for every *SpecError.
var ErrInvalidSpec = errors.New("invalid cluster spec")

// Is makes errors.Is(err, ErrInvalidSpec) true for spec errors.
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// Node names and ports inside the cluster network.
const (
	internalPort = 9092 // inter-broker listener, advertised as nN:9092
	externalPort = 9094 // host listener, published on 127.0.0.1 and advertised as such
	zkClientPort = 2181
)

// BrokerName is the stable node name of broker id (1-based): n1, n2, ...
func BrokerName(id int) string { return history.BrokerName(id) }

// ZooKeeperName is the stable node name of ZooKeeper server id (1-based): zk1, zk2, ...
func ZooKeeperName(id int) string { return "zk" + strconv.Itoa(id) }

// zkConnect is the zookeeper.connect string brokers use inside the network.
func (s ClusterSpec) zkConnect() string {
	hosts := make([]string, s.ZooKeeperNodes)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("%s:%d", ZooKeeperName(i+1), zkClientPort)
	}
	return strings.Join(hosts, ",")
}

// serverProperties renders server.properties for broker id in ZooKeeper mode, advertising
// hostPort to clients on the host.
func (s ClusterSpec) serverProperties(id, hostPort int) string {
	props := s.baseProperties()
	maps.Copy(props, map[string]string{
		"broker.id":                      strconv.Itoa(id),
		"listeners":                      fmt.Sprintf("INTERNAL://0.0.0.0:%d,EXTERNAL://0.0.0.0:%d", internalPort, externalPort),
		"advertised.listeners":           fmt.Sprintf("INTERNAL://%s:%d,EXTERNAL://127.0.0.1:%d", BrokerName(id), internalPort, hostPort),
		"listener.security.protocol.map": "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
		"inter.broker.listener.name":     "INTERNAL",
		"zookeeper.connect":              s.zkConnect(),
		"zookeeper.session.timeout.ms":   strconv.Itoa(s.ZooKeeperSessionTimeoutMs),
	})
	return renderProperties("broker "+BrokerName(id), props, s.ServerProperties)
}

// baseProperties are the keys every Kafka node gets in either metadata mode. A KRaft controller
// gets them too: it applies the cluster-wide defaults (min.insync.replicas decides the ELR).
func (s ClusterSpec) baseProperties() map[string]string {
	return map[string]string{
		"log.dirs":                                 "/var/lib/kafka/data",
		"default.replication.factor":               strconv.Itoa(s.ReplicationFactor),
		"min.insync.replicas":                      strconv.Itoa(s.MinInsyncReplicas),
		"unclean.leader.election.enable":           strconv.FormatBool(s.UncleanLeaderElection),
		"replica.lag.time.max.ms":                  strconv.Itoa(s.ReplicaLagTimeMaxMs),
		"offsets.topic.replication.factor":         strconv.Itoa(min(3, s.Brokers)),
		"transaction.state.log.replication.factor": strconv.Itoa(min(3, s.Brokers)),
		"transaction.state.log.min.isr":            strconv.Itoa(min(2, s.Brokers)),
		"auto.create.topics.enable":                "false",
		"group.initial.rebalance.delay.ms":         "0",
		"num.partitions":                           "1",
		// Faster controlled failover is the point of the harness, not slow shutdowns.
		"controlled.shutdown.enable": "true",
	}
}

// renderProperties writes props, overridden by the user's keys, sorted, under a header naming
// the node.
func renderProperties(node string, props, overrides map[string]string) string {
	maps.Copy(props, overrides)
	var b strings.Builder
	b.WriteString("# Rendered by kchaos for " + node + "\n")
	for _, k := range slices.Sorted(maps.Keys(props)) {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	return b.String()
}

// zooConfig renders zoo.cfg for ZooKeeper server id.
func (s ClusterSpec) zooConfig(id int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Rendered by kchaos for %s\n", ZooKeeperName(id))
	b.WriteString("dataDir=/var/lib/zookeeper\n")
	fmt.Fprintf(&b, "clientPort=%d\n", zkClientPort)
	b.WriteString("tickTime=2000\ninitLimit=10\nsyncLimit=5\nmaxClientCnxns=0\n")
	b.WriteString("admin.enableServer=false\n4lw.commands.whitelist=*\n")
	// Brokers may ask for sessions up to the session timeout they are given.
	fmt.Fprintf(&b, "maxSessionTimeout=%d\n", max(40000, 2*s.ZooKeeperSessionTimeoutMs))
	if s.ZooKeeperNodes > 1 {
		for i := 1; i <= s.ZooKeeperNodes; i++ {
			host := ZooKeeperName(i)
			if i == id {
				host = "0.0.0.0" // bind on every interface; the peers reach it by name
			}
			fmt.Fprintf(&b, "server.%d=%s:2888:3888\n", i, host)
		}
	}
	return b.String()
}
