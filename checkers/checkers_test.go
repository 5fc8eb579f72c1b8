package checkers_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/history/historytest"
)

// builder numbers the ops of a history written in a test.
type builder struct{ ops []history.Op }

func (b *builder) at(t int64, op history.Op) *builder {
	op.Index, op.Time = int64(len(b.ops)), t
	b.ops = append(b.ops, op)
	return b
}

func (b *builder) send(t0, t1 int64, p history.Process, key string, offset, v int64) *builder {
	b.at(t0, history.SendInvoke(p, key, history.IntValue(v)))
	return b.at(t1, history.SendOK(p, key, offset, history.IntValue(v)))
}

func (b *builder) state(t int64, key string, leader, epoch int, isr []int, version int) *builder {
	return b.at(t, history.ObservePartitionState(history.PartitionState{Key: key, Leader: leader, LeaderEpoch: epoch, ISR: isr, ZkVersion: version}))
}

func (b *builder) gap(t int64, key string, from, to int) *builder {
	return b.at(t, history.ObserveGap(history.ObserverGap{Key: key, FromVersion: from, ToVersion: to}))
}

func analyze(t *testing.T, ops []history.Op) *checkers.Analysis {
	t.Helper()
	a, err := checkers.Analyze(ops)
	require.NoError(t, err)
	return a
}

func TestResultJSON(t *testing.T) {
	tests := []struct {
		file string
		want string // the top of results.json
	}{
		{"unseen-ok", `{"valid":true,"anomaly_types":[],"anomalies":{},"checkers":{`},
		{"unclean-leader-election-gap", `{"valid":"unknown","anomaly_types":[],"anomalies":{},"checkers":{`},
		{"unseen", `{"valid":false,"anomaly_types":["unseen"],"anomalies":{"unseen":[{"key":"kchaos/0","count":1,"values":[{"value":3,"offset":2,"writer":5}],`},
	}
	for _, tt := range tests {
		r := check(t, tt.file)
		b, err := json.Marshal(r)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(b), tt.want), "%s", b)
		var top map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(b, &top))
		require.Len(t, top, 4)
		var names map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(top["checkers"], &names))
		for _, name := range []string{"queue", "linearizable", "leader-election", "stats"} {
			var c struct {
				Valid checkers.Validity `json:"valid"`
			}
			require.NoError(t, json.Unmarshal(names[name], &c), name)
		}
		indented, err := r.JSON()
		require.NoError(t, err)
		require.True(t, bytes.HasSuffix(indented, []byte("}\n")))
	}
}

// A person reading one entry should see what happened: the ops, the leader at the
// acknowledgement and the election after it.
func TestExplanationsNameWhatHappened(t *testing.T) {
	r := check(t, "unclean-story")
	lost := r.Queue.LostWrites
	require.Len(t, lost, 2)
	lw := lost[0]
	require.Equal(t, history.IntValue(2), lw.Value)
	require.Equal(t, int64(1), lw.Offset)
	require.Equal(t, int64(6), lw.Writer.Index)
	require.Equal(t, int64(25), lw.MaxRead.Index)
	require.Equal(t, 1, lw.Leader.AtAck.Leader)
	require.Equal(t, []int{1}, lw.Leader.AtAck.ISR)
	require.Equal(t, "unclean", lw.Leader.NextElection.Kind)
	require.Equal(t, 2, lw.Leader.NextElection.State.Leader)
	for _, want := range []string{"value 2", "op 6", "offset 1", "op 25", "broker 1 led kchaos/0 in leader epoch 0 with ISR [1]",
		"broker 2 became leader in epoch 2", "an unclean election"} {
		require.Contains(t, lw.Explanation, want)
	}
	require.Len(t, r.Queue.InconsistentOffsets, 2)
	io := r.Queue.InconsistentOffsets[0]
	require.Equal(t, int64(1), io.Offset)
	require.Len(t, io.Values, 2)
	require.Equal(t, []int64{17, 25}, io.Values[1].SeenBy.Ops)
	require.Contains(t, io.Explanation, "Value 4: sent by op 17")
	require.Equal(t, "unclean", io.Values[0].Leader.NextElection.Kind)

	d := check(t, "duplicate").Queue.Duplicates
	require.Len(t, d, 1)
	require.Equal(t, []int64{0, 2}, d[0].Offsets)
	require.Equal(t, []checkers.OffsetReads{{Offset: 0, Ops: []int64{1, 11}, Count: 2}, {Offset: 2, Ops: []int64{10}, Count: 1}}, d[0].Reads)
	require.Nil(t, d[0].Leader) // no observer lines in that history
}

func TestLeaderElectionTransitions(t *testing.T) {
	const k = "kchaos/0"
	tests := []struct {
		name    string
		build   func(b *builder)
		valid   checkers.Validity
		checked bool
		unclean int
	}{
		{"no observer lines", func(b *builder) { b.send(1, 2, 0, k, 0, 1) }, checkers.Valid, false, 0},
		{"first state only", func(b *builder) { b.state(1, k, 2, 7, []int{2}, 12) }, checkers.Valid, true, 0},
		{"epoch bump without leader change", func(b *builder) {
			b.state(1, k, 1, 0, []int{1, 2}, 0).state(2, k, 1, 1, []int{1}, 1)
		}, checkers.Valid, true, 0},
		{"leader lost and back", func(b *builder) {
			b.state(1, k, 1, 0, []int{1, 2}, 0).state(2, k, -1, 1, []int{1}, 1).state(3, k, 1, 2, []int{1}, 2)
		}, checkers.Valid, true, 0},
		{"clean election", func(b *builder) {
			b.state(1, k, 1, 0, []int{1, 2}, 0).state(2, k, 2, 1, []int{2}, 1)
		}, checkers.Valid, true, 0},
		{"unclean election", func(b *builder) {
			b.state(1, k, 1, 0, []int{1}, 0).state(2, k, 2, 1, []int{2}, 1)
		}, checkers.Invalid, true, 1},
		{"unclean after no leader", func(b *builder) {
			b.state(1, k, -1, 3, []int{1}, 4).state(2, k, 3, 4, []int{3}, 5)
		}, checkers.Invalid, true, 1},
		{"gap without epoch change", func(b *builder) {
			b.state(1, k, 1, 0, []int{1, 2}, 0).gap(2, k, 0, 3).state(3, k, 1, 0, []int{1}, 3)
		}, checkers.Valid, true, 0},
		{"gap with one epoch bump and the same leader", func(b *builder) {
			b.state(1, k, 1, 0, []int{1, 2}, 0).gap(2, k, 0, 3).state(3, k, 1, 1, []int{1}, 3)
		}, checkers.Valid, true, 0},
		{"gap hiding a leader change", func(b *builder) {
			b.state(1, k, 1, 0, []int{1, 2}, 0).gap(2, k, 0, 3).state(3, k, 2, 1, []int{2}, 3)
		}, checkers.Unknown, true, 0},
		{"version jump without gap line", func(b *builder) {
			b.state(1, k, 1, 0, []int{1, 2}, 0).state(3, k, 1, 2, []int{1, 2}, 4)
		}, checkers.Unknown, true, 0},
		{"gap at the end", func(b *builder) {
			b.state(1, k, 1, 0, []int{1, 2}, 0).gap(2, k, 0, 3)
		}, checkers.Unknown, true, 0},
		{"unclean beats unknown", func(b *builder) {
			b.state(1, k, 1, 0, []int{1}, 0).state(2, k, 2, 1, []int{2}, 1).gap(3, k, 1, 4).state(4, k, 3, 3, []int{3}, 4)
		}, checkers.Invalid, true, 1},
		{"keys are separate", func(b *builder) {
			b.state(1, k, 1, 0, []int{1}, 0).state(2, "kchaos/1", 2, 0, []int{2}, 0).state(3, k, 1, 1, []int{1}, 1)
		}, checkers.Valid, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b builder
			tt.build(&b)
			r := checkers.CheckLeaderElection(analyze(t, b.ops), false, false)
			require.Equal(t, tt.valid, r.Valid)
			require.Equal(t, tt.checked, r.Checked)
			require.Equal(t, tt.unclean, r.Unclean)
			require.Len(t, r.Cases, tt.unclean)
		})
	}
}

// TestLeaderElectionObservedFromCreation: in a kchaos run the observer watches before the topic
// exists, so a partition the clients used must be seen from its state znode's first version.
func TestLeaderElectionObservedFromCreation(t *testing.T) {
	const k = "kchaos/0"
	tests := []struct {
		name      string
		build     func(b *builder)
		valid     checkers.Validity
		undecided int
	}{
		{"seen from version 0", func(b *builder) {
			b.state(1, k, 1, 0, []int{1, 2}, 0).send(2, 3, 0, k, 0, 1).state(4, k, 2, 1, []int{2}, 1)
		}, checkers.Valid, 0},
		{"first state seen is a later version", func(b *builder) {
			b.state(1, k, 2, 1, []int{2}, 1).send(2, 3, 0, k, 0, 1)
		}, checkers.Unknown, 1},
		{"a partition the clients did not use, first seen late", func(b *builder) {
			b.state(1, k, 1, 0, []int{1}, 0).send(2, 3, 0, k, 0, 1).state(4, "__consumer_offsets/7", 2, 1, []int{2}, 1)
		}, checkers.Valid, 0},
		{"a used partition never seen", func(b *builder) {
			b.state(1, k, 1, 0, []int{1}, 0).send(2, 3, 0, k, 0, 1).send(4, 5, 1, "kchaos/1", 0, 2)
		}, checkers.Unknown, 1},
		{"no observer lines at all", func(b *builder) { b.send(1, 2, 0, k, 0, 1) }, checkers.Unknown, 1},
		{"unclean beats undecided", func(b *builder) {
			b.state(1, k, 1, 0, []int{1}, 0).send(2, 3, 0, k, 0, 1).state(4, k, 2, 1, []int{2}, 1).send(5, 6, 1, "kchaos/1", 0, 2)
		}, checkers.Invalid, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b builder
			tt.build(&b)
			a := analyze(t, b.ops)
			r := checkers.CheckLeaderElection(a, true, false)
			require.Equal(t, tt.valid, r.Valid)
			require.Len(t, r.Undecided, tt.undecided)
			require.True(t, r.Checked)
			// Without the promise, nothing was missed that the checker can know of.
			if tt.valid != checkers.Invalid {
				require.Equal(t, checkers.Valid, checkers.CheckLeaderElection(a, false, false).Valid)
			}
		})
	}
}

func TestObserverLineErrors(t *testing.T) {
	ops := []history.Op{{Index: 0, Process: history.ObserverProcess, Type: history.Info, F: history.FPartitionState, Raw: json.RawMessage(`{"key":"k","leader":1}`)}}
	_, err := checkers.Analyze(ops)
	require.ErrorContains(t, err, `line 1: index 0: partition-state value lacks "leader_epoch"`)
}

func TestStats(t *testing.T) {
	const k = "kchaos/0"
	var b builder
	b.state(0, k, 1, 0, []int{1}, 0).
		send(100*time.Millisecond.Nanoseconds(), 110*time.Millisecond.Nanoseconds(), 0, k, 0, 1).
		state(200_000_000, k, -1, 1, []int{1}, 1).
		at(300_000_000, history.SendInvoke(0, k, history.IntValue(2))).
		at(400_000_000, history.SendFail(0, k, history.IntValue(2), "NOT_ENOUGH_REPLICAS")).
		at(500_000_000, history.SendInvoke(0, k, history.IntValue(3))).
		at(1_500_000_000, history.SendInfo(0, k, history.IntValue(3), "timeout")).
		state(1_600_000_000, k, 1, 2, []int{1}, 2).
		send(1_700_000_000, 1_720_000_000, 1, k, 1, 4).
		at(1_800_000_000, history.PollInvoke(2))
	s := checkers.ComputeStats(analyze(t, b.ops))
	require.Equal(t, checkers.Valid, s.Valid)
	require.Equal(t, 2, s.Seconds)
	require.Equal(t, map[string][]int{"ok": {1, 1}, "fail": {1, 0}, "info": {0, 1}}, s.PerSecond["send"])
	require.Equal(t, map[string]int{"invoke": 1}, s.Totals["poll"])
	require.Equal(t, checkers.Quantiles{Count: 2, P50: 10, P90: 20, P99: 20, P999: 20, Max: 20}, s.Latency["send"]["ok"])
	require.Equal(t, []checkers.Window{{Start: 200_000_000, End: 1_600_000_000}}, s.NoLeader[k])
	require.Equal(t, []checkers.Window{{Start: 300_000_000, End: 1_500_000_000, Fail: 1, Info: 1}}, s.RefusedWrites[k])
}

// A send acknowledged without an offset took the next one; the model must find it a free one.
func TestLinearizableSendWithoutOffset(t *testing.T) {
	const k = "kchaos/0"
	for _, tt := range []struct {
		secondOffset int64
		valid        checkers.Validity
	}{{1, checkers.Invalid}, {2, checkers.Valid}} {
		var b builder
		b.send(1, 2, 0, k, 0, 1).
			at(3, history.SendInvoke(0, k, history.IntValue(2))).
			at(4, history.SendOK(0, k, history.NoOffset, history.IntValue(2))).
			send(5, 6, 0, k, tt.secondOffset, 3)
		r := checkers.CheckLinearizable(analyze(t, b.ops), time.Second, 1)
		require.Equal(t, tt.valid, r.Valid, "second offset %d", tt.secondOffset)
	}
}

func TestLinearizableTimeoutIsUnknown(t *testing.T) {
	ops := historytest.Generate(historytest.Config{Ops: 2000, Seed: 7})
	r := checkers.CheckLinearizable(analyze(t, ops), time.Nanosecond, 1)
	require.Equal(t, checkers.Unknown, r.Valid)
	for _, k := range r.Keys {
		require.Equal(t, checkers.Unknown, k.Valid)
		require.Contains(t, k.Reason, "timed out")
	}
	res, err := checkers.Check(ops, checkers.Options{LinearizabilityTimeout: time.Nanosecond})
	require.NoError(t, err)
	require.Equal(t, checkers.Unknown, res.Valid)
	require.Empty(t, res.AnomalyTypes)
}

// Text given to porcupine's visualization is HTML-escaped.
func TestVisualizeEscapes(t *testing.T) {
	const k = "kchaos/<b>0</b>"
	evil := history.StringValue("<script>alert(1)</script>")
	var b builder
	b.at(1, history.AssignInvoke(1, []string{k})).at(2, history.AssignInvoke(1, []string{k}).Complete(history.OK, "")).
		at(3, history.PollInvoke(1)).
		at(4, history.PollOK(1, []history.KeyReads{{Key: k, Records: []history.Record{{Offset: 0, Value: evil}}}})).
		at(5, history.SendInvoke(0, k, evil)).
		at(6, history.SendOK(0, k, 0, evil))
	a := analyze(t, b.ops)
	r := checkers.CheckLinearizable(a, time.Second, 1)
	require.Equal(t, checkers.Invalid, r.Valid)
	require.Equal(t, []string{k}, r.VisualizedKeys())
	var out bytes.Buffer
	require.NoError(t, r.Visualize(&out, k))
	html := out.String()
	require.Contains(t, html, `\u0026lt;script\u0026gt;`)
	require.NotContains(t, html, `\u003cscript`)
	require.NotContains(t, html, `<script>alert`)
	require.Error(t, r.Visualize(&out, "kchaos/9"))

	out.Reset()
	require.NoError(t, checkers.VisualizeKey(&out, a, k, 100, time.Second))
	require.Contains(t, out.String(), `\u0026lt;script\u0026gt;`)
	require.ErrorIs(t, checkers.VisualizeKey(&out, a, k, 1, time.Second), checkers.ErrTooLarge)
}

// Generated histories are valid; each mutation that breaks one is caught, wherever it falls in
// a long history cut into many pieces.
func TestGeneratedHistories(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		cfg := historytest.Config{Ops: 6000, Keys: 3, Producers: 6, Consumers: 2, InfoRate: 0.05, FailRate: 0.05,
			LeaderChanges: 3, Think: time.Duration(seed) * time.Millisecond, Seed: seed}
		ops := historytest.Generate(cfg)
		r, err := checkers.Check(ops, checkers.Options{})
		require.NoError(t, err)
		require.Equal(t, checkers.Valid, r.Valid, "seed %d: %v", seed, r.AnomalyTypes)
		for _, k := range r.Linearizable.Keys {
			require.Greater(t, k.Segments, 1)
		}

		rng := rand.New(rand.NewPCG(seed, 0))
		polls := okPollsWithRecords(ops)
		p := polls[len(polls)*3/4+rng.IntN(len(polls)/4)] // late in the history

		// Another value at a read offset.
		mutated := cloneOps(ops)
		rec := &mutated[p].Mops[0].Reads[0].Records[0]
		rec.Value = history.IntValue(1 << 40)
		r, err = checkers.Check(mutated, checkers.Options{})
		require.NoError(t, err)
		require.Equal(t, checkers.Invalid, r.Valid)
		require.Contains(t, r.AnomalyTypes, checkers.InconsistentOffsets)
		require.Contains(t, r.AnomalyTypes, checkers.NotLinearizable)

		// A record read no more: if no other poll read it, it is unseen (and, below the highest
		// read, lost); either way the consumer skipped it.
		mutated = cloneOps(ops)
		kr := &mutated[p].Mops[0].Reads[0]
		if len(kr.Records) < 2 {
			continue
		}
		kr.Records = kr.Records[1:]
		r, err = checkers.Check(mutated, checkers.Options{})
		require.NoError(t, err)
		require.Equal(t, checkers.Invalid, r.Valid)
		require.Contains(t, r.AnomalyTypes, checkers.PollSkip)
	}
}

func okPollsWithRecords(ops []history.Op) []int {
	var out []int
	for i, op := range ops {
		if op.Type == history.OK && op.F == history.FPoll && len(op.Mops[0].Reads) > 0 {
			out = append(out, i)
		}
	}
	return out
}

func cloneOps(ops []history.Op) []history.Op {
	out := make([]history.Op, len(ops))
	copy(out, ops)
	for i := range out {
		if out[i].Mops == nil {
			continue
		}
		out[i].Mops = append([]history.Mop(nil), out[i].Mops...)
		for m := range out[i].Mops {
			reads := append([]history.KeyReads(nil), out[i].Mops[m].Reads...)
			for r := range reads {
				reads[r].Records = append([]history.Record(nil), reads[r].Records...)
			}
			out[i].Mops[m].Reads = reads
		}
	}
	return out
}

// A violation in a piece too long to explain on is still found, and the sends that can have no
// place are named.
func TestLinearizableLongPiece(t *testing.T) {
	ops := historytest.Generate(historytest.Config{Ops: 30000, Keys: 1, Producers: 10, Consumers: 2, InfoRate: 0.05, Seed: 2})
	mutated := misplaceLateSend(ops)
	r := checkers.CheckLinearizable(analyze(t, mutated), time.Minute, 1)
	require.Equal(t, checkers.Invalid, r.Valid)
	require.Greater(t, r.Keys["kchaos/0"].LargestSegment, 20000)
	require.Len(t, r.Cases, 1)
	require.Contains(t, r.Cases[0].Explanation, "too long to name")
	require.NotEmpty(t, r.Cases[0].Ops)
	require.Empty(t, r.VisualizedKeys())
}

// misplaceLateSend copies ops, moving the offset of an acknowledged send near the end 50 back,
// onto an offset another value holds.
func misplaceLateSend(ops []history.Op) []history.Op {
	m := cloneOps(ops)
	for i := len(m) * 9 / 10; i < len(m); i++ {
		if m[i].Type == history.OK && m[i].F == history.FSend {
			m[i].Mops = []history.Mop{m[i].Mops[0]}
			m[i].Mops[0].Offset -= 50
			return m
		}
	}
	panic("no acknowledged send in the last tenth of the history")
}

// A send acknowledged without an offset and never seen does not stop the history from being cut
// into pieces, and is placed in a hole when there is one.
func TestLinearizablePiecesWithUnseenSend(t *testing.T) {
	const k = "kchaos/0"
	for _, hole := range []bool{true, false} {
		var b builder
		offset := int64(0)
		for i := int64(0); i < 3000; i++ {
			if i == 10 {
				b.at(i*100, history.SendInvoke(0, k, history.IntValue(1_000_000))).
					at(i*100+50, history.SendOK(0, k, history.NoOffset, history.IntValue(1_000_000)))
				if hole {
					offset++
				}
				continue
			}
			b.send(i*100, i*100+50, 0, k, offset, i)
			offset++
		}
		r := checkers.CheckLinearizable(analyze(t, b.ops), time.Minute, 1)
		if hole {
			require.Equal(t, checkers.Valid, r.Valid)
			require.Equal(t, 3, r.Keys[k].Segments) // 3000 operations, at least 1024 a piece
		} else {
			require.Equal(t, checkers.Invalid, r.Valid)
		}
	}
}
