package nemesis

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/kchaos/kchaos/broker/brokertest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
)

const childEnv = "KCHAOS_NEMESIS_TEST_CHILD_RUN"

// runChild starts a two-broker cluster that outlives it (Detached, so that the parent can look at
// it afterwards), partitions n1 from n2 and everything else, pauses n2, prints READY and waits for
// SIGINT, which HealOnSignal answers. Every event is printed as a JSON line.
func runChild() {
	out := json.NewEncoder(os.Stdout)
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	ctx := context.Background()
	c, err := broker.Start(ctx, broker.ClusterSpec{Brokers: 2, BrokerHeapMB: 256}, broker.Options{RunID: os.Getenv(childEnv), Detached: true})
	if err != nil {
		fail(err)
	}
	n := New(c, Config{}, func(ev Event) { _ = out.Encode(ev) })
	HealOnSignal(n, func(err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "child: heal:", err)
			os.Exit(1)
		}
		fmt.Println("HEALED")
		os.Exit(0)
	}, os.Interrupt)
	if _, err := n.Start(ctx, Fault{Kind: KindPartition, Grudge: Isolate([]string{"n1"}, []string{"n1", "n2"}), Traffic: TrafficAll}); err != nil {
		fail(err)
	}
	if _, err := n.Start(ctx, Fault{Kind: KindPause, Nodes: []string{"n2"}}); err != nil {
		fail(err)
	}
	fmt.Println("READY")
	time.Sleep(10 * time.Minute)
	os.Exit(4)
}

// runContainers returns the containers of a run by node name.
func runContainers(t *testing.T, docker *testcontainers.DockerClient, runID string) map[string]container.Summary {
	t.Helper()
	list, err := docker.ContainerList(context.Background(), client.ContainerListOptions{All: true,
		Filters: make(client.Filters).Add("label", "kchaos.run="+runID)})
	require.NoError(t, err)
	out := map[string]container.Summary{}
	for _, ctr := range list.Items {
		out[ctr.Labels["kchaos.node"]] = ctr
	}
	return out
}

// dockerExec runs a command in a container through the Docker API and returns its stdout.
func dockerExec(t *testing.T, docker *testcontainers.DockerClient, id string, cmd ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, err := docker.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	require.NoError(t, err)
	att, err := docker.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	require.NoError(t, err)
	defer att.Close()
	var stdout, stderr bytes.Buffer
	_, err = stdcopy.StdCopy(&stdout, &stderr, att.Reader)
	require.NoError(t, err)
	insp, err := docker.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
	require.NoError(t, err)
	require.Zero(t, insp.ExitCode, "%q: %s", cmd, stderr.String())
	return stdout.String()
}

// A process interrupted with SIGINT during a partition and a pause heals both before it exits:
// the cluster it leaves behind holds no kchaos rule and no paused container.
func TestSIGINTHealsAPartitionAndAPause(t *testing.T) {
	brokertest.RequireEngine(t)
	if testing.Short() {
		t.Skip("needs a real cluster")
	}
	runID := broker.NewRunID()
	t.Cleanup(func() {
		_, err := broker.RemoveAll(context.Background(), runID)
		require.NoError(t, err)
	})
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+runID)
	child.Stderr = os.Stderr
	stdout, err := child.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, child.Start())
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var printed []string
	waitLine := func(want string, timeout time.Duration) {
		t.Helper()
		deadline := time.After(timeout)
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "the child exited before printing %s; it printed %v", want, printed)
				printed = append(printed, l)
				if l == want {
					return
				}
			case <-deadline:
				_ = child.Process.Kill()
				t.Fatalf("the child did not print %s within %s; it printed %v", want, timeout, printed)
			}
		}
	}
	waitLine("READY", 4*time.Minute)

	docker, err := testcontainers.NewDockerClientWithOpts(context.Background())
	require.NoError(t, err)
	defer docker.Close()
	ctrs := runContainers(t, docker, runID)
	require.Len(t, ctrs, 3)
	// The faults are really there before the signal.
	require.Equal(t, container.StatePaused, ctrs["n2"].State)
	require.Contains(t, dockerExec(t, docker, ctrs["n1"].ID, "iptables", "-w", "-S"), "-N "+chainPrefix)
	require.Contains(t, dockerExec(t, docker, ctrs["zk1"].ID, "iptables", "-w", "-S"), "-N "+chainPrefix)

	interrupted := time.Now()
	require.NoError(t, child.Process.Signal(syscall.SIGINT))
	waitLine("HEALED", 2*time.Minute)
	require.NoError(t, child.Wait())
	t.Logf("healed and exited %s after SIGINT", time.Since(interrupted).Round(100*time.Millisecond))

	var fs []string
	for _, l := range printed {
		var ev Event
		if json.Unmarshal([]byte(l), &ev) == nil && ev.F != "" {
			require.Empty(t, ev.Error, ev.F)
			fs = append(fs, ev.F)
		}
	}
	require.Equal(t, []string{"start-partition", "start-pause", "stop-pause", "stop-partition"}, fs)

	ctrs = runContainers(t, docker, runID)
	require.Len(t, ctrs, 3, "the kept cluster is still there")
	for name, ctr := range ctrs {
		require.Equal(t, container.StateRunning, ctr.State, "%s", name)
		rules := dockerExec(t, docker, ctr.ID, "iptables", "-w", "-S")
		require.NotContains(t, rules, chainPrefix, "%s still holds kchaos rules:\n%s", name, rules)
		require.True(t, strings.HasPrefix(rules, "-P INPUT ACCEPT"), "%s: %s", name, rules)
	}
}
