package broker

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFreshestPrefersHigherEpochThenTheLeadersView(t *testing.T) {
	views := map[int][]PartitionState{
		1: {liveState("t", 0, 2, 5, []int32{2, 3}, nil, nil), liveState("t", 1, 1, 3, []int32{1}, nil, nil)},
		2: {liveState("t", 0, 2, 5, []int32{2}, []int32{3}, nil), liveState("t", 1, 1, 2, []int32{1, 2}, nil, nil)},
		3: {liveState("t", 0, 2, 4, []int32{2, 3}, nil, nil)},
	}
	got := freshest(views)
	require.Len(t, got, 2)
	require.Equal(t, []int{2}, got[0].ISR, "epoch 5 twice: the leader's (2's) own view")
	require.Equal(t, []int{3}, got[0].ELR)
	require.Equal(t, 3, got[1].LeaderEpoch, "the highest epoch")
	require.Equal(t, 3, got[1].ZkVersion, "the leader epoch stands in for the version")
	require.Zero(t, got[1].PartitionEpoch)
	require.Empty(t, got[1].Source, "a live state is never exact")
}

func TestKRaftPollerReportsChangesAndGaps(t *testing.T) {
	var seen []Observation
	o := &Observer{emit: func(ob Observation) { seen = append(seen, ob) }}
	p := &kraftPoller{o: o, last: map[string]PartitionState{}}
	p.observe(liveState("t", 0, 1, 0, []int32{1, 2, 3}, nil, nil))
	p.observe(liveState("t", 0, 1, 0, []int32{1, 2, 3}, nil, nil))  // unchanged: not reported
	p.observe(liveState("t", 0, 1, 0, []int32{1, 2}, nil, nil))     // the ISR shrank
	p.observe(liveState("t", 0, 3, 2, []int32{3}, []int32{2}, nil)) // epoch 1 never seen
	p.observe(liveState("t", 0, 1, 0, []int32{1, 2, 3}, nil, nil))  // a lagging broker's old view
	require.Len(t, seen, 4, "%+v", seen)
	require.Equal(t, ObservedPartitionState, seen[0].F)
	require.Equal(t, []int{1, 2}, seen[1].Value.(PartitionState).ISR)
	require.Equal(t, ObserverGap{Key: "t/0", FromVersion: 0, ToVersion: 2}, seen[2].Value)
	require.Equal(t, 3, seen[3].Value.(PartitionState).Leader)
}

// A broker cut from the controllers still lists itself; the others, fenced it, do not.
func TestRegisteredByHalf(t *testing.T) {
	for _, tc := range []struct {
		name     string
		listedBy map[int]int
		answered int
		want     []int
	}{
		{"all agree", map[int]int{1: 3, 2: 3, 3: 3}, 3, []int{1, 2, 3}},
		{"one stale view lists a fenced broker", map[int]int{1: 3, 2: 3, 3: 1}, 3, []int{1, 2}},
		{"a killed broker answers nothing and nobody lists it", map[int]int{1: 2, 2: 2}, 2, []int{1, 2}},
		{"of two, one catching up lacks the other: a tie stays registered", map[int]int{1: 2, 2: 1}, 2, []int{1, 2}},
		{"nobody answered", map[int]int{}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, registeredByHalf(tc.listedBy, tc.answered))
		})
	}
}
