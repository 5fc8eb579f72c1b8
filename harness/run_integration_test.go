package harness

import (
	"context"
	"encoding/json"
	"github.com/kchaos/kchaos/broker/brokertest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/results"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/workloads/queue"
)

// A short run against a real cluster with no faults: thousands of ok sends, polls that read them,
// a valid verdict, and every file of the run directory present and well-formed.
func TestRunWithoutFaultsIsValid(t *testing.T) {
	brokertest.RequireEngine(t)
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
	// Enough acknowledged sends and polls that "every acknowledged value was read" tests
	// something; how many the machine manages is for kchaos bench throughput, not this test (a
	// loaded CI machine did 329 in the 20 s).
	require.Greater(t, len(sent), 100, "acknowledged sends")
	require.Greater(t, polls, 50)
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

// TestElectionsDecidedWhenTheObserverMissesVersions runs kills of partition leaders on a real
// cluster, then makes the live observer miss versions (its states after the first are dropped
// and a gap recorded): the exact states read from ZooKeeper's transaction log still decide every
// election, and without them the same history is unknown.
func TestElectionsDecidedWhenTheObserverMissesVersions(t *testing.T) {
	brokertest.RequireEngine(t)
	s := spec.Spec{Name: "missed-versions", ResultsDir: t.TempDir(), TimeLimit: spec.Duration(30 * time.Second),
		Rate: 200, Concurrency: 6, Seed: 11, Nemesis: []string{"kill"}, NemesisTargets: []string{"primaries"},
		NemesisInterval: spec.Duration(10 * time.Second),
		Cluster:         broker.ClusterSpec{ZooKeeperSessionTimeoutMs: 6000, ReplicaLagTimeMaxMs: 10000}}
	out, err := Run(context.Background(), s, Options{Logf: t.Logf})
	require.NoError(t, err)
	require.True(t, out.Checked)
	le := out.Result.LeaderElection
	require.True(t, le.Exact, "decided from the transaction log")
	require.Positive(t, le.Elections, "the kills of leaders forced elections")
	require.Equal(t, le.Elections, le.ElectedBy[checkers.RuleISR], "every election from the ISR")
	require.Equal(t, checkers.Valid, le.Valid, "mismatches %v undecided %v", le.Mismatches, le.Undecided)

	ops, err := history.ReadFile(filepath.Join(out.RunDir, results.HistoryFile))
	require.NoError(t, err)
	var missed, withoutLog []history.Op
	seen := map[string]bool{}
	for _, op := range ops {
		if op.F == history.FPartitionState {
			st, err := op.PartitionState()
			require.NoError(t, err)
			if !st.Exact() {
				if seen[st.Key] {
					continue // the observer missed every later version of this key
				}
				seen[st.Key] = true
				gap := history.ObserveGap(history.ObserverGap{Key: st.Key, FromVersion: st.ZkVersion, ToVersion: st.ZkVersion + 100})
				gap.Time = op.Time
				missed = append(missed, op, gap)
				withoutLog = append(withoutLog, op, gap)
				continue
			}
		}
		missed = append(missed, op)
		if op.Process != history.ObserverProcess || !isExactLine(op) {
			withoutLog = append(withoutLog, op)
		}
	}
	renumber := func(ops []history.Op) []history.Op {
		for i := range ops {
			ops[i].Index = int64(i)
		}
		return ops
	}
	opts := checkers.Options{ObservedFromCreation: true, ExpectFinalReads: true}
	res, err := checkers.Check(renumber(missed), opts)
	require.NoError(t, err)
	require.True(t, res.LeaderElection.Exact)
	require.Equal(t, checkers.Valid, res.LeaderElection.Valid, "the log decides what the observer missed")
	require.Equal(t, le.Elections, res.LeaderElection.Elections)

	res, err = checkers.Check(renumber(withoutLog), opts)
	require.NoError(t, err)
	require.False(t, res.LeaderElection.Exact)
	require.Equal(t, checkers.Unknown, res.LeaderElection.Valid, "without the log, missed versions leave elections undecided")
}

// isExactLine reports whether op is a line read from the metadata log after the run.
func isExactLine(op history.Op) bool {
	switch op.F {
	case history.FMetadataLog:
		return true
	case history.FPartitionState:
		s, err := op.PartitionState()
		return err == nil && s.Exact()
	case history.FController:
		c, err := op.Controller()
		return err == nil && c.Source != ""
	case history.FBrokerState:
		return true
	}
	return false
}
