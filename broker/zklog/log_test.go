package zklog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

const realLog = "testdata/killrestart/log.1"

func readTestFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return b
}

// toolkitLine is a transaction as ZooKeeper's TxnLogToolkit prints it.
var toolkitLine = regexp.MustCompile(`session 0x([0-9a-f]+) cxid 0x([0-9a-f]+) zxid 0x([0-9a-f]+) (\w+)`)

// toolkitCount is TxnLogToolkit's last line for a log.
var toolkitCount = regexp.MustCompile(`EOF reached after (\d+) txns.`)

// TestReadLogMatchesTxnLogToolkit reads every captured log and checks every transaction's session,
// cxid, zxid and type, and their number, against what ZooKeeper's own TxnLogToolkit printed for
// the same file.
func TestReadLogMatchesTxnLogToolkit(t *testing.T) {
	for _, tc := range []struct {
		dir   string
		count map[string]int // transactions per log, as the toolkit counted them
	}{
		{"testdata/killrestart", map[string]int{"log.1": 108}},
		{"testdata/ensemble/zk1", map[string]int{"log.100000001": 156}},
		{"testdata/ensemble/zk2", map[string]int{"log.100000001": 81, "log.200000001": 75}},
		{"testdata/ensemble/zk3", map[string]int{"log.100000001": 156}},
	} {
		toolkitFile := filepath.Join(tc.dir, "TxnLogToolkit.txt")
		if tc.dir == "testdata/killrestart" {
			toolkitFile = filepath.Join(tc.dir, "TxnLogToolkit-log.1.txt")
		}
		// The toolkit's output, one section per log: "== log.N" (or "== /path/log.N"), then its
		// transactions, then their count.
		sections := map[string][]byte{}
		for _, sec := range bytes.Split(readTestFile(t, toolkitFile), []byte("== "))[1:] {
			name, body, _ := bytes.Cut(sec, []byte("\n"))
			sections[filepath.Base(string(name))] = body
		}
		require.Len(t, sections, len(tc.count), toolkitFile)
		for name, count := range tc.count {
			t.Run(filepath.Join(tc.dir, name), func(t *testing.T) {
				out := sections[name]
				require.Equal(t, strconv.Itoa(count), string(toolkitCount.FindSubmatch(out)[1]))
				log := readTestFile(t, filepath.Join(tc.dir, name))
				txns, err := ReadLog(bytes.NewReader(log))
				require.NoError(t, err)
				lines := toolkitLine.FindAllSubmatch(out, -1)
				require.Len(t, lines, count)
				require.Len(t, txns, count)
				hex := func(b []byte) int64 {
					v, err := strconv.ParseUint(string(b), 16, 64)
					require.NoError(t, err)
					return int64(v)
				}
				for i, m := range lines {
					got := txns[i]
					require.Equal(t, hex(m[1]), got.Session, "session of txn %d", i)
					require.Equal(t, hex(m[2]), int64(got.Cxid), "cxid of txn %d", i)
					require.Equal(t, hex(m[3]), got.Zxid, "zxid of txn %d", i)
					require.Equal(t, string(m[4]), got.Type.String(), "type of txn %d", i)
					// ZooKeeper 3.8 appends a digest to every transaction but a failed request.
					require.Equal(t, got.Type != OpError, got.Digest != nil, "digest of txn %#x", got.Zxid)
				}
				last := txns[len(txns)-1]
				require.EqualValues(t, len(log), last.Offset+last.Size, "the trimmed log ends with its last entry")
			})
		}
	}
}

// TestPartitionStateHistoryOfCapture checks the exact sequence of versions of t/0's state znode
// in the captured run: created with leader 2, ISR shrunk when broker 2's session expired after
// its kill, broker 2 back in the ISR after its restart. The toolkit printed the same JSON at the
// same zxids.
func TestPartitionStateHistoryOfCapture(t *testing.T) {
	d, err := ReadDir(os.DirFS("testdata/killrestart"))
	require.NoError(t, err)
	h, err := d.Replay()
	require.NoError(t, err)
	require.True(t, h.Complete())
	kc, err := KafkaChanges(h.Changes)
	require.NoError(t, err)

	type version struct {
		zxid    int64
		leader  int
		isr     []int
		version int32
	}
	var got []version
	for _, c := range kc {
		if c.Key == "t/0" {
			got = append(got, version{c.Zxid, c.State.Leader, c.State.ISR, c.Version})
		}
	}
	require.Equal(t, []version{
		{0x48, 2, []int{2, 3, 1}, 0},
		{0x4f, 3, []int{3, 1}, 1},
		{0x6a, 3, []int{3, 1, 2}, 2},
	}, got)

	// The same sequence as TxnLogToolkit printed it: each state znode's JSON in the multi of its
	// zxid and, after a setData's data, the new version as 4 raw bytes (a create makes version 0).
	toolkit := readTestFile(t, "testdata/killrestart/TxnLogToolkit-log.1.txt")
	var printed []version
	for _, m := range regexp.MustCompile(`(?s)zxid 0x([0-9a-f]+) multi check:[^\n]*?;(create|setData):[^\n]*?/brokers/topics/t/partitions/0/state...(.)(\{[^}]*\})(.{4})`).FindAllSubmatch(toolkit, -1) {
		zxid, err := strconv.ParseInt(string(m[1]), 16, 64)
		require.NoError(t, err)
		require.Equal(t, len(m[4]), int(m[3][0]), "the data's length precedes it")
		st, err := ParsePartitionState(m[4])
		require.NoError(t, err)
		v := version{zxid: zxid, leader: st.Leader, isr: st.ISR}
		if string(m[2]) == "setData" {
			v.version = int32(binary.BigEndian.Uint32(m[5]))
		}
		printed = append(printed, v)
	}
	require.Equal(t, got, printed)
}

// TestBrokerRegistrationsOfCapture follows broker 2's registration: created at start, deleted
// when the session of the killed broker expired, created again by the restarted broker.
func TestBrokerRegistrationsOfCapture(t *testing.T) {
	d, err := ReadDir(os.DirFS("testdata/killrestart"))
	require.NoError(t, err)
	h, err := d.Replay()
	require.NoError(t, err)
	kc, err := KafkaChanges(h.Changes)
	require.NoError(t, err)

	type event struct {
		zxid         int64
		kind         ChangeKind
		version      int32
		sessionEnded bool
	}
	var got []event
	var owners []int64
	for _, c := range kc {
		if c.Broker == 2 {
			got = append(got, event{c.Zxid, c.Kind, c.Version, c.SessionEnded})
			owners = append(owners, c.EphemeralOwner)
		}
	}
	// Kafka registers a broker with a multi of create and setData.
	require.Equal(t, []event{
		{0x40, Created, 0, false}, {0x40, Updated, 1, false},
		{0x4e, Deleted, 1, true},
		{0x63, Created, 0, false}, {0x63, Updated, 1, false},
	}, got)
	require.Equal(t, owners[0], owners[2], "the expired session owned the registration")
	require.NotEqual(t, owners[0], owners[3], "the restarted broker has a new session")

	var controllers []int
	for _, c := range kc {
		if c.Path == ControllerPath {
			controllers = append(controllers, c.Controller)
		}
	}
	require.Equal(t, []int{3}, controllers, "broker 3 stayed the controller")
}

func TestReadLogErrors(t *testing.T) {
	create := entry(cat(header(7, 1, OpCreate), createRec("/a", "x", false), digest()))
	set := entry(cat(header(7, 2, OpSetData), setDataRec("/a", "y", 1), digest()))
	badSum := append(enc(nil), set...)
	badSum[7] ^= 0xff
	noEOR := append(enc(nil), set...)
	noEOR[len(noEOR)-1] = 0
	zeros := make(enc, 100)
	afterCreate := int64(fileHeaderSize + len(create))

	for _, tc := range []struct {
		name   string
		log    []byte
		txns   int
		torn   int64 // offset of a torn tail, or 0
		bad    int64 // offset of a corruption, or 0
		errMsg string
	}{
		{name: "two entries, no tail", log: logFile(create, set), txns: 2},
		{name: "zero tail", log: logFile(create, set, zeros), txns: 2},
		{name: "short zero tail", log: logFile(create, set, zeros[:5]), txns: 2},
		{name: "empty log", log: logFile(), txns: 0},
		{name: "cut in the last entry", log: logFile(create, set[:20]), txns: 1, torn: afterCreate},
		{name: "cut in the last entry's checksum", log: logFile(create, set[:6]), txns: 1, torn: afterCreate},
		{name: "last entry zeroed after its length", log: logFile(create, set[:20], zeros), txns: 1, torn: afterCreate},
		{name: "last entry without end-of-record byte", log: logFile(create, noEOR, zeros), txns: 1, torn: afterCreate},
		{name: "bad checksum at the end", log: logFile(create, badSum), txns: 1, torn: afterCreate},
		{name: "bad checksum in the middle", log: logFile(create, badSum, create), txns: 1, bad: afterCreate},
		{name: "missing end-of-record byte in the middle", log: logFile(create, noEOR, create), txns: 1, bad: afterCreate},
		{name: "data after the zero tail", log: logFile(create, zeros, set), txns: 1, bad: afterCreate + 100 + 4}, // a checksum's high half is zero
		{name: "negative length", log: logFile(create, enc(nil).i64(1).i32(-5), create), txns: 1, bad: afterCreate},
		{name: "unknown type", log: logFile(create, entry(header(7, 2, OpCode(99))), set), txns: 1, bad: afterCreate,
			errMsg: "unknown transaction type 99"},
		{name: "record cut short", log: logFile(entry(header(7, 1, OpSetData).str("/a"))), bad: fileHeaderSize,
			errMsg: "data length needs 4 bytes"},
		{name: "bytes after the record", log: logFile(entry(cat(header(7, 1, OpDelete), enc(nil).str("/a"), enc{1, 2, 3}))),
			bad: fileHeaderSize, errMsg: "3 bytes left"},
		{name: "huge string length", log: logFile(entry(header(7, 1, OpDelete).i32(1 << 30))), bad: fileHeaderSize},
		{name: "huge vector count", log: logFile(entry(header(7, 1, OpMulti).i32(1 << 30))), bad: fileHeaderSize},
		{name: "not a log", log: []byte("ZKSN0000000000000000"), errMsg: "not a ZooKeeper transaction log"},
		{name: "short header", log: []byte("ZKLG"), errMsg: "not a ZooKeeper transaction log"},
		{name: "version 1", log: enc(nil).i32(logMagic).i32(1).i64(0), errMsg: "format version 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			txns, err := ReadLog(bytes.NewReader(tc.log))
			require.Len(t, txns, tc.txns)
			var torn *TornTailError
			var corrupt *CorruptError
			switch {
			case tc.torn != 0:
				require.ErrorAs(t, err, &torn)
				require.Equal(t, tc.torn, torn.Offset)
			case tc.bad != 0:
				require.ErrorAs(t, err, &corrupt)
				require.Equal(t, tc.bad, corrupt.Offset)
			case tc.errMsg == "":
				require.NoError(t, err)
			}
			if tc.errMsg != "" {
				require.ErrorContains(t, err, tc.errMsg)
			}
		})
	}
}

func TestDecodeRecords(t *testing.T) {
	for _, tc := range []struct {
		name string
		txn  enc
		want Txn
	}{
		{name: "create2 ephemeral", txn: cat(header(5, 1, OpCreate2), createRec("/e", "d", true)),
			want: Txn{Type: OpCreate2, Record: &Create{Path: "/e", Data: []byte("d"), ACL: []ACL{{31, "world", "anyone"}}, Ephemeral: true, ParentCVersion: 1}}},
		{name: "create version 0", txn: cat(header(5, 1, OpCreate), enc(nil).str("/v0").buf(nil).i32(0).boolean(false)),
			want: Txn{Type: OpCreate, Record: &Create{Path: "/v0", ACL: []ACL{}, ParentCVersion: -1}}},
		{name: "createContainer", txn: cat(header(5, 1, OpCreateContainer), enc(nil).str("/c").buf(nil).i32(0).i32(3)),
			want: Txn{Type: OpCreateContainer, Record: &Create{Path: "/c", ACL: []ACL{}, ParentCVersion: 3}}},
		{name: "createTTL", txn: cat(header(5, 1, OpCreateTTL), enc(nil).str("/t").buf(nil).i32(0).i32(3).i64(5000), digest()),
			want: Txn{Type: OpCreateTTL, Record: &Create{Path: "/t", ACL: []ACL{}, ParentCVersion: 3, TTL: 5000}, Digest: &TxnDigest{2, 12345}}},
		{name: "deleteContainer", txn: cat(header(5, 1, OpDeleteContainer), enc(nil).str("/c")),
			want: Txn{Type: OpDeleteContainer, Record: &Delete{Path: "/c"}}},
		{name: "setACL", txn: cat(header(5, 1, OpSetACL), enc(nil).str("/a").i32(0).i32(2)),
			want: Txn{Type: OpSetACL, Record: &SetACL{Path: "/a", ACL: []ACL{}, Version: 2}}},
		{name: "reconfig", txn: cat(header(5, 1, OpReconfig), setDataRec("/zookeeper/config", "server.1=a", 4)),
			want: Txn{Type: OpReconfig, Record: &SetData{Path: "/zookeeper/config", Data: []byte("server.1=a"), Version: 4}}},
		{name: "error", txn: cat(header(5, 1, OpError), enc(nil).i32(-110)),
			want: Txn{Type: OpError, Record: &Error{Err: -110}}},
		{name: "createSession", txn: cat(header(5, 1, OpCreateSession), enc(nil).i32(18000), digest()),
			want: Txn{Type: OpCreateSession, Record: &CreateSession{Timeout: 18000}, Digest: &TxnDigest{2, 12345}}},
		{name: "closeSession with paths", txn: cat(header(5, 1, OpCloseSession), enc(nil).i32(2).str("/a").str("/b")),
			want: Txn{Type: OpCloseSession, Record: &CloseSession{Paths: []string{"/a", "/b"}}}},
		{name: "closeSession without record", txn: header(5, 1, OpCloseSession),
			want: Txn{Type: OpCloseSession}},
		{name: "closeSession without record, with digest", txn: cat(header(5, 1, OpCloseSession), enc(nil).i32(2).i64(1<<40)),
			want: Txn{Type: OpCloseSession, Digest: &TxnDigest{2, 1 << 40}}},
		{name: "failed multi", txn: cat(header(5, 1, OpMulti), multiRec(
			subTxn{OpError, enc(nil).i32(0)}, subTxn{OpError, enc(nil).i32(-101)})),
			want: Txn{Type: OpMulti, Record: &Multi{Txns: []SubTxn{{OpError, &Error{0}}, {OpError, &Error{-101}}}}}},
		{name: "failed multi as a follower catching up logs it", txn: cat(header(5, 1, OpMulti), multiRec(
			subTxn{OpError, enc(nil).str("/controller_epoch").i32(1)}, subTxn{OpError, enc(nil).i32(-101)}), digest()),
			want: Txn{Type: OpMulti, Digest: &TxnDigest{2, 12345},
				Record: &Multi{Txns: []SubTxn{{OpError, &Error{int32(len("/controller_epoch"))}}, {OpError, &Error{-101}}}}}},
		{name: "multi", txn: cat(header(5, 1, OpMulti), multiRec(
			subTxn{OpCheck, enc(nil).str("/controller_epoch").i32(1)},
			subTxn{OpSetData, setDataRec("/s", "v", 3)},
			subTxn{OpDelete, enc(nil).str("/d")}), digest()),
			want: Txn{Type: OpMulti, Digest: &TxnDigest{2, 12345}, Record: &Multi{Txns: []SubTxn{
				{OpCheck, &Check{Path: "/controller_epoch", Version: 1}},
				{OpSetData, &SetData{Path: "/s", Data: []byte("v"), Version: 3}},
				{OpDelete, &Delete{Path: "/d"}}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			txns, err := ReadLog(bytes.NewReader(logFile(entry(tc.txn))))
			require.NoError(t, err)
			require.Len(t, txns, 1)
			got := txns[0]
			require.Equal(t, tc.want.Type, got.Type)
			require.Equal(t, tc.want.Record, got.Record)
			require.Equal(t, tc.want.Digest, got.Digest)
			require.EqualValues(t, 5, got.Session)
			require.EqualValues(t, 1, got.Zxid)
			require.EqualValues(t, 1_700_000_000_001, got.Time)
		})
	}
}

// TestTornTailAtEveryByte cuts the captured log at every byte of its last entry, as a crash in
// the middle of its write would, both at the end of the file and inside the preallocated zeros:
// the entries before it are read, and the last one is reported torn, never silently dropped, or
// (cut before any of its non-zero bytes) was never written.
func TestTornTailAtEveryByte(t *testing.T) {
	full := readTestFile(t, realLog)
	all, err := ReadLog(bytes.NewReader(full))
	require.NoError(t, err)
	last := all[len(all)-1]
	zeros := make([]byte, 4096)
	for cut := last.Offset; cut < int64(len(full)); cut++ {
		written := full[last.Offset:cut]
		for _, padded := range []bool{false, true} {
			log := full[:cut:cut]
			if padded {
				log = append(log, zeros...)
			}
			txns, err := ReadLog(bytes.NewReader(log))
			require.Len(t, txns, len(all)-1, "cut at %d, padded %v", cut, padded)
			require.Equal(t, all[:len(all)-1], txns)
			if isZero(written) {
				require.NoError(t, err, "cut at %d, padded %v: nothing of the entry was written", cut, padded)
				continue
			}
			var torn *TornTailError
			require.ErrorAs(t, err, &torn, "cut at %d, padded %v", cut, padded)
			require.Equal(t, last.Offset, torn.Offset)
			require.False(t, errors.As(err, new(*CorruptError)))
		}
	}
}

func TestIndexNonZero(t *testing.T) {
	big := make([]byte, 3*len(zeroChunk)+10)
	require.Equal(t, -1, indexNonZero(big))
	require.Equal(t, -1, indexNonZero(nil))
	for _, at := range []int{0, 5, len(zeroChunk) - 1, len(zeroChunk), 2*len(zeroChunk) + 3, len(big) - 1} {
		b := bytes.Clone(big)
		b[at] = 7
		require.Equal(t, at, indexNonZero(b))
	}
}

// TestLengthsAreBoundedByTheInput gives ReadLog lengths and counts far beyond the bytes that
// follow them: it allocates in proportion to its input, not to what the input claims.
func TestLengthsAreBoundedByTheInput(t *testing.T) {
	for name, log := range map[string][]byte{
		"entry of 200 MiB": logFile(enc(nil).i64(1).i32(200<<20), make(enc, 1000)),
		"string of 1 GiB":  logFile(entry(header(7, 1, OpDelete).i32(1 << 30))),
		"vector of 2^30":   logFile(entry(header(7, 1, OpMulti).i32(1 << 30))),
		"acl vector":       logFile(entry(cat(header(7, 1, OpCreate), enc(nil).str("/a").buf(nil).i32(1<<30)))),
		"paths of a close": logFile(entry(header(7, 1, OpCloseSession).i32(1 << 30))),
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := ReadLog(bytes.NewReader(log))
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated")
		})
	}
}

// failingReader returns its bytes, then err.
type failingReader struct {
	b   []byte
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, r.err
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func TestReadLogPassesReadErrorsOn(t *testing.T) {
	full := readTestFile(t, realLog)
	boom := errors.New("boom")
	for _, cut := range []int{0, 10, fileHeaderSize, fileHeaderSize + 5, 2000, len(full)} {
		_, err := ReadLog(&failingReader{b: full[:cut], err: boom})
		require.ErrorIs(t, err, boom, "error after %d bytes", cut)
	}
}
