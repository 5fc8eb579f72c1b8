package dynamics

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
)

type builder struct {
	t   *testing.T
	ops []history.Op
}

func (b *builder) at(sec float64, op history.Op) {
	op.Time = int64(sec * float64(time.Second))
	op.Index = int64(len(b.ops))
	b.ops = append(b.ops, op)
}

func (b *builder) state(sec float64, key string, leader int, isr ...int) {
	b.at(sec, history.ObservePartitionState(history.PartitionState{Key: key, Leader: leader, ISR: isr}))
}

func (b *builder) nemesis(sec float64, f string, value any) {
	op, err := history.Nemesis(f, value)
	require.NoError(b.t, err)
	b.at(sec, op)
}

func TestSummarize(t *testing.T) {
	b := &builder{t: t}
	b.state(1, "t/0", 1, 1, 2, 3)
	b.state(1, "t/1", 2, 2, 3, 1)
	// n1 is killed: t/0 fails over to n2 after 6.5 s; n1 leaves both ISRs and rejoins after its restart.
	b.nemesis(10, "start-kill", map[string]any{"nodes": []string{"n1"}})
	b.state(16.5, "t/0", 2, 2, 3)
	b.state(16.6, "t/1", 2, 2, 3)
	b.nemesis(20, "stop-kill", map[string]any{"nodes": []string{"n1"}})
	b.state(24, "t/0", 2, 2, 3, 1)
	b.state(24.5, "t/1", 2, 2, 3, 1)
	// n3 lags: it leaves t/1's ISR and comes back by itself 3 s after the heal.
	b.nemesis(30, "start-lag", map[string]any{"nodes": []string{"n3"}})
	b.state(41, "t/1", 2, 2, 1)
	b.nemesis(50, "stop-lag", map[string]any{"nodes": []string{"n3"}})
	b.state(53, "t/1", 2, 2, 1, 3)
	// A partition may leave a leader on the majority side: it opens no failover.
	b.nemesis(60, "start-partition", map[string]any{"grudge": map[string][]string{"n2": {"n1", "n3"}}})
	b.nemesis(65, "stop-partition", nil)
	b.state(70, "t/0", 2, 2, 3, 1)

	s := Summarize(b.ops, Settings{SessionTimeout: 6 * time.Second, ReplicaLagMax: 10 * time.Second})
	require.Len(t, s.Failovers, 1)
	require.Equal(t, Failover{Key: "t/0", Fault: "start-kill", FaultTime: int64(10 * time.Second), OldLeader: 1, NewLeader: 2,
		Elected: int64(16.5 * float64(time.Second)), FailoverMs: 6500}, s.Failovers[0])

	require.Len(t, s.Leaves, 3)
	lag := s.Leaves[2]
	require.Equal(t, "t/1", lag.Key)
	require.Equal(t, 3, lag.Broker)
	require.Equal(t, int64(12000), lag.OutMs)
	require.Equal(t, "start-lag", lag.Fault)
	require.Equal(t, int64(3000), lag.RejoinAfterHealMs)
	require.False(t, lag.Restarted)
	rejoinAfterRestart := map[string]int64{"t/0": 4000, "t/1": 4500}
	for _, killed := range s.Leaves[:2] {
		require.Equal(t, 1, killed.Broker)
		require.True(t, killed.Restarted)
		require.Equal(t, rejoinAfterRestart[killed.Key], killed.RejoinAfterHealMs, killed.Key)
	}

	require.Equal(t, Conclusions{MedianFailoverMs: 6500, Leaves: 3, RejoinedByItself: 1, NeverRejoined: 0,
		Answer: "Every follower that left an ISR came back; those whose broker was killed came back through its restart."}, s.Verdicts)
	_, err := json.Marshal(s)
	require.NoError(t, err)
}

func TestSummarizeNeverRejoined(t *testing.T) {
	b := &builder{t: t}
	b.state(1, "t/0", 1, 1, 2)
	b.nemesis(2, "start-pause", map[string]any{"nodes": []string{"n2"}})
	b.state(15, "t/0", 1, 1)
	s := Summarize(b.ops, Settings{})
	require.Empty(t, s.Failovers, "the pause did not hit the leader")
	require.Len(t, s.Leaves, 1)
	require.Equal(t, int64(-1), s.Leaves[0].OutMs)
	require.Equal(t, 1, s.Verdicts.NeverRejoined)
	require.Contains(t, s.Verdicts.Answer, "never came back")
	require.Equal(t, int64(-1), s.Verdicts.MedianFailoverMs)
}

// TestSummarizeIsDeterministic holds one fault hitting the leader of many keys to one order of
// failovers: the keys' order, whatever map iteration does.
func TestSummarizeIsDeterministic(t *testing.T) {
	b := &builder{t: t}
	keys := []string{"t/0", "t/1", "t/2", "t/3", "t/4", "t/5", "t/6", "t/7"}
	for _, k := range keys {
		b.state(1, k, 1, 1, 2, 3)
	}
	b.nemesis(10, "start-kill", map[string]any{"nodes": []string{"n1"}})
	for i, k := range keys {
		b.state(16+float64(i)/10, k, 2, 2, 3)
	}
	first := Summarize(b.ops, Settings{})
	require.Len(t, first.Failovers, len(keys))
	for i, f := range first.Failovers {
		require.Equal(t, keys[i], f.Key)
	}
	for range 50 {
		require.Equal(t, first, Summarize(b.ops, Settings{}))
	}
}

// The faults come from history.FaultWindows, as the nemesis writes them: a lag hits its follower
// (not the leader it names), a failed start hit nothing, a failed stop left the fault in place,
// and jepsen-2013's isolation step stops the leader until the scenario stops.
func TestSummarizeNemesisLines(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *builder)
		fault string // of the one ISR leave
		end   float64
	}{
		{"lag hits the follower", func(b *builder) {
			b.nemesis(2, "start-lag", map[string]any{"key": "t/0", "follower": "n3", "leader": "n1", "loss": 0.9})
			b.state(5, "t/0", 1, 1, 2)
			b.nemesis(8, "stop-lag", map[string]any{"nodes": []string{"n3"}})
		}, "start-lag", 8},
		{"failed start", func(b *builder) {
			op, err := history.Nemesis("start-pause", map[string]any{"nodes": []string{"n3"}})
			require.NoError(b.t, err)
			op.Error = "no target"
			b.at(2, op)
			b.state(5, "t/0", 1, 1, 2)
		}, "", 0},
		{"failed stop", func(b *builder) {
			b.nemesis(2, "start-pause", map[string]any{"nodes": []string{"n3"}})
			op, err := history.Nemesis("stop-pause", map[string]any{"nodes": []string{"n3"}})
			require.NoError(b.t, err)
			op.Error = "docker unpause: timeout"
			b.at(3, op)
			b.state(5, "t/0", 1, 1, 2)
			b.nemesis(9, "stop-pause", map[string]any{"nodes": []string{"n3"}})
		}, "start-pause", 9},
		{"jepsen-2013 isolation", func(b *builder) {
			b.nemesis(2, "start-jepsen-2013", map[string]any{"key": "t/0", "leader": "n3", "phase": "cut-replication"})
			b.nemesis(3, "isolate-jepsen-2013", map[string]any{"key": "t/0", "leader": "n3", "phase": "isolate-leader"})
			b.state(5, "t/0", 1, 1, 2)
			b.nemesis(9, "stop-jepsen-2013", map[string]any{"nodes": []string{"n3"}})
		}, "isolate-jepsen-2013", 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &builder{t: t}
			b.state(1, "t/0", 1, 1, 2, 3)
			tt.build(b)
			s := Summarize(b.ops, Settings{})
			require.Len(t, s.Leaves, 1)
			require.Equal(t, 3, s.Leaves[0].Broker)
			require.Equal(t, tt.fault, s.Leaves[0].Fault)
			require.Equal(t, int64(tt.end*float64(time.Second)), s.Leaves[0].FaultEnd)
		})
	}
}
