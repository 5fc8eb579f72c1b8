package zklog

import (
	"bytes"
	"compress/gzip"
	"os"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
)

// txnsOf reads the transactions of a log built from txn bytes.
func txnsOf(t *testing.T, txns ...enc) []Txn {
	t.Helper()
	entries := make([]enc, len(txns))
	for i, x := range txns {
		entries[i] = entry(x)
	}
	out, err := ReadLog(bytes.NewReader(logFile(entries...)))
	require.NoError(t, err)
	return out
}

func TestReplay(t *testing.T) {
	const s1, s2 = 0x101, 0x102
	state := func(leader int) string { return `{"leader":` + string(rune('0'+leader)) + `}` }
	snap := &Snapshot{Zxid: 10, Nodes: map[string]*Node{
		"/":              {},
		"/old":           {Data: []byte("o"), Stat: Stat{Version: 4}},
		"/brokers/ids/9": {Data: []byte("b9"), Stat: Stat{Version: 1, EphemeralOwner: s2}},
	}}
	txns := txnsOf(t,
		cat(header(s1, 9, OpDelete), enc(nil).str("/old")), // before the snapshot: ignored
		cat(header(s1, 11, OpCreate2), createRec("/p", state(1), false), digest()),
		cat(header(s1, 12, OpMulti), multiRec(
			subTxn{OpCheck, enc(nil).str("/controller_epoch").i32(1)},
			subTxn{OpSetData, setDataRec("/p", state(2), 1)}), digest()),
		cat(header(s1, 13, OpMulti), multiRec( // failed: changes nothing
			subTxn{OpError, enc(nil).i32(-103)},
			subTxn{OpError, enc(nil).i32(0)})),
		cat(header(s1, 14, OpError), enc(nil).i32(-110)),
		cat(header(s1, 15, OpCreate), createRec("/controller", `{"brokerid":1}`, true)),
		cat(header(s1, 16, OpCreate), createRec("/brokers/ids/1", "b1", true)),
		cat(header(s1, 17, OpCloseSession), enc(nil).i32(1).str("/controller")), // lists one, owns two
		cat(header(s2, 18, OpCloseSession)),                                     // no record: deletes what it owns
		cat(header(s1, 19, OpSetData), setDataRec("/old", "n", 5)),
		cat(header(s1, 20, OpDelete), enc(nil).str("/old")),
	)
	changes, err := Replay(snap, txns)
	require.NoError(t, err)
	const ms = 1_700_000_000_000
	require.Equal(t, []Change{
		{Zxid: 11, Time: ms + 11, Session: s1, Path: "/p", Kind: Created, Version: 0, Data: []byte(state(1))},
		{Zxid: 12, Time: ms + 12, Session: s1, Path: "/p", Kind: Updated, Version: 1, Data: []byte(state(2))},
		{Zxid: 15, Time: ms + 15, Session: s1, Path: "/controller", Kind: Created, Data: []byte(`{"brokerid":1}`), EphemeralOwner: s1},
		{Zxid: 16, Time: ms + 16, Session: s1, Path: "/brokers/ids/1", Kind: Created, Data: []byte("b1"), EphemeralOwner: s1},
		{Zxid: 17, Time: ms + 17, Session: s1, Path: "/controller", Kind: Deleted, Data: []byte(`{"brokerid":1}`), EphemeralOwner: s1, SessionEnded: true},
		{Zxid: 17, Time: ms + 17, Session: s1, Path: "/brokers/ids/1", Kind: Deleted, Data: []byte("b1"), EphemeralOwner: s1, SessionEnded: true},
		{Zxid: 18, Time: ms + 18, Session: s2, Path: "/brokers/ids/9", Kind: Deleted, Version: 1, Data: []byte("b9"), EphemeralOwner: s2, SessionEnded: true},
		{Zxid: 19, Time: ms + 19, Session: s1, Path: "/old", Kind: Updated, Version: 5, Data: []byte("n")},
		{Zxid: 20, Time: ms + 20, Session: s1, Path: "/old", Kind: Deleted, Version: 5, Data: []byte("n")},
	}, changes)
}

func TestGaps(t *testing.T) {
	const e1, e2 = 1 << 32, 2 << 32
	for _, tc := range []struct {
		name     string
		snapshot int64
		zxids    []int64
		missing  []ZxidRange
	}{
		{name: "contiguous from a fresh snapshot", zxids: []int64{1, 2, 3}},
		{name: "contiguous after a snapshot", snapshot: 0x6c, zxids: []int64{0x6d, 0x6e}},
		{name: "no transactions", snapshot: 5},
		{name: "a hole", zxids: []int64{1, 2, 5, 6, 9}, missing: []ZxidRange{{3, 4}, {7, 8}}},
		{name: "log starts after the snapshot", snapshot: 0x6c, zxids: []int64{0x70}, missing: []ZxidRange{{0x6d, 0x6f}}},
		{name: "first epoch of an ensemble", zxids: []int64{e1 | 1, e1 | 2}},
		{name: "new epoch from 1", zxids: []int64{e1 | 1, e1 | 2, e2 | 1}},
		{name: "new epoch from 3", zxids: []int64{e1 | 1, e2 | 3}, missing: []ZxidRange{{e2 | 1, e2 | 2}}},
		{name: "epoch after the snapshot", snapshot: e1 | 7, zxids: []int64{e2 | 1}},
		{name: "an epoch skipped", zxids: []int64{e1 | 1, 3<<32 | 1}, missing: []ZxidRange{{e2 | 1, e2 | 0xffffffff}}},
		{name: "the first epoch skipped", zxids: []int64{e2 | 1}, missing: []ZxidRange{{e1 | 1, e1 | 0xffffffff}}},
		{name: "an epoch skipped, the next one short", zxids: []int64{e1 | 1, 3<<32 | 2},
			missing: []ZxidRange{{e2 | 1, e2 | 0xffffffff}, {3<<32 | 1, 3<<32 | 1}}},
		{name: "ensemble without its first transactions", zxids: []int64{e1 | 4}, missing: []ZxidRange{{e1 | 1, e1 | 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			txns := make([]Txn, len(tc.zxids))
			for i, z := range tc.zxids {
				txns[i] = Txn{Zxid: z, Type: OpCreateSession}
			}
			require.Equal(t, tc.missing, Gaps(txns, tc.snapshot))
			_, err := Replay(&Snapshot{Zxid: tc.snapshot}, txns)
			if tc.missing == nil {
				require.NoError(t, err)
				return
			}
			var inc *IncompleteError
			require.ErrorAs(t, err, &inc)
			require.Equal(t, tc.missing, inc.Missing)
		})
	}
}

func TestSortedDropsDuplicatesAndRejectsConflicts(t *testing.T) {
	a := Txn{Zxid: 2, Type: OpCreateSession, Checksum: 7}
	b := Txn{Zxid: 1, Type: OpCreateSession, Checksum: 8}
	got, err := Sorted([]Txn{a, b, a}, 0)
	require.NoError(t, err)
	require.Equal(t, []Txn{b, a}, got)

	other := a
	other.Checksum = 9
	_, err = Sorted([]Txn{a, other}, 0)
	require.ErrorContains(t, err, "two different transactions with zxid 0x2")

	// One failed multi, as the leader and as a follower that caught up with a DIFF log it.
	failed := Txn{Zxid: 3, Type: OpMulti, Checksum: 1, Record: &Multi{Txns: []SubTxn{{OpCheck, &Check{}}, {OpError, &Error{-101}}}}}
	rewritten := Txn{Zxid: 3, Type: OpMulti, Checksum: 2, Record: &Multi{Txns: []SubTxn{{OpError, &Error{17}}, {OpError, &Error{-101}}}}}
	got, err = Sorted([]Txn{failed, rewritten}, 0)
	require.NoError(t, err)
	require.Equal(t, []Txn{failed}, got)
	succeeded := Txn{Zxid: 3, Type: OpMulti, Checksum: 2, Record: &Multi{Txns: []SubTxn{{OpCheck, &Check{}}}}}
	_, err = Sorted([]Txn{failed, succeeded}, 0)
	require.ErrorContains(t, err, "two different transactions with zxid 0x3")
}

func TestReadSnapshotOfCapture(t *testing.T) {
	f, err := os.Open("testdata/killrestart/snapshot.6c")
	require.NoError(t, err)
	defer f.Close()
	s, err := ReadSnapshot(f, 0x6c)
	require.NoError(t, err)
	// SnapshotFormatter says count=37: it counts the root twice, as "" and "/".
	require.Len(t, s.Nodes, 36)
	require.Equal(t, map[int64]int32{0x100000525390002: 18000, 0x100000525390003: 18000, 0x100000525390009: 18000}, s.Sessions)
	require.Equal(t, &SnapshotDigest{Zxid: 0x6c, Version: 2, Digest: 84858165013}, s.Digest)
	// As SnapshotFormatter printed it (tools-after-restart.txt), with the times of txn 0x63.
	txns, err := ReadLog(bytes.NewReader(readTestFile(t, realLog)))
	require.NoError(t, err)
	created := txns[0x63-1].Time
	require.Equal(t, "2026-11-29 20:21:54", txns[0x63-1].Timestamp().Format(time.DateTime))
	require.Equal(t, Stat{Czxid: 0x63, Mzxid: 0x63, Ctime: created, Mtime: created, Version: 1,
		EphemeralOwner: 0x100000525390009, Pzxid: 0x63}, s.Nodes["/brokers/ids/2"].Stat)
	require.Len(t, s.Nodes["/brokers/ids/2"].Data, 238)
	require.EqualValues(t, 11, s.Nodes["/"].Stat.Cversion)

	st, err := ParsePartitionState(s.Nodes["/brokers/topics/t/partitions/0/state"].Data)
	require.NoError(t, err)
	require.Equal(t, PartitionState{ControllerEpoch: 1, Leader: 3, Version: 1, LeaderEpoch: 1, ISR: []int{3, 1, 2}}, st)
}

func TestReadSnapshotErrors(t *testing.T) {
	good := readTestFile(t, "testdata/killrestart/snapshot.6c")
	flipped := bytes.Clone(good)
	flipped[200] ^= 1
	for _, tc := range []struct {
		name string
		data []byte
		err  string
	}{
		{name: "flipped bit", data: flipped, err: "checksum"},
		{name: "cut short", data: good[:len(good)-30], err: "corrupt"},
		{name: "cut in the tree", data: good[:1000], err: "corrupt"},
		{name: "trailing bytes", data: append(bytes.Clone(good), 0), err: "1 bytes after the end"},
		{name: "a log", data: readTestFile(t, realLog), err: "not a ZooKeeper snapshot"},
		{name: "empty", data: nil, err: "not a ZooKeeper snapshot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSnapshot(bytes.NewReader(tc.data), 0x6c)
			require.ErrorContains(t, err, tc.err)
		})
	}
}

// TestReplayFromEitherSnapshot replays the capture from the empty snapshot at zxid 0 and from
// the one ZooKeeper wrote when it restarted: the changes after the second agree.
func TestReplayFromEitherSnapshot(t *testing.T) {
	d, err := ReadDir(os.DirFS("testdata/killrestart"))
	require.NoError(t, err)
	require.Len(t, d.Snapshots, 2)
	require.Equal(t, []string{"log.1", "log.6d"}, []string{d.Logs[0].Name, d.Logs[1].Name})
	full, err := d.Replay()
	require.NoError(t, err)
	require.EqualValues(t, 0, full.Snapshot)
	require.EqualValues(t, 0x74, full.Last())
	require.Len(t, full.Txns, 0x74)
	require.Empty(t, full.Torn)

	late, err := Replay(d.Snapshots[1], full.Txns)
	require.NoError(t, err)
	var after []Change
	for _, c := range full.Changes {
		if c.Zxid > 0x6c {
			after = append(after, c)
		}
	}
	require.Equal(t, after, late)
	require.NotEmpty(t, late)
}

func TestDataDirMissingLog(t *testing.T) {
	d, err := ReadDir(os.DirFS("testdata/killrestart"))
	require.NoError(t, err)
	d.Logs = d.Logs[1:] // log.1 lost: the history starts at the empty snapshot, then 0x6d
	h, err := d.Replay()
	require.NoError(t, err)
	require.False(t, h.Complete())
	require.Equal(t, []ZxidRange{{1, 0x6c}}, h.Missing)
	require.EqualError(t, h.Err(), "incomplete ZooKeeper history: transactions 0x1..0x6c are missing")
}

func TestReadTar(t *testing.T) {
	fromDir, err := ReadDir(os.DirFS("testdata/killrestart"))
	require.NoError(t, err)
	var buf bytes.Buffer
	tw := newTestTar(t, &buf, "version-2/", "testdata/killrestart", "log.1", "log.6d", "snapshot.0", "README.md")
	require.NoError(t, tw.Close())
	fromTar, err := ReadTar(&buf)
	require.NoError(t, err)
	require.Equal(t, fromDir.Logs, fromTar.Logs)
	require.Len(t, fromTar.Snapshots, 1)
}

func TestMerge(t *testing.T) {
	d, err := ReadDir(os.DirFS("testdata/killrestart"))
	require.NoError(t, err)
	full, err := d.Replay()
	require.NoError(t, err)
	logs := d.Logs
	d.Logs = logs[:1]
	short, err := d.Replay() // up to 0x6c
	require.NoError(t, err)
	d.Logs = logs[1:]
	holed, err := d.Replay() // 0x1..0x6c missing
	require.NoError(t, err)
	require.False(t, holed.Complete())

	for name, servers := range map[string]map[string]*History{
		"one":                        {"zk1": full},
		"one behind":                 {"zk1": short, "zk2": full},
		"one with a hole, one short": {"zk1": holed, "zk2": short},
		"all":                        {"zk1": short, "zk2": holed, "zk3": full},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := Merge(servers)
			require.NoError(t, err)
			require.True(t, m.Complete())
			require.Equal(t, full.Txns, m.Txns)
			require.Equal(t, full.Changes, m.Changes)
		})
	}

	forked := &History{Txns: slices.Clone(full.Txns)}
	forked.Txns[0x50].Checksum++
	_, err = Merge(map[string]*History{"zk1": full, "zk2": forked})
	require.ErrorContains(t, err, "ZooKeeper servers zk1 and zk2 disagree: zxid 0x51 is")

	skipped := &History{Txns: slices.Delete(slices.Clone(full.Txns), 0x60, 0x61)}
	skipped.Missing = nil // as if zk2 never had 0x61 and did not know it
	_, err = Merge(map[string]*History{"zk1": full, "zk2": skipped})
	require.ErrorContains(t, err, "zxid 0x61 (error) is only in the first")

	_, err = Merge(nil)
	require.Error(t, err)
}

func TestEpochAndCounter(t *testing.T) {
	require.EqualValues(t, 0, Epoch(0x6c))
	require.EqualValues(t, 0x6c, Counter(0x6c))
	require.EqualValues(t, 3, Epoch(0x300000007))
	require.EqualValues(t, 7, Counter(0x300000007))
	require.EqualValues(t, 0xffffffff, Epoch(-1))
}

// TestReadDirFiles reads a data directory as ZooKeeper leaves it: epoch files beside the logs, a
// snapshot being written, a gzip-compressed snapshot (snapshot.compression.method=gz).
func TestReadDirFiles(t *testing.T) {
	snap := readTestFile(t, "testdata/killrestart/snapshot.6c")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, err := w.Write(snap)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	fsys := fstest.MapFS{
		"acceptedEpoch":       {Data: []byte("1")},
		"currentEpoch":        {Data: []byte("1")},
		"log.1":               {Data: readTestFile(t, realLog)},
		"snapshot.6c.gz":      {Data: gz.Bytes()},
		"snapshot.6d.tmp":     {Data: snap[:100]},
		"subdir/snapshot.0":   {Data: []byte("ignored")},
		"log.6d":              {Data: readTestFile(t, "testdata/killrestart/log.6d")},
		"snapshot.0.snappy.x": {Data: []byte("ignored")},
	}
	d, err := ReadDir(fsys)
	require.NoError(t, err)
	require.Len(t, d.Snapshots, 1)
	require.EqualValues(t, 0x6c, d.Snapshots[0].Zxid)
	require.Len(t, d.Snapshots[0].Nodes, 36)
	require.Len(t, d.Logs, 2)
	h, err := d.Replay()
	require.NoError(t, err)
	require.True(t, h.Complete())
	require.EqualValues(t, 0x6c, h.Snapshot)
	require.Len(t, h.Txns, 8)

	fsys["snapshot.0.snappy"] = &fstest.MapFile{Data: []byte("x")}
	_, err = ReadDir(fsys)
	require.ErrorContains(t, err, "snappy compression is not supported")
}

// TestReadDirTornLog reads a directory whose last log was torn by a crash: the history holds the
// transactions before the torn entry and names the log.
func TestReadDirTornLog(t *testing.T) {
	log := readTestFile(t, realLog)
	d, err := ReadDir(fstest.MapFS{
		"snapshot.0": {Data: readTestFile(t, "testdata/killrestart/snapshot.0")},
		"log.1":      {Data: append(bytes.Clone(log[:len(log)-10]), make([]byte, 100)...)},
	})
	require.NoError(t, err)
	require.NotNil(t, d.Logs[0].Torn)
	h, err := d.Replay()
	require.NoError(t, err)
	require.Equal(t, []string{"log.1"}, h.Torn)
	require.True(t, h.Complete())
	require.EqualValues(t, 0x6b, h.Last())

	_, err = ReadDir(fstest.MapFS{"log.1": {Data: append(bytes.Clone(log[:3000]), log[3100:]...)}})
	var corrupt *CorruptError
	require.ErrorAs(t, err, &corrupt)
	require.ErrorContains(t, err, "transaction log log.1: corrupt at offset")
}
