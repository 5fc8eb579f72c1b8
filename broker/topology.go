package broker

import "fmt"

// Topology says in a few words what cluster s describes, for progress lines and summaries:
// "Kafka 3.9.1 ZooKeeper, 1 ZooKeeper node, 3 brokers" or "Kafka 4.1.1 KRaft, 3 controllers
// (combined), 3 brokers".
func (s ClusterSpec) Topology() string {
	s = s.WithDefaults()
	if s.KRaft() {
		return fmt.Sprintf("Kafka %s KRaft, %s (%s), %s", s.KafkaVersion, count(s.Controllers, "controller"), s.ControllerMode, count(s.Brokers, "broker"))
	}
	return fmt.Sprintf("Kafka %s ZooKeeper, %s, %s", s.KafkaVersion, count(s.ZooKeeperNodes, "ZooKeeper node"), count(s.Brokers, "broker"))
}

// count writes n things, in the singular for one.
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
