package checkers_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

// zkLogged is a state read from ZooKeeper's transaction log at zxid z.
func zkLogged(key string, leader, epoch int, isr []int, version int, zxid int64) history.PartitionState {
	return history.PartitionState{Key: key, Leader: leader, LeaderEpoch: epoch, ISR: isr, ZkVersion: version,
		Source: history.SourceZooKeeperLog, Zxid: zxid, LogTime: zxid * 1000}
}

// kraftLogged is a state read from KRaft's metadata log at offset off.
func kraftLogged(key string, leader, epoch int, isr, elr, lastKnown []int, off int64) history.PartitionState {
	return history.PartitionState{Key: key, Leader: leader, LeaderEpoch: epoch, ISR: isr, ELR: elr, LastKnownELR: lastKnown,
		PartitionEpoch: int(off), Source: history.SourceKRaftLog, MetadataOffset: off, LogTime: off * 1000}
}

func (b *builder) exact(t int64, states ...history.PartitionState) *builder {
	for _, s := range states {
		b.at(t, history.ObservePartitionState(s))
	}
	return b
}

func (b *builder) metadataLog(t int64, source string, complete bool, reason string) *builder {
	return b.at(t, history.ObserveMetadataLog(history.MetadataLog{Source: source, Complete: complete, Reason: reason}))
}

func TestElectionsDecidedFromTheLog(t *testing.T) {
	const k = "kchaos/0"
	zk, kr := history.SourceZooKeeperLog, history.SourceKRaftLog
	tests := []struct {
		name           string
		build          func(b *builder)
		uncleanAllowed bool
		valid          checkers.Validity
		rules          map[string]int
		unclean        int
	}{
		{"zookeeper: leader from the ISR", func(b *builder) {
			b.exact(9, zkLogged(k, 1, 0, []int{1, 2, 3}, 0, 10), zkLogged(k, -1, 1, []int{2, 3}, 1, 11), zkLogged(k, 2, 2, []int{2, 3}, 2, 12)).
				metadataLog(9, zk, true, "")
		}, false, checkers.Valid, map[string]int{checkers.RuleISR: 1}, 0},
		{"zookeeper: a leader outside the ISR is unclean", func(b *builder) {
			b.exact(9, zkLogged(k, 1, 0, []int{1}, 0, 10), zkLogged(k, -1, 1, []int{1}, 1, 11), zkLogged(k, 3, 2, []int{3}, 2, 12)).
				metadataLog(9, zk, true, "")
		}, false, checkers.Invalid, map[string]int{checkers.RuleUnclean: 1}, 1},
		{"zookeeper: unclean, but the cluster allowed it", func(b *builder) {
			b.exact(9, zkLogged(k, 1, 0, []int{1}, 0, 10), zkLogged(k, 3, 2, []int{3}, 1, 12)).metadataLog(9, zk, true, "")
		}, true, checkers.Valid, map[string]int{checkers.RuleUnclean: 1}, 1},
		{"kraft: the ISR emptied, the leader came from the ELR", func(b *builder) {
			b.exact(9, kraftLogged(k, 1, 0, []int{1, 5}, nil, nil, 20), kraftLogged(k, -1, 1, []int{}, []int{1, 5}, nil, 21),
				kraftLogged(k, 5, 2, []int{5}, nil, nil, 22)).metadataLog(9, kr, true, "")
		}, false, checkers.Valid, map[string]int{checkers.RuleELR: 1}, 0},
		{"kraft: ISR and ELR empty, the last known leader", func(b *builder) {
			b.exact(9, kraftLogged(k, 1, 0, []int{1}, nil, nil, 20), kraftLogged(k, -1, 1, []int{}, []int{}, []int{1}, 21),
				kraftLogged(k, 1, 2, []int{1}, nil, nil, 131)).metadataLog(9, kr, true, "")
		}, false, checkers.Valid, map[string]int{checkers.RuleLastKnownLeader: 1}, 0},
		{"kraft: a replica in neither ISR nor ELR nor last known", func(b *builder) {
			b.exact(9, kraftLogged(k, 1, 0, []int{1}, nil, nil, 20), kraftLogged(k, -1, 1, []int{}, []int{}, []int{1}, 21),
				kraftLogged(k, 4, 2, []int{4}, nil, nil, 22)).metadataLog(9, kr, true, "")
		}, false, checkers.Invalid, map[string]int{checkers.RuleUnclean: 1}, 1},
		{"kraft: an ELR member is not eligible while an ISR member stays in the ISR", func(b *builder) {
			b.exact(9, kraftLogged(k, 1, 0, []int{1}, []int{2}, nil, 20), kraftLogged(k, 2, 1, []int{2, 1}, nil, nil, 21)).
				metadataLog(9, kr, true, "")
		}, false, checkers.Invalid, map[string]int{checkers.RuleUnclean: 1}, 1},
		{"kraft: the last ISR member fenced and an ELR member elected in one change (as 4.1.1 writes it)", func(b *builder) {
			b.exact(9, kraftLogged(k, 3, 0, []int{3}, []int{1}, nil, 116), kraftLogged(k, 1, 1, []int{1}, []int{3}, nil, 179)).
				metadataLog(9, kr, true, "")
		}, false, checkers.Valid, map[string]int{checkers.RuleELR: 1}, 0},
		{"kraft: a replica outside the ELR is not eligible when the ISR empties", func(b *builder) {
			b.exact(9, kraftLogged(k, 3, 0, []int{3}, []int{1}, nil, 116), kraftLogged(k, 2, 1, []int{2}, []int{3, 1}, nil, 179)).
				metadataLog(9, kr, true, "")
		}, false, checkers.Invalid, map[string]int{checkers.RuleUnclean: 1}, 1},
		{"kraft: the last known leader elected as the ISR empties", func(b *builder) {
			b.exact(9, kraftLogged(k, -1, 0, []int{2}, nil, []int{1}, 20), kraftLogged(k, 1, 1, []int{1}, nil, nil, 21)).
				metadataLog(9, kr, true, "")
		}, false, checkers.Valid, map[string]int{checkers.RuleLastKnownLeader: 1}, 0},
		{"the log decides what the live observer missed", func(b *builder) {
			// Live: versions 0 then 3, an election unseen; the log has every version.
			b.state(1, k, 1, 0, []int{1, 2}, 0).gap(2, k, 0, 3).state(3, k, 2, 3, []int{2, 1}, 3).
				exact(9, zkLogged(k, 1, 0, []int{1, 2}, 0, 10), zkLogged(k, -1, 1, []int{2}, 1, 11),
					zkLogged(k, 2, 2, []int{2}, 2, 12), zkLogged(k, 2, 3, []int{2, 1}, 3, 13)).
				metadataLog(9, zk, true, "")
		}, false, checkers.Valid, map[string]int{checkers.RuleISR: 1}, 0},
		{"a live state the log lacks: unknown", func(b *builder) {
			b.state(1, k, 1, 0, []int{1, 2}, 0).state(2, k, 2, 1, []int{2}, 1).
				exact(9, zkLogged(k, 1, 0, []int{1, 2}, 0, 10)).metadataLog(9, zk, true, "")
		}, false, checkers.Unknown, map[string]int{}, 0},
		{"a live state the log holds differently: unknown", func(b *builder) {
			b.state(1, k, 1, 0, []int{1, 3}, 0).exact(9, zkLogged(k, 1, 0, []int{1, 2}, 0, 10)).metadataLog(9, zk, true, "")
		}, false, checkers.Unknown, map[string]int{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b builder
			tt.build(&b)
			r := checkers.CheckLeaderElection(analyze(t, b.ops), true, tt.uncleanAllowed)
			require.True(t, r.Exact)
			require.Equal(t, tt.valid, r.Valid, "mismatches %v undecided %v", r.Mismatches, r.Undecided)
			require.Equal(t, tt.rules, r.ElectedBy)
			require.Equal(t, tt.unclean, r.Unclean)
			require.Len(t, r.Cases, tt.unclean)
			for _, c := range r.Cases {
				require.Contains(t, c.Explanation, "unclean election")
			}
		})
	}
}

// TestIncompleteLogLeavesTheLiveObserverToDecide: an incomplete log decides nothing; the live
// observer's verdict stands, and the reason is kept.
func TestIncompleteLogLeavesTheLiveObserverToDecide(t *testing.T) {
	const k = "kchaos/0"
	var b builder
	b.state(1, k, 1, 0, []int{1, 2}, 0).gap(2, k, 0, 3).state(3, k, 2, 3, []int{2, 1}, 3).
		exact(9, zkLogged(k, 1, 0, []int{1, 2}, 0, 10)).
		metadataLog(9, history.SourceZooKeeperLog, false, "zxids 0x11 to 0x12 missing")
	r := checkers.CheckLeaderElection(analyze(t, b.ops), true, false)
	require.False(t, r.Exact)
	require.Equal(t, checkers.Unknown, r.Valid)
	require.Contains(t, r.LogIncomplete, "zxids 0x11 to 0x12 missing")
}

func TestCompleteLogWithoutAPartitionTheClientsUsed(t *testing.T) {
	var b builder
	b.send(1, 2, 0, "kchaos/1", 0, 7).exact(9, zkLogged("kchaos/0", 1, 0, []int{1}, 0, 10)).
		metadataLog(9, history.SourceZooKeeperLog, true, "")
	r := checkers.CheckLeaderElection(analyze(t, b.ops), true, false)
	require.Equal(t, checkers.Unknown, r.Valid)
	require.Len(t, r.Undecided, 1)
	require.Equal(t, "kchaos/1", r.Undecided[0].Key)
}
