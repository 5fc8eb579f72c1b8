package broker

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/images"
)

// controllerPort is the KRaft controller listener, bound on each controller's own address.
const controllerPort = 9093

// ControllerIDBase is added to a dedicated controller's number to make its node.id: c1 is
// node 101. Brokers keep 1..9, so a node id names one node whatever the placement.
const ControllerIDBase = 100

// ControllerName is the stable node name of dedicated controller n (1-based): c1, c2, ...
func ControllerName(n int) string { return "c" + strconv.Itoa(n) }

// KRaft reports whether the spec runs KRaft controllers instead of ZooKeeper.
func (s ClusterSpec) KRaft() bool { return s.Metadata == MetadataKRaft }

// usesLog4j2 reports whether the version logs with log4j2 (Kafka 4.0 on) instead of log4j 1.
func (s ClusterSpec) usesLog4j2() bool {
	major, _, _ := images.ParseRelease(s.KafkaVersion)
	return major >= 4
}

// logOptions are the JVM options that point Kafka's logging at kchaos's configuration.
func (s ClusterSpec) logOptions() string {
	if s.usesLog4j2() {
		return "-Dlog4j2.configurationFile=/etc/kchaos/log4j2.properties"
	}
	return "-Dlog4j.configuration=file:/etc/kchaos/log4j.properties"
}

// quorumVoters renders controller.quorum.voters: the static voter set, by address (a stopped
// container's name no longer resolves on the Docker network, its address stays).
func quorumVoters(controllers []*Node) string {
	voters := make([]string, len(controllers))
	for i, n := range controllers {
		voters[i] = fmt.Sprintf("%d@%s:%d", n.ID, n.IP, controllerPort)
	}
	return strings.Join(voters, ",")
}

// kraftProperties renders server.properties for a KRaft node: a broker, a dedicated controller or
// a combined node. Brokers advertise the EXTERNAL listener as 127.0.0.1:HostPort, as in ZooKeeper
// mode. The controller listener is bound on the node's own address and not advertised: Kafka 3.9
// refuses a controller listener among a broker's advertised listeners.
func (s ClusterSpec) kraftProperties(n *Node, controllers []*Node) string {
	props := s.baseProperties()
	var roles, listeners []string
	protocols := []string{"CONTROLLER:PLAINTEXT"}
	if n.Role.IsBroker() {
		roles = append(roles, "broker")
		listeners = append(listeners, fmt.Sprintf("INTERNAL://0.0.0.0:%d", internalPort), fmt.Sprintf("EXTERNAL://0.0.0.0:%d", externalPort))
		protocols = append(protocols, "INTERNAL:PLAINTEXT", "EXTERNAL:PLAINTEXT")
		props["advertised.listeners"] = fmt.Sprintf("INTERNAL://%s:%d,EXTERNAL://127.0.0.1:%d", n.Name, internalPort, n.HostPort)
		props["inter.broker.listener.name"] = "INTERNAL"
	}
	if n.Role.IsController() {
		roles = append(roles, "controller")
		listeners = append(listeners, fmt.Sprintf("CONTROLLER://%s:%d", n.IP, controllerPort))
	}
	maps.Copy(props, map[string]string{
		"process.roles":                  strings.Join(roles, ","),
		"node.id":                        strconv.Itoa(n.ID),
		"controller.quorum.voters":       quorumVoters(controllers),
		"controller.listener.names":      "CONTROLLER",
		"listeners":                      strings.Join(listeners, ","),
		"listener.security.protocol.map": strings.Join(protocols, ","),
		// A NoOp record every 5 s instead of every 0.5 s: the metadata log read after the run
		// stays small, and the active controller still shows it is alive.
		"metadata.max.idle.interval.ms": "5000",
	})
	return renderProperties(fmt.Sprintf("%s (%s)", n.Name, n.Role), props, s.ServerProperties)
}

// kafkaCommand is the container's shell command for a Kafka node. In KRaft mode it formats the
// storage with the cluster's id on the first start only (a restarted container keeps its data);
// the formatting JVM is short-lived, so it skips the optimising compiler.
func (s ClusterSpec) kafkaCommand(clusterID string) string {
	logOpts := s.logOptions()
	format := ""
	if s.KRaft() {
		features := ""
		if args := s.featureArgs(); args != "" {
			features = " " + args
		}
		format = fmt.Sprintf(`{ [ -f /var/lib/kafka/data/meta.properties ] || java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC %s -cp '/opt/kafka/libs/*' `+
			`kafka.tools.StorageTool format -t %s -c /etc/kchaos/server.properties%s; } && `, logOpts, clusterID, features)
	}
	return fmt.Sprintf(`mkdir -p /var/lib/kafka/data /var/log/kafka && %s`+
		`exec java -Xms%[2]dm -Xmx%[2]dm -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true `+
		`%[3]s -Dkafka.logs.dir=/var/log/kafka `+
		`-cp '/opt/kafka/libs/*' kafka.Kafka /etc/kchaos/server.properties`, format, s.BrokerHeapMB, logOpts)
}

// newClusterID returns a KRaft cluster id as StorageTool random-uuid makes one: 16 random bytes,
// unpadded URL-safe base64, never starting with '-' (which a command line would take for a flag).
func newClusterID() string {
	for {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id := base64.RawURLEncoding.EncodeToString(b[:])
		if id[0] != '-' {
			return id
		}
	}
}
