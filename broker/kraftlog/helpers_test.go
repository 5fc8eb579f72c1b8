package kraftlog_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// testRecord is one record for encodeBatch: a key and value, nil meaning null.
type testRecord struct{ key, value []byte }

// encodeBatch writes a record batch v2 the way Kafka does, for tests: baseOffset, epoch,
// control flag, codec (0 none, 1 gzip) and records, each with offset delta i and timestamp
// delta 0.
func encodeBatch(t testing.TB, baseOffset int64, epoch int32, control bool, codec int16, ts int64, recs ...testRecord) []byte {
	t.Helper()
	var body []byte
	for i, r := range recs {
		var rec []byte
		rec = append(rec, 0)                     // attributes
		rec = binary.AppendVarint(rec, 0)        // timestamp delta
		rec = binary.AppendVarint(rec, int64(i)) // offset delta
		rec = appendVarBytes(rec, r.key)         // key
		rec = appendVarBytes(rec, r.value)       // value
		rec = binary.AppendVarint(rec, 0)        // headers
		body = binary.AppendVarint(body, int64(len(rec)))
		body = append(body, rec...)
	}
	attributes := codec
	if control {
		attributes |= 0x20
	}
	if codec == 1 {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, err := zw.Write(body)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		body = buf.Bytes()
	}
	b := binary.BigEndian.AppendUint64(nil, uint64(baseOffset))
	b = binary.BigEndian.AppendUint32(b, 0) // batch length, set below
	b = binary.BigEndian.AppendUint32(b, uint32(epoch))
	b = append(b, 2)                        // magic
	b = binary.BigEndian.AppendUint32(b, 0) // CRC, set below
	b = binary.BigEndian.AppendUint16(b, uint16(attributes))
	b = binary.BigEndian.AppendUint32(b, uint32(len(recs)-1)) // last offset delta
	b = binary.BigEndian.AppendUint64(b, uint64(ts))          // base timestamp
	b = binary.BigEndian.AppendUint64(b, uint64(ts))          // max timestamp
	b = binary.BigEndian.AppendUint64(b, ^uint64(0))          // producer ID -1
	b = binary.BigEndian.AppendUint16(b, ^uint16(0))          // producer epoch -1
	b = binary.BigEndian.AppendUint32(b, ^uint32(0))          // base sequence -1
	b = binary.BigEndian.AppendUint32(b, uint32(len(recs)))
	b = append(b, body...)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	fixCRC(b)
	return b
}

// fixCRC recomputes the CRC of the batch at the start of b.
func fixCRC(b []byte) {
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
}

func appendVarBytes(b, p []byte) []byte {
	if p == nil {
		return binary.AppendVarint(b, -1)
	}
	return append(binary.AppendVarint(b, int64(len(p))), p...)
}

// metadataValue frames a metadata record body: frame version 1, API key, version.
func metadataValue(apiKey, version byte, body ...byte) []byte {
	return append([]byte{1, apiKey, version}, body...)
}

// controlKey is a control record's key: version 0 and the control type.
func controlKey(typ int16) []byte { return binary.BigEndian.AppendUint16([]byte{0, 0}, uint16(typ)) }

func be32(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }
func be64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
func be16(v int16) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// refRecord is one record as kafka.tools.DumpLogSegments --cluster-metadata-decoder printed it.
type refRecord struct {
	Offset int64
	TimeMs int64
	Name   string         // "PARTITION_CHANGE_RECORD", "LeaderChange", ...
	Data   map[string]any // the record's JSON ("data" of a payload), numbers as float64
	Epoch  int32          // its batch's partitionLeaderEpoch
}

var (
	refBatchLine  = regexp.MustCompile(`^baseOffset: \d+ .* partitionLeaderEpoch: (-?\d+) `)
	refRecordLine = regexp.MustCompile(`^\| offset: (\d+) CreateTime: (\d+) .*headerKeys: \[\] (payload: |LeaderChange: |SnapshotHeader |SnapshotFooter |KRaftVersion |KRaftVoters )(.*)$`)
)

// readReference parses a DumpLogSegments --cluster-metadata-decoder output file.
func readReference(t testing.TB, path string) []refRecord {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []refRecord
	var epoch int32
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := refBatchLine.FindStringSubmatch(line); m != nil {
			e, err := strconv.ParseInt(m[1], 10, 32)
			require.NoError(t, err)
			epoch = int32(e)
			continue
		}
		m := refRecordLine.FindStringSubmatch(line)
		if m == nil {
			require.NotContains(t, line, "| offset:", "unparsed record line")
			continue
		}
		off, err := strconv.ParseInt(m[1], 10, 64)
		require.NoError(t, err)
		ts, err := strconv.ParseInt(m[2], 10, 64)
		require.NoError(t, err)
		var data map[string]any
		require.NoError(t, json.Unmarshal([]byte(m[4]), &data), "line %q", line)
		r := refRecord{Offset: off, TimeMs: ts, Epoch: epoch, Data: data}
		switch m[3] {
		case "payload: ":
			r.Name = data["type"].(string)
			r.Data, _ = data["data"].(map[string]any)
		default:
			r.Name = m[3][:len(m[3])-1]
			if r.Name[len(r.Name)-1] == ':' {
				r.Name = r.Name[:len(r.Name)-1]
			}
		}
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	return out
}
