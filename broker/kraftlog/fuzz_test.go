package kraftlog_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker/kraftlog"
)

// fixAllCRCs walks b batch by batch and rewrites each CRC, so that fuzzed bytes reach the
// record decoders instead of stopping at the first CRC check.
func fixAllCRCs(b []byte) {
	for pos := 0; pos+21 <= len(b); {
		size := 12 + int(int32(binary.BigEndian.Uint32(b[pos+8:])))
		if size < 21 || pos+size > len(b) {
			return
		}
		fixCRC(b[pos : pos+size])
		pos += size
	}
}

// FuzzDecode checks that no input makes Decode, DecodeSnapshot or Fold panic or allocate
// without bound (lengths are capped by the bytes that remain), and that whatever Decode returns
// is contiguous from the start offset.
func FuzzDecode(f *testing.F) {
	for _, path := range []string{logN1, snapshotN1, bootstrap} {
		b := readFile(f, path)
		f.Add(b)
		f.Add(b[:min(len(b), 700)])
	}
	f.Add(encodeBatch(f, 0, 1, false, 1, 5, testRecord{value: metadataValue(5, 2, 0)}))
	f.Add(encodeBatch(f, 0, 1, true, 0, 5, testRecord{key: controlKey(2), value: []byte{0, 1, 0, 0, 0, 2, 2}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(data []byte) {
			l, _ := kraftlog.Decode(data, 0)
			require.NotNil(t, l)
			for i, r := range l.Records {
				require.Equal(t, int64(i), r.Offset)
			}
			require.Equal(t, int64(len(l.Records)), l.NextOffset)
			_, _ = kraftlog.Fold(nil, l.Records)
			_, _ = kraftlog.DecodeSnapshot(data, 10, 1)
		}
		check(data)
		fixed := append([]byte(nil), data...)
		fixAllCRCs(fixed)
		check(fixed)
	})
}

// BenchmarkDecode decodes the captured 232-record log (21 KB).
func BenchmarkDecode(b *testing.B) {
	data := readFile(b, logN1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kraftlog.Decode(data, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFold replays the captured log's decoded records into partition, broker and
// controller histories.
func BenchmarkFold(b *testing.B) {
	l, err := kraftlog.Decode(readFile(b, logN1), 0)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kraftlog.Fold(nil, l.Records); err != nil {
			b.Fatal(err)
		}
	}
}
