package kraftlog_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker/kraftlog"
)

// The first two batches of the captured log: a LeaderChange batch of 106 bytes (offset 0), then
// the bootstrap records at byte 106 (offsets 1 to 7, 274 bytes).
const (
	secondBatch = 106
	thirdBatch  = 380
)

// TestDecodeReportsDamage damages the captured log in each way a log can be damaged and checks
// that Decode names it, where, and returns exactly the records before it.
func TestDecodeReportsDamage(t *testing.T) {
	good := readFile(t, logN1)
	last := kraftlog.Record{}
	{
		l, err := kraftlog.Decode(good, 0)
		require.NoError(t, err)
		last = l.Records[len(l.Records)-1]
	}
	lastStart := len(good) - 106 // the last batch, a LeaderChange at offset 231, is 106 bytes
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name     string
		data     []byte
		start    int64
		kind     error
		pos      int
		offset   int64
		nRecords int
	}{
		{"torn inside the last batch", good[:len(good)-10], 0, kraftlog.ErrTornTail, lastStart, last.Offset, int(last.Offset)},
		{"torn inside a batch header", append(bytes.Clone(good), good[:7]...), 0, kraftlog.ErrTornTail, len(good), 232, 232},
		{"torn after the length", append(bytes.Clone(good), good[:20]...), 0, kraftlog.ErrTornTail, len(good), 232, 232},
		{"bit flip in a record", edit(func(b []byte) []byte { b[secondBatch+70] ^= 1; return b }), 0, kraftlog.ErrCRC, secondBatch, 1, 1},
		{"bit flip in the attributes", edit(func(b []byte) []byte { b[secondBatch+22] ^= 0x20; return b }), 0, kraftlog.ErrCRC, secondBatch, 1, 1},
		{"a batch missing", append(bytes.Clone(good[:secondBatch]), good[thirdBatch:]...), 0, kraftlog.ErrGap, secondBatch, 1, 1},
		{"a batch twice", append(bytes.Clone(good[:secondBatch]), good...), 0, kraftlog.ErrMalformed, secondBatch, 1, 1},
		{"started late", good, 3, kraftlog.ErrMalformed, 0, 3, 0},
		{"first offsets missing", good[secondBatch:], 0, kraftlog.ErrGap, 0, 0, 0},
		{"bad magic", edit(func(b []byte) []byte { b[16] = 1; return b }), 0, kraftlog.ErrMalformed, 0, 0, 0},
		{"zeroes after the end", append(bytes.Clone(good), make([]byte, 100)...), 0, kraftlog.ErrMalformed, len(good), 232, 232},
		{"zstd", encodeBatch(t, 0, 1, false, 4, 1, testRecord{value: metadataValue(20, 0, 0)}), 0, kraftlog.ErrCompression, 0, 0, 0},
		{"record count beyond the offsets", edit(func(b []byte) []byte { b[secondBatch+60]++; fixCRC(b[secondBatch:thirdBatch]); return b }), 0, kraftlog.ErrGap, secondBatch, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := kraftlog.Decode(tt.data, tt.start)
			require.ErrorIs(t, err, tt.kind)
			var de *kraftlog.DecodeError
			require.True(t, errors.As(err, &de))
			require.Equal(t, tt.pos, de.Pos, "position; %v", err)
			require.Equal(t, tt.offset, de.Offset)
			require.Len(t, l.Records, tt.nRecords)
			require.Equal(t, tt.start+int64(tt.nRecords), l.NextOffset)
		})
	}
}

func TestDecodeSyntheticRecords(t *testing.T) {
	fence := metadataValue(7, 0, cat(be32(4), be64(17), []byte{0})...)
	unfence := metadataValue(8, 0, cat(be32(4), be64(17), []byte{0})...)
	data := cat(
		encodeBatch(t, 0, 1, false, 0, 100,
			testRecord{value: fence},
			testRecord{value: unfence},
			testRecord{value: metadataValue(99, 0, 1, 2, 3)},                 // a type from the future
			testRecord{value: metadataValue(5, 9, 1, 2, 3)},                  // PartitionChangeRecord v9
			testRecord{value: append([]byte{2}, metadataValue(20, 0, 0)...)}, // frame version 2
			testRecord{value: metadataValue(28, 0, 2, 'a', 0, 7)},            // ClearElr with garbage after it
		),
		encodeBatch(t, 6, 1, true, 0, 200,
			testRecord{key: controlKey(5), value: cat(be16(0), be16(1), []byte{0})},                                                             // KRaftVersion 1
			testRecord{key: controlKey(6), value: []byte{0, 0, 1, 2}},                                                                           // KRaftVoters: skipped
			testRecord{key: controlKey(4), value: cat(be16(0), []byte{0})},                                                                      // SnapshotFooter
			testRecord{key: controlKey(2), value: cat(be16(1), be32(2), []byte{2}, be32(2), make([]byte, 16), []byte{0}, []byte{1}, []byte{0})}, // LeaderChange v1
			testRecord{key: []byte{0}, value: nil},                                                                                              // short control key
		),
		encodeBatch(t, 11, 1, false, 1, 300, testRecord{value: metadataValue(20, 0, 0)}), // gzip
	)
	l, err := kraftlog.Decode(data, 0)
	require.NoError(t, err)
	require.Len(t, l.Records, 12)
	r := l.Records

	require.Equal(t, &kraftlog.FenceBrokerRecord{ID: 4, Epoch: 17}, r[0].Message)
	require.Equal(t, &kraftlog.UnfenceBrokerRecord{ID: 4, Epoch: 17}, r[1].Message)
	require.Equal(t, []string{"FENCE_BROKER_RECORD", "UNFENCE_BROKER_RECORD"}, []string{r[0].Name(), r[1].Name()})

	require.Equal(t, "UNKNOWN_METADATA_99", r[2].Name())
	require.Nil(t, r[2].Message)
	require.NoError(t, r[2].Err)

	require.Equal(t, kraftlog.TypePartitionChange, r[3].Type)
	require.Equal(t, int16(9), r[3].Version)
	require.ErrorContains(t, r[3].Err, "PARTITION_CHANGE_RECORD version 9")
	require.Nil(t, r[3].Message)

	require.ErrorContains(t, r[4].Err, "frame version 2")
	require.ErrorContains(t, r[5].Err, "left over")

	require.Equal(t, &kraftlog.KRaftVersion{Version: 0, KRaftVersion: 1}, r[6].Message)
	require.Equal(t, "KRaftVoters", r[7].Name())
	require.Nil(t, r[7].Message)
	require.NoError(t, r[7].Err)
	require.Equal(t, &kraftlog.SnapshotFooter{}, r[8].Message)
	require.Equal(t, &kraftlog.LeaderChange{Version: 1, LeaderID: 2, Voters: []int32{2}, GrantingVoters: []int32{}}, r[9].Message)
	require.Error(t, r[10].Err)

	require.Equal(t, &kraftlog.NoOpRecord{}, r[11].Message)
	require.Equal(t, int64(300), r[11].TimeMs)
	for i, rec := range r {
		require.Equal(t, int64(i), rec.Offset)
		require.Equal(t, i >= 6 && i <= 10, rec.Control)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, os.WriteFile(to, readFile(t, from), 0o644))
}

func TestReadDir(t *testing.T) {
	t.Run("captured", func(t *testing.T) {
		d, err := kraftlog.ReadDir("testdata/n1")
		require.NoError(t, err)
		require.Equal(t, int64(232), d.Snapshot.EndOffset)
		require.Equal(t, int32(11), d.Snapshot.Epoch)
		require.Equal(t, int64(0), d.Log.StartOffset)
		require.Equal(t, int64(232), d.Log.NextOffset)
	})
	t.Run("segments continue one another", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, logN1, filepath.Join(dir, "00000000000000000000.log"))
		next := encodeBatch(t, 232, 11, false, 0, 1, testRecord{value: metadataValue(20, 0, 0)})
		require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000232.log"), next, 0o644))
		d, err := kraftlog.ReadDir(dir)
		require.NoError(t, err)
		require.Nil(t, d.Snapshot)
		require.Equal(t, int64(233), d.Log.NextOffset)
		require.Len(t, d.Log.Records, 233)
	})
	t.Run("segment after a gap", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, logN1, filepath.Join(dir, "00000000000000000000.log"))
		next := encodeBatch(t, 240, 11, false, 0, 1, testRecord{value: metadataValue(20, 0, 0)})
		require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000240.log"), next, 0o644))
		d, err := kraftlog.ReadDir(dir)
		require.ErrorIs(t, err, kraftlog.ErrGap)
		require.Equal(t, int64(232), d.Log.NextOffset)
	})
	t.Run("log starts after the snapshot ends", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, "testdata/n2/00000000000000000227-0000000006.checkpoint", filepath.Join(dir, "00000000000000000227-0000000006.checkpoint"))
		next := encodeBatch(t, 240, 11, false, 0, 1, testRecord{value: metadataValue(20, 0, 0)})
		require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000240.log"), next, 0o644))
		_, err := kraftlog.ReadDir(dir)
		require.ErrorIs(t, err, kraftlog.ErrGap)
	})
	t.Run("torn segment", func(t *testing.T) {
		dir := t.TempDir()
		good := readFile(t, logN1)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000000.log"), good[:len(good)-1], 0o644))
		d, err := kraftlog.ReadDir(dir)
		require.ErrorIs(t, err, kraftlog.ErrTornTail)
		require.Equal(t, int64(231), d.Log.NextOffset)
	})
	t.Run("snapshot without its footer", func(t *testing.T) {
		dir := t.TempDir()
		snap := readFile(t, snapshotN1)
		footer := 72 // the SnapshotFooter batch closes the file
		require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000232-0000000011.checkpoint"), snap[:len(snap)-footer], 0o644))
		_, err := kraftlog.ReadDir(dir)
		require.ErrorIs(t, err, kraftlog.ErrTornTail)
	})
}

// TestAgree compares the three controllers' captured logs, then logs made to differ.
func TestAgree(t *testing.T) {
	logs := map[string]*kraftlog.Log{}
	for _, n := range []string{"n1", "n2", "n3"} {
		logs[n] = decodeLog(t, filepath.Join("testdata", n, "00000000000000000000.log"))
	}
	rng, err := kraftlog.Agree(logs)
	require.NoError(t, err)
	require.Equal(t, kraftlog.Range{From: 0, To: 232}, rng)

	clone := func(l *kraftlog.Log) *kraftlog.Log {
		c := *l
		c.Records = append([]kraftlog.Record{}, l.Records...)
		return &c
	}
	tests := []struct {
		name  string
		edit  func(l *kraftlog.Log)
		want  kraftlog.Range
		err   error
		names string
	}{
		{"shorter log", func(l *kraftlog.Log) { l.Records = l.Records[:100]; l.NextOffset = 100 }, kraftlog.Range{From: 0, To: 100}, nil, ""},
		{"later start", func(l *kraftlog.Log) { l.Records = l.Records[50:]; l.StartOffset = 50 }, kraftlog.Range{From: 50, To: 232}, nil, ""},
		{"different value", func(l *kraftlog.Log) {
			v := bytes.Clone(l.Records[109].Value)
			v[len(v)-2] ^= 1
			l.Records[109].Value = v
		}, kraftlog.Range{From: 0, To: 232}, kraftlog.ErrDisagree, "offset 109: n1 has PARTITION_CHANGE_RECORD"},
		{"different epoch", func(l *kraftlog.Log) { l.Records[200].Epoch++ }, kraftlog.Range{From: 0, To: 232}, kraftlog.ErrDisagree, "offset 200"},
		{"no common offset", func(l *kraftlog.Log) { l.Records = nil; l.StartOffset, l.NextOffset = 300, 300 }, kraftlog.Range{From: 300, To: 232}, kraftlog.ErrNoOverlap, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n3 := clone(logs["n3"])
			tt.edit(n3)
			rng, err := kraftlog.Agree(map[string]*kraftlog.Log{"n1": logs["n1"], "n2": logs["n2"], "n3": n3})
			require.Equal(t, tt.want, rng)
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			require.ErrorContains(t, err, tt.names)
		})
	}
}
