package zklog

import (
	"encoding/binary"
	"hash/adler32"
)

// enc writes jute's binary encoding, to build logs and snapshots in tests.
type enc []byte

func (e enc) i32(v int32) enc { return binary.BigEndian.AppendUint32(e, uint32(v)) }
func (e enc) i64(v int64) enc { return binary.BigEndian.AppendUint64(e, uint64(v)) }
func (e enc) str(s string) enc {
	return append(e.i32(int32(len(s))), s...)
}
func (e enc) buf(b []byte) enc {
	if b == nil {
		return e.i32(-1)
	}
	return append(e.i32(int32(len(b))), b...)
}
func (e enc) boolean(b bool) enc {
	if b {
		return append(e, 1)
	}
	return append(e, 0)
}

// header encodes a TxnHeader.
func header(session int64, zxid int64, op OpCode) enc {
	return enc(nil).i64(session).i32(1).i64(zxid).i64(1_700_000_000_000 + zxid).i32(int32(op))
}

func createRec(path, data string, ephemeral bool) enc {
	return enc(nil).str(path).buf([]byte(data)).i32(1).i32(31).str("world").str("anyone").boolean(ephemeral).i32(1)
}

func setDataRec(path, data string, version int32) enc {
	return enc(nil).str(path).buf([]byte(data)).i32(version)
}

// subTxn is a multi's sub-transaction to encode.
type subTxn struct {
	op  OpCode
	rec enc
}

func multiRec(subs ...subTxn) enc {
	e := enc(nil).i32(int32(len(subs)))
	for _, s := range subs {
		e = e.i32(int32(s.op)).buf(s.rec)
	}
	return e
}

// entry frames txn bytes as a log entry: checksum, length, bytes, 'B'.
func entry(txn enc) enc {
	return append(enc(nil).i64(int64(adler32.Checksum(txn))).buf(txn), 'B')
}

// logFile is a log file header followed by entries.
func logFile(entries ...enc) []byte {
	e := enc(nil).i32(logMagic).i32(formatVersion).i64(0)
	for _, x := range entries {
		e = append(e, x...)
	}
	return e
}

// digest encodes a TxnDigest.
func digest() enc { return enc(nil).i32(2).i64(12345) }

func cat(parts ...enc) enc {
	var e enc
	for _, p := range parts {
		e = append(e, p...)
	}
	return e
}
