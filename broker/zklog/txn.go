package zklog

import (
	"fmt"
	"strconv"
	"time"
)

// OpCode is the type of a transaction or of a multi's sub-transaction (ZooDefs.OpCode).
type OpCode int32

// The op codes that appear in transaction logs.
const (
	OpError           OpCode = -1
	OpCreate          OpCode = 1
	OpDelete          OpCode = 2
	OpSetData         OpCode = 5
	OpSetACL          OpCode = 7
	OpCheck           OpCode = 13
	OpMulti           OpCode = 14
	OpCreate2         OpCode = 15
	OpReconfig        OpCode = 16
	OpCreateContainer OpCode = 19
	OpDeleteContainer OpCode = 20
	OpCreateTTL       OpCode = 21
	OpCreateSession   OpCode = -10
	OpCloseSession    OpCode = -11
)

var opNames = map[OpCode]string{
	OpError: "error", OpCreate: "create", OpDelete: "delete", OpSetData: "setData", OpSetACL: "setACL",
	OpCheck: "check", OpMulti: "multi", OpCreate2: "create2", OpReconfig: "reconfig",
	OpCreateContainer: "createContainer", OpDeleteContainer: "deleteContainer", OpCreateTTL: "createTTL",
	OpCreateSession: "createSession", OpCloseSession: "closeSession",
}

// String names the op code as ZooKeeper does ("setData", "closeSession"), or op(N) if unknown.
func (o OpCode) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Txn is one transaction of a log: its header, its record and where it was in the file.
type Txn struct {
	// Session is the id of the client session that issued it (TxnHeader.clientId).
	Session int64
	Cxid    int32
	Zxid    int64
	// Time is the leader's wall clock, in milliseconds since the Unix epoch, when it accepted
	// the request.
	Time int64
	Type OpCode
	// Record is the decoded record, one of the pointer types of this package (*Create, *SetData,
	// *Multi, ...) as Type says. It is nil for a closeSession without a record (ZooKeeper before
	// 3.6, or zookeeper.closeSessionTxn.enabled=false).
	Record Record
	// Digest is the tree digest ZooKeeper 3.6+ appends after the record, when it does.
	Digest *TxnDigest
	// Offset is the position of the entry (its checksum) in the log file; Size is the entry's
	// length in the file, checksum to end-of-record byte.
	Offset, Size int64
	// Checksum is the entry's Adler-32 of the txn bytes, as stored and verified.
	Checksum uint32
}

// Timestamp is Time as a time.Time in UTC.
func (t *Txn) Timestamp() time.Time { return time.UnixMilli(t.Time).UTC() }

// TxnDigest is the digest of the data tree after a transaction (TxnDigest in zookeeper.jute).
type TxnDigest struct {
	Version    int32
	TreeDigest int64
}

// Record is a decoded transaction record. The types below implement it.
type Record interface{ record() }

// ACL is one access control entry (org.apache.zookeeper.data.ACL).
type ACL struct {
	Perms  int32
	Scheme string
	ID     string
}

// Create is the record of create, create2, createContainer and createTTL (CreateTxn,
// CreateContainerTxn, CreateTTLTxn).
type Create struct {
	Path string
	Data []byte
	ACL  []ACL
	// Ephemeral is set for an ephemeral znode, owned by the transaction's session.
	Ephemeral bool
	// ParentCVersion is the parent's child version after the create; -1 in a version 0 record.
	ParentCVersion int32
	// TTL is the time to live of a createTTL, in milliseconds.
	TTL int64
}

// Delete is the record of delete and deleteContainer (DeleteTxn).
type Delete struct{ Path string }

// SetData is the record of setData and reconfig (SetDataTxn). Version is the znode's data
// version after the change.
type SetData struct {
	Path    string
	Data    []byte
	Version int32
}

// Check is the record of a multi's version check (CheckVersionTxn); it changes nothing.
type Check struct {
	Path    string
	Version int32
}

// SetACL is the record of setACL (SetACLTxn).
type SetACL struct {
	Path    string
	ACL     []ACL
	Version int32
}

// CreateSession is the record of createSession; Timeout is the session timeout in milliseconds.
type CreateSession struct{ Timeout int32 }

// CloseSession is the record of closeSession: the ephemeral znodes the close deletes.
type CloseSession struct{ Paths []string }

// Error is the record of a failed request (ErrorTxn), alone or as a multi's sub-transaction; Err
// is ZooKeeper's error code (-101 no node, -110 node exists, ...). In a failed multi logged by a
// follower that caught up with a DIFF, a sub-transaction may be an error whose bytes are those of
// its original record: Err is then meaningless, as it is to ZooKeeper.
type Error struct{ Err int32 }

// Multi is the record of a multi: all its sub-transactions took effect, or, when any of them is
// an error, none did.
type Multi struct{ Txns []SubTxn }

// SubTxn is one sub-transaction of a multi.
type SubTxn struct {
	Type   OpCode
	Record Record
}

// Failed reports whether the multi failed as a whole: then every sub-transaction is an error and
// nothing changed.
func (m *Multi) Failed() bool {
	for _, s := range m.Txns {
		if s.Type == OpError {
			return true
		}
	}
	return false
}

func (*Create) record()        {}
func (*Delete) record()        {}
func (*SetData) record()       {}
func (*Check) record()         {}
func (*SetACL) record()        {}
func (*CreateSession) record() {}
func (*CloseSession) record()  {}
func (*Error) record()         {}
func (*Multi) record()         {}

// txnHeaderSize is the size of a TxnHeader: clientId, cxid, zxid, time, type.
const txnHeaderSize = 8 + 4 + 8 + 8 + 4

// txnDigestSize is the size of a TxnDigest: version, treeDigest.
const txnDigestSize = 4 + 8

// decodeTxn decodes the txn bytes of a log entry: header, record, optional digest.
func decodeTxn(b []byte) (Txn, error) {
	d := &decoder{b: b}
	t := Txn{
		Session: d.int64("session"),
		Cxid:    d.int32("cxid"),
		Zxid:    d.int64("zxid"),
		Time:    d.int64("time"),
		Type:    OpCode(d.int32("type")),
	}
	if d.err != nil {
		return t, fmt.Errorf("txn header: %w", d.err)
	}
	start := d.off
	rec, err := decodeRecord(d, t.Type)
	if t.Type == OpCloseSession && (err != nil || (d.left() != 0 && d.left() != txnDigestSize)) {
		// Without a CloseSessionTxn the bytes after the header are at most a digest.
		d, rec, err = &decoder{b: b, off: start}, nil, nil
	}
	if err != nil {
		return t, fmt.Errorf("zxid %#x: %s record: %w", t.Zxid, t.Type, err)
	}
	t.Record = rec
	switch d.left() {
	case 0:
	case txnDigestSize:
		t.Digest = &TxnDigest{Version: d.int32("digest version"), TreeDigest: d.int64("digest")}
	default:
		return t, fmt.Errorf("zxid %#x: %s record: %d bytes left after it, neither none nor a digest", t.Zxid, t.Type, d.left())
	}
	return t, nil
}

// decodeRecord decodes the record of a transaction or sub-transaction of type op.
func decodeRecord(d *decoder, op OpCode) (Record, error) {
	var r Record
	switch op {
	case OpCreate, OpCreate2:
		c := &Create{Path: d.string("path"), Data: d.buffer("data"), ACL: decodeACLs(d),
			Ephemeral: d.bool("ephemeral")}
		if op == OpCreate && d.err == nil && d.left() == 0 {
			c.ParentCVersion = -1 // CreateTxnV0
		} else {
			c.ParentCVersion = d.int32("parentCVersion")
		}
		r = c
	case OpCreateContainer:
		r = &Create{Path: d.string("path"), Data: d.buffer("data"), ACL: decodeACLs(d),
			ParentCVersion: d.int32("parentCVersion")}
	case OpCreateTTL:
		r = &Create{Path: d.string("path"), Data: d.buffer("data"), ACL: decodeACLs(d),
			ParentCVersion: d.int32("parentCVersion"), TTL: d.int64("ttl")}
	case OpDelete, OpDeleteContainer:
		r = &Delete{Path: d.string("path")}
	case OpSetData, OpReconfig:
		r = &SetData{Path: d.string("path"), Data: d.buffer("data"), Version: d.int32("version")}
	case OpCheck:
		r = &Check{Path: d.string("path"), Version: d.int32("version")}
	case OpSetACL:
		r = &SetACL{Path: d.string("path"), ACL: decodeACLs(d), Version: d.int32("version")}
	case OpCreateSession:
		r = &CreateSession{Timeout: d.int32("timeout")}
	case OpCloseSession:
		n := d.count("paths2Delete", 4)
		c := &CloseSession{Paths: make([]string, 0, n)}
		for range n {
			c.Paths = append(c.Paths, d.string("path"))
		}
		r = c
	case OpError:
		r = &Error{Err: d.int32("err")}
	case OpMulti:
		n := d.count("txns", 8)
		m := &Multi{Txns: make([]SubTxn, 0, n)}
		for i := range n {
			typ := OpCode(d.int32("sub-txn type"))
			data := d.buffer("sub-txn data")
			if d.err != nil {
				break
			}
			sd := &decoder{b: data}
			sub, err := decodeRecord(sd, typ)
			// A server that applies a failed multi before it logs it (a follower catching up
			// with a DIFF from the leader) logs each sub-transaction turned into an error but
			// still holding its original record: ZooKeeper reads the error code and ignores the
			// rest, and so does this.
			if err == nil && sd.left() != 0 && typ != OpError {
				err = fmt.Errorf("%d bytes left after it", sd.left())
			}
			if err != nil {
				return nil, fmt.Errorf("sub-txn %d (%s): %w", i, typ, err)
			}
			m.Txns = append(m.Txns, SubTxn{Type: typ, Record: sub})
		}
		r = m
	default:
		return nil, fmt.Errorf("unknown transaction type %d", int32(op))
	}
	return r, d.err
}

func decodeACLs(d *decoder) []ACL {
	n := d.count("acl", 12)
	acls := make([]ACL, 0, n)
	for range n {
		acls = append(acls, ACL{Perms: d.int32("perms"), Scheme: d.string("scheme"), ID: d.string("id")})
	}
	return acls
}
