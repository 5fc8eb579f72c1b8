package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/results"
)

// reportTestRun writes a small run directory: a kill, a send during it, an observer state.
func reportTestRun(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, results.NodesDir, "n1"), 0o755))
	start, err := history.Nemesis("start-kill", map[string]any{"nodes": []string{"n1"}})
	require.NoError(t, err)
	stop, err := history.Nemesis("stop-kill", nil)
	require.NoError(t, err)
	ops := []history.Op{
		history.ObservePartitionState(history.PartitionState{Key: "kchaos/0", Leader: 1, ISR: []int{1, 2, 3}}),
		start,
		history.SendInvoke(0, "kchaos/0", history.IntValue(1)),
		history.SendOK(0, "kchaos/0", 0, history.IntValue(1)),
		stop,
	}
	var buf bytes.Buffer
	w := history.NewWriter(&buf)
	for i := range ops {
		ops[i].Index, ops[i].Time = int64(i), int64(i)*1e9
		require.NoError(t, w.Write(&ops[i]))
	}
	require.NoError(t, w.Flush())
	files := map[string]string{
		results.HistoryFile:   buf.String(),
		results.ResultsFile:   `{"valid":true,"anomaly_types":[],"anomalies":{},"checkers":{"queue":{"valid":true}}}`,
		results.SpecFile:      `{"name":"t1","cluster":{"brokers":3},"seed":7}`,
		"nodes/n1/server.log": "started\n",
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
}

func TestReportCommand(t *testing.T) {
	tests := []struct {
		name   string
		args   func(root, run string) []string
		setup  func(t *testing.T, root, run string)
		code   int
		stdout string // part of the output
		stderr string
		report bool // report.html and junit.xml written in run
		index  bool // index.html written in root
	}{
		{name: "run directory", args: func(_, run string) []string { return []string{run} },
			code: exitValid, stdout: "report: ", report: true, index: true},
		{name: "through the latest link", args: func(root, _ string) []string { return []string{filepath.Join(root, results.LatestLink)} },
			setup: func(t *testing.T, root, _ string) {
				require.NoError(t, os.Symlink("t1/20260301T100000", filepath.Join(root, results.LatestLink)))
			},
			code: exitValid, report: true, index: true},
		{name: "index only", args: func(root, _ string) []string { return []string{"--index", root} },
			code: exitValid, stdout: "index: ", index: true},
		{name: "not in a results directory", args: func(root, _ string) []string { return []string{filepath.Join(root, "loose")} },
			setup: func(t *testing.T, root, _ string) { reportTestRun(t, filepath.Join(root, "loose")) },
			code:  exitValid, stderr: "no index written"},
		{name: "no argument", args: func(_, _ string) []string { return nil }, code: exitError, stderr: "usage: kchaos report RUN_DIR"},
		{name: "missing history", args: func(_, run string) []string { return []string{run} },
			setup: func(t *testing.T, _, run string) {
				require.NoError(t, os.Remove(filepath.Join(run, results.HistoryFile)))
			},
			code: exitError, stderr: "has no history.jsonl"},
		{name: "malformed history line", args: func(_, run string) []string { return []string{run} },
			setup: func(t *testing.T, _, run string) {
				p := filepath.Join(run, results.HistoryFile)
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				lines := strings.Split(string(data), "\n")
				lines[2] = `{"index":2,"time":2,"process":0,"type":"invoke","f":"send","value":[["send"`
				require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644))
			},
			code: exitError, stderr: "line 3"},
		{name: "index of a directory with no runs", args: func(root, _ string) []string { return []string{"--index", filepath.Join(root, "t1")} },
			code: exitError, stderr: "not a kchaos results directory"},
		{name: "a foreign index.html two levels up is left alone", args: func(root, _ string) []string { return []string{filepath.Join(root, "site", "x", "20260301T100000")} },
			setup: func(t *testing.T, root, _ string) {
				reportTestRun(t, filepath.Join(root, "site", "x", "20260301T100000"))
				require.NoError(t, os.WriteFile(filepath.Join(root, "site", results.IndexFile), []byte("<title>my site</title>"), 0o644))
			},
			code: exitValid, stderr: "its index.html was not written by kchaos"},
		{name: "missing results directory for the index", args: func(root, _ string) []string { return []string{"--index", filepath.Join(root, "nope")} },
			code: exitError, stderr: "index of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			run := filepath.Join(root, "t1", "20260301T100000")
			reportTestRun(t, run)
			if tt.setup != nil {
				tt.setup(t, root, run)
			}
			var stdout, stderr bytes.Buffer
			code := reportCommand(tt.args(root, run), &stdout, &stderr)
			require.Equal(t, tt.code, code, "stderr: %s", stderr.String())
			require.Contains(t, stdout.String(), tt.stdout)
			require.Contains(t, stderr.String(), tt.stderr)
			for _, f := range []string{results.ReportFile, results.JUnitFile} {
				_, err := os.Stat(filepath.Join(run, f))
				require.Equal(t, tt.report, err == nil, "%s written", f)
			}
			_, err := os.Stat(filepath.Join(root, results.IndexFile))
			require.Equal(t, tt.index, err == nil, "index written")
		})
	}
}

func TestReportRegistered(t *testing.T) {
	cmd, ok := commands["report"]
	require.True(t, ok)
	require.NotEmpty(t, cmd.summary)
	require.Equal(t, exitError, cmd.run([]string{"--no-such-flag"}))
}
