package checkers_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

func check(t *testing.T, name string) *checkers.Result {
	t.Helper()
	ops, err := history.ReadFile(filepath.Join("testdata", name+".jsonl"))
	require.NoError(t, err)
	r, err := checkers.Check(ops, checkers.Options{})
	require.NoError(t, err)
	return r
}

// Every anomaly type has a history that must produce it, and a close variant that must not.
func TestHistories(t *testing.T) {
	const (
		valid   = checkers.Valid
		invalid = checkers.Invalid
		unknown = checkers.Unknown
	)
	tests := []struct {
		file  string
		valid checkers.Validity
		types []string
	}{
		{"lost-write", invalid, []string{"lost-write", "unseen"}},
		{"lost-write-ok", valid, nil},
		{"unseen", invalid, []string{"unseen"}},
		{"unseen-ok", valid, nil},
		// Final reads that read the whole log know what it lost, even what a poll read before.
		{"lost-after-read", invalid, []string{"inconsistent-offsets", "lost-write", "not-linearizable"}},
		{"lost-after-read-ok", valid, nil},
		{"lost-final-truncated", invalid, []string{"lost-write"}},
		{"unseen-final-incomplete", unknown, []string{"unseen"}},
		// Every value was read, but the run was interrupted before its final reads: a later
		// truncation cannot be ruled out.
		{"final-reads-skipped", unknown, nil},
		{"duplicate", invalid, []string{"duplicate", "not-linearizable"}},
		{"duplicate-ok", valid, nil},
		{"inconsistent-offsets", invalid, []string{"inconsistent-offsets", "not-linearizable"}},
		{"inconsistent-offsets-ok", valid, nil},
		{"G1a", invalid, []string{"G1a", "not-linearizable"}},
		{"G1a-ok", valid, nil},
		{"poll-skip", invalid, []string{"poll-skip"}},
		{"poll-skip-reassigned", valid, nil},
		{"poll-skip-kept", invalid, []string{"poll-skip"}},
		{"poll-skip-subscribed", valid, []string{"poll-skip"}},
		{"nonmonotonic-poll", invalid, []string{"nonmonotonic-poll"}},
		{"nonmonotonic-poll-ok", valid, nil},
		{"nonmonotonic-send", invalid, []string{"nonmonotonic-send", "not-linearizable"}},
		{"nonmonotonic-send-ok", valid, nil},
		{"int-poll-skip", invalid, []string{"int-poll-skip"}},
		{"int-poll-skip-ok", valid, nil},
		{"int-nonmonotonic-poll", invalid, []string{"int-nonmonotonic-poll"}},
		{"int-nonmonotonic-poll-ok", valid, nil},
		{"int-send-skip", valid, []string{"int-send-skip"}},
		{"int-send-skip-ok", valid, nil},
		{"int-nonmonotonic-send", invalid, []string{"int-nonmonotonic-send"}},
		{"int-nonmonotonic-send-ok", valid, nil},
		{"not-linearizable", invalid, []string{"not-linearizable"}},
		{"not-linearizable-ok", valid, nil},
		{"future-read", invalid, []string{"not-linearizable"}},
		{"future-read-ok", valid, nil},
		{"info-future-read", invalid, []string{"not-linearizable"}},
		{"info-future-read-ok", valid, nil},
		{"unclean-leader-election", invalid, []string{"unclean-leader-election"}},
		{"unclean-leader-election-ok", valid, nil},
		{"unclean-leader-election-gap", unknown, nil},
		{"unclean-story", invalid, []string{"inconsistent-offsets", "lost-write", "not-linearizable", "unclean-leader-election", "unseen"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := check(t, tt.file)
			if tt.types == nil {
				tt.types = []string{}
			}
			require.Equal(t, tt.types, r.AnomalyTypes)
			require.Equal(t, tt.valid, r.Valid, "%s", mustJSON(t, r))
			for _, name := range tt.types {
				require.NotEmpty(t, r.Anomalies[name])
				for _, entry := range r.Anomalies[name] {
					// Every entry says in words what happened.
					require.NotEmpty(t, mustField(t, entry, "explanation"), "%s", name)
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	require.NoError(t, err)
	return string(b)
}

func mustField(t *testing.T, v any, field string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(mustJSON(t, v)), &m))
	s, _ := m[field].(string)
	return s
}

// A write that a poll read and that a complete final read no longer holds is lost, and its entry
// says so; with incomplete final reads the same history can only be unknown.
func TestLostFromTheFinalLog(t *testing.T) {
	r := check(t, "lost-after-read")
	lost := r.Queue.LostWrites
	require.Len(t, lost, 1)
	require.True(t, lost[0].AbsentFromFinalReads)
	require.Equal(t, int32(1), lost[0].ReadBefore)
	require.Contains(t, lost[0].Explanation, "1 ok poll(s) read it, but the final reads")

	u := check(t, "unseen-final-incomplete")
	require.Len(t, u.Queue.Unseen, 1)
	require.True(t, u.Queue.Unseen[0].FinalReadsIncomplete)
	require.Empty(t, u.Queue.LostWrites)
}

// The history of a kchaos run that was killed before its final reads has no final-read line: told
// that final reads were expected, the checker cannot call it valid.
func TestExpectedFinalReadsMissing(t *testing.T) {
	ops, err := history.ReadFile(filepath.Join("testdata", "unseen-ok.jsonl"))
	require.NoError(t, err)
	r, err := checkers.Check(ops, checkers.Options{})
	require.NoError(t, err)
	require.Equal(t, checkers.Valid, r.Valid)
	r, err = checkers.Check(ops, checkers.Options{ExpectFinalReads: true})
	require.NoError(t, err)
	require.Equal(t, checkers.Unknown, r.Valid)
	require.Equal(t, []string{"kchaos/0"}, r.Queue.FinalReadsIncomplete)
}

// A lost write whose every replica (the ISR at its acknowledgement) then went through a power loss
// on faultfs says so, with what each dropped; when the power loss spared a replica, it does not.
func TestLostWriteNamesThePowerLossThatDroppedIt(t *testing.T) {
	r := check(t, "lost-power-loss")
	require.Len(t, r.Queue.LostWrites, 1)
	lw := r.Queue.LostWrites[0]
	require.Equal(t, &checkers.CrashRef{Fault: "power-loss", Index: 13, Time: 12500000, Replicas: []checkers.DroppedReplica{
		{Node: "n1", DroppedBytes: 4096}, {Node: "n2", DroppedBytes: 4096}, {Node: "n3", DroppedBytes: 4096}}}, lw.Crash)
	require.Contains(t, lw.Explanation, "Every replica in that ISR (n1, n2, n3) then went through the power-loss at 0.013s (op 13)")
	require.Contains(t, lw.Explanation, "acknowledged, never fsynced, lost in the power-loss.")

	spared := check(t, "lost-power-loss-minority")
	require.Len(t, spared.Queue.LostWrites, 1)
	require.Nil(t, spared.Queue.LostWrites[0].Crash, "n3 kept its copy: the power loss does not explain the loss")
	require.NotContains(t, spared.Queue.LostWrites[0].Explanation, "power-loss")
}
