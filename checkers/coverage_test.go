package checkers_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

func (b *builder) poll(t0, t1 int64, p history.Process, key string, records ...[2]int64) *builder {
	b.at(t0, history.PollInvoke(p))
	var recs []history.Record
	for _, r := range records {
		recs = append(recs, history.Record{Offset: r[0], Value: history.IntValue(r[1])})
	}
	done := history.PollInvoke(p)
	done.Mops = []history.Mop{history.PollResult([]history.KeyReads{{Key: key, Records: recs}})}
	return b.at(t1, done.Complete(history.OK, ""))
}

func (b *builder) assign(t0, t1 int64, p history.Process, keys ...string) *builder {
	b.at(t0, history.AssignInvoke(p, keys))
	inv := history.AssignInvoke(p, keys)
	return b.at(t1, inv.Complete(history.OK, ""))
}

func (b *builder) nemesisLine(t int64, f string, value any) *builder {
	op, err := history.Nemesis(f, value)
	if err != nil {
		panic(err)
	}
	return b.at(t, op)
}

// TestNothingVacuous: a history that tested nothing is never valid, and says why.
func TestNothingVacuous(t *testing.T) {
	const k = "kchaos/0"
	kill := map[string]any{"nodes": []string{"n1"}}
	tests := []struct {
		name   string
		build  func(b *builder)
		valid  checkers.Validity
		reason string
	}{
		{"empty history", func(b *builder) {}, checkers.Unknown, "no send was acknowledged"},
		{"every send failed", func(b *builder) {
			b.at(1, history.SendInvoke(0, k, history.IntValue(1)))
			inv := history.SendInvoke(0, k, history.IntValue(1))
			b.at(2, inv.Complete(history.Fail, "NOT_ENOUGH_REPLICAS"))
		}, checkers.Unknown, "no send was acknowledged"},
		{"sends acknowledged, nothing read", func(b *builder) {
			b.send(1, 2, 0, k, 0, 1).assign(3, 4, 1, k).poll(5, 6, 1, k)
		}, checkers.Unknown, "no poll or final read returned a record"},
		{"a fault no operation ran through", func(b *builder) {
			b.send(1, 2, 0, k, 0, 1).assign(3, 4, 1, k).poll(5, 6, 1, k, [2]int64{0, 1}).
				nemesisLine(10, "start-kill", kill).nemesisLine(20, "stop-kill", kill)
		}, checkers.Unknown, "no client operation ran while the kill fault"},
		{"written, read, and a fault exercised", func(b *builder) {
			b.send(1, 2, 0, k, 0, 1).nemesisLine(10, "start-kill", kill).send(11, 12, 0, k, 1, 2).
				nemesisLine(20, "stop-kill", kill).assign(21, 22, 1, k).poll(23, 24, 1, k, [2]int64{0, 1}, [2]int64{1, 2})
		}, checkers.Valid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b builder
			tt.build(&b)
			res, err := checkers.Check(b.ops, checkers.Options{})
			require.NoError(t, err)
			require.Equal(t, tt.valid, res.Coverage.Valid)
			if tt.valid == checkers.Valid {
				require.Equal(t, checkers.Valid, res.Valid)
			} else {
				require.NotEqual(t, checkers.Valid, res.Valid, "a run that tested nothing is never valid")
			}
			if tt.reason == "" {
				require.Empty(t, res.Coverage.Reasons)
				return
			}
			require.NotEmpty(t, res.Coverage.Reasons)
			found := false
			for _, r := range res.Coverage.Reasons {
				found = found || strings.Contains(r, tt.reason)
			}
			require.True(t, found, "reasons %q lack %q", res.Coverage.Reasons, tt.reason)
		})
	}
}

// TestCoverageCounts: acknowledged sends, reads and elections are counted before, during and
// after each kind of fault.
func TestCoverageCounts(t *testing.T) {
	const k = "kchaos/0"
	kill := map[string]any{"nodes": []string{"n1"}}
	var b builder
	b.state(1, k, 1, 0, []int{1, 2}, 0).
		send(2, 3, 0, k, 0, 1).
		nemesisLine(10, "start-kill", kill).
		send(11, 12, 0, k, 1, 2).
		state(13, k, 2, 1, []int{2}, 1).
		nemesisLine(20, "stop-kill", kill).
		assign(21, 22, 1, k).poll(23, 24, 1, k, [2]int64{0, 1}, [2]int64{1, 2})
	res, err := checkers.Check(b.ops, checkers.Options{})
	require.NoError(t, err)
	c := res.Coverage
	require.Equal(t, 2, c.AckedSends)
	require.Equal(t, 2, c.Reads)
	require.Equal(t, 1, c.Elections)
	require.Len(t, c.Faults, 1)
	require.Equal(t, checkers.FaultCoverage{Kind: "kill", Start: 3, StartTime: 10, StopTime: 20,
		Activity: checkers.Activity{Operations: 1, AckedSends: 1, Elections: 1}}, c.Faults[0])
	require.Equal(t, checkers.PhaseCoverage{
		Before: checkers.Activity{Operations: 1, AckedSends: 1},
		During: checkers.Activity{Operations: 1, AckedSends: 1, Elections: 1},
		After:  checkers.Activity{Operations: 2, Reads: 2},
	}, c.ByKind["kill"])
}
