package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history/historytest"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// kchaosBinary builds the real kchaos command once per test run.
func kchaosBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kchaos-check-test")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "kchaos")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	require.NoError(t, buildErr, "go build")
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

type runResult struct {
	stdout, stderr string
	code           int
	maxRSS         int64 // kilobytes
	wall           time.Duration
}

func runKchaos(t testing.TB, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(kchaosBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := runResult{stdout: stdout.String(), stderr: stderr.String(), wall: time.Since(start)}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss
	}
	return r
}

// runDir makes a run directory holding the checkers' test history name.
func runDir(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "checkers", "testdata", name+".jsonl"))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "history.jsonl"), data, 0o644))
	return dir
}

func readResults(t *testing.T, dir string) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func TestCheckVerdicts(t *testing.T) {
	tests := []struct {
		history string
		code    int
		valid   string
		stdout  []string
	}{
		{"unseen-ok", exitValid, "true", []string{"valid\n"}},
		{"int-send-skip", exitValid, "true", []string{"valid\n", "int-send-skip            1 (allowed)"}},
		{"unclean-story", exitInvalid, "false", []string{"invalid\n", "lost-write               2\n", "unseen                   1 (2 values)\n",
			"inconsistent-offsets     2\n", "not-linearizable         1\n", "unclean-leader-election  1\n"}},
		{"unclean-leader-election-gap", exitUnknown, `"unknown"`, []string{"unknown\n", "unknown: leader election of kchaos/0: the observer missed zk_version 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.history, func(t *testing.T) {
			dir := runDir(t, tt.history)
			r := runKchaos(t, "check", dir)
			require.Equal(t, tt.code, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
			require.Empty(t, r.stderr)
			for _, want := range tt.stdout {
				require.Contains(t, r.stdout, want)
			}
			require.Contains(t, r.stdout, "results: "+filepath.Join(dir, "results.json"))
			res := readResults(t, dir)
			require.Equal(t, tt.valid, string(res["valid"]))
			for _, field := range []string{"anomaly_types", "anomalies", "checkers"} {
				require.Contains(t, res, field)
			}
		})
	}
}

func TestCheckErrors(t *testing.T) {
	tests := []struct {
		name    string
		history func(valid string) string // from the lines of a valid history
		stderr  []string
	}{
		{"malformed line", func(valid string) string {
			lines := strings.Split(valid, "\n")
			lines[3] = `{"index":3,"time":`
			return strings.Join(lines, "\n")
		}, []string{"history.jsonl: line 4: unexpected end of line"}},
		{"index out of place", func(valid string) string {
			lines := strings.Split(valid, "\n")
			lines[5] = strings.Replace(lines[5], `"index":5`, `"index":6`, 1)
			return strings.Join(lines, "\n")
		}, []string{"line 6: index 6, want 5"}},
		{"completion without invocation", func(valid string) string {
			lines := strings.Split(valid, "\n")
			lines[0] = strings.Replace(lines[0], `"invoke"`, `"ok"`, 1)
			return strings.Join(lines, "\n")
		}, []string{"line 1: ok send of process 0 completes no open invocation"}},
	}
	valid, err := os.ReadFile(filepath.Join("..", "..", "checkers", "testdata", "unseen-ok.jsonl"))
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "history.jsonl"), []byte(tt.history(string(valid))), 0o644))
			previous := []byte(`{"valid": true, "from": "an earlier check"}` + "\n")
			require.NoError(t, os.WriteFile(filepath.Join(dir, "results.json"), previous, 0o644))
			r := runKchaos(t, "check", dir)
			require.Equal(t, exitError, r.code)
			require.Empty(t, r.stdout)
			for _, want := range tt.stderr {
				require.Contains(t, r.stderr, want)
			}
			// Nothing is overwritten on error, and nothing is left behind.
			got, err := os.ReadFile(filepath.Join(dir, "results.json"))
			require.NoError(t, err)
			require.Equal(t, previous, got)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 2)
		})
	}
}

func TestCheckUsage(t *testing.T) {
	r := runKchaos(t, "check")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "want exactly one RUN_DIR")
	r = runKchaos(t, "check", t.TempDir(), t.TempDir())
	require.Equal(t, exitError, r.code)
	r = runKchaos(t, "check", filepath.Join(t.TempDir(), "nothing"))
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "no such file or directory")
	r = runKchaos(t, "check", "--no-such-flag", t.TempDir())
	require.Equal(t, exitError, r.code)
	r = runKchaos(t, "check", "-h")
	require.Equal(t, exitValid, r.code)
	require.Contains(t, r.stderr, "-linearizability-timeout")
}

// Flags may follow RUN_DIR; a key whose linearizability check runs out of time is unknown.
func TestCheckTimeoutIsUnknown(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "history.jsonl"))
	require.NoError(t, err)
	require.NoError(t, historytest.Write(f, historytest.Config{Ops: 3000, Keys: 2, Seed: 5}))
	require.NoError(t, f.Close())

	r := runKchaos(t, "check", dir)
	require.Equal(t, exitValid, r.code, r.stdout+r.stderr)

	r = runKchaos(t, "check", dir, "--linearizability-timeout", "1ns")
	require.Equal(t, exitUnknown, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "unknown: linearizability of kchaos/0: timed out after 1ns")
	require.Equal(t, `"unknown"`, string(readResults(t, dir)["valid"]))
}

// BenchmarkCheckCommand runs kchaos check on a generated valid history of 10^6 operations
// (2x10^6 lines, 8 keys, 16 processes) and reports its wall time and peak memory. Set
// KCHAOS_BENCH_DIR to keep the history there (and reuse it).
func BenchmarkCheckCommand(b *testing.B) {
	dir := os.Getenv("KCHAOS_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, "history.jsonl")
	if _, err := os.Stat(path); err != nil {
		f, err := os.Create(path)
		require.NoError(b, err)
		require.NoError(b, historytest.Write(f, historytest.Config{Ops: 1_000_000, Keys: 8, Producers: 12, Consumers: 4,
			InfoRate: 0.02, FailRate: 0.02, LeaderChanges: 20, Seed: 1}))
		require.NoError(b, f.Close())
	}
	fi, err := os.Stat(path)
	require.NoError(b, err)
	b.ResetTimer()
	var rss int64
	for i := 0; i < b.N; i++ {
		r := runKchaos(b, "check", dir)
		require.Equal(b, exitValid, r.code, r.stdout+r.stderr)
		rss = max(rss, r.maxRSS)
	}
	b.ReportMetric(float64(rss)/1024, "peak-MB")
	b.ReportMetric(float64(fi.Size())/1e6, "history-MB")
}

// TestCheckNothingTestedIsUnknown: a history with no acknowledged send, or nothing read back,
// is UNKNOWN (exit 2), and the reason is on the terminal, in results.json and in the report.
func TestCheckNothingTestedIsUnknown(t *testing.T) {
	tests := []struct {
		name, history, reason string
	}{
		{"empty", "", "no send was acknowledged"},
		{"no ok send", `{"index":0,"time":1,"process":0,"type":"invoke","f":"send","value":[["send","k/0",1]]}
{"index":1,"time":2,"process":0,"type":"fail","f":"send","value":[["send","k/0",1]],"error":"NOT_ENOUGH_REPLICAS"}
`, "no send was acknowledged"},
		{"nothing read", `{"index":0,"time":1,"process":0,"type":"invoke","f":"send","value":[["send","k/0",1]]}
{"index":1,"time":2,"process":0,"type":"info","f":"send","value":[["send","k/0",1]],"error":"timeout"}
{"index":2,"time":3,"process":1,"type":"invoke","f":"send","value":[["send","k/0",2]]}
{"index":3,"time":4,"process":1,"type":"info","f":"send","value":[["send","k/0",2]],"error":"timeout"}
`, "no poll or final read returned a record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "history.jsonl"), []byte(tt.history), 0o644))
			r := runKchaos(t, "check", dir)
			require.Equal(t, exitUnknown, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
			require.Contains(t, r.stdout, "unknown: "+tt.reason)
			data, err := os.ReadFile(filepath.Join(dir, "results.json"))
			require.NoError(t, err)
			require.Contains(t, string(data), tt.reason)
			report, err := os.ReadFile(filepath.Join(dir, "report.html"))
			require.NoError(t, err)
			require.Contains(t, string(report), tt.reason)
		})
	}
}
