package harness

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/results"
	"github.com/kchaos/kchaos/spec"
)

// resultsDir is where a test's runs go: $KCHAOS_TEST_RESULTS when set (to keep them), else a
// temporary directory.
func resultsDir(t *testing.T) string {
	if dir := os.Getenv("KCHAOS_TEST_RESULTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

// kchaos run --workload txn --producer transactional --nemesis none --time-limit 20s against a
// real cluster: committed and aborted transactions, reads, final reads that read every key whole
// under read_committed, and a valid verdict from every checker, the txn checker among them.
func TestTxnRunWithoutFaultsIsValid(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real cluster")
	}
	s, err := spec.ParseArgs([]string{"--workload", "txn", "--producer", "transactional", "--nemesis", "none",
		"--time-limit", "20s", "--seed", "11", "--rate", "100", "--concurrency", "6", "--name", "txn-no-faults",
		"--results-dir", resultsDir(t),
		// The machine is shared and loaded: an operation's outcome is unknown only past 15 s.
		"--op-timeout", "15s"})
	require.NoError(t, err)
	require.Equal(t, "read_committed", s.Isolation)
	out, runErr := Run(context.Background(), s, Options{Logf: t.Logf})
	t.Logf("run dir %s", out.RunDir)
	require.True(t, out.Checked, "the run was checked: %v", runErr)
	require.Equal(t, checkers.Valid, out.Verdict, "anomalies: %v", out.AnomalyTypes)

	tr := out.Result.Txn
	require.NotNil(t, tr, "the txn checker ran")
	t.Logf("txn checker: %+v", tr.Stats)
	require.Positive(t, tr.Stats.Committed)
	require.Positive(t, tr.Stats.Aborted)
	require.Positive(t, tr.Stats.Reads)
	require.Contains(t, out.Result.Checkers, checkers.CheckerTxn)

	data, err := os.ReadFile(filepath.Join(out.RunDir, results.ResultsFile))
	require.NoError(t, err)
	require.Contains(t, string(data), `"txn": {`)

	ops, err := history.ReadFile(filepath.Join(out.RunDir, results.HistoryFile))
	require.NoError(t, err)
	finalReads := 0
	var committed, aborted, unknown int // the workers' txns
	for _, op := range ops {
		if op.F == history.FTxn && op.Type != history.Invoke && op.Process < 1_000_000_000 {
			switch {
			case op.Type == history.OK && slices.ContainsFunc(op.Mops, func(m history.Mop) bool { return m.Kind == history.MopSend }):
				committed++
			case op.Type == history.Fail && op.Error == "aborted":
				aborted++
			case op.Type == history.Info:
				unknown++
			}
		}
		if op.F == history.FFinalRead {
			fr, err := op.FinalRead()
			require.NoError(t, err)
			require.True(t, fr.Complete, "final reads of %s: %+v", fr.Key, fr)
			finalReads++
		}
	}
	require.Equal(t, s.Partitions, finalReads)
	t.Logf("workers' txns with sends committed: %d, chosen aborts: %d, unknown: %d", committed, aborted, unknown)
	require.Positive(t, committed, "transactions with sends committed during the run")
	require.Positive(t, aborted, "transactions aborted by choice")
	require.NoError(t, runErr)
}
