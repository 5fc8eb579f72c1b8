package harness

import (
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/workloads"
	"github.com/kchaos/kchaos/workloads/queue"
)

// newWorkload returns the spec's workload against a started cluster (spec.Validate knows the
// names).
func newWorkload(s spec.Spec, c *broker.Cluster, logf func(string, ...any)) workloads.Workload {
	return queue.New(queue.Options{Bootstrap: c.BootstrapAddrs(), Topic: s.Topic, Partitions: s.Partitions,
		Acks: s.Acks, OpTimeout: s.OpTimeout.D(), Subscribe: s.Subscribe,
		ReplicaLagMax: time.Duration(s.Cluster.ReplicaLagTimeMaxMs) * time.Millisecond, Logf: logf})
}
