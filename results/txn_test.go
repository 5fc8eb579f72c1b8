package results

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/txn"
	"github.com/kchaos/kchaos/history"
	"github.com/stretchr/testify/require"
)

// txnReport checks ops, writes the run directory's report from the Result and again from the
// files alone (kchaos report), requires both to be the same bytes, and returns the page and its
// view.
func txnReport(t *testing.T, ops []history.Op, opts checkers.Options) (string, *reportView) {
	t.Helper()
	for i := range ops {
		ops[i].Index = int64(i)
		if ops[i].Time == 0 {
			ops[i].Time = int64(i+1) * 1_000_000
		}
	}
	dir := filepath.Join(t.TempDir(), "txn", "20260301T100000")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, writeHistory(dir, ops))
	opts.Workers = 1
	res, err := checkers.Check(ops, opts)
	require.NoError(t, err)
	_, err = WriteRun(dir, res, ops)
	require.NoError(t, err)
	fresh, err := os.ReadFile(filepath.Join(dir, ReportFile))
	require.NoError(t, err)
	_, err = WriteRun(dir, nil, nil)
	require.NoError(t, err)
	again, err := os.ReadFile(filepath.Join(dir, ReportFile))
	require.NoError(t, err)
	require.True(t, string(fresh) == string(again), "the report from results.json is the report from the Result")
	r, err := loadRun(dir, nil, nil)
	require.NoError(t, err)
	return string(fresh), buildReport(r)
}

func txnInvoke(p history.Process, mops ...history.Mop) history.Op {
	return history.Op{Process: p, Type: history.Invoke, F: history.FTxn, Mops: mops}
}

func txnDone(p history.Process, typ history.Type, err string, mops ...history.Mop) history.Op {
	return history.Op{Process: p, Type: typ, F: history.FTxn, Mops: mops, Error: err}
}

func val(n int64) history.Value { return history.IntValue(n) }

// TestTransactionCounts: the Transactions section counts the transactions committed, aborted and
// of unknown outcome, as the transactional checker does.
func TestTransactionCounts(t *testing.T) {
	committed := []history.Op{
		txnInvoke(0, history.Send("x/0", val(1))),
		txnDone(0, history.OK, "", history.SendAt("x/0", 0, val(1))),
	}
	aborted := []history.Op{
		txnInvoke(1, history.Send("x/0", val(2))),
		txnDone(1, history.Fail, "aborted", history.Send("x/0", val(2))),
	}
	unknown := []history.Op{
		txnInvoke(2, history.Send("x/1", val(3))),
		txnDone(2, history.Info, "commit timed out", history.Send("x/1", val(3))),
	}
	concat := func(parts ...[]history.Op) []history.Op {
		var out []history.Op
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name string
		ops  []history.Op
		// transactions, committed, aborted, unknown
		want [4]string
	}{
		{name: "one of each", ops: concat(committed, aborted, unknown), want: [4]string{"3", "1", "1", "1"}},
		{name: "never completed", ops: concat(committed, []history.Op{txnInvoke(3, history.Send("x/1", val(4)))}),
			want: [4]string{"2", "1", "0", "1"}},
		{name: "info read by a poll committed", ops: concat(committed, aborted, unknown, []history.Op{
			history.PollInvoke(4),
			history.PollOK(4, []history.KeyReads{{Key: "x/1", Records: []history.Record{{Offset: 0, Value: val(3)}}}}),
		}), want: [4]string{"4", "3", "1", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, v := txnReport(t, tt.ops, checkers.Options{})
			require.NotNil(t, v.Txn)
			labels := []string{"transactions", "committed", "aborted", "unknown"}
			for i, l := range labels {
				require.Equal(t, l, v.Txn.Stats[i].Label)
				require.Equal(t, tt.want[i], v.Txn.Stats[i].Value, l)
				requireHas(t, page, `<div class="v">`+tt.want[i]+`</div><div class="l">`+l+`</div>`)
			}
			requireHas(t, page, `<section class="card" id="transactions">`)
			requireHas(t, page, `<a href="#transactions">Transactions</a>`)
			requireHas(t, page, `<div class="stats mini" id="transactions-counts">`)
		})
	}
}

// TestTransactionCycles: a cycle is drawn as the chain of its transactions, each with its
// process, what it sent and read, its outcome and time, joined by the edges that order them and
// back to the first.
func TestTransactionCycles(t *testing.T) {
	tests := []struct {
		file     string
		producer string
		group    string // the heading of the cycle's type
		chain    []string
	}{
		{file: "G0", producer: "transactional",
			group: `<h3 id="txn-G0">G0 <span class="pill ">1</span> <span class="note">allowed with these producers and consumers</span></h3>`,
			chain: []string{
				`<li class="tx"><b class="tn">T1</b><a class="opc ok" href="#op-2">#2 send ok</a><span class="note">process 0 · 0.001 s – 0.003 s</span><span class="mono">send x/0 1 @0; send y/0 1 @1</span></li>`,
				`↓ <span class="ek k-ww">ww</span> x/0: T1 sent 1 @0, then T2 sent 2 @1</li>`,
				`<li class="tx"><b class="tn">T2</b><a class="opc ok" href="#op-3">#3 send ok</a><span class="note">process 1 · 0.002 s – 0.004 s</span><span class="mono">send x/0 2 @1; send y/0 2 @0</span></li>`,
				`↓ <span class="ek k-ww">ww</span> y/0: T2 sent 2 @0, then T1 sent 1 @1</li>`,
				`<li class="tx back"><b class="tn">T1</b>`,
			}},
		{file: "G1c",
			group: `<h3 id="txn-G1c">G1c <span class="pill fail">1</span> <span class="note">forbidden with these producers and consumers: the run is invalid</span></h3>`,
			chain: []string{
				`<li class="tx"><b class="tn">T1</b><a class="opc ok" href="#op-2">#2 txn ok</a><span class="note">process 0 · 0.001 s – 0.003 s</span><span class="mono">send x/0 1 @0; poll y/0: 0→2</span></li>`,
				`<li class="edge" title="T1 (index 2, process 0) sent x/0=1 at offset 0, and T2 (index 3, process 1) read it (wr)">↓ <span class="ek k-wr">wr</span> x/0: T1 sent 1 @0, T2 read it</li>`,
				`<li class="tx"><b class="tn">T2</b><a class="opc ok" href="#op-3">#3 txn ok</a><span class="note">process 1 · 0.002 s – 0.004 s</span><span class="mono">send y/0 2 @0; poll x/0: 0→1</span></li>`,
				`↓ <span class="ek k-wr">wr</span> y/0: T2 sent 2 @0, T1 read it</li>`,
				`<li class="tx back"><b class="tn">T1</b>`,
			}},
		{file: "G2-realtime", producer: "transactional",
			group: `<h3 id="txn-G2-realtime">G2-realtime <span class="pill ">1</span>`,
			chain: []string{
				`↓ <span class="ek k-realtime">realtime</span> T1 completed before T2 was invoked (0.005 s, then 0.006 s)</li>`,
				`↓ <span class="ek k-rw">rw</span> y/0: T2 last read 4 @0, T3 sent the next, 2 @1, which T2 did not read</li>`,
				`↓ <span class="ek k-rw">rw</span> x/0: T3 last read 1 @0, T1 sent the next, 3 @1, which T3 did not read</li>`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ops, err := history.ReadFile(filepath.Join("..", "checkers", "txn", "testdata", tt.file+".jsonl"))
			require.NoError(t, err)
			page, v := txnReport(t, ops, checkers.Options{Producer: tt.producer})
			require.NotNil(t, v.Txn)
			requireHas(t, page, tt.group)
			// The chain, in order, in one entry.
			id := `<div class="txn-entry" id="txn-` + tt.file + `.0">`
			requireHas(t, page, id)
			entry := page[strings.Index(page, id):]
			entry = entry[:strings.Index(entry, "</ol>")]
			at := 0
			for _, s := range tt.chain {
				i := strings.Index(entry[at:], s)
				require.GreaterOrEqual(t, i, 0, "the chain lacks %q after byte %d:\n%s", s, at, entry)
				at += i + len(s)
			}
			require.Equal(t, strings.Count(entry, `<li class="tx">`), strings.Count(entry, `<li class="edge"`), "an edge after each transaction")
			// The Anomalies section links the cycle to its chain.
			requireHas(t, page, `<a href="#txn-`+tt.file+`.0">its chain of transactions</a>`)
		})
	}
}

// TestNoTransactionsSection: a run the transactional checker did not look at (the queue
// workload, plain producers) has no Transactions section.
func TestNoTransactionsSection(t *testing.T) {
	queue := []history.Op{
		history.SendInvoke(0, "x/0", val(1)),
		history.SendOK(0, "x/0", 0, val(1)),
		history.PollInvoke(1),
		history.PollOK(1, []history.KeyReads{{Key: "x/0", Records: []history.Record{{Offset: 0, Value: val(1)}}}}),
	}
	tests := []struct {
		name string
		page func(t *testing.T) (string, *reportView)
	}{
		{name: "queue history", page: func(t *testing.T) (string, *reportView) {
			return txnReport(t, queue, checkers.Options{})
		}},
		{name: "plain producers", page: func(t *testing.T) (string, *reportView) {
			return txnReport(t, queue, checkers.Options{Producer: "plain", Isolation: "read_uncommitted"})
		}},
		{name: "stored run", page: func(t *testing.T) (string, *reportView) {
			dir := copyRun(t, filepath.Join(testdataResults, "invalid/20260301T110000"))
			require.NoError(t, report(dir))
			data, err := os.ReadFile(filepath.Join(dir, ReportFile))
			require.NoError(t, err)
			r, err := loadRun(dir, nil, nil)
			require.NoError(t, err)
			return string(data), buildReport(r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, v := tt.page(t)
			require.Nil(t, v.Txn)
			require.NotContains(t, page, `id="transactions"`)
			require.NotContains(t, page, `href="#transactions"`)
			require.NotContains(t, page, `class="txn-entry"`)
		})
	}
}

// TestTransactionAnomaliesListed: every anomaly type of the transactional checker is listed with
// its count and each entry's explanation and operations; markup in them is text.
func TestTransactionAnomaliesListed(t *testing.T) {
	tests := []struct {
		file     string
		contains []string
	}{
		{file: "aborted-read", contains: []string{
			`<h3 id="txn-aborted-read">aborted-read <span class="pill fail">1</span>`,
			`<div class="expl">the fail txn of process 0 (index 1) sent x/0=1 and failed (aborted), yet the ok poll of process 1 (index 3) read it at offset 0</div>`,
			`<a class="opc fail" href="#op-1">#1 txn fail</a><a class="opc ok" href="#op-3">#3 poll ok</a>`,
		}},
		{file: "torn-transaction", contains: []string{
			`<h3 id="txn-torn-transaction">torn-transaction <span class="pill fail">1</span>`,
			`<span class="kv"><i>sends_missing</i> 1</span>`,
		}},
		{file: "G1b", contains: []string{
			`<h3 id="txn-G-single">G-single`, `<h3 id="txn-G1b">G1b <span class="pill ">1</span>`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ops, err := history.ReadFile(filepath.Join("..", "checkers", "txn", "testdata", tt.file+".jsonl"))
			require.NoError(t, err)
			page, v := txnReport(t, ops, checkers.Options{Producer: "transactional"})
			require.NotNil(t, v.Txn)
			for _, s := range tt.contains {
				requireHas(t, page, s)
			}
		})
	}

	// Markup in a value and an error is text.
	v := history.StringValue("<i>v&")
	ops := []history.Op{
		txnInvoke(0, history.Send("x/0", v)),
		txnDone(0, history.Fail, "<script>alert(1)</script>", history.Send("x/0", v)),
		history.PollInvoke(1),
		history.PollOK(1, []history.KeyReads{{Key: "x/0", Records: []history.Record{{Offset: 0, Value: v}}}}),
	}
	page, _ := txnReport(t, ops, checkers.Options{})
	requireHas(t, page, `sent x/0=&#34;&lt;i&gt;v&amp;&#34; and failed`)
	require.False(t, strings.Contains(page, "<i>v&"), "the value as markup")
	require.Equal(t, 1, strings.Count(strings.ToLower(page), "<script"), "only the report's own script")
}

// TestTransactionsOddResults: a txn result written by hand or by another kchaos (a long cycle,
// steps without their fields, operations outside the history, entries of unknown types) still
// renders, bounded.
func TestTransactionsOddResults(t *testing.T) {
	long := &txn.CycleCase{Type: "G2", Explanation: "a long one"}
	for i := range maxCycleShown + 5 {
		long.Txns = append(long.Txns, txn.OpRef{Index: int64(i), Type: history.OK, F: "txn"})
		long.Steps = append(long.Steps, txn.Step{Type: "rw", From: i, To: (i + 1) % (maxCycleShown + 5)})
	}
	tests := []struct {
		name      string
		entries   map[string][]any
		chain     int // transactions drawn in the first entry
		chainMore int
		contains  []string
	}{
		{name: "long cycle", entries: map[string][]any{"G2": {long}}, chain: maxCycleShown, chainMore: 5,
			contains: []string{"… 5 more transactions"}},
		{name: "steps without fields", entries: map[string][]any{"G0": {&txn.CycleCase{Type: "G0",
			Txns:  []txn.OpRef{{Index: 999}, {Index: -4, Type: history.Invoke}},
			Steps: []txn.Step{{Type: "ww", From: 0, To: 1}, {Type: "realtime", From: 7, To: -1}}}}},
			chain: 2, contains: []string{`↓ <span class="ek k-ww">ww</span> : T1 sent ?, then T2 sent ?`, "invoked at 0.000 s, never completed",
				`T2 completed before T1 was invoked</li>`}},
		{name: "unknown type", entries: map[string][]any{"weird": {json.RawMessage(`{"x":1}`)}},
			contains: []string{`<h3 id="txn-weird">weird <span class="pill ">1</span>`, "An entry this kchaos does not know"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := []history.Op{history.SendInvoke(0, "x/0", val(1)), history.SendOK(0, "x/0", 0, val(1))}
			r := testOps(t, ops, 1, 2)
			r.results.Txn = &txn.Result{Anomalies: tt.entries, Counts: map[string]int{}}
			v := buildReport(r)
			require.NotNil(t, v.Txn)
			require.Len(t, v.Txn.Groups, 1)
			e := v.Txn.Groups[0].Entries[0]
			require.Len(t, e.Chain, tt.chain)
			require.Equal(t, tt.chainMore, e.ChainMore)
			var buf bytes.Buffer
			require.NoError(t, reportTemplate.Execute(&buf, v))
			for _, s := range tt.contains {
				requireHas(t, buf.String(), s)
			}
		})
	}
}
