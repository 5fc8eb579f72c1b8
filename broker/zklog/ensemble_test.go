package zklog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// ensemble reads the replayed history of each server of the captured 3-server ensemble.
func ensemble(t *testing.T) map[string]*History {
	t.Helper()
	servers := map[string]*History{}
	for _, zk := range []string{"zk1", "zk2", "zk3"} {
		d, err := ReadDir(os.DirFS(filepath.Join("testdata/ensemble", zk)))
		require.NoError(t, err)
		h, err := d.Replay()
		require.NoError(t, err)
		servers[zk] = h
	}
	return servers
}

// TestEnsembleCapture checks the histories of a real 3-server ensemble whose leader, zk2, was
// killed (epoch 1 ends at 0x100000051, zk3 leads epoch 2), then restarted: it caught up with the
// new leader and logged epoch 2 in a new file. Each server's history is complete and all three
// hold the same transactions.
func TestEnsembleCapture(t *testing.T) {
	servers := ensemble(t)
	for name, h := range servers {
		require.True(t, h.Complete(), "%s misses %v", name, h.Missing)
		require.Empty(t, h.Torn, name)
		require.EqualValues(t, 0, h.Snapshot, "%s replays from its first, empty snapshot", name)
		require.EqualValues(t, 0x20000004b, h.Last(), name)
	}
	require.Equal(t, servers["zk1"].Txns, servers["zk3"].Txns)
	require.Equal(t, len(servers["zk1"].Txns), len(servers["zk2"].Txns))
	for i, t1 := range servers["zk1"].Txns {
		require.True(t, sameTxn(t1, servers["zk2"].Txns[i]), "txn %#x", t1.Zxid)
	}

	merged, err := Merge(servers)
	require.NoError(t, err)
	require.True(t, merged.Complete())
	require.Equal(t, servers["zk1"].Changes, merged.Changes)

	// Epoch 1 ends where zk2 died; epoch 2 starts at counter 1.
	var epochs []int64
	for i, x := range merged.Txns {
		if i == 0 || Epoch(x.Zxid) != Epoch(merged.Txns[i-1].Zxid) {
			epochs = append(epochs, x.Zxid)
		}
	}
	require.Equal(t, []int64{0x100000001, 0x200000001}, epochs)

	kc, err := KafkaChanges(merged.Changes)
	require.NoError(t, err)
	type version struct {
		zxid    int64
		leader  int
		isr     []int
		version int32
	}
	var got []version
	for _, c := range kc {
		if c.Key == "e/0" {
			got = append(got, version{c.Zxid, c.State.Leader, c.State.ISR, c.Version})
		}
	}
	// As capture.txt's Describe calls and the toolkit saw them: broker 1 killed, back in the ISR.
	require.Equal(t, []version{
		{0x10000004d, 1, []int{1, 2, 3}, 0},
		{0x200000031, 2, []int{2, 3}, 1},
		{0x200000049, 2, []int{2, 3, 1}, 2},
	}, got)
}

// TestEnsembleFromLaterSnapshot replays zk3's log on the snapshot zk3 took when it followed the
// first leader (snapshot.100000051): the changes after it are those of the full history.
func TestEnsembleFromLaterSnapshot(t *testing.T) {
	d, err := ReadDir(os.DirFS("testdata/ensemble/zk3"))
	require.NoError(t, err)
	require.Len(t, d.Snapshots, 2)
	snap := d.Snapshots[1]
	require.EqualValues(t, 0x100000051, snap.Zxid)
	full, err := d.Replay()
	require.NoError(t, err)
	late, err := Replay(snap, full.Txns)
	require.NoError(t, err)
	var after []Change
	for _, c := range full.Changes {
		if c.Zxid > snap.Zxid {
			after = append(after, c)
		}
	}
	require.Equal(t, after, late)
}

// TestEnsembleMissingServerLog drops zk2's epoch 1 log: zk2 alone misses all of epoch 1 (how
// many transactions it had is unknown), the ensemble misses nothing.
func TestEnsembleMissingServerLog(t *testing.T) {
	d, err := ReadDir(os.DirFS("testdata/ensemble/zk2"))
	require.NoError(t, err)
	d.Logs = d.Logs[1:]
	h, err := d.Replay()
	require.NoError(t, err)
	require.Equal(t, []ZxidRange{{0x100000001, 0x1ffffffff}}, h.Missing)

	servers := ensemble(t)
	servers["zk2"] = h
	merged, err := Merge(servers)
	require.NoError(t, err)
	require.True(t, merged.Complete())
	require.Equal(t, servers["zk1"].Txns, merged.Txns)
}
