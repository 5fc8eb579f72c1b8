package harness

import (
	"context"
	"encoding/json"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/workloads/queue"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/results"
)

// A short run against a real cluster with no faults: thousands of ok sends, polls that read them,
// a valid verdict, and every file of the run directory present and well-formed.
func TestRunWithoutFaultsIsValid(t *testing.T) {
	resultsDir := t.TempDir()
	s := spec.Spec{Name: "no-faults", ResultsDir: resultsDir, TimeLimit: spec.Duration(20 * time.Second), Rate: 400,
		Concurrency: 8, Seed: 7, Nemesis: []string{"none"}}
	out, err := Run(context.Background(), s, Options{Logf: t.Logf})
	require.NoError(t, err)
	require.Equal(t, checkers.Valid, out.Verdict, "anomalies: %v; run dir %s", out.AnomalyTypes, out.RunDir)
	require.Empty(t, out.AnomalyTypes)

	latest, err := filepath.EvalSymlinks(filepath.Join(resultsDir, results.LatestLink))
	require.NoError(t, err)
	want, err := filepath.EvalSymlinks(out.RunDir)
	require.NoError(t, err)
	require.Equal(t, want, latest, "results/latest points at the run")

	var written spec.Spec
	data, err := os.ReadFile(filepath.Join(out.RunDir, results.SpecFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &written))
	require.Equal(t, s.WithDefaults(), written)

	var res struct {
		Valid        any      `json:"valid"`
		AnomalyTypes []string `json:"anomaly_types"`
	}
	data, err = os.ReadFile(filepath.Join(out.RunDir, results.ResultsFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &res))
	require.Equal(t, true, res.Valid)
	require.NotNil(t, res.AnomalyTypes)
	for _, f := range []string{"report.html", "junit.xml"} {
		require.FileExists(t, filepath.Join(out.RunDir, f))
	}
	require.FileExists(t, filepath.Join(resultsDir, "index.html"))

	ops, err := history.ReadFile(filepath.Join(out.RunDir, results.HistoryFile))
	require.NoError(t, err)
	sent := map[int64]bool{}
	read := map[int64]bool{}
	var finalReads, polls int
	for _, op := range ops {
		if op.Type != history.OK {
			if op.F == queue.FinalReadF {
				finalReads++
				require.Contains(t, string(op.Raw), `"complete":true`)
			}
			continue
		}
		for _, m := range op.Mops {
			if m.Kind == history.MopSend {
				v, _ := m.Value.Int()
				sent[v] = true
			}
			if m.Kind == history.MopPoll {
				polls++
				for _, kr := range m.Reads {
					for _, rec := range kr.Records {
						v, _ := rec.Value.Int()
						read[v] = true
					}
				}
			}
		}
	}
	require.Greater(t, len(sent), 1000, "thousands of acknowledged sends")
	require.Greater(t, polls, 500)
	for v := range sent {
		require.True(t, read[v], "acknowledged value %d was never read", v)
	}
	require.Equal(t, s.WithDefaults().Partitions, finalReads)

	for _, node := range []string{"zk1", "n1", "n2", "n3"} {
		_, err := os.Stat(filepath.Join(out.RunDir, results.NodesDir, node, "stdout.log"))
		require.NoError(t, err, "logs of %s", node)
	}
	_, err = os.Stat(filepath.Join(out.RunDir, results.NodesDir, "n1", "state-change.log"))
	require.NoError(t, err)
}
