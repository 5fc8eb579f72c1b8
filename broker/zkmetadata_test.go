package broker

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker/zklog"
	"github.com/kchaos/kchaos/history"
)

// TestZooKeeperMetadataLines turns the transaction log captured from a real run (a partition
// leader SIGKILLed and restarted, see zklog/testdata/killrestart) into history lines.
func TestZooKeeperMetadataLines(t *testing.T) {
	d, err := zklog.ReadDir(os.DirFS("zklog/testdata/killrestart"))
	require.NoError(t, err)
	h, err := d.Replay()
	require.NoError(t, err)
	require.NotEmpty(t, h.Changes)
	start := time.UnixMilli(h.Changes[0].Time)
	lines := ZooKeeperMetadataLines(h, []string{"zk1"}, start)
	require.NotEmpty(t, lines)

	last := lines[len(lines)-1]
	meta, err := last.MetadataLog()
	require.NoError(t, err)
	require.True(t, meta.Complete, meta.Reason)
	require.Equal(t, history.SourceZooKeeperLog, meta.Source)
	require.Equal(t, -start.UnixNano(), meta.ClockOffset)

	// t/0's versions, as TxnLogToolkit printed them: leader 2 ISR [2,3,1], then leader 3 ISR
	// [3,1] after the kill, then [3,1,2] after the restart.
	var t0 []history.PartitionState
	var brokers []history.BrokerState
	var controllers []history.Controller
	for i := range lines[:len(lines)-1] {
		op := &lines[i]
		// Every line reads back as the history reads it.
		back, err := history.ParseLine(history.AppendJSON(nil, op))
		require.NoError(t, err)
		switch op.F {
		case history.FPartitionState:
			s, err := back.PartitionState()
			require.NoError(t, err)
			require.True(t, s.Exact())
			require.GreaterOrEqual(t, s.LogTime, int64(0))
			if s.Key == "t/0" {
				t0 = append(t0, s)
			}
		case history.FBrokerState:
			b, err := back.BrokerState()
			require.NoError(t, err)
			brokers = append(brokers, b)
		case history.FController:
			c, err := back.Controller()
			require.NoError(t, err)
			controllers = append(controllers, c)
		}
	}
	require.Len(t, t0, 3)
	for i, want := range []struct {
		zxid    int64
		leader  int
		isr     []int
		version int
	}{{0x48, 2, []int{2, 3, 1}, 0}, {0x4f, 3, []int{3, 1}, 1}, {0x6a, 3, []int{3, 1, 2}, 2}} {
		require.Equal(t, want.zxid, t0[i].Zxid)
		require.Equal(t, want.leader, t0[i].Leader)
		require.Equal(t, want.isr, t0[i].ISR)
		require.Equal(t, want.version, t0[i].ZkVersion)
	}
	require.Equal(t, countStates(lines), meta.States)
	// Broker 2's registration: created, ended with its session, created again.
	var b2 []bool
	for _, b := range brokers {
		if b.Broker == 2 {
			b2 = append(b2, b.Registered)
		}
	}
	require.Equal(t, []bool{true, false, true}, b2)
	require.NotEmpty(t, controllers)
	require.GreaterOrEqual(t, controllers[0].Epoch, 1, "the controller epoch written after /controller")
}

func countStates(lines []history.Op) int {
	n := 0
	for i := range lines {
		if lines[i].F == history.FPartitionState {
			n++
		}
	}
	return n
}

func TestZooKeeperMetadataLinesIncomplete(t *testing.T) {
	d, err := zklog.ReadDir(os.DirFS("zklog/testdata/killrestart"))
	require.NoError(t, err)
	h, err := d.Replay()
	require.NoError(t, err)
	h.Missing = []zklog.ZxidRange{{First: 0x50, Last: 0x51}}
	lines := ZooKeeperMetadataLines(h, []string{"zk1"}, time.Now())
	meta, err := lines[len(lines)-1].MetadataLog()
	require.NoError(t, err)
	require.False(t, meta.Complete)
	require.NotEmpty(t, meta.Reason)
}
