package checkers_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/dynamics"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/history/historytest"
)

// TestReadResultRoundTrip checks that ReadResult reads back what Check wrote: the same bytes
// when written again, and the same typed cases, for every stored history and a generated one.
func TestReadResultRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	histories := map[string][]history.Op{
		"generated": historytest.Generate(historytest.Config{Ops: 600, Keys: 3, LeaderChanges: 4, InfoRate: 0.1, FailRate: 0.1, Seed: 7}),
	}
	for _, f := range files {
		ops, err := history.ReadFile(f)
		require.NoError(t, err)
		histories[strings.TrimSuffix(filepath.Base(f), ".jsonl")] = ops
	}
	// The transactional checker's histories, judged as from transactional producers.
	txnFiles, err := filepath.Glob(filepath.Join("txn", "testdata", "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, txnFiles)
	for _, f := range txnFiles {
		ops, err := history.ReadFile(f)
		require.NoError(t, err)
		histories["txn/"+strings.TrimSuffix(filepath.Base(f), ".jsonl")] = ops
	}
	for name, ops := range histories {
		t.Run(name, func(t *testing.T) {
			opts := checkers.Options{Workers: 1, ExpectFinalReads: true, Cluster: dynamics.Settings{SessionTimeout: 18 * time.Second}}
			if strings.HasPrefix(name, "txn/") {
				opts.Producer, opts.Isolation = "transactional", "read_committed"
			}
			want, err := checkers.Check(ops, opts)
			require.NoError(t, err)
			data, err := want.JSON()
			require.NoError(t, err)

			got, err := checkers.ReadResult(data)
			require.NoError(t, err)
			again, err := got.JSON()
			require.NoError(t, err)
			require.Equal(t, string(data), string(again), "written back byte for byte")

			require.Equal(t, want.Valid, got.Valid)
			require.Equal(t, want.AnomalyTypes, got.AnomalyTypes)
			for typ, entries := range want.Anomalies {
				require.Equal(t, entries, got.Anomalies[typ], typ)
			}
			require.Equal(t, want.Stats, got.Stats)
			require.Equal(t, want.Coverage, got.Coverage)
			require.Equal(t, want.LeaderElection, got.LeaderElection)
			require.Equal(t, want.Txn == nil, got.Txn == nil, "the txn checker's result, typed")
			if want.Txn != nil {
				require.Equal(t, want.Txn.Stats, got.Txn.Stats)
				require.Equal(t, want.Txn.Anomalies, got.Txn.Anomalies)
				require.Equal(t, want.Txn.Cycles, got.Txn.Cycles)
			}
			for _, k := range want.Linearizable.Keys {
				k.ElapsedMS = 0 // wall-clock time is not written
			}
			require.Equal(t, want.Linearizable.Keys, got.Linearizable.Keys)
			require.Equal(t, want.Linearizable.Cases, got.Linearizable.Cases)
			// The queue's cases come back in their lists; an empty list may come back nil.
			wq, gq := *want.Queue, *got.Queue
			for _, q := range []*checkers.QueueResult{&wq, &gq} {
				for _, l := range [][]checkers.OrderCase{q.PollSkips, q.NonmonotonicPolls, q.NonmonotonicSends, q.IntPollSkips,
					q.IntNonmonotonicPoll, q.IntSendSkips, q.IntNonmonotonicSend} {
					require.True(t, l == nil || len(l) > 0)
				}
			}
			require.Equal(t, wq, gq)
		})
	}
}

func TestReadResultErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string
	}{
		{name: "syntax", json: "{\"valid\": true,\n\"checkers\": }\n", want: "line 2: results: invalid character '}'"},
		{name: "no verdict", json: `{"anomaly_types": []}`, want: `"valid" is missing`},
		{name: "bad verdict", json: "{\n\"valid\": \"maybe\"}", want: `line 2: "valid": validity "maybe"`},
		{name: "not an object", json: `[1]`, want: "want an object"},
		{name: "trailing data", json: `{"valid": true} {}`, want: "line 1: results: invalid character '{' after top-level value"},
		{name: "wrong type in a checker", json: "{\"valid\": true,\n \"checkers\": {\n\"queue\": {\"valid\": true,\n\"counts\": [1]}}}",
			want: "line 4: checker queue: json: cannot unmarshal array"},
		{name: "unknown checker without a verdict", json: "{\"valid\": true, \"checkers\": {\"custom\": {}}}", want: `checker custom: "valid" is missing`},
		{name: "entry of the wrong shape", json: "{\"valid\": false,\n\"anomalies\": {\"lost-write\": [\"lost 3\"]}}",
			want: "line 2: an anomaly of lost-write"},
		// Found by FuzzReadResult in CI: an entry without its operations read fine, and writing
		// the results back failed on the zero line type of its missing writer.
		{name: "entry without its operations", json: `{"valid": false, "anomalies": {"G1a": [{"key": "k", "value": 5, "offset": 0}]}}`,
			want: "an anomaly of G1a cannot be written back as read"},
		{name: "nested too deep", json: `{"valid": true, "checkers": {"x": ` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}}`,
			want: "exceeded max depth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkers.ReadResult([]byte(tt.json))
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestReadResultOthers checks that anomaly types and checkers this kchaos does not know are
// kept as written, with what every entry and checker says.
func TestReadResultOthers(t *testing.T) {
	const text = `{
  "valid": false,
  "anomaly_types": [
    "weird"
  ],
  "anomalies": {
    "weird": [
      {
        "explanation": "it was weird",
        "key": "k/1",
        "more": [
          1,
          2
        ]
      }
    ]
  },
  "checkers": {
    "custom": {
      "checked": false,
      "valid": false
    }
  }
}
`
	res, err := checkers.ReadResult([]byte(text))
	require.NoError(t, err)
	require.Equal(t, checkers.Invalid, res.Valid)
	e := checkers.DescribeAnomaly(res.Anomalies["weird"][0])
	require.Equal(t, "k/1", e.Key)
	require.Equal(t, "it was weird", e.Explanation)
	c, ok := res.Checkers["custom"].(*checkers.OtherChecker)
	require.True(t, ok)
	require.Equal(t, checkers.Invalid, c.Valid)
	require.False(t, c.Checked)
	require.Nil(t, res.Queue)
	data, err := res.JSON()
	require.NoError(t, err)
	require.Equal(t, text, string(data))
}

// FuzzReadResult reads arbitrary bytes as results.json: an error or a Result that writes back
// to JSON that reads again the same, never a panic.
func FuzzReadResult(f *testing.F) {
	for _, name := range []string{"lost-after-read", "unclean-story", "poll-skip", "G1a"} {
		ops, err := history.ReadFile(filepath.Join("testdata", name+".jsonl"))
		require.NoError(f, err)
		r, err := checkers.Check(ops, checkers.Options{Workers: 1})
		require.NoError(f, err)
		data, err := r.JSON()
		require.NoError(f, err)
		f.Add(data)
	}
	for _, name := range []string{"G1c", "torn-transaction"} {
		ops, err := history.ReadFile(filepath.Join("txn", "testdata", name+".jsonl"))
		require.NoError(f, err)
		r, err := checkers.Check(ops, checkers.Options{Workers: 1, Producer: "transactional"})
		require.NoError(f, err)
		data, err := r.JSON()
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(`{"valid":"unknown","anomalies":{"weird":[{"key":"k"}]},"checkers":{"x":{"valid":true}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := checkers.ReadResult(data)
		if err != nil {
			return
		}
		for _, entries := range r.Anomalies {
			for _, e := range entries {
				checkers.DescribeAnomaly(e)
			}
		}
		out, err := r.JSON()
		require.NoError(t, err)
		again, err := checkers.ReadResult(out)
		require.NoError(t, err)
		out2, err := again.JSON()
		require.NoError(t, err)
		require.Equal(t, string(out), string(out2))
	})
}

// TestReadTxnChecker: the transactional checker's result reads back typed, and its entries say
// what they name; what Check writes when that checker failed stays an OtherChecker.
func TestReadTxnChecker(t *testing.T) {
	tests := []struct {
		file string
		typ  string
		ops  int // operations its first entry names
		key  string
	}{
		{file: "G1c", typ: "G1c", ops: 2},
		{file: "G0", typ: "G0", ops: 2},
		{file: "G2", typ: "G2", ops: 2},
		{file: "aborted-read", typ: "aborted-read", ops: 2, key: "x/0"},
		{file: "G1b", typ: "G1b", ops: 2, key: "x/0"},
		{file: "torn-transaction", typ: "torn-transaction", ops: 3, key: "y/0"},
		{file: "precommitted-read", typ: "precommitted-read", ops: 1, key: "x/0"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ops, err := history.ReadFile(filepath.Join("txn", "testdata", tt.file+".jsonl"))
			require.NoError(t, err)
			res, err := checkers.Check(ops, checkers.Options{Workers: 1, Producer: "transactional"})
			require.NoError(t, err)
			data, err := res.JSON()
			require.NoError(t, err)
			got, err := checkers.ReadResult(data)
			require.NoError(t, err)
			require.NotNil(t, got.Txn)
			require.Same(t, got.Txn, got.Checkers[checkers.CheckerTxn])
			for _, r := range []*checkers.Result{res, got} {
				require.NotEmpty(t, r.Anomalies[tt.typ], "%s in %s", tt.typ, data)
				e := checkers.DescribeAnomaly(r.Anomalies[tt.typ][0])
				require.NotEmpty(t, e.Explanation)
				require.Len(t, e.Ops, tt.ops)
				require.Equal(t, tt.key, e.Key)
			}
		})
	}

	res, err := checkers.ReadResult([]byte(`{"valid":"unknown","checkers":{"txn":{"error":"check: boom","valid":"unknown"}}}`))
	require.NoError(t, err)
	require.Nil(t, res.Txn)
	c, ok := res.Checkers[checkers.CheckerTxn].(*checkers.OtherChecker)
	require.True(t, ok)
	require.Equal(t, checkers.Unknown, c.Valid)
}
