// Package brokertest holds what the tests of kchaos packages share when they run a real cluster:
// starting one for a test, collecting what its observer reports, and checking at the end that
// the test binary left no container or network behind. It is imported by tests only.
package brokertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
)

// FastSpec shortens the timeouts that fault tests wait out (a 6 s ZooKeeper session, an 8 s
// replica lag), and keeps leaders where the faults put them: the preferred-leader rebalance that
// a new controller runs after its election would otherwise move a leader in the middle of a test.
func FastSpec() broker.ClusterSpec {
	return broker.ClusterSpec{ZooKeeperSessionTimeoutMs: 6000, ReplicaLagTimeMaxMs: 8000,
		ServerProperties: map[string]string{"auto.leader.rebalance.enable": "false"}}
}

var (
	engineOnce sync.Once
	engineErr  error
)

// RequireEngine is the one switch of the tests that run real Kafka in Docker: under
// `go test -short` they are skipped, so that the pure packages and the unit tests pass on a
// machine without Docker; otherwise the engine must answer, and a test fails at once, saying
// what is missing, when it does not.
func RequireEngine(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a real Kafka cluster in Docker: skipped by -short")
	}
	engineOnce.Do(func() {
		if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
			engineErr = fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
		}
	})
	if engineErr != nil {
		t.Fatalf("this test runs a real Kafka cluster and needs a Docker engine (scripts/setup starts one): %v", engineErr)
	}
}

// StartCluster starts a cluster for t and closes it when t ends; the nodes' logs of a failed test
// are kept in a temporary directory whose path is logged. With -short the test is skipped.
func StartCluster(t testing.TB, spec broker.ClusterSpec) *broker.Cluster {
	t.Helper()
	return StartClusterWithin(t, spec, 0, 4*time.Minute)
}

// StartClusterWithin is StartCluster with the readiness timeout of one start (the default of
// broker.Options when zero) and the time limit of both tries: a KRaft cluster formats its storage
// with one JVM per node before starting another, which a loaded machine makes slow.
func StartClusterWithin(t testing.TB, spec broker.ClusterSpec, readyTimeout, limit time.Duration) *broker.Cluster {
	t.Helper()
	RequireEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	started := time.Now()
	opts := broker.Options{Logf: t.Logf, ReadyTimeout: readyTimeout}
	c, err := broker.Start(ctx, spec, opts)
	if err != nil {
		// With short session timeouts a broker starved of CPU (another cluster running on the
		// machine) can lose its ZooKeeper session while it starts, and exit. Once is bad luck.
		t.Logf("the cluster did not start, trying once more: %v", err)
		c, err = broker.Start(ctx, spec, opts)
	}
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			// Keep the nodes' logs of a failed test: they say what Kafka did.
			name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
			if dir, err := os.MkdirTemp("", "kchaos-"+name+"-"); err == nil {
				for _, n := range c.Nodes() {
					_ = n.CollectLogs(context.Background(), dir)
				}
				t.Logf("node logs of the failed test: %s", dir)
			}
		}
		require.NoError(t, c.Close(context.Background()))
	})
	t.Logf("cluster up in %s", time.Since(started).Round(100*time.Millisecond))
	return c
}

// Observations collects what a cluster's observer reports, for tests to wait on.
type Observations struct {
	mu   sync.Mutex
	seen []broker.Observation
}

// Observe starts an observer of c that reports into the returned Observations until t ends.
func Observe(t testing.TB, c *broker.Cluster) *Observations {
	t.Helper()
	obs := &Observations{}
	o, err := c.Observe(context.Background(), obs.add)
	require.NoError(t, err)
	t.Cleanup(o.Close)
	return obs
}

func (o *Observations) add(ob broker.Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, ob)
}

// States returns the partition states seen for key so far, in order.
func (o *Observations) States(key string) []broker.PartitionState {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []broker.PartitionState
	for _, ob := range o.seen {
		if st, ok := ob.Value.(broker.PartitionState); ok && st.Key == key {
			out = append(out, st)
		}
	}
	return out
}

// Controllers returns the controllers seen so far, in order.
func (o *Observations) Controllers() []broker.ControllerState {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []broker.ControllerState
	for _, ob := range o.seen {
		if c, ok := ob.Value.(broker.ControllerState); ok {
			out = append(out, c)
		}
	}
	return out
}

// WaitState waits until a state of key after the first `after` ones satisfies ok, and returns it
// with its position; it fails t, naming what, when none does within timeout.
func (o *Observations) WaitState(t testing.TB, key string, after int, timeout time.Duration, what string, ok func(broker.PartitionState) bool) (broker.PartitionState, int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		states := o.States(key)
		for i := after; i < len(states); i++ {
			if ok(states[i]) {
				return states[i], i
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the observer never reported %s for %s within %s; states seen: %+v", what, key, timeout, o.States(key))
	return broker.PartitionState{}, 0
}

// CheckLeftovers is for TestMain, after m.Run: it reports the containers and networks this
// process still owns, and returns the exit code, failing a passing run that left any behind.
func CheckLeftovers(code int, pkg string) int {
	left, err := broker.OwnedObjects(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s tests: cannot list what they left: %v\n", pkg, err)
	} else if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "%s tests left Docker objects behind: %s\n", pkg, strings.Join(left, ", "))
	} else {
		return code
	}
	if code == 0 {
		code = 1
	}
	return code
}
