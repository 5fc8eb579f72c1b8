package nemesis

import (
	"encoding/json"
	"testing"

	"github.com/kchaos/kchaos/broker"
	"github.com/stretchr/testify/require"
)

func TestCompare(t *testing.T) {
	before := broker.Snapshot{Partitions: []broker.PartitionState{
		{Key: "__consumer_offsets/0", Leader: 1, ISR: []int{1, 2, 3}},
		{Key: "kchaos/0", Leader: 1, ISR: []int{1, 2, 3}},
		{Key: "kchaos/1", Leader: 2, ISR: []int{2, 3, 1}},
		{Key: "other/0", Leader: 3, ISR: []int{3, 1}},
	}}
	state := func(changes ...broker.PartitionState) broker.Snapshot {
		s := broker.Snapshot{Partitions: append([]broker.PartitionState(nil), before.Partitions...)}
		for _, c := range changes {
			for i := range s.Partitions {
				if s.Partitions[i].Key == c.Key {
					s.Partitions[i] = c
				}
			}
		}
		return s
	}
	tests := []struct {
		name  string
		after broker.Snapshot
		topic string
		key   string
		want  Achieved
	}{
		{"nothing changed", before, "kchaos", "", Achieved{}},
		{"a follower left the ISR", state(broker.PartitionState{Key: "kchaos/0", Leader: 1, ISR: []int{1, 3}}), "kchaos", "",
			Achieved{ISRShrunk: true}},
		{"the key's leader moved", state(broker.PartitionState{Key: "kchaos/0", Leader: 2, ISR: []int{2, 3}}), "kchaos", "kchaos/0",
			Achieved{Elections: 1, ISRShrunk: true, NewLeader: "n2"}},
		{"another partition's leader moved", state(broker.PartitionState{Key: "kchaos/1", Leader: 3, ISR: []int{3, 1}}), "kchaos", "kchaos/0",
			Achieved{Elections: 1, ISRShrunk: true}},
		{"the partition lost its leader", state(broker.PartitionState{Key: "kchaos/0", Leader: -1, ISR: []int{1}}), "kchaos", "kchaos/0",
			Achieved{Leaderless: 1, ISRShrunk: true}},
		{"an ISR reordered is not shrunk", state(broker.PartitionState{Key: "kchaos/1", Leader: 2, ISR: []int{1, 2, 3}}), "kchaos", "",
			Achieved{}},
		{"other topics do not count", state(broker.PartitionState{Key: "other/0", Leader: 1, ISR: []int{1}}), "kchaos", "",
			Achieved{}},
		{"no topic: every topic but the internal ones", state(
			broker.PartitionState{Key: "other/0", Leader: 1, ISR: []int{1}},
			broker.PartitionState{Key: "__consumer_offsets/0", Leader: 2, ISR: []int{2}}), "", "",
			Achieved{Elections: 1, ISRShrunk: true}},
	}
	withController := func(s broker.Snapshot, id int, registered ...int) broker.Snapshot {
		s.Controller.Broker, s.Registered = id, registered
		return s
	}
	before = withController(before, 1, 1, 2, 3)
	for i := range tests {
		if tests[i].after.Controller.Broker == 0 {
			tests[i].after = withController(tests[i].after, 1, 1, 2, 3)
		}
	}
	tests = append(tests, []struct {
		name  string
		after broker.Snapshot
		topic string
		key   string
		want  Achieved
	}{
		{"ZooKeeper mode: the controller moved to a broker", withController(state(), 2, 1, 2, 3), "kchaos", "", Achieved{NewController: "n2"}},
		{"KRaft dedicated: the quorum leader moved to another controller", withController(state(), 102, 1, 2, 3), "kchaos", "",
			Achieved{NewController: "c2"}},
		{"no controller at the end is no new one", withController(state(), -1, 1, 2, 3), "kchaos", "", Achieved{}},
		{"a broker fenced, leading nothing", withController(state(), 1, 1, 3), "kchaos", "", Achieved{Unregistered: []string{"n2"}}},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Achieved
			compare(&got, before, tt.after, tt.topic, tt.key)
			require.Equal(t, tt.want, got)
		})
	}
}

// The stop lines keep their fields and gain "achieved".
func TestStopValuesJSON(t *testing.T) {
	a := &Achieved{HeldMs: 19000, Elections: 2, ISRShrunk: true, NewLeader: "n2"}
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"kill", nodesStop([]string{"n1"}, "")(a),
			`{"nodes":["n1"],"achieved":{"held_ms":19000,"elections":2,"leaderless":0,"isr_shrunk":true,"new_leader":"n2"}}`},
		{"jepsen-2013", nodesStop([]string{"n1"}, "t/0")(&Achieved{Error: "the cluster's state before the heal could not be read: boom"}),
			`{"nodes":["n1"],"key":"t/0","achieved":{"held_ms":0,"elections":0,"leaderless":0,"isr_shrunk":false,"error":"the cluster's state before the heal could not be read: boom"}}`},
		{"partition", PartitionStopValue{Achieved: a},
			`{"achieved":{"held_ms":19000,"elections":2,"leaderless":0,"isr_shrunk":true,"new_leader":"n2"}}`},
		{"start lines are unchanged", NodesValue{Nodes: []string{"n2"}, Target: TargetPrimaries, Key: "t/0"},
			`{"nodes":["n2"],"target":"primaries","key":"t/0"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.value)
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(b))
		})
	}
}
