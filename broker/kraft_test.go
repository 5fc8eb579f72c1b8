package broker_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"slices"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/broker/brokertest"
	"github.com/kchaos/kchaos/history"
)

// produceAndReadBack writes n acks=all messages to partition 0 of topic and reads them back from
// offset 0.
func produceAndReadBack(t *testing.T, ctx context.Context, c *broker.Cluster, topic string, n int) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(c.BootstrapAddrs()...), Topic: topic, RequiredAcks: kafka.RequireAll,
		BatchSize: 100, BatchTimeout: 5 * time.Millisecond}
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: []byte(strconv.Itoa(i))}
	}
	require.NoError(t, w.WriteMessages(ctx, msgs...))
	require.NoError(t, w.Close())

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.BootstrapAddrs(), Topic: topic, Partition: 0, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	require.NoError(t, r.SetOffset(0))
	for i := range n {
		m, err := r.ReadMessage(ctx)
		require.NoError(t, err, "reading message %d", i)
		require.Equal(t, int64(i), m.Offset)
		require.Equal(t, strconv.Itoa(i), string(m.Value))
	}
}

// kraftStartLimit bounds the start of a KRaft cluster in these tests, both tries: on this 2-core
// machine under the load of other agents, three nodes took 2 min 42 s to be ready.
const kraftStartLimit = 8 * time.Minute

func startKRaft(t *testing.T, spec broker.ClusterSpec) *broker.Cluster {
	t.Helper()
	started := time.Now()
	c := brokertest.StartClusterWithin(t, spec, 5*time.Minute, kraftStartLimit)
	t.Logf("Kafka %s KRaft, %d brokers, %d controllers (%s): ready in %s", c.Spec.KafkaVersion, c.Spec.Brokers,
		c.Spec.Controllers, c.Spec.ControllerMode, time.Since(started).Round(100*time.Millisecond))
	return c
}

func TestKRaftProduceAndReadBack(t *testing.T) {
	c := startKRaft(t, broker.ClusterSpec{KafkaVersion: "4.1.1"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.Len(t, c.ControllerNodes(), 3)
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "t1", Partitions: 1, ReplicationFactor: 3,
		Config: map[string]string{"min.insync.replicas": "2"}}))
	produceAndReadBack(t, ctx, c, "t1", 1000)
}

// A leader kill elects a new leader from the ISR; a second kill shrinks the ISR below
// min.insync.replicas and puts the killed replica in the ELR. The live observer sees both, and the
// metadata history read afterwards off the controllers holds both exactly, with the controllers
// agreeing. Four brokers, the first three of them controllers: the two kills (n4, then n3) leave
// a quorum of two.
func TestKRaftLeaderKillElectsFromISRAndHistoryHoldsTheELR(t *testing.T) {
	runStart := time.Now()
	c := startKRaft(t, broker.ClusterSpec{KafkaVersion: "4.1.1", Brokers: 4, Controllers: 3, ReplicaLagTimeMaxMs: 8000,
		ServerProperties: map[string]string{"auto.leader.rebalance.enable": "false"}})
	require.Len(t, c.ControllerNodes(), 3)
	require.Equal(t, broker.RoleBroker, c.Broker(4).Role)
	obs := brokertest.Observe(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "elr", Partitions: 1, ReplicationFactor: 3,
		Assignment: [][]int{{4, 3, 1}}, Config: map[string]string{"min.insync.replicas": "2"}}))
	before, at := obs.WaitState(t, "elr/0", 0, 60*time.Second, "leader 4 with a full ISR",
		func(s broker.PartitionState) bool { return s.Leader == 4 && len(s.ISR) == 3 })

	require.NoError(t, c.Broker(4).Kill(ctx))
	after, at := obs.WaitState(t, "elr/0", at+1, 90*time.Second, "a new leader",
		func(s broker.PartitionState) bool { return s.Leader > 0 && s.Leader != 4 })
	require.Contains(t, before.ISR, after.Leader, "the new leader must come from the ISR before the kill")
	require.NotContains(t, after.ISR, 4, "the killed broker must have left the ISR")
	require.Equal(t, 3, after.Leader, "the first live replica of the assignment")

	require.NoError(t, c.Broker(3).Kill(ctx))
	last, _ := obs.WaitState(t, "elr/0", at+1, 90*time.Second, "leader 1 alone in the ISR, 3 in the ELR",
		func(s broker.PartitionState) bool {
			return s.Leader == 1 && slices.Equal(s.ISR, []int{1}) && slices.Contains(s.ELR, 3)
		})
	t.Logf("live: %+v, then %+v, then %+v", before, after, last)

	ops, err := c.ReadMetadataHistory(ctx, runStart)
	require.NoError(t, err)
	require.NotEmpty(t, ops)
	ml, err := ops[len(ops)-1].MetadataLog()
	require.NoError(t, err)
	t.Logf("metadata log: %+v", ml)
	require.True(t, ml.Complete, "reason: %s", ml.Reason)
	require.Equal(t, []string{"n1", "n2", "n3"}, ml.Nodes, "every controller read and agreeing, the killed n3 too")

	var states []history.PartitionState
	fenced := map[int]bool{}
	controllers := 0
	lastOffset, lastTime := int64(-1), int64(0)
	for _, op := range ops[:len(ops)-1] {
		switch op.F {
		case history.FPartitionState:
			s, err := op.PartitionState()
			require.NoError(t, err)
			require.Equal(t, history.SourceKRaftLog, s.Source)
			require.GreaterOrEqual(t, s.MetadataOffset, lastOffset, "log order")
			lastOffset = s.MetadataOffset
			if s.Key == "elr/0" {
				require.GreaterOrEqual(t, s.LogTime, lastTime, "append times in log order")
				lastTime = s.LogTime
				states = append(states, s)
			}
		case history.FBrokerState:
			b, err := op.BrokerState()
			require.NoError(t, err)
			fenced[b.Broker] = b.Fenced
		case history.FController:
			controllers++
		}
	}
	require.Equal(t, ml.States, len(states)+countOther(t, ops, "elr/0"))
	require.NotZero(t, controllers, "the LeaderChange records")
	require.True(t, fenced[4] && fenced[3], "the killed brokers end fenced: %v", fenced)
	require.False(t, fenced[1], "n1 stays unfenced")
	t.Logf("exact states of elr/0: %+v", states)
	require.GreaterOrEqual(t, len(states), 3)
	first := states[0]
	require.Equal(t, 4, first.Leader)
	require.Equal(t, []int{4, 3, 1}, first.ISR)
	require.Greater(t, first.LogTime, int64(0), "created after the run started, on the history's clock")
	require.Less(t, first.LogTime, time.Since(runStart).Nanoseconds())
	// The election to 3 from the ISR, in one record, and the shrink to 1 with 3 in the ELR.
	election := slices.IndexFunc(states, func(s history.PartitionState) bool { return s.Leader == 3 })
	require.GreaterOrEqual(t, election, 1, "an election of 3")
	require.Contains(t, states[election-1].ISR, 3, "3 was in the ISR before it was elected")
	require.Equal(t, []int{3, 1}, states[election].ISR)
	require.Equal(t, states[election-1].LeaderEpoch+1, states[election].LeaderEpoch)
	elr := slices.IndexFunc(states, func(s history.PartitionState) bool { return s.Leader == 1 })
	require.Greater(t, elr, election)
	require.Equal(t, []int{1}, states[elr].ISR)
	require.Equal(t, []int{3}, states[elr].ELR, "3 left an ISR below min.insync.replicas: eligible")
	for i := 1; i < len(states); i++ {
		require.Equal(t, states[i-1].PartitionEpoch+1, states[i].PartitionEpoch, "every change of the partition, none missed")
	}
}

// countOther counts the exact partition-state lines of keys other than key.
func countOther(t *testing.T, ops []history.Op, key string) int {
	n := 0
	for _, op := range ops {
		if op.F == history.FPartitionState {
			s, err := op.PartitionState()
			require.NoError(t, err)
			if s.Key != key {
				n++
			}
		}
	}
	return n
}

// readHistory reads the metadata history after a run that started at runStart and checks that it
// is complete and holds states of key, which it returns.
func readHistory(t *testing.T, ctx context.Context, c *broker.Cluster, runStart time.Time, key string) []history.PartitionState {
	t.Helper()
	ops, err := c.ReadMetadataHistory(ctx, runStart)
	require.NoError(t, err)
	ml, err := ops[len(ops)-1].MetadataLog()
	require.NoError(t, err)
	require.True(t, ml.Complete, "reason: %s", ml.Reason)
	var states []history.PartitionState
	for _, op := range ops {
		if op.F == history.FPartitionState {
			s, err := op.PartitionState()
			require.NoError(t, err)
			if s.Key == key {
				states = append(states, s)
			}
		}
	}
	require.NotEmpty(t, states)
	return states
}

// Kafka 3.9 runs in KRaft mode too (log4j 1, the same StorageTool), and its metadata log decodes.
func TestKRaft39ProduceAndReadBack(t *testing.T) {
	runStart := time.Now()
	c := startKRaft(t, broker.ClusterSpec{KafkaVersion: "3.9.1", Metadata: broker.MetadataKRaft, Brokers: 1})
	require.Equal(t, broker.RoleCombined, c.Broker(1).Role)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "t39", Partitions: 1, ReplicationFactor: 1}))
	produceAndReadBack(t, ctx, c, "t39", 1000)
	states := readHistory(t, ctx, c, runStart, "t39/0")
	require.Equal(t, 1, states[0].Leader)
	require.Equal(t, []int{1}, states[0].ISR)
}

// A dedicated controller (process.roles=controller, node id 101) runs beside a broker.
func TestKRaftDedicatedController(t *testing.T) {
	runStart := time.Now()
	c := startKRaft(t, broker.ClusterSpec{KafkaVersion: "4.1.1", Brokers: 1, Controllers: 1, ControllerMode: broker.ControllersDedicated})
	require.Len(t, c.ControllerNodes(), 1)
	ctl := c.ControllerNodes()[0]
	require.Equal(t, "c1", ctl.Name)
	require.Equal(t, broker.RoleController, ctl.Role)
	require.Same(t, ctl, c.NodeByID(101))
	require.Equal(t, broker.RoleBroker, c.Broker(1).Role)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	snap, err := c.Describe(ctx)
	require.NoError(t, err)
	require.Equal(t, 101, snap.Controller.Broker, "the quorum leader is the controller")
	require.Equal(t, []int{1}, snap.Registered)
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "d", Partitions: 1, ReplicationFactor: 1}))
	produceAndReadBack(t, ctx, c, "d", 1000)
	states := readHistory(t, ctx, c, runStart, "d/0")
	require.Equal(t, 1, states[0].Leader)
}

// Killing the active controller elects another: Describe and the live observer see it, and the
// history read afterwards ends with its LeaderChange in a higher epoch.
func TestKRaftControllerKillElectsAnother(t *testing.T) {
	runStart := time.Now()
	c := startKRaft(t, broker.ClusterSpec{KafkaVersion: "4.1.1"})
	obs := brokertest.Observe(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	snap, err := c.Describe(ctx)
	require.NoError(t, err)
	active := c.NodeByID(snap.Controller.Broker)
	require.NotNil(t, active, "the quorum leader %d is a node", snap.Controller.Broker)
	require.True(t, active.Role.IsController())

	require.NoError(t, active.Kill(ctx))
	var after broker.Snapshot
	require.Eventually(t, func() bool {
		after, err = c.Describe(ctx)
		return err == nil && after.Controller.Broker > 0 && after.Controller.Broker != active.ID
	}, 90*time.Second, 500*time.Millisecond, "no new active controller after the kill of %s", active.Name)
	require.Greater(t, after.Controller.Epoch, snap.Controller.Epoch)
	require.Eventually(t, func() bool {
		seen := obs.Controllers()
		return len(seen) > 0 && seen[len(seen)-1] == after.Controller
	},
		30*time.Second, 100*time.Millisecond, "the live observer saw %+v", obs.Controllers())

	ops, err := c.ReadMetadataHistory(ctx, runStart)
	require.NoError(t, err)
	ml, err := ops[len(ops)-1].MetadataLog()
	require.NoError(t, err)
	require.True(t, ml.Complete, "reason: %s", ml.Reason)
	var controllers []history.Controller
	for _, op := range ops {
		if op.F == history.FController {
			ctl, err := op.Controller()
			require.NoError(t, err)
			controllers = append(controllers, ctl)
		}
	}
	require.GreaterOrEqual(t, len(controllers), 2)
	last := controllers[len(controllers)-1]
	require.Equal(t, after.Controller.Broker, last.Broker)
	require.Equal(t, after.Controller.Epoch, last.Epoch)
	require.Equal(t, history.SourceKRaftLog, last.Source)
	require.Positive(t, last.LogTime)
}
