package harness

import (
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/workloads"
	"github.com/kchaos/kchaos/workloads/queue"
	"github.com/kchaos/kchaos/workloads/txn"
)

// newWorkload returns the spec's workload against a started cluster (spec.Validate knows the
// names).
func newWorkload(s spec.Spec, c *broker.Cluster, logf func(string, ...any)) workloads.Workload {
	if s.Workload == "txn" {
		return txn.New(txn.Options{Bootstrap: c.BootstrapAddrs(), Topic: s.Topic, Partitions: s.Partitions,
			Producer: txn.Producer(s.Producer), Acks: s.Acks, Isolation: txn.Isolation(s.Isolation),
			AbortRate: s.AbortShare(), KeepProducer: s.KeepProducer, OpTimeout: s.OpTimeout.D(), Logf: logf})
	}
	return queue.New(queueOptions(s, c, logf))
}

// queueOptions are the queue workload's options for the spec; its polls wait for records no longer
// than a worker's turn at the spec's rate.
func queueOptions(s spec.Spec, c *broker.Cluster, logf func(string, ...any)) queue.Options {
	return queue.Options{Bootstrap: c.BootstrapAddrs(), Topic: s.Topic, Partitions: s.Partitions,
		Acks: s.Acks, OpTimeout: s.OpTimeout.D(), PollWait: queue.PollWaitFor(s.Rate, s.Concurrency), Subscribe: s.Subscribe,
		ReplicaLagMax: time.Duration(s.Cluster.ReplicaLagTimeMaxMs) * time.Millisecond, Logf: logf}
}
