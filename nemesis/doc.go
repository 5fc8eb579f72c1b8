// Package nemesis injects faults into a broker.Cluster and heals them: kills, pauses, network
// partitions in Jepsen's shapes, ZooKeeper isolation, lagging followers and the scenario of
// Jepsen's 2013 Kafka analysis, one at a time on a seeded schedule or started by hand. It never
// talks the Kafka protocol: it acts on containers (broker.Node) and reads ZooKeeper
// (broker.Cluster.Describe).
//
// # Running a schedule
//
// A run parses the --nemesis flag with ParseKinds, builds a Config and runs it:
//
//	kinds, err := nemesis.ParseKinds(flagValue) // "kill,pause,partition", "all", "none"
//	cfg := nemesis.Config{Kinds: kinds, Interval: interval, Seed: seed, Topic: "kchaos"}
//	if err := cfg.WithDefaults().Validate(); err != nil { ... }
//	n := nemesis.New(cluster, cfg, func(ev nemesis.Event) { history.Nemesis(ev) })
//	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	err = n.Run(ctx) // returns once every fault is healed
//
// Run waits Config.Interval, starts a fault, holds it Config.Hold, stops it, and so on until ctx
// ends; then it heals whatever is active and returns. Run, Start, Stop and Heal record every start
// and stop as an Event, one call of the record function at a time; Active lists the faults in
// place now, for a progress line. Plan gives the steps a seed draws, without a cluster.
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
// start-partition, stop-partition, start-zk-isolate, stop-zk-isolate, start-lag, stop-lag,
// start-jepsen-2013, stop-jepsen-2013, plus isolate-jepsen-2013 for that scenario's second phase.
// Values: NodesValue {"nodes":["n2"],"target":"primaries","key":"kchaos/0"} for kill, pause and
// zk-isolate, and for the stop lines of lag and jepsen-2013; PartitionValue
// {"shape":"isolate","traffic":"all","grudge":{"n1":["zk1","n2","n3","clients"],...}} for
// start-partition and null for stop-partition; LagValue and Jepsen2013Value. A start line with an
// error is a fault that did not happen (ErrNoTarget: no leader, no controller); Run goes on.
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
// Kafka keeps a follower that has the leader's whole log in the ISR however long ago it last
// fetched, so lag and jepsen-2013 shrink the ISR only while records are written to the partition:
// in a run, the workload's writes; on an idle partition the ISR never shrinks, and jepsen-2013
// records an isolate-jepsen-2013 line with an error after Config.RecoverTimeout instead of
// isolating the leader.
//
// # Targets
//
// Faults on brokers pick them with a Target: one at random, a minority, a majority, all, the
// leader of a partition of Config.Topic (primaries) or the controller, resolved against ZooKeeper
// when the fault starts. ZooKeeper nodes are never killed, paused or partitioned from each other.
package nemesis
