package nemesis

import (
	"errors"
	"testing"

	"github.com/kchaos/kchaos/broker"
	"github.com/stretchr/testify/require"
)

func TestPlanIsAFunctionOfTheSeed(t *testing.T) {
	cfg := Config{Kinds: AllKinds(), Seed: 42}
	a, b := Plan(cfg, 50), Plan(cfg, 50)
	require.Equal(t, a, b, "the same seed must give the same schedule")
	require.NotEqual(t, a, Plan(Config{Kinds: AllKinds(), Seed: 43}, 50), "another seed gives another schedule")
	require.Equal(t, a[:10], Plan(cfg, 10), "a longer plan starts with the shorter one")

	seen := map[Kind]bool{}
	for _, s := range a {
		seen[s.Kind] = true
		switch s.Kind {
		case KindPartition:
			require.NotEmpty(t, s.Shape)
			if s.Shape == ShapeIsolate || s.Shape == ShapeOneWay {
				require.NotEmpty(t, s.Target)
			} else {
				require.Empty(t, s.Target)
			}
		case KindKill, KindPause, KindZKIsolate, KindControllerIsolate:
			require.NotEmpty(t, s.Target)
			require.Empty(t, s.Shape)
		case KindCrash, KindDiskFull, KindDiskError, KindSlowDisk:
			require.Contains(t, []Target{TargetOne, TargetPrimaries, TargetController}, s.Target, "one broker")
			require.Empty(t, s.Shape)
		case KindPowerLoss:
			require.Contains(t, []Target{TargetMajority, TargetAll, TargetPrimaries}, s.Target, "several brokers")
			require.Empty(t, s.Shape)
		default:
			require.Empty(t, s.Target)
			require.Empty(t, s.Shape)
		}
	}
	require.Len(t, seen, len(AllKinds()), "50 steps draw every kind")
	require.Nil(t, Plan(Config{Seed: 42}, 5), "no kinds, no steps")

	only := Plan(Config{Kinds: []Kind{KindPause}, Targets: []Target{TargetController}, Seed: 1}, 5)
	for _, s := range only {
		require.Equal(t, Step{Kind: KindPause, Target: TargetController, Pick: s.Pick}, s)
	}
}

func testView() view {
	return view{
		brokers: brokerNames(5),
		snap: broker.Snapshot{
			Registered: []int{1, 2, 3, 4, 5},
			Controller: broker.ControllerState{Broker: 4, Epoch: 2},
			Partitions: []broker.PartitionState{
				{Key: "__consumer_offsets/0", Leader: 1, ISR: []int{1, 2, 3}},
				{Key: "kchaos/0", Leader: 2, ISR: []int{2, 3, 5}},
				{Key: "kchaos/1", Leader: -1, ISR: []int{3}},
				{Key: "other/0", Leader: 5, ISR: []int{5}},
			},
		},
		topic:   "kchaos",
		traffic: TrafficAll,
		loss:    0.5,
	}
}

func TestResolve(t *testing.T) {
	v := testView()
	tests := []struct {
		name    string
		step    Step
		check   func(t *testing.T, f Fault)
		wantErr string
	}{
		{name: "controller", step: Step{Kind: KindKill, Target: TargetController, Pick: 1}, check: func(t *testing.T, f Fault) {
			require.Equal(t, []string{"n4"}, f.Nodes)
		}},
		{name: "one", step: Step{Kind: KindPause, Target: TargetOne, Pick: 2}, check: func(t *testing.T, f Fault) {
			require.Len(t, f.Nodes, 1)
			require.Contains(t, v.brokers, f.Nodes[0])
		}},
		{name: "minority", step: Step{Kind: KindZKIsolate, Target: TargetMinority, Pick: 3}, check: func(t *testing.T, f Fault) {
			require.Len(t, f.Nodes, 2)
		}},
		{name: "majority", step: Step{Kind: KindPause, Target: TargetMajority, Pick: 4}, check: func(t *testing.T, f Fault) {
			require.Len(t, f.Nodes, 3)
		}},
		{name: "all", step: Step{Kind: KindKill, Target: TargetAll, Pick: 5}, check: func(t *testing.T, f Fault) {
			require.Equal(t, v.brokers, f.Nodes)
		}},
		{name: "isolate all", step: Step{Kind: KindPartition, Shape: ShapeIsolate, Target: TargetAll, Pick: 5}, check: func(t *testing.T, f Fault) {
			for _, b := range v.brokers {
				require.Len(t, f.Grudge[b], 4)
			}
		}},
		{name: "isolate the controller", step: Step{Kind: KindPartition, Shape: ShapeIsolate, Target: TargetController, Pick: 6},
			check: func(t *testing.T, f Fault) {
				require.Equal(t, Isolate([]string{"n4"}, v.brokers), f.Grudge)
				require.Equal(t, TrafficAll, f.Traffic)
			}},
		{name: "one way from a majority", step: Step{Kind: KindPartition, Shape: ShapeOneWay, Target: TargetMajority, Pick: 7},
			check: func(t *testing.T, f Fault) {
				senders := map[string]bool{}
				for _, dropped := range f.Grudge {
					for _, d := range dropped {
						senders[d] = true
					}
				}
				require.Len(t, senders, 3, "what three brokers send is dropped: %s", f.Grudge)
				for s := range senders {
					require.Empty(t, f.Grudge[s], "senders still hear everyone: %s", f.Grudge)
				}
				require.Len(t, f.Grudge, 2, "the two others drop the senders: %s", f.Grudge)
			}},
		{name: "ring", step: Step{Kind: KindPartition, Shape: ShapeMajoritiesRing, Pick: 8}, check: func(t *testing.T, f Fault) {
			require.Len(t, f.Grudge, 5)
		}},
		// Primaries look only at the configured topic; partitions without a leader are no target.
		{name: "primaries", step: Step{Kind: KindKill, Target: TargetPrimaries, Pick: 9}, check: func(t *testing.T, f Fault) {
			require.Equal(t, "kchaos/0", f.Key)
			require.Equal(t, []string{"n2"}, f.Nodes)
		}},
		{name: "lag takes a follower of a partition with one", step: Step{Kind: KindLag, Pick: 10}, check: func(t *testing.T, f Fault) {
			require.Equal(t, "kchaos/0", f.Key)
			require.Equal(t, "n2", f.Leader)
			require.Contains(t, []string{"n3", "n5"}, f.Follower)
			require.Equal(t, 0.5, f.Loss)
		}},
		{name: "jepsen-2013 takes a partition with followers", step: Step{Kind: KindJepsen2013, Pick: 11}, check: func(t *testing.T, f Fault) {
			require.Equal(t, "kchaos/0", f.Key)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := resolve(tt.step, v)
			require.NoError(t, err)
			require.Equal(t, tt.step.Kind, f.Kind)
			tt.check(t, f)
			again, err := resolve(tt.step, v)
			require.NoError(t, err)
			require.Equal(t, f, again, "the same step and cluster give the same fault")
		})
	}
}

func TestResolveNoTarget(t *testing.T) {
	v := testView()
	v.snap.Controller.Broker = -1
	v.snap.Partitions[1] = broker.PartitionState{Key: "kchaos/0", Leader: -1, ISR: []int{2}}
	tests := []struct {
		name    string
		step    Step
		wantErr string
	}{
		{"no controller", Step{Kind: KindKill, Target: TargetController}, "there is no controller"},
		{"no leader", Step{Kind: KindPause, Target: TargetPrimaries}, "no suitable partition of topic kchaos"},
		{"no follower", Step{Kind: KindLag}, "no suitable partition of topic kchaos"},
		{"no partition for jepsen-2013", Step{Kind: KindJepsen2013}, "no suitable partition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolve(tt.step, v)
			require.ErrorContains(t, err, tt.wantErr)
			require.True(t, errors.Is(err, ErrNoTarget))
		})
	}
	_, err := resolve(Step{Kind: KindPartition, Shape: ShapeMajoritiesRing}, view{brokers: brokerNames(2)})
	require.ErrorIs(t, err, ErrNoTarget, "a ring of two cuts nothing")
}

// Picks differ between steps: over many steps a random target hits several brokers.
func TestResolveUsesThePick(t *testing.T) {
	v := testView()
	hit := map[string]bool{}
	for _, s := range Plan(Config{Kinds: []Kind{KindKill}, Targets: []Target{TargetOne}, Seed: 3}, 40) {
		f, err := resolve(s, v)
		require.NoError(t, err)
		hit[f.Nodes[0]] = true
	}
	require.Len(t, hit, 5)
}
