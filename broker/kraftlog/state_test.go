package kraftlog_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker/kraftlog"
)

// partitionStep is the part of a PartitionState the sequence tests pin.
type partitionStep struct {
	Offset                      int64
	Leader                      int32
	LeaderEpoch, PartitionEpoch int32
	ISR, ELR, LastKnownELR      []int32
	LeaderRecoveryState         int8
	Deleted                     bool
}

func steps(states []kraftlog.PartitionState) []partitionStep {
	var out []partitionStep
	for _, s := range states {
		out = append(out, partitionStep{s.Offset, s.Leader, s.LeaderEpoch, s.PartitionEpoch, s.ISR, s.ELR, s.LastKnownELR, s.LeaderRecoveryState, s.Deleted})
	}
	return out
}

func decodeLog(t testing.TB, path string) *kraftlog.Log {
	t.Helper()
	l, err := kraftlog.ReadSegmentFile(path)
	require.NoError(t, err)
	return l
}

// TestPartitionsSequence pins every state two partitions went through, as DumpLogSegments
// shows their records (testdata/dump-n1-log.txt): leader and ISR changes after kills, ELR set
// when the ISR fell below min.insync.replicas, the empty ISR with last known ELR [1], the
// election of the last known leader with leader recovery state 1, and the topic's deletion.
// Leader epochs rise only with a leader field; partition epochs with every change.
func TestPartitionsSequence(t *testing.T) {
	e := []int32{}
	tests := []struct {
		key  string
		want []partitionStep
	}{
		{"elr/0", []partitionStep{
			{87, 4, 0, 0, []int32{4, 5, 1}, e, e, 0, false},
			{93, 5, 1, 1, []int32{5, 1}, e, e, 0, false},
			{103, 1, 2, 2, []int32{1}, []int32{5}, e, 0, false},
			{109, -1, 3, 3, e, []int32{1, 5}, []int32{1}, 0, false},
			{117, -1, 3, 4, e, []int32{5}, []int32{1}, 0, false},
			{131, 1, 4, 5, []int32{1}, e, e, 1, false},
			{134, 1, 4, 6, []int32{1, 5}, e, e, 0, false},
			{145, 1, 4, 7, []int32{1, 5, 4}, e, e, 0, false},
			{151, 1, 4, 8, []int32{1, 4}, e, e, 0, false},
			{168, 1, 4, 9, []int32{1, 4, 5}, e, e, 0, false},
			{210, 1, 4, 9, []int32{1, 4, 5}, e, e, 0, true},
		}},
		{"kchaos/0", []partitionStep{
			{28, 4, 0, 0, []int32{4, 1, 2}, e, e, 0, false},
			{35, 1, 1, 1, []int32{1, 2}, e, e, 0, false},
			{43, 2, 2, 2, []int32{2}, []int32{1}, e, 0, false},
			{54, 2, 2, 3, []int32{2}, e, e, 0, false},
			{58, 2, 2, 4, []int32{2, 1}, e, e, 0, false},
			{76, 2, 2, 5, []int32{2, 1, 4}, e, e, 0, false},
			{94, 2, 2, 6, []int32{2, 1}, e, e, 0, false},
			{110, 2, 2, 7, []int32{2}, []int32{1}, e, 0, false},
			{118, 2, 2, 8, []int32{2}, e, e, 0, false},
			{123, 2, 2, 9, []int32{2, 1}, e, e, 0, false},
			{144, 2, 2, 10, []int32{2, 1, 4}, e, e, 0, false},
		}},
	}
	l := decodeLog(t, logN1)
	parts, err := kraftlog.Partitions(l.Records)
	require.NoError(t, err)
	require.Len(t, parts, 3)
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			require.Equal(t, tt.want, steps(parts[tt.key]))
			for _, s := range parts[tt.key] {
				require.Equal(t, l.Records[s.Offset].TimeMs, s.TimeMs)
				require.False(t, s.FromSnapshot)
			}
		})
	}
}

// TestFoldBrokersAndControllers pins broker 5's registrations (registered fenced, unfenced,
// fenced by its kill, registered again, cleanly stopped, unregistered) and every active
// controller the LeaderChange records name, with their KRaft epochs.
func TestFoldBrokersAndControllers(t *testing.T) {
	m, err := kraftlog.Fold(nil, decodeLog(t, logN1).Records)
	require.NoError(t, err)

	type brokerStep struct {
		Offset                         int64
		Epoch                          int64
		Registered, Fenced, InShutdown bool
	}
	var got []brokerStep
	for _, s := range m.Brokers[5] {
		got = append(got, brokerStep{s.Offset, s.BrokerEpoch, s.Registered, s.Fenced, s.InControlledShutdown})
	}
	require.Equal(t, []brokerStep{
		{80, 80, true, true, false},
		{81, 80, true, false, false},
		{104, 80, true, true, false},
		{132, 131, true, true, false},
		{133, 131, true, false, false},
		{152, 131, true, true, false},
		{155, 131, true, true, false},
		{165, 165, true, true, false},
		{167, 165, true, false, false},
		{211, 165, true, true, false},
		{214, 165, true, true, false},
		{219, 165, false, true, false},
	}, got)
	require.Len(t, m.Brokers, 5)

	type controllerStep struct {
		Offset         int64
		Epoch, Leader  int32
		GrantingVoters []int32
	}
	var ctrl []controllerStep
	for _, c := range m.Controllers {
		require.Equal(t, []int32{1, 2, 3}, c.Voters)
		ctrl = append(ctrl, controllerStep{c.Offset, c.Epoch, c.Leader, c.GrantingVoters})
	}
	require.Equal(t, []controllerStep{
		{0, 2, 3, []int32{1, 3}},
		{158, 3, 2, []int32{1, 2}},
		{191, 4, 1, []int32{1, 2}},
		{193, 6, 1, []int32{1, 2}},
		{227, 7, 3, []int32{2, 3}},
		{229, 8, 2, []int32{2, 3}},
		{230, 10, 3, []int32{1, 3}},
		{231, 11, 2, []int32{2, 3}},
	}, ctrl)
	require.Equal(t, map[string]int16{
		"metadata.version":                 27, // 4.1-IV1
		"eligible.leader.replicas.version": 1,
		"group.version":                    1,
		"transaction.version":              2,
	}, m.Features)
	require.Equal(t, int64(232), m.NextOffset)
}

// final keeps each partition's last state and each broker's last registration, without the
// positions, to compare states reached by different routes.
func final(m *kraftlog.Metadata) (map[string]kraftlog.PartitionState, map[int32]kraftlog.BrokerState) {
	parts := map[string]kraftlog.PartitionState{}
	for key, states := range m.Partitions {
		s := states[len(states)-1]
		if s.Deleted {
			continue
		}
		s.Offset, s.TimeMs, s.FromSnapshot = 0, 0, false
		parts[key] = s
	}
	brokers := map[int32]kraftlog.BrokerState{}
	for id, states := range m.Brokers {
		s := states[len(states)-1]
		if !s.Registered {
			continue
		}
		s.Offset, s.TimeMs, s.FromSnapshot = 0, 0, false
		brokers[id] = s
	}
	return parts, brokers
}

// TestFoldSnapshotAgreesWithReplay checks the replay's semantics against Kafka's own: the state
// Kafka wrote into each snapshot equals the state Fold reaches by replaying the log up to it,
// and starting from a snapshot and replaying the rest of the log reaches the same end.
func TestFoldSnapshotAgreesWithReplay(t *testing.T) {
	records := decodeLog(t, logN1).Records
	tests := []struct {
		name     string
		snapshot string
	}{
		{"n1 at 232", snapshotN1},
		{"n2 at 227", "testdata/n2/00000000000000000227-0000000006.checkpoint"},
		{"n3 at 227", "testdata/n3/00000000000000000227-0000000006.checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := kraftlog.ReadSnapshotFile(tt.snapshot)
			require.NoError(t, err)

			fromSnap, err := kraftlog.Fold(snap, nil)
			require.NoError(t, err)
			replayed, err := kraftlog.Fold(nil, records[:snap.EndOffset])
			require.NoError(t, err)
			sp, sb := final(fromSnap)
			rp, rb := final(replayed)
			require.Equal(t, rp, sp)
			require.Equal(t, rb, sb)
			for _, states := range fromSnap.Partitions {
				require.Len(t, states, 1)
				require.True(t, states[0].FromSnapshot)
				require.Equal(t, snap.EndOffset-1, states[0].Offset)
				require.Equal(t, snap.LastContainedLogTimeMs, states[0].TimeMs)
			}

			continued, err := kraftlog.Fold(snap, records)
			require.NoError(t, err)
			full, err := kraftlog.Fold(nil, records)
			require.NoError(t, err)
			cp, cb := final(continued)
			fp, fb := final(full)
			require.Equal(t, fp, cp)
			require.Equal(t, fb, cb)
			require.Equal(t, int64(232), continued.NextOffset)
		})
	}
}

// Synthetic records for the rules the captured log does not exercise.
var (
	topicA = kraftlog.UUID{1}
	topicB = kraftlog.UUID{2}
)

func rec(off int64, msg any) kraftlog.Record {
	return kraftlog.Record{Offset: off, TimeMs: 1000 + off, Message: msg}
}

// TestFoldRules covers ClearElrRecord (one topic, all topics), the pre-3.3 fence and unfence
// records, and what Fold refuses: gaps, changes to what was never created, broker epochs that
// do not match, undecodable state-bearing records.
func TestFoldRules(t *testing.T) {
	base := []kraftlog.Record{
		rec(0, &kraftlog.TopicRecord{Name: "a", TopicID: topicA}),
		rec(1, &kraftlog.TopicRecord{Name: "b", TopicID: topicB}),
		rec(2, &kraftlog.PartitionRecord{TopicID: topicA, Replicas: []int32{1, 2, 3}, ISR: []int32{1}, Leader: 1, ELR: []int32{2}}),
		rec(3, &kraftlog.PartitionRecord{TopicID: topicB, Replicas: []int32{1, 2, 3}, ISR: []int32{1}, Leader: 1, LastKnownELR: []int32{3}}),
		rec(4, &kraftlog.RegisterBrokerRecord{BrokerID: 1, BrokerEpoch: 4, Fenced: true}),
	}
	with := func(more ...kraftlog.Record) []kraftlog.Record {
		return append(append([]kraftlog.Record{}, base...), more...)
	}
	tests := []struct {
		name    string
		records []kraftlog.Record
		check   func(t *testing.T, m *kraftlog.Metadata)
		err     error
	}{
		{"clear ELR of one topic", with(rec(5, &kraftlog.ClearElrRecord{TopicName: "a"})), func(t *testing.T, m *kraftlog.Metadata) {
			require.Len(t, m.Partitions["a/0"], 2)
			last := m.Partitions["a/0"][1]
			require.Equal(t, int64(5), last.Offset)
			require.Empty(t, last.ELR)
			require.Equal(t, int32(1), last.PartitionEpoch)
			require.Len(t, m.Partitions["b/0"], 1)
		}, nil},
		{"clear ELR of all topics", with(rec(5, &kraftlog.ClearElrRecord{})), func(t *testing.T, m *kraftlog.Metadata) {
			require.Len(t, m.Partitions["a/0"], 2)
			require.Len(t, m.Partitions["b/0"], 2)
			require.Empty(t, m.Partitions["b/0"][1].LastKnownELR)
		}, nil},
		{"fence and unfence", with(
			rec(5, &kraftlog.UnfenceBrokerRecord{ID: 1, Epoch: 4}),
			rec(6, &kraftlog.FenceBrokerRecord{ID: 1, Epoch: 4}),
		), func(t *testing.T, m *kraftlog.Metadata) {
			var fenced []bool
			for _, s := range m.Brokers[1] {
				fenced = append(fenced, s.Fenced)
			}
			require.Equal(t, []bool{true, false, true}, fenced)
		}, nil},
		{"no leader change keeps leader and epoch", with(
			rec(5, &kraftlog.PartitionChangeRecord{TopicID: topicA, Leader: kraftlog.NoLeaderChange, LeaderRecoveryState: -1, ISR: []int32{}}),
			rec(6, &kraftlog.PartitionChangeRecord{TopicID: topicA, Leader: kraftlog.NoLeader, LeaderRecoveryState: -1}),
		), func(t *testing.T, m *kraftlog.Metadata) {
			s := m.Partitions["a/0"]
			require.Equal(t, int32(1), s[1].Leader)
			require.Equal(t, int32(0), s[1].LeaderEpoch)
			require.Empty(t, s[1].ISR)
			require.Equal(t, []int32{2}, s[1].ELR)
			require.Equal(t, kraftlog.NoLeader, s[2].Leader)
			require.Equal(t, int32(1), s[2].LeaderEpoch)
			require.Equal(t, int32(2), s[2].PartitionEpoch)
		}, nil},
		{"gap", with(rec(6, &kraftlog.NoOpRecord{})), nil, kraftlog.ErrGap},
		{"log not from offset 0", []kraftlog.Record{rec(1, &kraftlog.NoOpRecord{})}, nil, kraftlog.ErrGap},
		{"change to an unknown partition", with(rec(5, &kraftlog.PartitionChangeRecord{TopicID: topicA, PartitionID: 7, Leader: kraftlog.NoLeaderChange})), nil, kraftlog.ErrInconsistent},
		{"partition of an unknown topic", with(rec(5, &kraftlog.PartitionRecord{TopicID: kraftlog.UUID{9}})), nil, kraftlog.ErrInconsistent},
		{"clear ELR of an unknown topic", with(rec(5, &kraftlog.ClearElrRecord{TopicName: "zz"})), nil, kraftlog.ErrInconsistent},
		{"removal of an unknown topic", with(rec(5, &kraftlog.RemoveTopicRecord{TopicID: kraftlog.UUID{9}})), nil, kraftlog.ErrInconsistent},
		{"fence with a stale broker epoch", with(rec(5, &kraftlog.BrokerRegistrationChangeRecord{BrokerID: 1, BrokerEpoch: 3, Fenced: 1})), nil, kraftlog.ErrInconsistent},
		{"unfence an unregistered broker", with(rec(5, &kraftlog.UnfenceBrokerRecord{ID: 2, Epoch: 1})), nil, kraftlog.ErrInconsistent},
		{"undecodable partition change", with(kraftlog.Record{Offset: 5, Type: kraftlog.TypePartitionChange, Err: errors.New("version 9")}), nil, kraftlog.ErrInconsistent},
		{"undecodable config is only skipped", with(kraftlog.Record{Offset: 5, Type: kraftlog.TypeConfig, Err: errors.New("version 9")}), func(t *testing.T, m *kraftlog.Metadata) {
			require.Equal(t, int64(6), m.NextOffset)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := kraftlog.Fold(nil, tt.records)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			tt.check(t, m)
		})
	}
}
