package nemesis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/broker/brokertest"
	"github.com/stretchr/testify/require"
)

// reachesController reports whether node from completes a TCP connection to the controller
// listener of node to within 3 s.
func reachesController(ctx context.Context, from, to *broker.Node) bool {
	_, err := from.Exec(ctx, "timeout", "3", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d", to.IP, broker.ControllerPort))
	return err == nil
}

// TestControllerFaultsOnAKRaftCluster runs Kafka 4.1.1 with three brokers and three dedicated
// controllers (c1..c3) and a 6 s broker.session.timeout.ms. controller-isolate on the leader of a
// partition cuts it from the quorum alone: the controller fences it and elects another leader,
// and healing unfences it. Then kill with target controller kills the quorum leader, a c-node,
// and the other voters elect a new one; the stop restarts it.
func TestControllerFaultsOnAKRaftCluster(t *testing.T) {
	spec := broker.ClusterSpec{KafkaVersion: "4.1.1", Brokers: 3, Controllers: 3, ControllerMode: broker.ControllersDedicated,
		ReplicaLagTimeMaxMs: 8000, ServerProperties: map[string]string{
			broker.BrokerSessionTimeoutKey: "6000", "auto.leader.rebalance.enable": "false"}}
	c := brokertest.StartClusterWithin(t, spec, 5*time.Minute, 10*time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	const topic = "ctl"
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 3,
		Assignment: [][]int{{2, 1, 3}}, Config: map[string]string{"min.insync.replicas": "2"}}))
	st := leaderOf(t, c, topic+"/0")
	require.Equal(t, 2, st.Leader)
	n1, n2 := c.Broker(1), c.Broker(2)
	ev := &events{}
	n := New(c, Config{Topic: topic}, ev.add)
	require.Equal(t, 6*time.Second, n.Config().SessionTimeout, "the nemesis sizes faults to broker.session.timeout.ms")

	t.Run("controller-isolate fences the leader and moves its leadership; heal unfences it", func(t *testing.T) {
		defer recoverCluster(t, c)
		f, err := n.Resolve(ctx, Step{Kind: KindControllerIsolate, Target: TargetPrimaries, Pick: 1})
		require.NoError(t, err)
		require.Equal(t, []string{"n2"}, f.Nodes)
		id, err := n.Start(ctx, f)
		require.NoError(t, err)
		cutAt := time.Now()
		for _, ctl := range c.ControllerNodes() {
			require.False(t, reachesController(ctx, n2, ctl), "n2 still reaches %s's controller port", ctl.Name)
			require.True(t, reachesController(ctx, n1, ctl), "n1 no longer reaches %s", ctl.Name)
		}
		requireLinks(t, []*broker.Node{n1, n2}, fullyConnected) // brokers still talk to each other

		moved, err := WaitISR(ctxTimeout(t, 60*time.Second), c, topic+"/0", func(s broker.PartitionState) bool {
			return s.Leader > 0 && s.Leader != 2
		})
		require.NoError(t, err, "the controller never moved n2's leadership")
		elected := time.Since(cutAt)
		require.NotContains(t, moved.ISR, 2)
		require.GreaterOrEqual(t, elected, 3*time.Second, "the leader moved before n2's session could run out")
		// n2, cut from the controllers, still lists itself from its stale metadata; the other
		// brokers, which the controller told of the fencing, do not, and they are the most.
		snap, err := c.Describe(ctx)
		require.NoError(t, err)
		require.NotContains(t, snap.Registered, 2, "Describe still counts the fenced n2 registered")
		t.Logf("n2 fenced and leader %d elected %s after the cut (ISR %v)", moved.Leader, elected.Round(100*time.Millisecond), moved.ISR)

		require.NoError(t, n.Stop(ctx, id))
		healedAt := time.Now()
		require.NoError(t, c.WaitBrokerRegistered(ctxTimeout(t, 60*time.Second), 2))
		t.Logf("n2 unfenced %s after the heal", time.Since(healedAt).Round(100*time.Millisecond))
		_, err = WaitISR(ctxTimeout(t, 60*time.Second), c, topic+"/0", func(s broker.PartitionState) bool { return len(s.ISR) == 3 })
		require.NoError(t, err, "n2 never rejoined the ISR")

		stop := ev.all()[len(ev.all())-1]
		require.Equal(t, "stop-controller-isolate", stop.F)
		a := achievedOf(t, stop)
		require.Empty(t, a.Error)
		require.Equal(t, 1, a.Elections)
		require.True(t, a.ISRShrunk)
		require.Equal(t, []string{"n2"}, a.Unregistered, "the cut showed as n2 fenced")
		t.Logf("achieved: %+v", a)
	})

	t.Run("kill of the controller kills the quorum leader, a c-node, and the quorum elects another", func(t *testing.T) {
		before, err := c.Describe(ctx)
		require.NoError(t, err)
		f, err := n.Resolve(ctx, Step{Kind: KindKill, Target: TargetController})
		require.NoError(t, err)
		require.Len(t, f.Nodes, 1)
		require.Equal(t, broker.NodeName(before.Controller.Broker), f.Nodes[0])
		require.True(t, strings.HasPrefix(f.Nodes[0], "c"), "the active controller is a dedicated one: %s", f.Nodes[0])
		killed := c.Node(f.Nodes[0])
		id, err := n.Start(ctx, f)
		require.NoError(t, err)
		killedAt := time.Now()
		running, _, err := killed.Running(ctx)
		require.NoError(t, err)
		require.False(t, running)
		var after broker.Snapshot
		require.NoError(t, waitUntil(ctxTimeout(t, 60*time.Second), func() error {
			after, err = c.Describe(ctx)
			if err != nil {
				return err
			}
			if after.Controller.Broker < 1 || after.Controller.Broker == before.Controller.Broker {
				return fmt.Errorf("quorum leader %d", after.Controller.Broker)
			}
			return nil
		}))
		require.Greater(t, after.Controller.Epoch, before.Controller.Epoch)
		t.Logf("quorum leader %s (epoch %d) -> %s (epoch %d), %s after the kill", killed.Name, before.Controller.Epoch,
			broker.NodeName(after.Controller.Broker), after.Controller.Epoch, time.Since(killedAt).Round(100*time.Millisecond))

		require.NoError(t, n.Stop(ctx, id))
		running, _, err = killed.Running(ctx)
		require.NoError(t, err)
		require.True(t, running, "the stop restarts the controller")
		stop := ev.all()[len(ev.all())-1]
		require.Equal(t, "stop-kill", stop.F)
		a := achievedOf(t, stop)
		require.Equal(t, broker.NodeName(after.Controller.Broker), a.NewController)
		requireHealed(t, c, map[string]int{topic: 3})
	})
	for _, e := range ev.all() {
		require.Empty(t, e.Error, "%s failed", e.F)
		b, err := json.Marshal(e.Value)
		require.NoError(t, err)
		t.Logf("%s %s", e.F, b)
	}
	require.True(t, slices.Equal([]string{"start-controller-isolate", "stop-controller-isolate", "start-kill", "stop-kill"}, ev.fs()), "%v", ev.fs())
}

// While the active controller is cut off, every broker forwards DescribeQuorum to it and waits.
// Describe must still read the brokers' own metadata: the forwarded request once held up every
// Metadata request queued behind it on the same connection until the quorum elected another
// leader (about 30 s here), and the faults on the controller read as "not measured".
func TestDescribeWhileTheActiveControllerIsCutOff(t *testing.T) {
	spec := broker.ClusterSpec{KafkaVersion: "4.1.1", Brokers: 3, Controllers: 3,
		ServerProperties: map[string]string{broker.BrokerSessionTimeoutKey: "6000"}}
	c := brokertest.StartClusterWithin(t, spec, 5*time.Minute, 10*time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const topic = "cut"
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: topic, Partitions: 2, ReplicationFactor: 3}))
	ev := &events{}
	n := New(c, Config{Topic: topic}, ev.add)
	defer func() { require.NoError(t, n.Heal(context.Background())) }()

	f, err := n.Resolve(ctx, Step{Kind: KindPartition, Target: TargetController, Shape: ShapeIsolate})
	require.NoError(t, err)
	id, err := n.Start(ctx, f)
	require.NoError(t, err)
	for i := range 3 {
		snap, err := c.Describe(ctx)
		require.NoError(t, err, "describe %d after cutting off the active controller", i+1)
		keys := []string{}
		for _, p := range snap.Partitions {
			if strings.HasPrefix(p.Key, topic+"/") {
				keys = append(keys, p.Key)
			}
		}
		require.Equal(t, []string{"cut/0", "cut/1"}, keys, "describe %d read the topic's partitions", i+1)
	}
	require.NoError(t, n.Stop(ctx, id))
	stop := ev.all()[len(ev.all())-1]
	require.Equal(t, "stop-partition", stop.F)
	require.Empty(t, achievedOf(t, stop).Error, "the fault's effect was read")
}
