package txn_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers/txn"
	"github.com/kchaos/kchaos/history"
)

func read(t testing.TB, name string) []history.Op {
	t.Helper()
	ops, err := history.ReadFile(filepath.Join("testdata", name+".jsonl"))
	require.NoError(t, err)
	return ops
}

func check(t testing.TB, ops []history.Op, opts txn.Options) *txn.Result {
	t.Helper()
	r, err := txn.Check(context.Background(), ops, opts)
	require.NoError(t, err)
	return r
}

// The options of the verdict table's columns.
var (
	plain      = txn.Options{Producer: txn.Plain, Isolation: txn.ReadCommitted}
	idempotent = txn.Options{Producer: txn.Idempotent, Isolation: txn.ReadCommitted}
	txnRU      = txn.Options{Producer: txn.Transactional, Isolation: txn.ReadUncommitted}
	txnRC      = txn.Options{} // the defaults: transactional, read_committed
)

// V, I, U: the verdicts, short, for the table.
const (
	V = txn.Valid
	I = txn.Invalid
	U = txn.Unknown
)

// TestHistories checks each stored history: the anomaly types it must produce, and its verdict
// under each column of the README's table: plain, idempotent, transactional read_uncommitted,
// transactional read_committed. Each anomaly has a history that produces it and a close variant
// (-ok) that does not.
func TestHistories(t *testing.T) {
	tests := []struct {
		file  string
		types []string
		valid [4]txn.Validity
	}{
		{"aborted-read", []string{"aborted-read"}, [4]txn.Validity{I, I, V, I}},
		{"aborted-read-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"precommitted-read", []string{"precommitted-read"}, [4]txn.Validity{V, V, V, I}},
		{"precommitted-read-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"duplicate", []string{"duplicate"}, [4]txn.Validity{V, I, I, I}},
		{"duplicate-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"torn-transaction", []string{"torn-transaction"}, [4]txn.Validity{V, V, I, I}},
		{"torn-transaction-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"torn-transaction-final", []string{"torn-transaction"}, [4]txn.Validity{V, V, I, I}},
		{"torn-transaction-final-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G0", []string{"G0"}, [4]txn.Validity{V, V, V, V}},
		{"G0-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G0-aborted-between", []string{"G0", "aborted-read"}, [4]txn.Validity{I, I, V, I}},
		{"G0-process", []string{"G0-process"}, [4]txn.Validity{V, V, V, V}},
		{"G0-process-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G0-realtime", []string{"G0-realtime"}, [4]txn.Validity{V, V, V, V}},
		{"G0-realtime-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G1c", []string{"G1c"}, [4]txn.Validity{V, V, V, I}},
		{"G1c-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G1c-ww", []string{"G1c"}, [4]txn.Validity{V, V, V, V}},
		{"G1c-process", []string{"G1c-process"}, [4]txn.Validity{V, V, V, I}},
		{"G1c-process-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G1c-realtime", []string{"G1c-realtime"}, [4]txn.Validity{V, V, V, I}},
		{"G1c-realtime-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G-single", []string{"G-single"}, [4]txn.Validity{V, V, V, V}},
		{"G-single-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G-single-process", []string{"G-single-process"}, [4]txn.Validity{V, V, V, V}},
		{"G-single-process-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G-single-realtime", []string{"G-single-realtime"}, [4]txn.Validity{V, V, V, V}},
		{"G-single-realtime-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G2", []string{"G2"}, [4]txn.Validity{V, V, V, V}},
		{"G2-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G2-process", []string{"G2-process"}, [4]txn.Validity{V, V, V, V}},
		{"G2-process-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G2-realtime", []string{"G2-realtime"}, [4]txn.Validity{V, V, V, V}},
		{"G2-realtime-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"G1b", []string{"G-single", "G1b"}, [4]txn.Validity{V, V, V, V}},
		{"G1b-ok", nil, [4]txn.Validity{V, V, V, V}},
		{"nothing-tested", nil, [4]txn.Validity{U, U, U, U}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ops := read(t, tt.file)
			for i, opts := range []txn.Options{plain, idempotent, txnRU, txnRC} {
				r := check(t, ops, opts)
				want := tt.types
				if want == nil {
					want = []string{}
				}
				require.Equal(t, want, r.AnomalyTypes, "options %+v", opts)
				require.Equal(t, tt.valid[i], r.Valid, "options %+v: %s", opts, mustJSON(t, r))
				if r.Valid == txn.Invalid {
					require.NotEmpty(t, r.BadAnomalyTypes)
				}
			}
		})
	}
}

func mustJSON(t testing.TB, r *txn.Result) string {
	t.Helper()
	b, err := r.JSON()
	require.NoError(t, err)
	return string(b)
}

// TestCycleExplanation checks that a cycle's explanation names every transaction and every step,
// with the keys, values and offsets involved, in Elle's shape.
func TestCycleExplanation(t *testing.T) {
	tests := []struct {
		file  string
		typ   string
		steps []string // each step's explanation must hold these
	}{
		{"G1c", "G1c", []string{
			"T1 (index 2, process 0) sent x/0=1 at offset 0, and T2 (index 3, process 1) read it (wr)",
			"T2 (index 3, process 1) sent y/0=2 at offset 0, and T1 (index 2, process 0) read it (wr)",
		}},
		{"G0", "G0", []string{
			"T1 (index 2, process 0) sent x/0=1 at offset 0, and T2 (index 3, process 1) sent x/0=2 at the next offset, 1 (ww)",
			"T2 (index 3, process 1) sent y/0=2 at offset 0, and T1 (index 2, process 0) sent y/0=1 at the next offset, 1 (ww)",
		}},
		{"G0-aborted-between", "G0", []string{
			"T1 (index 4, process 0) sent x/0=1 at offset 0, and T2 (index 5, process 1) sent x/0=3 at offset 2, the next one a committed transaction sent to x/0 (ww)",
			"T2 (index 5, process 1) sent y/0=5 at offset 0, and T1 (index 4, process 0) sent y/0=4 at the next offset, 1 (ww)",
		}},
		{"G1c-realtime", "G1c-realtime", []string{
			"T1 (index 1, process 0) completed at index 1, 0.001 s before T2 (index 3, process 1) was invoked at index 2 (realtime)",
			"T2 (index 3, process 1) sent y/0=2 at offset 0, and T1 (index 1, process 0) read it (wr)",
		}},
		{"G1c-process", "G1c-process", []string{
			"process 0 completed T1 (index 2) before invoking T2 (index 3) (process)",
			"T2 (index 4, process 0) sent x/0=1 at offset 0, and T3 (index 5, process 1) read it (wr)",
			"T3 (index 5, process 1) sent y/0=2 at offset 0, and T1 (index 2, process 0) read it (wr)",
		}},
		{"G2", "G2", []string{
			"T1 (index 4, process 1) last read x/0=1 at offset 0, and T2 (index 5, process 2) sent x/0=3 at the next offset, 1, which T1 did not read (rw)",
			"T2 (index 5, process 2) last read y/0=4 at offset 0, and T1 (index 4, process 1) sent y/0=2 at the next offset, 1, which T2 did not read (rw)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := check(t, read(t, tt.file), txnRC)
			require.Len(t, r.Cycles, 1)
			c := r.Cycles[0]
			require.Equal(t, tt.typ, c.Type)
			require.Len(t, c.Txns, len(tt.steps))
			require.Len(t, c.Steps, len(tt.steps))
			for i, want := range tt.steps {
				require.Equal(t, i, c.Steps[i].From)
				require.Equal(t, (i+1)%len(tt.steps), c.Steps[i].To)
				require.Equal(t, want, c.Steps[i].Explanation)
				require.Contains(t, c.Explanation, want)
			}
			for i := range c.Txns {
				require.Contains(t, c.Explanation, "  T"+string(rune('1'+i))+" = the ok ")
			}
			require.True(t, strings.HasPrefix(c.Explanation, "Let:\n"), c.Explanation)
			require.True(t, strings.HasSuffix(c.Explanation, ": a contradiction!"), c.Explanation)
		})
	}
}

// TestDeterministic checks that a history gives the same bytes every time.
func TestDeterministic(t *testing.T) {
	for _, file := range []string{"G1c-process", "G2", "torn-transaction", "G1b"} {
		ops := read(t, file)
		first := mustJSON(t, check(t, ops, txnRC))
		for i := 0; i < 5; i++ {
			require.Equal(t, first, mustJSON(t, check(t, ops, txnRC)), file)
		}
	}
}

// TestResultShape checks the top of the JSON against the checkers' results shape.
func TestResultShape(t *testing.T) {
	r := check(t, read(t, "G1c"), txnRC)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(mustJSON(t, r)), &m))
	require.JSONEq(t, `false`, string(m["valid"]))
	require.JSONEq(t, `["G1c"]`, string(m["anomaly_types"]))
	require.JSONEq(t, `["G1c"]`, string(m["bad_anomaly_types"]))
	require.JSONEq(t, `{"G1c":1}`, string(m["counts"]))
	var anomalies map[string][]map[string]any
	require.NoError(t, json.Unmarshal(m["anomalies"], &anomalies))
	require.Len(t, anomalies["G1c"], 1)
	require.Equal(t, float64(0), anomalies["G1c"][0]["ww_edges"])

	r = check(t, read(t, "G1c-ok"), txnRC)
	require.NoError(t, json.Unmarshal([]byte(mustJSON(t, r)), &m))
	require.JSONEq(t, `true`, string(m["valid"]))
	require.JSONEq(t, `[]`, string(m["anomaly_types"]))
	require.JSONEq(t, `{}`, string(m["anomalies"]))
}

// TestTimeout checks that a search cut short is unknown, never valid, unless a forbidden
// anomaly was found first.
func TestTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	r, err := txn.Check(ctx, read(t, "G1c-ok"), txnRC)
	require.NoError(t, err)
	require.Equal(t, txn.Unknown, r.Valid)
	require.Contains(t, r.Reason, "deadline exceeded")

	r, err = txn.Check(ctx, read(t, "aborted-read"), txnRC)
	require.NoError(t, err)
	require.Equal(t, txn.Invalid, r.Valid)
	require.Contains(t, r.Reason, "deadline exceeded")
}

// TestMaxEntries checks that Anomalies lists at most MaxEntries entries of a type while Counts
// counts them all.
func TestMaxEntries(t *testing.T) {
	var ops []history.Op
	add := func(op history.Op) {
		op.Index, op.Time = int64(len(ops)), int64(len(ops))*1000
		ops = append(ops, op)
	}
	for i := int64(0); i < 5; i++ {
		add(history.Op{Process: 0, Type: history.Invoke, F: history.FSend, Mops: []history.Mop{history.Send("x/0", history.IntValue(i))}})
		add(history.Op{Process: 0, Type: history.Fail, F: history.FSend, Mops: []history.Mop{history.Send("x/0", history.IntValue(i))}, Error: "aborted"})
	}
	var recs []history.Record
	for i := int64(0); i < 5; i++ {
		recs = append(recs, history.Record{Offset: i, Value: history.IntValue(i)})
	}
	add(history.PollInvoke(1))
	add(history.PollOK(1, []history.KeyReads{{Key: "x/0", Records: recs}}))
	r := check(t, ops, txn.Options{MaxEntries: 2})
	require.Equal(t, 5, r.Counts[txn.AbortedRead])
	require.Len(t, r.Anomalies[txn.AbortedRead], 2)
	r = check(t, ops, txn.Options{MaxEntries: -1})
	require.Len(t, r.Anomalies[txn.AbortedRead], 5)
}

// TestOptions checks the option names.
func TestOptions(t *testing.T) {
	_, err := txn.Check(context.Background(), nil, txn.Options{Isolation: "serializable"})
	require.ErrorContains(t, err, `isolation "serializable"`)
	_, err = txn.Check(context.Background(), nil, txn.Options{Producer: "exactly-once"})
	require.ErrorContains(t, err, `producer "exactly-once"`)
	r := check(t, nil, txn.Options{})
	require.Equal(t, txn.ReadCommitted, r.Isolation)
	require.Equal(t, txn.Transactional, r.Producer)
}

// TestBadHistory checks that a history breaking the invoke/complete discipline is an error naming
// the line.
func TestBadHistory(t *testing.T) {
	ops := read(t, "G1c")
	ops[2].Process = 7 // a completion of nothing
	_, err := txn.Check(context.Background(), ops, txnRC)
	var le *history.LineError
	require.ErrorAs(t, err, &le)
	require.Equal(t, 3, le.Line)
}

// TestTxnLines checks that the history package reads the txn line shape of README.md into the
// micro-operations the checker uses.
func TestTxnLines(t *testing.T) {
	op, err := history.ParseLine([]byte(`{"index":1,"time":5,"process":2,"type":"ok","f":"txn","value":[["send","x/0",[3,7]],["poll",{"y/1":[[0,5],[1,6]]}],["send","x/0",8]]}`))
	require.NoError(t, err)
	require.Equal(t, history.FTxn, op.F)
	require.Equal(t, []history.Mop{
		history.SendAt("x/0", 3, history.IntValue(7)),
		history.PollResult([]history.KeyReads{{Key: "y/1", Records: []history.Record{{Offset: 0, Value: history.IntValue(5)}, {Offset: 1, Value: history.IntValue(6)}}}}),
		history.Send("x/0", history.IntValue(8)),
	}, op.Mops)
}

// TestStringValues checks histories whose values are strings, not the integers the harness
// writes: the same anomalies come out.
func TestStringValues(t *testing.T) {
	str := func(v history.Value) history.Value { return history.StringValue("v" + v.String()) }
	for _, file := range []string{"G1c", "G2", "duplicate", "aborted-read", "torn-transaction", "G1b"} {
		ops := read(t, file)
		want := check(t, ops, txnRC)
		for i := range ops {
			mops := make([]history.Mop, len(ops[i].Mops))
			for j, mop := range ops[i].Mops {
				mop.Value = str(mop.Value)
				var reads []history.KeyReads
				for _, kr := range mop.Reads {
					var recs []history.Record
					for _, rec := range kr.Records {
						recs = append(recs, history.Record{Offset: rec.Offset, Value: str(rec.Value)})
					}
					reads = append(reads, history.KeyReads{Key: kr.Key, Records: recs})
				}
				mop.Reads = reads
				mops[j] = mop
			}
			ops[i].Mops = mops
		}
		got := check(t, ops, txnRC)
		require.Equal(t, want.AnomalyTypes, got.AnomalyTypes, file)
		require.Equal(t, want.Valid, got.Valid, file)
		require.Equal(t, want.Counts, got.Counts, file)
	}
}
