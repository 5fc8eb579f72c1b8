package broker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/broker/brokertest"
)

// These tests run against a real cluster; scripts/setup provides the engine and the image.

// TestMain also checks that the tests, passing or failing, left no container or network of this
// process behind.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChild()
		return
	}
	os.Exit(brokertest.CheckLeftovers(m.Run(), "broker"))
}

func TestProduceAndReadBackWithAcksAll(t *testing.T) {
	c := brokertest.StartCluster(t, broker.ClusterSpec{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "t1", Partitions: 1, ReplicationFactor: 3,
		Config: map[string]string{"min.insync.replicas": "2"}}))

	w := &kafka.Writer{Addr: kafka.TCP(c.BootstrapAddrs()...), Topic: "t1", RequiredAcks: kafka.RequireAll,
		BatchSize: 100, BatchTimeout: 5 * time.Millisecond}
	const n = 1000
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: []byte(strconv.Itoa(i))}
	}
	require.NoError(t, w.WriteMessages(ctx, msgs...))
	require.NoError(t, w.Close())

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.BootstrapAddrs(), Topic: "t1", Partition: 0, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	require.NoError(t, r.SetOffset(0))
	for i := range n {
		m, err := r.ReadMessage(ctx)
		require.NoError(t, err, "reading message %d", i)
		require.Equal(t, int64(i), m.Offset)
		require.Equal(t, strconv.Itoa(i), string(m.Value))
	}
}

func TestKillLeaderElectsFromISRAndRestartRejoins(t *testing.T) {
	c := brokertest.StartCluster(t, brokertest.FastSpec())
	obs := brokertest.Observe(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "t", Partitions: 1, ReplicationFactor: 3}))
	before, at := obs.WaitState(t, "t/0", 0, 30*time.Second, "a leader with a full ISR",
		func(s broker.PartitionState) bool { return s.Leader > 0 && len(s.ISR) == 3 })

	leader := c.Broker(before.Leader)
	require.NoError(t, leader.Kill(ctx))
	running, _, err := leader.Running(ctx)
	require.NoError(t, err)
	require.False(t, running, "the killed broker's process must be gone")

	after, at := obs.WaitState(t, "t/0", at+1, 60*time.Second, "a new leader",
		func(s broker.PartitionState) bool { return s.Leader > 0 && s.Leader != before.Leader })
	require.Contains(t, before.ISR, after.Leader, "the new leader must come from the ISR before the kill")
	require.NotContains(t, after.ISR, before.Leader, "the killed broker must have left the ISR")

	require.NoError(t, leader.Start(ctx))
	require.NoError(t, c.WaitBrokerRegistered(ctx, leader.ID))
	obs.WaitState(t, "t/0", at+1, 90*time.Second, "the restarted broker back in the ISR",
		func(s broker.PartitionState) bool { return slices.Contains(s.ISR, leader.ID) })
}

func TestPauseLeaderPastSessionTimeoutMovesLeadership(t *testing.T) {
	c := brokertest.StartCluster(t, brokertest.FastSpec())
	obs := brokertest.Observe(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "p", Partitions: 1, ReplicationFactor: 3}))
	before, at := obs.WaitState(t, "p/0", 0, 30*time.Second, "a leader with a full ISR",
		func(s broker.PartitionState) bool { return s.Leader > 0 && len(s.ISR) == 3 })

	leader := c.Broker(before.Leader)
	require.NoError(t, leader.Pause(ctx))
	_, paused, err := leader.Running(ctx)
	require.NoError(t, err)
	require.True(t, paused)

	// The paused broker stops heartbeating: its session expires and its registration goes.
	require.Eventually(t, func() bool {
		snap, err := c.Describe(ctx)
		return err == nil && !slices.Contains(snap.Registered, leader.ID)
	}, 60*time.Second, 250*time.Millisecond, "paused %s never left /brokers/ids", leader.Name)
	_, at = obs.WaitState(t, "p/0", at+1, 30*time.Second, "leadership moving off the paused broker",
		func(s broker.PartitionState) bool { return s.Leader > 0 && s.Leader != leader.ID })

	require.NoError(t, leader.Resume(ctx))
	require.NoError(t, c.WaitBrokerRegistered(ctx, leader.ID))
	obs.WaitState(t, "p/0", at+1, 90*time.Second, "the resumed broker back in the ISR",
		func(s broker.PartitionState) bool { return slices.Contains(s.ISR, leader.ID) })
}

func TestExecAndCollectLogs(t *testing.T) {
	c := brokertest.StartCluster(t, broker.ClusterSpec{Brokers: 1})
	ctx := context.Background()
	n1 := c.Broker(1)
	// Exec runs in the node's network namespace with NET_ADMIN: iptables works there.
	_, err := n1.Exec(ctx, "iptables", "-A", "INPUT", "-s", "10.255.255.1", "-j", "DROP")
	require.NoError(t, err)
	out, err := n1.Exec(ctx, "iptables", "-S", "INPUT")
	require.NoError(t, err)
	require.Contains(t, out, "10.255.255.1")
	out, err = n1.Exec(ctx, "ip", "-4", "addr")
	require.NoError(t, err)
	require.Contains(t, out, n1.IP.String())
	_, err = n1.Exec(ctx, "sh", "-c", "exit 3")
	var execErr *broker.ExecError
	require.ErrorAs(t, err, &execErr)
	require.Equal(t, 3, execErr.ExitCode)

	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "logs", Partitions: 1, ReplicationFactor: 1}))
	dir := t.TempDir()
	for _, n := range c.Nodes() {
		require.NoError(t, n.CollectLogs(ctx, dir))
	}
	for _, f := range []string{"n1/stdout.log", "n1/server.log", "n1/state-change.log", "n1/controller.log", "zk1/stdout.log"} {
		info, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		require.NotZero(t, info.Size(), f)
	}
	stateChange, err := os.ReadFile(filepath.Join(dir, "n1/state-change.log"))
	require.NoError(t, err)
	require.Contains(t, string(stateChange), "logs-0", "state-change.log records the new partition")
}

// A broker that Kafka refuses to start makes Start fail, and everything it had started is removed.
func TestStartFailureRemovesEverything(t *testing.T) {
	runID := broker.NewRunID()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := broker.Start(ctx, broker.ClusterSpec{Brokers: 1, ServerProperties: map[string]string{"compression.type": "bogus"}},
		broker.Options{RunID: runID, Logf: t.Logf})
	require.ErrorContains(t, err, "n1 exited before it registered")
	require.Equal(t, 0, len(runObjects(t, runID)))
}

// A run whose process was killed (no cleanup ran) is removed by the next start.
func TestStaleRunOfKilledProcessIsRemoved(t *testing.T) {
	runID := broker.NewRunID()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+runID)
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	require.NoError(t, child.Start())
	t.Cleanup(func() { _, _ = broker.RemoveAll(context.Background(), runID) })
	require.Eventually(t, func() bool { return len(runObjects(t, runID)) >= 2 }, 60*time.Second, 200*time.Millisecond,
		"the child never started ZooKeeper")
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	require.NotZero(t, len(runObjects(t, runID)), "a killed process leaves its containers")

	// Another kchaos process on the machine may sweep the same stale run at the same moment: the
	// count removed here is not the test, what is left is.
	_, err := broker.RemoveStale(context.Background())
	require.NoError(t, err)
	require.Equal(t, 0, len(runObjects(t, runID)))
}

const childEnv = "KCHAOS_BROKER_TEST_CHILD_RUN"

// runChild starts a cluster under the run id in childEnv and waits to be killed.
func runChild() {
	_, err := broker.Start(context.Background(), broker.ClusterSpec{Brokers: 1}, broker.Options{RunID: os.Getenv(childEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	time.Sleep(10 * time.Minute)
	os.Exit(4)
}

func runObjects(t *testing.T, runID string) []string {
	left, err := broker.RunObjects(context.Background(), runID)
	require.NoError(t, err)
	return left
}
