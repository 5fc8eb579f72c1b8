package verdict_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/txn"
	"github.com/kchaos/kchaos/checkers/verdict"
	"github.com/kchaos/kchaos/history"
)

// The checkers' and the txn checker's verdicts and operation references are the one type here:
// a value of one is a value of the others, with no conversion.
var (
	_ verdict.Validity  = checkers.Valid
	_ verdict.Validity  = txn.Unknown
	_ checkers.Validity = txn.Invalid
	_ checkers.OpRef    = txn.OpRef{}
	_ txn.OpRef         = verdict.OpRef{}
)

// Validity is written as true, false or "unknown", and read back.
func TestValidityJSON(t *testing.T) {
	for v, want := range map[verdict.Validity]string{verdict.Valid: "true", verdict.Invalid: "false", verdict.Unknown: `"unknown"`} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, want, string(b))
		var back verdict.Validity
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, v, back)
	}
	_, err := json.Marshal(verdict.Validity(7))
	require.Error(t, err)
	var v verdict.Validity
	require.Error(t, json.Unmarshal([]byte(`"maybe"`), &v))
}

// Ref takes the line numbers, process, f and outcome from the completion, the invocation's line
// and time from the invocation; an operation that never completed is its invocation twice.
func TestRef(t *testing.T) {
	inv := history.SendInvoke(3, "k/0", history.IntValue(1))
	inv.Index, inv.Time = 10, 1000
	done := history.SendOK(3, "k/0", 5, history.IntValue(1))
	done.Index, done.Time = 12, 3000
	b, err := json.Marshal(verdict.Ref(&inv, &done))
	require.NoError(t, err)
	require.JSONEq(t, `{"index":12,"invoke_index":10,"process":3,"f":"send","type":"ok","invoke_time":1000,"time":3000}`, string(b))
	open := verdict.Ref(&inv, &inv)
	require.Equal(t, verdict.OpRef{Index: 10, InvokeIndex: 10, Process: 3, F: "send", Type: history.Invoke, InvokeTime: 1000, Time: 1000}, open)
}
