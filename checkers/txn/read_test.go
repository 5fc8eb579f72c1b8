package txn_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers/txn"
)

// TestResultRoundTrip checks that a Result read back from its JSON writes the same bytes and
// holds the same typed entries and case lists, for every stored history.
func TestResultRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		t.Run(name, func(t *testing.T) {
			for _, opts := range []txn.Options{plain, txnRU, txnRC} {
				want := check(t, read(t, name), opts)
				data := mustJSON(t, want)
				var got txn.Result
				require.NoError(t, json.Unmarshal([]byte(data), &got))
				require.Equal(t, data, mustJSON(t, &got), "written back byte for byte")
				require.Equal(t, want.Anomalies, got.Anomalies)
				require.Equal(t, want.Stats, got.Stats)
				require.Equal(t, want.AbortedReads, got.AbortedReads)
				require.Equal(t, want.PrecommittedReads, got.PrecommittedReads)
				require.Equal(t, want.Duplicates, got.Duplicates)
				require.Equal(t, want.TornTransactions, got.TornTransactions)
				require.Equal(t, want.IntermediateReads, got.IntermediateReads)
				require.Equal(t, want.Cycles, got.Cycles)
			}
		})
	}
}

// TestResultReadLeniently: types this package does not know keep their JSON; a result without
// anomalies reads as one without.
func TestResultReadLeniently(t *testing.T) {
	tests := []struct {
		name, json string
		types      []string
	}{
		{name: "unknown type", json: `{"valid":false,"anomalies":{"weird":[{"x":1}],"G0":[{"type":"G0","txns":[],"steps":[],"ww_edges":0,"explanation":"e"}]}}`,
			types: []string{"G0", "weird"}},
		{name: "no anomalies", json: `{"valid":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r txn.Result
			require.NoError(t, json.Unmarshal([]byte(tt.json), &r))
			require.Len(t, r.Anomalies, len(tt.types))
			for _, typ := range tt.types {
				require.Len(t, r.Anomalies[typ], 1)
			}
			if len(tt.types) > 0 {
				require.Len(t, r.Cycles, 1)
				require.IsType(t, json.RawMessage{}, r.Anomalies["weird"][0])
			}
		})
	}
	var r txn.Result
	require.Error(t, json.Unmarshal([]byte(`{"valid":true,"anomalies":{"G0":[{"txns":7}]}}`), &r))
}
