package checkers

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/history/historytest"
)

// TestActivityIndexIsTheScan: the coverage checker's index counts, over any stretch of time,
// what a pass over every operation counts: on a generated history, on one with operations that
// never completed, and on both with their lines out of time order.
func TestActivityIndexIsTheScan(t *testing.T) {
	generated := historytest.Generate(historytest.Config{Ops: 2000, Keys: 4, InfoRate: 0.05, FailRate: 0.05, LeaderChanges: 10, Seed: 3})

	// The last completion of each process that has one dropped: those operations never complete.
	var open []history.Op
	last := map[history.Process]int{}
	for i, op := range generated {
		if op.Process.IsClient() {
			last[op.Process] = i
		}
	}
	for i, op := range generated {
		if op.Process.IsClient() && op.Type != history.Invoke && last[op.Process] == i {
			continue
		}
		open = append(open, op)
	}

	// Each process's lines shifted in time by an amount of its own: no longer in time order.
	shift := func(ops []history.Op) []history.Op {
		out := make([]history.Op, len(ops))
		for i, op := range ops {
			if op.Process.IsClient() {
				op.Time += int64(op.Process%5) * 3_000_000
			}
			out[i] = op
		}
		return out
	}

	for _, tc := range []struct {
		name      string
		ops       []history.Op
		clockBack bool // some open operation was invoked after the last line: activity scans
	}{
		{"generated", generated, false},
		{"open operations", open, false},
		{"out of time order", shift(generated), false},
		{"open operations out of time order", shift(open), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops := tc.ops
			a, err := Analyze(ops)
			require.NoError(t, err)
			elections := a.electionTimes()
			x := newActivityIndex(a, elections)
			require.Equal(t, tc.clockBack, x.clockBack)
			end := x.end
			rng := rand.New(rand.NewPCG(1, 2))
			times := []int64{-1, 0, 1, end - 1, end, end + 1}
			for _, op := range ops {
				times = append(times, op.Time-1, op.Time, op.Time+1)
			}
			times = append(times, elections...)
			for range 500 {
				from, to := times[rng.IntN(len(times))], times[rng.IntN(len(times))]
				want := x.scan(from, to)
				require.Equal(t, want, x.activity(from, to), "[%d, %d]", from, to)
				// Stretches that end before they start: nothing counts but what is in flight
				// across the gap.
				for _, gap := range []int64{1, 2} {
					require.Equal(t, x.scan(to+gap, to), x.activity(to+gap, to), "[%d, %d]", to+gap, to)
				}
			}
			acked, reads := 0, 0
			for i := range ops {
				if ops[i].Process.IsClient() && ops[i].Type != history.Invoke {
					a, r := opCounts(&ops[i])
					acked, reads = acked+a, reads+r
				}
			}
			require.Equal(t, acked, x.acked[len(x.acked)-1])
			require.Equal(t, reads, x.reads[len(x.reads)-1])
		})
	}
}
