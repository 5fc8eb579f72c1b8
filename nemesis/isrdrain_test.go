package nemesis

import (
	"testing"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/history"
	"github.com/stretchr/testify/require"
)

func drainView(voters []int, partitions ...broker.PartitionState) view {
	var controllers []string
	for _, id := range voters {
		controllers = append(controllers, broker.NodeName(id))
	}
	return view{brokers: brokerNames(5), controllers: controllers, topic: "kchaos",
		snap: broker.Snapshot{Registered: []int{1, 2, 3, 4, 5}, Partitions: partitions}}
}

func TestISRDrainResolve(t *testing.T) {
	p0 := broker.PartitionState{Key: "kchaos/0", Leader: 2, ISR: []int{2, 3, 5}}
	tests := []struct {
		name      string
		v         view
		key       string
		leader    string
		followers []string
		wantErr   string
	}{
		{name: "dedicated controllers", v: drainView(nil, p0), key: "kchaos/0", leader: "n2"},
		// Voters 1..3 combined: the drain may kill one of them, not two.
		{name: "one voter among the three", v: drainView([]int{1, 2, 3}, p0, broker.PartitionState{Key: "kchaos/1", Leader: 5, ISR: []int{3, 5, 4}}),
			key: "kchaos/1", leader: "n5", followers: []string{"n3", "n4"}},
		{name: "two voters among the three", v: drainView([]int{1, 2, 3}, broker.PartitionState{Key: "kchaos/0", Leader: 1, ISR: []int{1, 2, 4}}),
			wantErr: "no suitable partition of topic kchaos"},
		{name: "an ISR of two", v: drainView(nil, broker.PartitionState{Key: "kchaos/0", Leader: 2, ISR: []int{2, 3}}),
			wantErr: "no suitable partition"},
		{name: "no leader", v: drainView(nil, broker.PartitionState{Key: "kchaos/0", Leader: -1, ISR: []int{2, 3, 5}}),
			wantErr: "no suitable partition"},
		{name: "other topics are not drained", v: drainView(nil, broker.PartitionState{Key: "other/0", Leader: 2, ISR: []int{2, 3, 5}}),
			wantErr: "no suitable partition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := resolve(Step{Kind: KindISRDrain, Pick: 7}, tt.v)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrNoTarget)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.key, f.Key)
			require.Equal(t, tt.leader, f.Leader)
			if tt.followers == nil {
				tt.followers = []string{"n3", "n5"}
			}
			require.ElementsMatch(t, tt.followers, f.Nodes, "the two followers, in the order they are killed")
			again, err := resolve(Step{Kind: KindISRDrain, Pick: 7}, tt.v)
			require.NoError(t, err)
			require.Equal(t, f, again)
		})
	}
	// Over many picks both followers come first.
	first := map[string]bool{}
	for _, s := range Plan(Config{Kinds: []Kind{KindISRDrain}, Seed: 5}, 20) {
		f, err := resolve(s, drainView(nil, p0))
		require.NoError(t, err)
		first[f.Nodes[0]] = true
	}
	require.Len(t, first, 2)
}

// The drain's stages on a scripted view of the cluster: each waits until the controller has
// fenced the broker killed and moved the partition to the state awaited.
func TestISRDrainStagesWaitForTheirStates(t *testing.T) {
	const key = "kchaos/0"
	snap := func(registered []int, p broker.PartitionState) broker.Snapshot {
		p.Key = key
		return broker.Snapshot{Registered: registered, Partitions: []broker.PartitionState{p}}
	}
	stages := drainStages(key, 2, 3, 5)
	require.Equal(t, []string{DrainKillFollower1, DrainKillFollower2, DrainKillLeader},
		[]string{stages[0].kill, stages[1].kill, stages[2].kill})
	require.Equal(t, []string{DrainFollower1Out, DrainLeaderAlone, DrainLeaderless},
		[]string{stages[0].reached, stages[1].reached, stages[2].reached})
	require.Equal(t, []int{3, 5, 2}, []int{stages[0].node, stages[1].node, stages[2].node})

	tests := []struct {
		name  string
		stage int
		snap  broker.Snapshot
		done  bool
	}{
		{"F1 killed, still registered and in the ISR", 0, snap([]int{1, 2, 3, 4, 5}, broker.PartitionState{Leader: 2, ISR: []int{2, 3, 5}}), false},
		{"F1 fenced, not yet out of the ISR", 0, snap([]int{1, 2, 4, 5}, broker.PartitionState{Leader: 2, ISR: []int{2, 3, 5}}), false},
		{"F1 fenced and out of the ISR", 0, snap([]int{1, 2, 4, 5}, broker.PartitionState{Leader: 2, ISR: []int{2, 5}}), true},
		{"partition missing from the view", 0, broker.Snapshot{Registered: []int{1, 2, 4, 5}}, false},
		{"F2 out, ISR not yet the leader alone", 1, snap([]int{1, 2, 4}, broker.PartitionState{Leader: 2, ISR: []int{2, 5}}), false},
		{"ISR the leader alone, F2 in the ELR", 1, snap([]int{1, 2, 4}, broker.PartitionState{Leader: 2, ISR: []int{2}, ELR: []int{5}}), true},
		{"ISR the leader alone without ELR (ELR off)", 1, snap([]int{1, 2, 4}, broker.PartitionState{Leader: 2, ISR: []int{2}}), true},
		{"another leader", 1, snap([]int{1, 2, 4}, broker.PartitionState{Leader: 5, ISR: []int{5}}), false},
		{"leader killed, still leading", 2, snap([]int{1, 2, 4}, broker.PartitionState{Leader: 2, ISR: []int{2}}), false},
		{"leaderless, ISR and ELR kept", 2, snap([]int{1, 4}, broker.PartitionState{Leader: history.NoLeader, ISR: []int{}, ELR: []int{2, 5}}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, done := stages[tt.stage].done(tt.snap)
			require.Equal(t, tt.done, done)
			if len(tt.snap.Partitions) > 0 {
				require.Equal(t, tt.snap.Partitions[0], st, "the state seen is the line's")
			}
		})
	}
}

func TestISRDrainHealOrder(t *testing.T) {
	r := &isrDrainRun{value: ISRDrainValue{Key: "kchaos/0", Leader: "n2", Followers: []string{"n3", "n5"}}}
	require.Equal(t, []drainReturn{{"n5", RoleFollower2}, {"n3", RoleFollower1}, {"n2", RoleLeader}}, r.healOrder(),
		"the ELR member first, then the follower never eligible, then the last ISR member")
	line := r.line(DrainKillFollower2, 5, RoleFollower2)
	require.Equal(t, ISRDrainValue{Key: "kchaos/0", Leader: "n2", Followers: []string{"n3", "n5"}, Step: DrainKillFollower2, Node: "n5", Role: RoleFollower2}, line)
	r.clean = true
	require.Equal(t, "shutdown-follower-2", r.line(DrainKillFollower2, 5, RoleFollower2).Step, "isr-drain-clean shuts its brokers down")
	require.Equal(t, DrainLeaderAlone, r.line(DrainLeaderAlone, 0, "").Step)
	require.Equal(t, []string{"isr-drain", "isr-drain-clean"}, []string{string(ISRDrainFailpoint.Kind()), string(ISRDrainCleanFailpoint.Kind())})
}

func TestBrokerID(t *testing.T) {
	require.Equal(t, 3, brokerID("n3"))
	require.Equal(t, -1, brokerID("c1"))
	require.Equal(t, -1, brokerID("zk1"))
}
