package historytest_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/history/historytest"
)

func TestGenerate(t *testing.T) {
	cfg := historytest.Config{Ops: 5000, Keys: 3, Producers: 5, Consumers: 2, InfoRate: 0.1, FailRate: 0.1, LeaderChanges: 4, Seed: 9}
	ops := historytest.Generate(cfg)
	partner, err := history.Pair(ops)
	require.NoError(t, err)

	counts := map[history.Type]int{}
	elections := 0
	for i, op := range ops {
		require.Equal(t, int64(i), op.Index)
		if i > 0 {
			require.GreaterOrEqual(t, op.Time, ops[i-1].Time)
		}
		if op.Process == history.ObserverProcess && op.F == history.FPartitionState {
			elections++
		}
		if op.Process.IsClient() {
			counts[op.Type]++
			if op.Type == history.Invoke {
				require.GreaterOrEqual(t, partner[i], 0, "every operation completes")
			}
		}
	}
	require.Equal(t, 3+4, elections) // initial states, then the leader changes
	require.InDelta(t, 5000, counts[history.Invoke], 100)
	require.Positive(t, counts[history.Info])
	require.Positive(t, counts[history.Fail])

	// The same seed writes the same history.
	var a, b bytes.Buffer
	require.NoError(t, historytest.Write(&a, cfg))
	require.NoError(t, historytest.Write(&b, cfg))
	require.Equal(t, a.String(), b.String())
	back, err := history.Read(&a)
	require.NoError(t, err)
	require.Equal(t, ops, back)
}
