package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/results"
	"github.com/kchaos/kchaos/suites"
)

// Bad input is refused, naming what is wrong, before anything starts: no run directory is made.
func TestBenchMatrixBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
	}{
		{"no versions", []string{"--scenarios", "safe-kill"}},
		{"malformed version", []string{"--versions", "3.9.1/zk", "--scenarios", "safe-kill"}},
		{"zookeeper on 4.x", []string{"--versions", "3.9.1,4.1.1/zookeeper", "--scenarios", "safe-kill"}},
		{"unknown scenario", []string{"--versions", "3.9.1", "--scenarios", "safe-kill,nope"}},
		{"scenario twice", []string{"--versions", "3.9.1", "--scenarios", "safe-kill,safe-kill"}},
		{"no runs", []string{"--versions", "3.9.1", "--scenarios", "safe-kill", "--runs", "0"}},
		{"stray argument", []string{"--versions", "3.9.1", "--scenarios", "safe-kill", "x"}},
		{"from and versions", []string{"--from", dir, "--versions", "3.9.1"}},
		{"from nothing", []string{"--from", filepath.Join(dir, "missing")}},
		{"from no run", []string{"--from", dir}},
		{"a flag after the directories", []string{"--from", dir, dir, "--out", filepath.Join(dir, "t")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--results-dir", filepath.Join(dir, "runs")}, tt.args...)
			if tt.args[0] == "--from" {
				args = tt.args
			}
			require.Equal(t, exitError, runBench(append([]string{"matrix"}, args...)))
			require.NoDirExists(t, filepath.Join(dir, "runs"))
		})
	}
}

func TestMatrixCells(t *testing.T) {
	cells, err := matrixCells("3.9.1,4.1.1", "safe-kill,acks1-kill", true, 0, "out")
	require.NoError(t, err)
	var got []string
	for _, c := range cells {
		got = append(got, c.scenario.Name+" on "+c.scenario.Version()+" in "+c.resultsDir)
	}
	require.Equal(t, []string{
		"safe-kill/kafka-timeouts on 3.9.1/zookeeper in out/3.9.1/zookeeper/safe-kill/kafka-timeouts",
		"acks1-kill/kafka-timeouts on 3.9.1/zookeeper in out/3.9.1/zookeeper/acks1-kill/kafka-timeouts",
		"safe-kill/kafka-timeouts on 4.1.1/kraft in out/4.1.1/kraft/safe-kill/kafka-timeouts",
		"acks1-kill/kafka-timeouts on 4.1.1/kraft in out/4.1.1/kraft/acks1-kill/kafka-timeouts",
	}, got)
	require.Equal(t, "4.1.1", cells[2].scenario.Spec.Cluster.KafkaVersion)
	require.Equal(t, "18000", cells[2].scenario.Spec.Cluster.ServerProperties["broker.session.timeout.ms"], "KRaft keeps the timing")
}

func TestMatrixOutputs(t *testing.T) {
	tests := []struct{ out, md, html string }{
		{"", "", ""},
		{"m.md", "m.md", ""},
		{"d/m.html", "", "d/m.html"},
		{"d/matrix", "d/matrix.md", "d/matrix.html"},
	}
	for _, tt := range tests {
		md, html := matrixOutputs(tt.out)
		require.Equal(t, [2]string{tt.md, tt.html}, [2]string{md, html}, tt.out)
	}
}

// --from tabulates a run still going as not finished (exit 1: no bar met) and writes both files.
func TestBenchMatrixFrom(t *testing.T) {
	root := t.TempDir()
	sc, err := suites.Get("safe-kill")
	require.NoError(t, err)
	s := sc.Spec
	s.Seed, s.ResultsDir = 5, root
	rd, err := results.NewRunDir(root, s.Name, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	require.NoError(t, err)
	require.NoError(t, rd.WriteJSON(results.SpecFile, s.WithDefaults()))
	out := filepath.Join(root, "tables", "matrix")
	require.Equal(t, exitInvalid, runBench([]string{"matrix", "--from", root, "--out", out}))
	md, err := os.ReadFile(out + ".md")
	require.NoError(t, err)
	require.Contains(t, string(md), "| 3.9.1/zookeeper | safe-kill | safe | 1 | 0 | 0 | 0 | 1 | – | – | 5 | NOT met |")
	page, err := os.ReadFile(out + ".html")
	require.NoError(t, err)
	require.Contains(t, string(page), `href="../safe-kill/20260102T030405/"`)
}
