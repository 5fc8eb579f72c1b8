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
	// A committed send read back, so that the history tests something (the coverage checker).
	for _, line := range []string{
		`{"index":4,"time":5000000,"process":2,"type":"invoke","f":"txn","value":[["send","x/0",2]]}`,
		`{"index":5,"time":6000000,"process":2,"type":"ok","f":"txn","value":[["send","x/0",[1,2]]]}`,
		`{"index":6,"time":7000000,"process":1,"type":"invoke","f":"poll","value":[["poll"]]}`,
		`{"index":7,"time":8000000,"process":1,"type":"ok","f":"poll","value":[["poll",{"x/0":[[1,2]]}]]}`,
	} {
		op, err := history.ParseLine([]byte(line))
		require.NoError(t, err)
		ops = append(ops, op)
	}

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

// An info txn one of whose two sends was read: with transactional producers the other must have
// committed too, and complete final reads without it make it lost; without transactions the
// sends are independent records, and the other may never have been written.
func TestInfoTxnAtomicOnlyWithTransactions(t *testing.T) {
	txnInv := history.Op{Process: 0, Type: history.Invoke, F: history.FTxn,
		Mops: []history.Mop{history.Send("x/0", history.IntValue(1)), history.Send("x/0", history.IntValue(2))}}
	txnInfo := txnInv.Complete(history.Info, "timeout")
	poll := history.PollOK(1, []history.KeyReads{{Key: "x/0", Records: []history.Record{{Offset: 0, Value: history.IntValue(1)}}}})
	final := history.ObserveFinalRead(history.FinalRead{Key: "x/0", Complete: true, Marker: 1, Position: 2, Target: 1, Processes: []int64{1}})
	ops := []history.Op{txnInv, txnInfo, history.PollInvoke(1), poll, final}
	for i := range ops {
		ops[i].Index, ops[i].Time = int64(i), int64(i+1)
	}
	res, err := Check(ops, Options{Producer: "transactional", Isolation: "read_committed"})
	require.NoError(t, err)
	require.Contains(t, res.AnomalyTypes, LostWrite)
	for _, p := range []string{"idempotent", "plain"} {
		res, err = Check(ops, Options{Producer: p, Isolation: "read_uncommitted"})
		require.NoError(t, err)
		require.NotContains(t, res.AnomalyTypes, LostWrite, p)
	}
}
