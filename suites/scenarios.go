// Package suites holds kchaos's proof on real Kafka: named chaos scenarios, each a test spec and
// what a run of it must find. The safe scenarios (replication factor 3, min.insync.replicas 2,
// acks=all, unclean election off) must be valid under every fault; the unsafe ones must expose
// the anomalies Kafka's configuration allows. The go test suites in this package run them behind
// the "suites" build tag (go test -tags suites ./suites); kchaos bench detect runs one N times.
package suites

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/kchaos/kchaos/spec"

	"github.com/kchaos/kchaos/broker"
)

// Scenario is a chaos test and what it must find.
type Scenario struct {
	Name string
	// About says what the scenario shows, for listings and the README.
	About string
	Spec  spec.Spec
	// Expect are anomaly types a run must find (all of them); empty means the run must be valid.
	Expect []string
	// Explore marks a scenario whose outcome is recorded, not asserted: it answers a question.
	Explore bool
}

// Safe reports whether a run of the scenario must be valid.
func (s Scenario) Safe() bool { return len(s.Expect) == 0 && !s.Explore }

// Detected reports whether a run's anomaly types include every expected one.
func (s Scenario) Detected(anomalyTypes []string) bool {
	for _, want := range s.Expect {
		if !slices.Contains(anomalyTypes, want) {
			return false
		}
	}
	return len(s.Expect) > 0
}

// The cluster timing the scenarios use: Kafka's defaults stretched over 18 s session timeouts and
// 30 s replica lag would need minutes per fault. These keep every mechanism, only faster.
const (
	sessionTimeoutMs = 6000
	replicaLagMs     = 10000
)

func baseSpec(name string) spec.Spec {
	return spec.Spec{
		Name: name,
		Cluster: broker.ClusterSpec{Brokers: 3, ReplicationFactor: 3, MinInsyncReplicas: 2,
			ZooKeeperSessionTimeoutMs: sessionTimeoutMs, ReplicaLagTimeMaxMs: replicaLagMs},
		Partitions:      4,
		Acks:            "all",
		TimeLimit:       spec.Duration(60 * time.Second),
		NemesisInterval: spec.Duration(10 * time.Second),
		Concurrency:     10,
		Rate:            200,
	}
}

// All returns every scenario, by name.
func All() map[string]Scenario {
	out := map[string]Scenario{}
	add := func(s Scenario) { out[s.Name] = s }

	for _, kind := range []string{"kill", "pause", "partition", "zk-isolate", "lag"} {
		spec := baseSpec("safe-" + kind)
		spec.Nemesis = []string{kind}
		add(Scenario{Name: spec.Name, Spec: spec,
			About: fmt.Sprintf("replication factor 3, min.insync.replicas 2, acks=all, no unclean election, under %s: must be valid", kind)})
	}

	// Every fault in turn through one longer run: the faults' aftermaths overlap (a broker
	// killed while another still rejoins the ISR, a partition right after a pause).
	all := baseSpec("safe-all")
	all.Nemesis = []string{"kill", "pause", "partition", "zk-isolate", "lag"}
	all.TimeLimit = spec.Duration(120 * time.Second)
	add(Scenario{Name: all.Name, Spec: all,
		About: "replication factor 3, min.insync.replicas 2, acks=all, no unclean election, under kill, pause, partition, zk-isolate and lag mixed over 120 s: must be valid"})

	acks1 := baseSpec("acks1-kill")
	acks1.Acks = "1"
	acks1.Cluster.MinInsyncReplicas = 1
	acks1.Nemesis = []string{"kill"}
	acks1.NemesisTargets = []string{"primaries"}
	// Followers fetch in batches, as throughput-tuned clusters do: up to half a second of writes the
	// leader acknowledged sits on the leader alone. On loopback with Kafka's defaults followers
	// fetch within a millisecond and a kill almost never finds a write they lack.
	acks1.Cluster.ServerProperties = map[string]string{"replica.fetch.min.bytes": "1048576", "replica.fetch.wait.max.ms": "500"}
	add(Scenario{Name: acks1.Name, Spec: acks1, Expect: []string{"lost-write"},
		About: "acks=1 with partition leaders SIGKILLed while followers fetch in 500 ms batches: writes the leader acknowledged before its followers fetched them are lost"})

	j2013 := baseSpec("jepsen-2013")
	j2013.Cluster.MinInsyncReplicas = 1
	j2013.Cluster.UncleanLeaderElection = true
	j2013.Nemesis = []string{"jepsen-2013"}
	// Each fault waits for the ISR to shrink (replica lag, 10 s), then holds the isolated leader for
	// the interval: longer than the session timeout, so that ZooKeeper lets it go and the
	// controller elects another leader.
	j2013.NemesisInterval = spec.Duration(12 * time.Second)
	j2013.TimeLimit = spec.Duration(90 * time.Second)
	add(Scenario{Name: j2013.Name, Spec: j2013, Expect: []string{"lost-write", "unclean-leader-election"},
		About: "Jepsen 2013: a leader cut off from its followers until the ISR is the leader alone, then isolated; with unclean election and min.insync.replicas 1 a follower outside the ISR takes over and acknowledged writes are lost"})

	minisr1 := baseSpec("acks-all-minisr1-partition")
	minisr1.Cluster.MinInsyncReplicas = 1
	minisr1.Nemesis = []string{"partition"}
	minisr1.NemesisTargets = []string{"primaries"}
	minisr1.NemesisShapes = []string{"isolate"}
	add(Scenario{Name: minisr1.Name, Spec: minisr1, Explore: true,
		About: "acks=all with min.insync.replicas 1 under partitions that isolate a leader: what does kchaos find?"})

	// Crash faults run on brokers whose log dirs are faultfs mounts, which lose what Kafka never
	// fsynced. By default Kafka never fsyncs a produce: replication stands in for the disk.
	crash := baseSpec("safe-crash")
	crash.Cluster.FaultFS = true
	crash.Nemesis = []string{"crash"}
	add(Scenario{Name: crash.Name, Spec: crash,
		About: "replication factor 3, min.insync.replicas 2, acks=all, a single broker at a time SIGKILLed and its unsynced data dropped: replication covers it, must be valid"})

	power := baseSpec("power-loss-all")
	power.Cluster.FaultFS = true
	power.Nemesis = []string{"power-loss"}
	power.NemesisTargets = []string{"all"}
	add(Scenario{Name: power.Name, Spec: power, Expect: []string{"lost-write"},
		About: "every broker loses power at once with Kafka's default flush policy: acknowledged writes that sat in the page cache of every replica are lost"})

	flush := baseSpec("power-loss-all-flush")
	flush.Cluster.FaultFS = true
	flush.Nemesis = []string{"power-loss"}
	flush.NemesisTargets = []string{"all"}
	flush.Cluster.ServerProperties = map[string]string{"log.flush.interval.messages": "1"}
	add(Scenario{Name: flush.Name, Spec: flush,
		About: "every broker loses power at once, with an fsync per append (log.flush.interval.messages=1): nothing acknowledged is lost, must be valid"})

	// The run a user starts with no fault flag: every fault that forces a failover, mixed.
	failover := baseSpec("safe-failover")
	failover.Nemesis = []string{"kill", "pause", "partition"}
	failover.TimeLimit = spec.Duration(90 * time.Second)
	add(Scenario{Name: failover.Name, Spec: failover,
		About: "replication factor 3, min.insync.replicas 2, acks=all, no unclean election, under kill, pause and partition mixed over 90 s (kchaos run's default faults): must be valid"})

	// Transactions: Jepsen's transactional workload under the failover faults. Whether Kafka keeps
	// its transactional promises here is the question (Jepsen found aborted reads and torn
	// transactions from delayed markers before KIP-890), so the outcome is recorded, not asserted.
	txnFailover := baseSpec("txn-failover")
	txnFailover.Workload, txnFailover.Producer = "txn", "transactional"
	txnFailover.Nemesis = []string{"kill", "pause", "partition"}
	txnFailover.TimeLimit = spec.Duration(90 * time.Second)
	add(Scenario{Name: txnFailover.Name, Spec: txnFailover, Explore: true,
		About: "transactional producers, read_committed consumers, transactions of sends and polls (10 % aborted) under kill, pause and partition: which transactional anomalies does Kafka show?"})

	// The same with the defence Jepsen named against delayed commits dropped: a producer whose
	// commit has an unknown outcome is handed, producer id and epoch unchanged, to the next
	// process instead of a new producer fencing it (--keep-producer).
	txnKeep := txnFailover
	txnKeep.Name, txnKeep.KeepProducer = "txn-keep-producer", true
	txnKeep.Nemesis = slices.Clone(txnFailover.Nemesis)
	add(Scenario{Name: txnKeep.Name, Spec: txnKeep, Explore: true,
		About: "txn-failover with each producer kept across unknown outcomes (--keep-producer) instead of re-initialised: do delayed commits tear or leak transactions when producers are kept across unknown outcomes?"})

	// An idempotent producer retries a batch whose acknowledgement a leader change lost; the new
	// leader must recognise the retry by its producer id and sequence and not append it twice.
	idem := baseSpec("idempotent-leader-change")
	idem.Workload, idem.Producer = "txn", "idempotent"
	idem.Nemesis = []string{"kill", "partition"}
	idem.NemesisTargets = []string{"primaries"}
	add(Scenario{Name: idem.Name, Spec: idem,
		About: "idempotent producers while partition leaders are killed or isolated mid-batch: retries after a leader change must not duplicate, must be valid"})

	// KIP-966 on Kafka 4.1: a partition's ISR drained replica by replica until its last member
	// dies, then the replicas brought back one by one (isr-drain). KRaft only: four brokers, so
	// that one answers while the three replicas are down, and a dedicated controller, so that the
	// quorum stands. Which replica the controller elects, by which rule, and whether acknowledged
	// writes survive is the question.
	for _, elrOn := range []bool{true, false} {
		s := baseSpec("elr-last-replica")
		s.Cluster.KafkaVersion, s.Cluster.Metadata = "4.1.1", broker.MetadataKRaft
		s.Cluster.Brokers, s.Cluster.Controllers, s.Cluster.ControllerMode = 4, 1, broker.ControllersDedicated
		s.Cluster.ServerProperties = map[string]string{broker.BrokerSessionTimeoutKey: strconv.Itoa(sessionTimeoutMs)}
		s.Nemesis = []string{"isr-drain"}
		s.NemesisInterval = spec.Duration(15 * time.Second)
		s.TimeLimit = spec.Duration(90 * time.Second)
		about := "Kafka 4.1 KRaft with eligible leader replicas (KIP-966, the default): a partition's followers killed one by one until its ISR is the leader alone (the second follower goes to the ELR), then the leader; brought back second follower first: is the ELR member elected, by which rule, and does every acknowledged write survive?"
		if !elrOn {
			s.Name += "-off"
			s.Cluster.Features = map[string]int{broker.FeatureELR: 0}
			about = "the same drain with eligible.leader.replicas.version=0: with no ELR the partition stays leaderless until its last ISR member returns; is that what Kafka does, and does every acknowledged write survive?"
		}
		add(Scenario{Name: s.Name, Spec: s, Explore: true, About: about})
	}
	// The same drain with clean shutdowns (SIGTERM): KIP-966 drops a killed replica from the ELR
	// when it registers again (its unflushed log is suspect), but keeps one shut down cleanly.
	clean := out["elr-last-replica"].Spec
	clean.Name = "elr-last-replica-clean"
	clean.Cluster.ServerProperties = maps.Clone(clean.Cluster.ServerProperties)
	clean.Nemesis = []string{"isr-drain-clean"}
	add(Scenario{Name: clean.Name, Spec: clean, Explore: true,
		About: "the drain of elr-last-replica with clean shutdowns (SIGTERM) instead of kills: the second follower keeps its place in the ELR through its restart; is it elected by rule ELR, and does every acknowledged write survive?"})
	return out
}

// Names returns the scenario names, sorted.
func Names() []string {
	names := make([]string, 0)
	for name := range All() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Get returns the scenario with the given name, or an error listing the known ones.
func Get(name string) (Scenario, error) {
	s, ok := All()[name]
	if !ok {
		return Scenario{}, fmt.Errorf("unknown scenario %q; known: %v", name, Names())
	}
	return s, nil
}

// KafkaTimeoutsMinTimeLimit is the shortest run WithKafkaTimeouts allows: with an 18 s session
// timeout each fault lasts 20 s, and a minute would hold one or two of them.
const KafkaTimeoutsMinTimeLimit = 120 * time.Second

// WithKafkaTimeouts returns the scenario on a cluster with Kafka's own timeouts
// (zookeeper.session.timeout.ms 18 s, replica.lag.time.max.ms 30 s) instead of the suites' short
// ones: faults last at least the session timeout + 2 s, and runs at least
// KafkaTimeoutsMinTimeLimit. It shows that the verdicts do not rest on the shortened timings.
func (s Scenario) WithKafkaTimeouts() Scenario {
	s.Spec.Cluster.ZooKeeperSessionTimeoutMs = broker.DefaultZooKeeperSessionTimeoutMs
	s.Spec.Cluster.ReplicaLagTimeMaxMs = broker.DefaultReplicaLagTimeMaxMs
	need := time.Duration(broker.DefaultZooKeeperSessionTimeoutMs)*time.Millisecond + 2*time.Second
	if s.Spec.NemesisInterval.D() < need {
		s.Spec.NemesisInterval = spec.Duration(need)
	}
	if s.Spec.TimeLimit.D() < KafkaTimeoutsMinTimeLimit {
		s.Spec.TimeLimit = spec.Duration(KafkaTimeoutsMinTimeLimit)
	}
	s.Name += "/kafka-timeouts"
	return s
}

// On returns the scenario on the given Kafka version and metadata mode (metadata "" takes the
// version's default: ZooKeeper for 3.x, KRaft for 4.x). In KRaft mode the scenario keeps its
// timing: broker.session.timeout.ms takes the ZooKeeper session timeout the scenario sets (unless
// its server properties set it), and zk-isolate becomes controller-isolate, its KRaft counterpart.
// An unknown metadata mode, or ZooKeeper on 4.x, is an error.
func (s Scenario) On(version, metadata string) (Scenario, error) {
	c := s.Spec.Cluster
	c.KafkaVersion, c.Metadata = version, metadata
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Scenario{}, fmt.Errorf("scenario %s on Kafka %s: %w", s.Name, version, err)
	}
	s.Spec.Cluster.KafkaVersion, s.Spec.Cluster.Metadata = c.KafkaVersion, c.Metadata
	if !c.KRaft() {
		return s, nil
	}
	props := maps.Clone(s.Spec.Cluster.ServerProperties)
	if props == nil {
		props = map[string]string{}
	}
	if _, set := props[broker.BrokerSessionTimeoutKey]; !set && s.Spec.Cluster.ZooKeeperSessionTimeoutMs > 0 {
		props[broker.BrokerSessionTimeoutKey] = strconv.Itoa(s.Spec.Cluster.ZooKeeperSessionTimeoutMs)
	}
	s.Spec.Cluster.ServerProperties = props
	s.Spec.Nemesis = slices.Clone(s.Spec.Nemesis)
	for i, k := range s.Spec.Nemesis {
		if k == "zk-isolate" {
			s.Spec.Nemesis[i] = "controller-isolate"
		}
	}
	return s, nil
}

// Version names the Kafka version and metadata mode the scenario runs on, as
// "3.9.1/zookeeper".
func (s Scenario) Version() string {
	c := s.Spec.Cluster.WithDefaults()
	return c.KafkaVersion + "/" + c.Metadata
}
