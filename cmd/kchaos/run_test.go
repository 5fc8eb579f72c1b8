package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/broker/brokertest"
	"github.com/kchaos/kchaos/checkers/dynamics"
	"github.com/kchaos/kchaos/history"
)

// countClientLines counts the history lines of client processes written so far.
func countClientLines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if !bytes.Contains(sc.Bytes(), []byte(`"process":"`)) {
			n++
		}
	}
	return n
}

// startRun starts kchaos run with args, its output captured; the process is killed, and what it
// left removed, when the test ends.
func startRun(t *testing.T, args ...string) (run *exec.Cmd, stdout, stderr *bytes.Buffer) {
	run = exec.Command(kchaosBinary(t), append([]string{"run"}, args...)...)
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	run.Stdout, run.Stderr = stdout, stderr
	require.NoError(t, run.Start())
	t.Cleanup(func() {
		if run.ProcessState == nil {
			_ = run.Process.Kill()
			_ = run.Wait()
		}
		_, _ = broker.RemoveStale(context.Background())
	})
	return run, stdout, stderr
}

// A kchaos run killed with SIGKILL in the middle of its workload leaves a history that kchaos check
// reads, and the next start removes the containers it left.
func TestRunKilledMidwayLeavesCheckableHistory(t *testing.T) {
	brokertest.RequireEngine(t)
	resultsDir := t.TempDir()
	run, _, stderr := startRun(t, "--name", "killed", "--time-limit", "120s", "--rate", "300", "--nemesis", "none", "--results-dir", resultsDir)

	historyPath := filepath.Join(resultsDir, "latest", "history.jsonl")
	require.Eventually(t, func() bool { return countClientLines(historyPath) >= 1000 }, 3*time.Minute, 500*time.Millisecond,
		"the run never recorded 1000 client lines; its output:\n%s", stderr)
	require.NoError(t, run.Process.Signal(syscall.SIGKILL))
	_ = run.Wait()

	runDir, err := filepath.EvalSymlinks(filepath.Join(resultsDir, "latest"))
	require.NoError(t, err)
	res := runKchaos(t, "check", runDir)
	// Read, and unknown: without final reads nothing can be called lost or kept.
	require.Equal(t, exitUnknown, res.code, "stdout: %s\nstderr: %s", res.stdout, res.stderr)
	require.FileExists(t, filepath.Join(runDir, "results.json"))

	// The killed run's cluster is stale now: its owner is gone, and the next start's sweep removes it.
	_, err = broker.RemoveStale(context.Background())
	require.NoError(t, err)
	runs, err := broker.ListRuns(context.Background())
	require.NoError(t, err)
	for _, r := range runs {
		require.NotEqual(t, run.Process.Pid, r.OwnerPID, "run %s of the killed process is still there", r.RunID)
	}
}

func TestDescribeDynamics(t *testing.T) {
	d := &dynamics.Summary{Settings: dynamics.Settings{SessionTimeout: 6 * time.Second},
		Verdicts: dynamics.Conclusions{MedianFailoverMs: 6400, Leaves: 3, RejoinedByItself: 2, Answer: "Every follower came back."}}
	require.Equal(t, "ISR: median failover 6400 ms after a fault hit a leader (zookeeper.session.timeout.ms 6000); "+
		"3 departures from an ISR, 2 rejoined by themselves, 0 never.\n     Every follower came back.", describeDynamics(d))
	none := &dynamics.Summary{Verdicts: dynamics.Conclusions{MedianFailoverMs: -1, Answer: "No follower left an ISR."}}
	require.Contains(t, describeDynamics(none), "no fault hit a leader")

	// KRaft: the controllers' broker session, not ZooKeeper's.
	kraft := &dynamics.Summary{Settings: dynamics.Settings{SessionTimeout: 9 * time.Second, SessionTimeoutSetting: "broker.session.timeout.ms"},
		Verdicts: dynamics.Conclusions{MedianFailoverMs: 9400, Answer: "No follower left an ISR."}}
	require.Equal(t, "ISR: median failover 9400 ms after a fault hit a leader (broker.session.timeout.ms 9000); "+
		"0 departures from an ISR, 0 rejoined by themselves, 0 never.\n     No follower left an ISR.", describeDynamics(kraft))
	kraft.Settings.SessionTimeout = 0
	require.Contains(t, describeDynamics(kraft), "(broker.session.timeout.ms unknown)")
	// A history checked without a spec: no timeout to name.
	kraft.Settings = dynamics.Settings{}
	require.Contains(t, describeDynamics(kraft), "after a fault hit a leader; ")
}

// Ctrl-C during a fault: kchaos run heals it, removes the cluster, and still checks what it
// recorded; without final reads the verdict can only be unknown.
func TestRunInterruptedDuringAFaultHealsAndCleansUp(t *testing.T) {
	brokertest.RequireEngine(t)
	for _, tc := range []struct {
		fault string
		args  []string
	}{
		{fault: "partition"},
		// A power loss on faultfs: the interrupt must unmount the brokers' log dirs too.
		{fault: "power-loss", args: []string{"--faultfs", "--nemesis-targets", "all"}},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			resultsDir := t.TempDir()
			args := append([]string{"--name", "interrupted", "--time-limit", "120s",
				"--nemesis", tc.fault, "--nemesis-interval", "5s", "--zookeeper-session-timeout-ms", "3000", "--results-dir", resultsDir}, tc.args...)
			run, stdout, stderr := startRun(t, args...)

			historyPath := filepath.Join(resultsDir, "latest", "history.jsonl")
			// A start line with an error (no target, the cluster could not be described) put no
			// fault in place: only a start without one has a heal to wait for.
			require.Eventually(t, func() bool {
				data, _ := os.ReadFile(historyPath)
				return lastFaultInPlace(data, tc.fault) >= 0
			},
				3*time.Minute, 200*time.Millisecond, "no %s was put in place; the run's output:\n%s", tc.fault, stderr)
			require.True(t, ownsARun(t, run.Process.Pid), "the running process owns no cluster")
			require.NoError(t, run.Process.Signal(os.Interrupt))
			done := make(chan error, 1)
			go func() { done <- run.Wait() }()
			select {
			case <-done:
			case <-time.After(2 * time.Minute):
				t.Fatalf("kchaos run did not end within 2 minutes of SIGINT; its output:\n%s", stderr)
			}
			require.Equal(t, exitUnknown, run.ProcessState.ExitCode(), "stdout: %s\nstderr: %s", stdout, stderr)
			require.Contains(t, stderr.String(), "interrupted: healing faults and removing the cluster")
			require.Contains(t, stdout.String(), "verdict: UNKNOWN")

			data, err := os.ReadFile(historyPath)
			require.NoError(t, err)
			ops, err := history.Read(bytes.NewReader(data))
			require.NoError(t, err)
			start := lastFaultInPlace(data, tc.fault)
			require.GreaterOrEqual(t, start, 0)
			healed := slices.ContainsFunc(ops[start+1:], func(op history.Op) bool {
				return op.F == "stop-"+tc.fault && op.Error == ""
			})
			require.True(t, healed, "the %s put in place at line %d was never healed", tc.fault, start)
			require.Contains(t, string(data), `"skipped":"the run was interrupted"`)
			results := readResults(t, filepath.Join(resultsDir, "latest"))
			require.JSONEq(t, `"unknown"`, string(results["valid"]))

			require.False(t, ownsARun(t, run.Process.Pid), "a cluster of the interrupted process is still there")
			require.Empty(t, faultfsMountsOf(t, run.Process.Pid), "faultfs mounts of the interrupted process are still there")
		})
	}
}

// lastFaultInPlace returns the index of the last start line of fault in the history data that
// has no error, or -1 when there is none. The history may be being written: a line that does not
// parse (the last one, cut short) is passed over.
func lastFaultInPlace(data []byte, fault string) int {
	last := -1
	for _, line := range bytes.Split(data, []byte("\n")) {
		op, err := history.ParseLine(line)
		if err == nil && op.F == "start-"+fault && op.Error == "" {
			last = int(op.Index)
		}
	}
	return last
}

// faultfsMountsOf returns the mount points of faultfs file systems served by process pid.
func faultfsMountsOf(t *testing.T, pid int) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	var out []string
	source := fmt.Sprintf("kchaos-faultfs:pid=%d", pid)
	for _, line := range strings.Split(string(data), "\n") {
		// mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE SUPEROPTIONS
		_, after, ok := strings.Cut(line, " - ")
		fields := strings.Fields(after)
		if ok && len(fields) >= 2 && fields[1] == source {
			out = append(out, strings.Fields(line)[4])
		}
	}
	return out
}

// ownsARun reports whether a kchaos run owned by the process pid has containers.
func ownsARun(t *testing.T, pid int) bool {
	runs, err := broker.ListRuns(context.Background())
	require.NoError(t, err)
	for _, r := range runs {
		if r.OwnerPID == pid {
			return true
		}
	}
	return false
}
