package broker

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker/kraftlog"
	"github.com/kchaos/kchaos/history"
)

// copyDir copies the captured metadata directory of one controller (kraftlog's testdata) into a
// temporary one a test may damage.
func copyDir(t *testing.T, node string) string {
	t.Helper()
	src := filepath.Join("kraftlog", "testdata", node)
	dst := filepath.Join(t.TempDir(), node)
	require.NoError(t, os.MkdirAll(dst, 0o755))
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644))
	}
	return dst
}

func capturedDirs(t *testing.T, nodes ...string) map[string]*kraftlog.Dir {
	t.Helper()
	dirs := map[string]*kraftlog.Dir{}
	for _, n := range nodes {
		d, err := decodeMetadataDir(copyDir(t, n))
		require.NoError(t, err)
		dirs[n] = d
	}
	return dirs
}

// The captured 4.1.1 cluster's logs (see kraftlog/testdata/README.md) read as observer lines.
func TestKRaftHistoryOfCapturedLogs(t *testing.T) {
	dirs := capturedDirs(t, "n1", "n2", "n3")
	runStart := time.UnixMilli(dirs["n1"].Log.Records[0].TimeMs)
	ml := history.MetadataLog{Source: history.SourceKRaftLog, ClockOffset: -runStart.UnixNano()}
	ops, err := kraftHistory(dirs, 3, nil, ml)
	require.NoError(t, err)
	got, err := ops[len(ops)-1].MetadataLog()
	require.NoError(t, err)
	require.True(t, got.Complete, got.Reason)
	require.Equal(t, []string{"n1", "n2", "n3"}, got.Nodes)
	require.Equal(t, int64(0), got.First)
	require.Equal(t, dirs["n1"].Log.NextOffset-1, got.Last)
	level, ok := got.ELRLevel()
	require.True(t, ok)
	require.Equal(t, 1, level, "a new 4.1 cluster finalizes eligible leader replicas")
	// As kafka-features describe said of that cluster (testdata/features.txt).
	require.Equal(t, 2, got.Features["transaction.version"])
	require.Equal(t, 1, got.Features["group.version"])
	require.Zero(t, got.Features["share.version"])

	var elr []history.PartitionState
	var controllers []history.Controller
	var broker5 []history.BrokerState
	states := 0
	last := int64(-1)
	for _, op := range ops[:len(ops)-1] {
		switch op.F {
		case history.FPartitionState:
			s, err := op.PartitionState()
			require.NoError(t, err)
			require.GreaterOrEqual(t, s.MetadataOffset, last)
			last = s.MetadataOffset
			states++
			if s.Key == "elr/0" {
				elr = append(elr, s)
			}
		case history.FController:
			c, err := op.Controller()
			require.NoError(t, err)
			controllers = append(controllers, c)
		case history.FBrokerState:
			b, err := op.BrokerState()
			require.NoError(t, err)
			if b.Broker == 5 {
				broker5 = append(broker5, b)
			}
		}
	}
	require.Equal(t, got.States, states)
	// The same states as kraftlog's ExampleFold, as history lines.
	want := []struct {
		offset              int64
		leader, epoch       int
		isr, elr, lastKnown []int
	}{
		{87, 4, 0, []int{4, 5, 1}, nil, nil},
		{93, 5, 1, []int{5, 1}, nil, nil},
		{103, 1, 2, []int{1}, []int{5}, nil},
		{109, -1, 3, []int{}, []int{1, 5}, []int{1}},
		{117, -1, 3, []int{}, []int{5}, []int{1}},
		{131, 1, 4, []int{1}, nil, nil},
	}
	require.GreaterOrEqual(t, len(elr), len(want))
	for i, w := range want {
		s := elr[i]
		require.Equal(t, w.offset, s.MetadataOffset, "state %d", i)
		require.Equal(t, w.leader, s.Leader, "state %d", i)
		require.Equal(t, w.epoch, s.LeaderEpoch, "state %d", i)
		require.Equal(t, w.isr, s.ISR, "state %d", i)
		require.Equal(t, w.elr, s.ELR, "state %d", i)
		require.Equal(t, w.lastKnown, s.LastKnownELR, "state %d", i)
		require.Equal(t, history.SourceKRaftLog, s.Source)
		require.Equal(t, i, s.PartitionEpoch)
		require.Positive(t, s.LogTime, "after the first record, on the history's clock")
	}
	require.Equal(t, history.Controller{Broker: 3, Epoch: 2, Source: history.SourceKRaftLog}, controllers[0])
	i := slices.IndexFunc(controllers, func(c history.Controller) bool { return c.MetadataOffset == 158 })
	require.GreaterOrEqual(t, i, 0, "the LeaderChange after the kill of controller 3")
	require.Equal(t, 2, controllers[i].Broker)
	require.Equal(t, 3, controllers[i].Epoch)
	require.False(t, broker5[len(broker5)-1].Registered, "broker 5 was unregistered")
	require.Equal(t, int64(219), broker5[len(broker5)-1].MetadataOffset)
}

// A copy cut inside a batch (a controller appending while it was copied) ends the log there; the
// other controllers, a majority, still reach further, and the history is complete.
func TestKRaftHistoryAcceptsATornTailAMajorityCovers(t *testing.T) {
	dirs := capturedDirs(t, "n1", "n3")
	torn := copyDir(t, "n2")
	seg := filepath.Join(torn, "00000000000000000000.log")
	data, err := os.ReadFile(seg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(seg, data[:len(data)-40], 0o644))
	d, err := decodeMetadataDir(torn)
	require.NoError(t, err, "a torn tail is not an error")
	require.Less(t, d.Log.NextOffset, dirs["n1"].Log.NextOffset)
	dirs["n2"] = d

	ops, err := kraftHistory(dirs, 3, nil, history.MetadataLog{Source: history.SourceKRaftLog})
	require.NoError(t, err)
	ml, err := ops[len(ops)-1].MetadataLog()
	require.NoError(t, err)
	require.True(t, ml.Complete, ml.Reason)
	require.Equal(t, dirs["n1"].Log.NextOffset-1, ml.Last, "n1 and n3, a majority, hold the whole log")
}

// Damage other than a torn tail, and a minority of logs, make the history incomplete, saying why.
func TestKRaftHistoryIncomplete(t *testing.T) {
	t.Run("a corrupt batch", func(t *testing.T) {
		dirs := capturedDirs(t, "n1", "n3")
		bad := copyDir(t, "n2")
		seg := filepath.Join(bad, "00000000000000000000.log")
		data, err := os.ReadFile(seg)
		require.NoError(t, err)
		data[len(data)/2] ^= 0xff
		require.NoError(t, os.WriteFile(seg, data, 0o644))
		d, err := decodeMetadataDir(bad)
		require.ErrorIs(t, err, kraftlog.ErrCRC)
		dirs["n2"] = d
		ops, err := kraftHistory(dirs, 3, []string{"n2: " + err.Error()}, history.MetadataLog{Source: history.SourceKRaftLog})
		require.NoError(t, err, "a majority still reads the whole log")
		ml, err := ops[len(ops)-1].MetadataLog()
		require.NoError(t, err)
		require.False(t, ml.Complete)
		require.Contains(t, ml.Reason, "CRC")
		require.Greater(t, ml.States, 0, "the states a majority holds are still there")
	})
	t.Run("a minority of logs", func(t *testing.T) {
		dirs := capturedDirs(t, "n1")
		ops, err := kraftHistory(dirs, 3, []string{"n2: gone", "n3: gone"}, history.MetadataLog{Source: history.SourceKRaftLog})
		require.Error(t, err)
		require.Len(t, ops, 1)
		ml, err := ops[0].MetadataLog()
		require.NoError(t, err)
		require.False(t, ml.Complete)
		require.Contains(t, ml.Reason, "1 of 3 controllers' logs read, a majority needs 2")
	})
}
