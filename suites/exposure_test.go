package suites

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

func nemesisLine(t *testing.T, f string, at time.Duration) history.Op {
	op, err := history.Nemesis(f, nil)
	require.NoError(t, err)
	op.Time = int64(at)
	return op
}

func TestExposedBy(t *testing.T) {
	first := history.PollInvoke(0)
	first.Time = int64(10 * time.Second)
	ops := []history.Op{
		first,
		nemesisLine(t, "start-kill", 20*time.Second),
		nemesisLine(t, "stop-kill", 25*time.Second),
		nemesisLine(t, "start-jepsen-2013", 40*time.Second),
		nemesisLine(t, "stop-jepsen-2013", 55*time.Second),
	}
	res := &checkers.Result{
		Queue: &checkers.QueueResult{LostWrites: []checkers.LostWriteCase{
			{Writer: checkers.OpRef{Time: int64(30 * time.Second)}}, // acknowledged between the faults
		}},
		LeaderElection: &checkers.LeaderElectionResult{Cases: []checkers.UncleanElectionCase{
			{State: checkers.StateRef{Time: int64(50 * time.Second)}},
		}},
	}
	tests := []struct {
		name   string
		expect []string
		want   Exposure
		found  bool
	}{
		{"lost write: the first fault after the ack", []string{checkers.LostWrite}, Exposure{"start-jepsen-2013", 30 * time.Second}, true},
		{"unclean election: the last fault before it", []string{checkers.UncleanLeaderElection}, Exposure{"start-jepsen-2013", 30 * time.Second}, true},
		{"nothing expected", nil, Exposure{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := ExposedBy(ops, res, tt.expect)
			require.Equal(t, tt.found, found)
			require.Equal(t, tt.want, got)
		})
	}
	// A lost write acknowledged after the last fault was exposed by none.
	late := &checkers.Result{Queue: &checkers.QueueResult{LostWrites: []checkers.LostWriteCase{{Writer: checkers.OpRef{Time: int64(time.Minute)}}}}}
	_, found := ExposedBy(ops, late, []string{checkers.LostWrite})
	require.False(t, found)
}

func TestScenarios(t *testing.T) {
	for name, s := range All() {
		require.Equal(t, name, s.Spec.Name)
		require.NoError(t, s.Spec.WithDefaults().Validate(), name)
		require.NotEmpty(t, s.About)
	}
	safe, err := Get("safe-kill")
	require.NoError(t, err)
	require.True(t, safe.Safe())
	require.False(t, safe.Detected(nil))
	j, err := Get("jepsen-2013")
	require.NoError(t, err)
	require.False(t, j.Safe())
	require.True(t, j.Detected([]string{"lost-write", "unclean-leader-election", "unseen"}))
	require.False(t, j.Detected([]string{"lost-write"}))
	_, err = Get("nope")
	require.ErrorContains(t, err, "safe-kill")
}

func TestWithKafkaTimeouts(t *testing.T) {
	for name, s := range All() {
		k := s.WithKafkaTimeouts()
		require.Equal(t, name+"/kafka-timeouts", k.Name)
		require.Equal(t, s.Expect, k.Expect, name)
		require.Equal(t, 18000, k.Spec.Cluster.ZooKeeperSessionTimeoutMs, name)
		require.Equal(t, 30000, k.Spec.Cluster.ReplicaLagTimeMaxMs, name)
		require.GreaterOrEqual(t, k.Spec.TimeLimit.D(), 120*time.Second, name)
		// Every fault must still be able to play out: the nemesis config validates against the
		// longer session timeout.
		_, err := k.Spec.WithDefaults().NemesisConfig()
		require.NoError(t, err, name)
		require.NoError(t, k.Spec.WithDefaults().Validate(), name)
		// The scenario itself is unchanged.
		require.Equal(t, 6000, s.Spec.Cluster.ZooKeeperSessionTimeoutMs, name)
	}
}
