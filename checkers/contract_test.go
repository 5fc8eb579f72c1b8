package checkers_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

func readString(t *testing.T, text string) []history.Op {
	t.Helper()
	ops, err := history.Read(strings.NewReader(text))
	require.NoError(t, err)
	return ops
}

// Stats allocate in proportion to the history, never to its time values: a history written with
// Unix-epoch nanoseconds checks in a few kilobytes, and one spanning absurdly long gets no
// per-second series.
func TestStatsTimeValues(t *testing.T) {
	const epoch int64 = 1764440000123456789
	tests := []struct {
		name    string
		times   [4]int64
		start   int64
		seconds int
		omitted bool
	}{
		{"from zero", [4]int64{0, 1e9, 2.5e9, 3e9}, 0, 4, false},
		{"epoch times", [4]int64{epoch, epoch + 1e6, epoch + 2e9, epoch + 2.1e9}, epoch - epoch%1e9, 3, false},
		{"zero then epoch", [4]int64{0, 1e6, epoch, epoch + 1}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &builder{}
			b.send(tt.times[0], tt.times[1], 1, "kchaos/0", 0, 1)
			b.at(tt.times[2], history.PollInvoke(2))
			b.at(tt.times[3], history.PollOK(2, []history.KeyReads{{Key: "kchaos/0", Records: []history.Record{{Offset: 0, Value: history.IntValue(1)}}}}))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := checkers.Check(b.ops, checkers.Options{})
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "allocated in proportion to the times")
			require.Equal(t, checkers.Valid, r.Valid)
			s := r.Stats
			require.Equal(t, tt.start, s.Start)
			require.Equal(t, tt.seconds, s.Seconds)
			require.Equal(t, 1, s.Totals["send"]["ok"])
			if tt.omitted {
				require.Empty(t, s.PerSecond)
				require.Contains(t, s.PerSecondOmitted, "more than")
				return
			}
			require.Empty(t, s.PerSecondOmitted)
			require.Len(t, s.PerSecond["send"]["ok"], tt.seconds)
			require.Equal(t, 1, s.PerSecond["poll"]["ok"][tt.seconds-1])
		})
	}
}
