package broker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/moby/moby/client"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
)

// These tests run against a real cluster; scripts/setup provides the engine and the image.

// TestMain also checks that the tests, passing or failing, left no container or network of this
// process behind.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChild()
		return
	}
	code := m.Run()
	if left := ownObjects(); left != "" {
		fmt.Fprintf(os.Stderr, "broker tests left Docker objects behind: %s\n", left)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// fastSpec shortens the timeouts that the fault tests wait out.
func fastSpec() ClusterSpec {
	return ClusterSpec{ZooKeeperSessionTimeoutMs: 6000, ReplicaLagTimeMaxMs: 8000}
}

func startCluster(t *testing.T, spec ClusterSpec) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := Start(ctx, spec, Options{Logf: t.Logf})
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			// Keep the nodes' logs of a failed test: they say what Kafka did.
			dir, err := os.MkdirTemp("", "kchaos-"+t.Name()+"-")
			if err == nil {
				for _, n := range c.Nodes() {
					_ = n.CollectLogs(context.Background(), dir)
				}
				t.Logf("node logs of the failed test: %s", dir)
			}
		}
		require.NoError(t, c.Close(context.Background()))
	})
	return c
}

func TestProduceAndReadBackWithAcksAll(t *testing.T) {
	c := startCluster(t, ClusterSpec{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, c.CreateTopic(ctx, TopicSpec{Name: "t1", Partitions: 1, ReplicationFactor: 3,
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

// observations collects what an observer reports, for tests to wait on.
type observations struct {
	mu   sync.Mutex
	seen []Observation
}

func (o *observations) add(ob Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, ob)
}

// states returns the partition states seen for key, in order.
func (o *observations) states(key string) []PartitionState {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []PartitionState
	for _, ob := range o.seen {
		if st, ok := ob.Value.(PartitionState); ok && st.Key == key {
			out = append(out, st)
		}
	}
	return out
}

// waitState waits until a state of key after the first `after` ones satisfies ok, and returns it
// with its position.
func (o *observations) waitState(t *testing.T, key string, after int, timeout time.Duration, what string, ok func(PartitionState) bool) (PartitionState, int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		states := o.states(key)
		for i := after; i < len(states); i++ {
			if ok(states[i]) {
				return states[i], i
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("observer never reported %s for %s within %s; states seen: %+v", what, key, timeout, o.states(key))
	return PartitionState{}, 0
}

func observe(t *testing.T, c *Cluster) *observations {
	t.Helper()
	obs := &observations{}
	o, err := c.Observe(context.Background(), obs.add)
	require.NoError(t, err)
	t.Cleanup(o.Close)
	return obs
}

func TestKillLeaderElectsFromISRAndRestartRejoins(t *testing.T) {
	c := startCluster(t, fastSpec())
	obs := observe(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.NoError(t, c.CreateTopic(ctx, TopicSpec{Name: "t", Partitions: 1, ReplicationFactor: 3}))
	before, at := obs.waitState(t, "t/0", 0, 30*time.Second, "a leader with a full ISR",
		func(s PartitionState) bool { return s.Leader > 0 && len(s.ISR) == 3 })

	leader := c.Broker(before.Leader)
	require.NoError(t, leader.Kill(ctx))
	running, _, err := leader.Running(ctx)
	require.NoError(t, err)
	require.False(t, running, "the killed broker's process must be gone")

	after, at := obs.waitState(t, "t/0", at+1, 60*time.Second, "a new leader",
		func(s PartitionState) bool { return s.Leader > 0 && s.Leader != before.Leader })
	require.Contains(t, before.ISR, after.Leader, "the new leader must come from the ISR before the kill")
	require.NotContains(t, after.ISR, before.Leader, "the killed broker must have left the ISR")

	require.NoError(t, leader.Start(ctx))
	require.NoError(t, c.WaitBrokerRegistered(ctx, leader.ID))
	obs.waitState(t, "t/0", at+1, 90*time.Second, "the restarted broker back in the ISR",
		func(s PartitionState) bool { return slices.Contains(s.ISR, leader.ID) })
}

func TestPauseLeaderPastSessionTimeoutMovesLeadership(t *testing.T) {
	c := startCluster(t, fastSpec())
	obs := observe(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.NoError(t, c.CreateTopic(ctx, TopicSpec{Name: "p", Partitions: 1, ReplicationFactor: 3}))
	before, at := obs.waitState(t, "p/0", 0, 30*time.Second, "a leader with a full ISR",
		func(s PartitionState) bool { return s.Leader > 0 && len(s.ISR) == 3 })

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
	_, at = obs.waitState(t, "p/0", at+1, 30*time.Second, "leadership moving off the paused broker",
		func(s PartitionState) bool { return s.Leader > 0 && s.Leader != leader.ID })

	require.NoError(t, leader.Resume(ctx))
	require.NoError(t, c.WaitBrokerRegistered(ctx, leader.ID))
	obs.waitState(t, "p/0", at+1, 90*time.Second, "the resumed broker back in the ISR",
		func(s PartitionState) bool { return slices.Contains(s.ISR, leader.ID) })
}

func TestExecAndCollectLogs(t *testing.T) {
	c := startCluster(t, ClusterSpec{Brokers: 1})
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
	var execErr *ExecError
	require.ErrorAs(t, err, &execErr)
	require.Equal(t, 3, execErr.ExitCode)

	require.NoError(t, c.CreateTopic(ctx, TopicSpec{Name: "logs", Partitions: 1, ReplicationFactor: 1}))
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
	runID := NewRunID()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := Start(ctx, ClusterSpec{Brokers: 1, ServerProperties: map[string]string{"compression.type": "bogus"}},
		Options{RunID: runID, Logf: t.Logf})
	require.ErrorContains(t, err, "n1 exited before it registered")
	require.Equal(t, 0, countRun(t, runID))
}

// A run whose process was killed (no cleanup ran) is removed by the next start.
func TestStaleRunOfKilledProcessIsRemoved(t *testing.T) {
	runID := NewRunID()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+runID)
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	require.NoError(t, child.Start())
	t.Cleanup(func() { _, _ = RemoveAll(context.Background(), runID) })
	require.Eventually(t, func() bool { return countRun(t, runID) >= 2 }, 60*time.Second, 200*time.Millisecond,
		"the child never started ZooKeeper")
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	require.NotZero(t, countRun(t, runID), "a killed process leaves its containers")

	// Another kchaos process on the machine may sweep the same stale run at the same moment: the
	// count removed here is not the test, what is left is.
	_, err := RemoveStale(context.Background())
	require.NoError(t, err)
	require.Equal(t, 0, countRun(t, runID))
}

const childEnv = "KCHAOS_BROKER_TEST_CHILD_RUN"

// runChild starts a cluster under the run id in childEnv and waits to be killed.
func runChild() {
	_, err := Start(context.Background(), ClusterSpec{Brokers: 1}, Options{RunID: os.Getenv(childEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	time.Sleep(10 * time.Minute)
	os.Exit(4)
}

func dockerClient(t testing.TB) *testcontainers.DockerClient {
	docker, err := testcontainers.NewDockerClientWithOpts(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { docker.Close() })
	return docker
}

func countByLabel(t testing.TB, label string) int {
	docker := dockerClient(t)
	f := make(client.Filters).Add("label", label)
	ctrs, err := docker.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
	require.NoError(t, err)
	nets, err := docker.NetworkList(context.Background(), client.NetworkListOptions{Filters: f})
	require.NoError(t, err)
	return len(ctrs.Items) + len(nets.Items)
}

func countRun(t testing.TB, runID string) int { return countByLabel(t, labelRun+"="+runID) }

func countOwnContainers(t testing.TB) int {
	return countByLabel(t, labelOwnerPID+"="+strconv.Itoa(os.Getpid()))
}

// ownObjects lists the containers and networks this process still owns, or "".
func ownObjects() string {
	docker, err := testcontainers.NewDockerClientWithOpts(context.Background())
	if err != nil {
		return "cannot connect to Docker: " + err.Error()
	}
	defer docker.Close()
	f := make(client.Filters).Add("label", labelOwnerPID+"="+strconv.Itoa(os.Getpid()))
	var left []string
	if ctrs, err := docker.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f}); err == nil {
		for _, c := range ctrs.Items {
			left = append(left, "container "+c.Names[0])
		}
	}
	if nets, err := docker.NetworkList(context.Background(), client.NetworkListOptions{Filters: f}); err == nil {
		for _, n := range nets.Items {
			left = append(left, "network "+n.Name)
		}
	}
	return fmt.Sprint(left)[1 : len(fmt.Sprint(left))-1]
}

// TestChildrenWatchSurvivesCreationRace creates a directory in the window between childrenW's
// ChildrenW (no node) and its ExistsW: the watch it returns must still fire for a new child.
// An observer that kept ExistsW's data watch there never saw the topic the test created next.
func TestChildrenWatchSurvivesCreationRace(t *testing.T) {
	c := startCluster(t, ClusterSpec{Brokers: 1, ReplicationFactor: 1, MinInsyncReplicas: 1})
	conn, err := c.dialZooKeeper(c.ZooKeeperAddrs(), 10*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	const dir = "/kchaos-race"
	raced := 0
	testHookChildrenNoNode = func(d string) {
		if d == dir && raced == 0 {
			raced++
			_, err := conn.Create(dir, nil, 0, zk.WorldACL(zk.PermAll))
			require.NoError(t, err)
		}
	}
	t.Cleanup(func() { testHookChildrenNoNode = nil })

	children, ch, err := childrenW(conn, dir)
	require.NoError(t, err)
	require.Equal(t, 1, raced, "the hook created the directory inside the race window")
	require.Empty(t, children)
	_, err = conn.Create(dir+"/child", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	select {
	case ev := <-ch:
		require.Equal(t, zk.EventNodeChildrenChanged, ev.Type)
	case <-time.After(10 * time.Second):
		t.Fatal("the watch never fired for the new child")
	}
}
