// Package nemesis injects faults into a broker.Cluster and heals them: kills, pauses, network
// partitions in Jepsen's shapes, ZooKeeper isolation and its KRaft counterpart (isolation from
// the controller quorum), lagging followers and the scenario of
// Jepsen's 2013 Kafka analysis, one at a time on a seeded schedule or started by hand. It never
// talks the Kafka protocol: it acts on containers (broker.Node) and reads the cluster's state
// (broker.Cluster.Describe: ZooKeeper, or the brokers and the quorum in KRaft mode).
//
// # Running a schedule
//
// A run parses the --nemesis flag with ParseKinds, builds a Config and runs it:
//
//	kinds, err := nemesis.ParseKinds(flagValue) // "kill,pause,partition", "all", "none"
//	cfg := nemesis.Config{Kinds: kinds, Interval: interval, Seed: seed, Topic: "kchaos",
//		SessionTimeout: sessionTimeout, ReplicaLagMax: replicaLagMax} // the cluster's timings
//	if err := cfg.WithDefaults().Validate(); err != nil { ... }
//	n := nemesis.New(cluster, cfg, func(ev nemesis.Event) { history.Nemesis(ev) })
//	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	err = n.Run(ctx) // returns once every fault is healed
//
// Run waits Config.Interval, starts a fault, holds it Config.Hold (longer for faults that wait for
// their own outcome, see below), stops it, and so on until ctx ends; then it heals whatever is
// active and returns. Run, Start, Stop and Heal record every start
// and stop as an Event, one call of the record function at a time; Active lists the faults in
// place now, for a progress line. Plan gives the steps a seed draws, without a cluster.
//
// # Faults as values
//
// Every kind of fault is a Failpoint value in a file of its own (KillFailpoint in kill.go,
// PauseFailpoint, PartitionFailpoint, ZKIsolateFailpoint, ControllerIsolateFailpoint, LagFailpoint,
// Jepsen2013Failpoint, ISRDrainFailpoint, ...),
// registered in one list (Failpoints). A Failpoint says whether it can run on a cluster
// (Available), how long it needs to play out there (Need), how a schedule step becomes a Fault,
// and how that fault is put in place and undone. ParseKinds, AllKinds, the schedule, Start, Heal
// and Validate know faults only through the registry: a new fault is one file, one line in the
// registry and its test.
//
// # Faults sized to the cluster
//
// A fault that ends before Kafka reacts tests nothing: a broker paused for 15 s against an 18 s
// session timeout is never replaced. Config.SessionTimeout (zookeeper.session.timeout.ms) and
// Config.ReplicaLagMax (replica.lag.time.max.ms) give each Failpoint the cluster's timings, and
// its Need says how long it must last: kill, pause, zk-isolate and partition the session timeout
// + 2 s, so that ZooKeeper expires the broker's session and the controller elects; lag and
// jepsen-2013 the replica lag + 2 s, so that a follower leaves the ISR. Validate refuses a hold
// (Config.Hold, which is Config.Interval unless set) shorter than a kind's need, naming both
// numbers ("nemesis-interval 10s is shorter than what kill needs to play out: 18s
// (zookeeper.session.timeout.ms) + 2s"). Lag and jepsen-2013 watch the cluster and hold
// themselves until they have played out: a lag until its follower left the ISR, within
// Config.RecoverTimeout of its start; a jepsen-2013 until the ISR shrank (within RecoverTimeout),
// then, after the hold, until a new leader of its partition is seen, or three session timeouts
// after the isolation; so their need is checked against RecoverTimeout instead.
//
// # Healing
//
// Heal (and Close, which also stops Run and refuses new faults) heals every active fault: paused
// brokers are resumed and killed ones restarted (waiting until they are registered in ZooKeeper
// again) before the iptables rules are removed. A heal that fails is recorded as a stop line with
// an error, returned, and tried again by the next Heal. A program interrupted by a signal heals
// either by passing Run a context from signal.NotifyContext, as above, or with HealOnSignal, which
// closes the nemesis and then calls back (to close the cluster and exit). A process that did not
// make the faults (a kept cluster, a crashed run) can remove every kchaos rule with HealNetwork.
//
// # History lines
//
// Event.F is start-<kind> or stop-<kind>: start-kill, stop-kill, start-pause, stop-pause,
// start-partition, stop-partition, start-zk-isolate, stop-zk-isolate, start-controller-isolate,
// stop-controller-isolate, start-lag, stop-lag,
// start-jepsen-2013, stop-jepsen-2013, plus isolate-jepsen-2013 for that scenario's second phase;
// start-isr-drain, kill-isr-drain, reached-isr-drain, restart-isr-drain and stop-isr-drain, with
// ISRDrainValue (stop-isr-drain: NodesValue, in the order of the heal).
// Values: NodesValue {"nodes":["n2"],"target":"primaries","key":"kchaos/0"} for kill, pause,
// zk-isolate and controller-isolate, and for the stop lines of lag and jepsen-2013; PartitionValue
// {"shape":"isolate","traffic":"all","grudge":{"n1":["zk1","n2","n3","clients"],...}} for
// start-partition and PartitionStopValue for stop-partition; LagValue and Jepsen2013Value. A start
// line with an error is a fault that did not happen (ErrNoTarget: no leader, no controller); Run
// goes on.
//
// Every stop line says what its fault achieved, in an "achieved" field (Achieved), measured from
// ZooKeeper's state of the partitions of Config.Topic read just before the fault started and just
// before it was healed:
//
//	{"f":"stop-jepsen-2013","value":{"nodes":["n1"],"key":"kchaos/0","achieved":
//	  {"held_ms":31200,"elections":1,"leaderless":0,"isr_shrunk":true,"new_leader":"n2"}}}
//	{"f":"stop-partition","value":{"achieved":{"held_ms":20000,"elections":2,"leaderless":0,"isr_shrunk":true}}}
//
// held_ms is how long the fault was in place; elections counts partitions led by another broker
// at the end than at the start; leaderless those that had a leader and have none; isr_shrunk says
// some ISR lost a member; new_leader is the new leader of the partition the fault was chosen for
// (its key), when it changed; error says the states could not be read, and the counts then mean
// nothing. Before kchaos recorded achievements, stop-partition's value was null.
//
// # The faults
//
// Kill sends SIGKILL; its stop waits until ZooKeeper has dropped the killed process's
// registration (a broker restarted before that exits at once, its ephemeral znode being owned by
// the old session), restarts the container with its data and waits for the new registration.
// Pause freezes the container (Docker pause); its stop resumes it.
//
// Partitions are Grudges, Jepsen's map from a node to the nodes whose packets it drops, built by
// Complete, Isolate, RandomHalves, MajorityMinority, MajoritiesRing, Bridge and OneWay, and put in
// place by Partition with iptables inside the nodes' network namespaces, in chains of their own
// (kchaos-<tag>-in/-out) that healing deletes. TrafficBrokers cuts broker-to-broker traffic only;
// TrafficAll also cuts ZooKeeper and the clients (the pseudo-node Clients, everything reaching the
// nodes from broker.Cluster.Gateway), which stand with the majority of the brokers. With TCP a
// one-way cut breaks connections both ways, but lets the SYNs through in the direction not cut.
//
// IsolateFromZooKeeper cuts brokers from ZooKeeper alone: their sessions expire after
// zookeeper.session.timeout.ms, their /brokers/ids znodes go, the controller moves.
// IsolateFromControllers (controller-isolate, KRaft mode) cuts nodes from the controller port of
// every other voter, and a voter from the other voters both ways: after broker.session.timeout.ms
// the active controller fences the broker and moves its leaderships. Each mode refuses the other
// mode's fault (Available), and `all` in a spec draws only the one the mode can run.
//
// Lag drops a share (Config.LagLoss, 0.9 by default) of the packets of a follower's fetch
// connections to the other brokers, both ways, with iptables' statistic match: the kernels kchaos
// runs on may be built without netem (sch_netem), so tc netem delay and loss are not used. TCP's
// retransmission back-off turns the loss into delay, and the follower leaves the ISR after
// replica.lag.time.max.ms; once healed it catches up and rejoins.
//
// The jepsen-2013 scenario cuts the replication from a partition's leader (CutReplication: the
// leader drops what the other brokers send to its inter-broker port), but not ZooKeeper or the
// clients, waits until the leader has shrunk the ISR to itself alone (watching ZooKeeper), then
// isolates it completely: its session expires and, with unclean leader election off, the
// partition is left without a leader; with it on, a replica outside the ISR may be elected and
// acknowledged writes lost. The first phase is narrower than the 2013 partition because since
// Kafka 2.7 (KIP-497) a leader shrinks the ISR by asking the controller, not by writing to
// ZooKeeper: a leader cut off from every broker, the controller among them, never shrinks it.
//
// The isr-drain scenario (KRaft only) plays KIP-966 on one partition with leader L and followers
// F1, F2: it kills F1 and waits until the controller has fenced it and removed it from the ISR,
// kills F2 and waits until the ISR is L alone (F2 goes to the eligible leader replicas when they
// are on), kills L and waits until the partition has no leader; each wait is bounded by three
// session timeouts, and a state that never comes ends the drain with a reached-isr-drain line
// with an error. Its heal brings F2 back first, watches the partition for a session timeout,
// then F1, then L, recording after each whom the controller elected (restart-isr-drain lines).
// A fourth broker answers for the cluster while the three are down, and the KRaft quorum must
// survive them (dedicated controllers, or enough brokers beside the combined ones).
// isr-drain-clean is the same drain with clean shutdowns (SIGTERM) instead of kills: KIP-966
// drops a replica that was killed from the ELR when it registers again, but not one that shut
// down cleanly. Its lines are named after it (start-isr-drain-clean, shutdown-isr-drain-clean,
// reached-isr-drain-clean, restart-isr-drain-clean, stop-isr-drain-clean).
//
// Kafka keeps a follower that has the leader's whole log in the ISR however long ago it last
// fetched, so lag and jepsen-2013 shrink the ISR only while records are written to the partition:
// in a run, the workload's writes; on an idle partition the ISR never shrinks, and jepsen-2013
// records an isolate-jepsen-2013 line with an error after Config.RecoverTimeout instead of
// isolating the leader.
//
// # Targets
//
// Faults on brokers pick them with a Target: one at random, a minority, a majority, all, the
// leader of a partition of Config.Topic (primaries) or the active controller, resolved against
// the cluster when the fault starts. In KRaft mode the controller is the quorum leader, a
// dedicated controller (c1..) too, and controllers-minority and controllers-majority pick among
// the controller voters (asked for by name: DefaultTargets leaves them out); kill, pause,
// partition and controller-isolate act on dedicated controllers, the faults on brokers alone find
// no target there. ZooKeeper nodes are never killed, paused or partitioned from each other, so
// the quorum targets are refused in ZooKeeper mode (AvailableTargets).
package nemesis
