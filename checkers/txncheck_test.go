package checkers

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers/txn"
	"github.com/kchaos/kchaos/history"
)

// The txn checker in Check: it runs on txn histories and on non-plain producers, its verdict
// counts, and an aborted read (the queue checker's G1a, the txn checker's aborted-read) is
// allowed only for read_uncommitted consumers of transactional producers.
func TestCheckWithTxnChecker(t *testing.T) {
	ops, err := history.ReadFile(filepath.Join("txn", "testdata", "aborted-read.jsonl"))
	require.NoError(t, err)

	for _, tc := range []struct {
		producer, isolation string
		want                Validity
	}{
		{"transactional", "read_uncommitted", Valid},
		{"transactional", "read_committed", Invalid},
		{"", "", Invalid}, // a history without a spec: what Kafka promises most
		{"idempotent", "read_uncommitted", Invalid},
		{"plain", "read_uncommitted", Invalid},
	} {
		res, err := Check(ops, Options{Producer: tc.producer, Isolation: tc.isolation})
		require.NoError(t, err)
		require.Equal(t, tc.want, res.Valid, "%s %s", tc.producer, tc.isolation)
		require.Contains(t, res.AnomalyTypes, G1a)
		require.Contains(t, res.AnomalyTypes, txn.AbortedRead)
		require.NotNil(t, res.Txn, "a history with txn ops")
		require.Contains(t, res.Checkers, CheckerTxn)
		_, err = res.JSON()
		require.NoError(t, err)
	}

	_, err = Check(ops, Options{Producer: "exactly-once"})
	require.Error(t, err)
}

// Without txn ops and with plain producers (the queue workload), the txn checker does not run.
func TestTxnCheckerOnlyWhenItApplies(t *testing.T) {
	ops := []history.Op{
		history.SendInvoke(0, "x/0", history.IntValue(1)),
		history.SendOK(0, "x/0", 0, history.IntValue(1)),
	}
	ops[0].Index, ops[1].Index = 0, 1
	res, err := Check(ops, Options{Producer: "plain", Isolation: "read_uncommitted"})
	require.NoError(t, err)
	require.Nil(t, res.Txn)
	require.NotContains(t, res.Checkers, CheckerTxn)
	res, err = Check(ops, Options{Producer: "idempotent", Isolation: "read_uncommitted"})
	require.NoError(t, err)
	require.NotNil(t, res.Txn, "idempotent producers promise no duplicates: the txn checker looks")
}
