package zklog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ChangeKind says what a change did to a znode.
type ChangeKind int8

// The kinds of change.
const (
	Created ChangeKind = iota + 1
	Updated
	Deleted
)

// String names the kind as the operation that makes it: create, setData, delete.
func (k ChangeKind) String() string {
	switch k {
	case Created:
		return "create"
	case Updated:
		return "setData"
	case Deleted:
		return "delete"
	}
	return fmt.Sprintf("ChangeKind(%d)", int8(k))
}

// Change is one change of one znode. The sub-transactions of a multi share its zxid and come in
// their order within it.
type Change struct {
	Zxid int64
	// Time is the leader's wall clock, in milliseconds since the Unix epoch, when it accepted the
	// request (TxnHeader.time).
	Time int64
	// Session is the session whose transaction made the change; for a deletion by the end of a
	// session, that session.
	Session int64
	Path    string
	Kind    ChangeKind
	// Version is the znode's data version after the change: 0 for a create, the new version for
	// a setData, the last version for a delete (-1 when the znode was not known to have existed).
	Version int32
	// Data is the znode's data after the change; for a delete, the data it had (nil when
	// unknown).
	Data []byte
	// EphemeralOwner is the session owning an ephemeral znode, 0 for a persistent one.
	EphemeralOwner int64
	// SessionEnded marks the deletion of an ephemeral znode by the close or expiry of its
	// session (a closeSession transaction).
	SessionEnded bool
}

// Timestamp is Time as a time.Time in UTC.
func (c *Change) Timestamp() time.Time { return time.UnixMilli(c.Time).UTC() }

// ZxidRange is the zxids from First to Last, both included.
type ZxidRange struct{ First, Last int64 }

// String is the range in hexadecimal, "0x5..0x9", or "0x5" for a single zxid.
func (r ZxidRange) String() string {
	if r.First == r.Last {
		return fmt.Sprintf("%#x", r.First)
	}
	return fmt.Sprintf("%#x..%#x", r.First, r.Last)
}

// IncompleteError is a history with transactions missing: the zxids of Missing were never read,
// so the changes they made are unknown.
type IncompleteError struct{ Missing []ZxidRange }

func (e *IncompleteError) Error() string {
	parts := make([]string, len(e.Missing))
	for i, r := range e.Missing {
		parts[i] = r.String()
	}
	return "incomplete ZooKeeper history: transactions " + strings.Join(parts, ", ") + " are missing"
}

// Epoch is the leader epoch of a zxid, its high 32 bits.
func Epoch(zxid int64) int64 { return int64(uint64(zxid) >> 32) }

// Counter is the transaction counter of a zxid within its epoch, its low 32 bits.
func Counter(zxid int64) int64 { return zxid & 0xffffffff }

// Sorted returns txns in zxid order without those at or before after, and without duplicates
// (the same entry read from two log files). Two different transactions with one zxid are an
// error.
func Sorted(txns []Txn, after int64) ([]Txn, error) {
	out := make([]Txn, 0, len(txns))
	for _, t := range txns {
		if t.Zxid > after {
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b Txn) int { return cmp.Compare(a.Zxid, b.Zxid) })
	out = slices.CompactFunc(out, sameTxn)
	if err := duplicateZxid(out); err != nil {
		return nil, err
	}
	return out, nil
}

func duplicateZxid(sorted []Txn) error {
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Zxid == sorted[i-1].Zxid {
			return fmt.Errorf("two different transactions with zxid %#x (%s and %s)", sorted[i].Zxid, sorted[i-1].Type, sorted[i].Type)
		}
	}
	return nil
}

// sameTxn reports whether two entries hold the same transaction: same header and same bytes, as
// far as their checksums tell. Two failed multis with the same header are the same: a server that
// applied one before logging it (a follower catching up with a DIFF) logs its sub-transactions
// rewritten, and either way it changed nothing.
func sameTxn(a, b Txn) bool {
	if a.Zxid != b.Zxid || a.Session != b.Session || a.Cxid != b.Cxid || a.Time != b.Time || a.Type != b.Type {
		return false
	}
	return a.Checksum == b.Checksum || (failedMulti(a) && failedMulti(b))
}

func failedMulti(t Txn) bool {
	m, ok := t.Record.(*Multi)
	return ok && m.Failed()
}

// Gaps returns the zxids missing from sorted, transactions in zxid order following the snapshot
// at zxid after. Within an epoch every zxid follows the last by one; a new epoch starts at counter
// 1; epochs follow one another by one, so an epoch skipped altogether is missing, as the range
// of all its zxids: its transactions, if it had any, are unknown. The end of an epoch cannot be
// told from the logs alone: transactions at the end of an epoch lost from every log, and
// proposals that a leader logged but never committed, leave no gap.
func Gaps(sorted []Txn, after int64) []ZxidRange {
	var missing []ZxidRange
	prev := after
	for _, t := range sorted {
		next := prev + 1
		if e := Epoch(t.Zxid); e > Epoch(prev) {
			for skipped := Epoch(prev) + 1; skipped < e; skipped++ {
				missing = append(missing, ZxidRange{First: skipped<<32 | 1, Last: skipped<<32 | 0xffffffff})
			}
			next = e<<32 | 1
		}
		if t.Zxid > next {
			missing = append(missing, ZxidRange{First: next, Last: t.Zxid - 1})
		}
		prev = t.Zxid
	}
	return missing
}

// znode is what Replay keeps of a znode.
type znode struct {
	version int32
	data    []byte
	owner   int64
}

// Replay applies txns to the tree of snap and returns every change of a znode they made after
// snap's zxid, in zxid order. A nil snap is an empty tree before the first transaction. Failed
// multis and failed requests change nothing; a closeSession deletes every ephemeral znode of its
// session, those its record lists first.
//
// When zxids are missing between the snapshot and the last transaction, Replay still returns the
// changes it could read, with an *IncompleteError naming the missing zxids.
func Replay(snap *Snapshot, txns []Txn) ([]Change, error) {
	after := int64(0)
	tree := map[string]*znode{}
	if snap != nil {
		after = snap.Zxid
		for p, n := range snap.Nodes {
			tree[p] = &znode{version: n.Stat.Version, data: n.Data, owner: n.Stat.EphemeralOwner}
		}
	}
	sorted, err := Sorted(txns, after)
	if err != nil {
		return nil, err
	}
	r := &replayer{tree: tree}
	for i := range sorted {
		r.apply(&sorted[i])
	}
	if missing := Gaps(sorted, after); len(missing) > 0 {
		return r.changes, &IncompleteError{Missing: missing}
	}
	return r.changes, nil
}

type replayer struct {
	tree    map[string]*znode
	changes []Change
}

func (r *replayer) apply(t *Txn) {
	switch rec := t.Record.(type) {
	case *Multi:
		if rec.Failed() {
			return
		}
		for _, s := range rec.Txns {
			r.applyRecord(t, s.Type, s.Record)
		}
	case nil:
		if t.Type == OpCloseSession {
			r.closeSession(t, nil)
		}
	default:
		r.applyRecord(t, t.Type, rec)
	}
}

func (r *replayer) applyRecord(t *Txn, op OpCode, rec Record) {
	change := Change{Zxid: t.Zxid, Time: t.Time, Session: t.Session}
	switch rec := rec.(type) {
	case *Create:
		owner := int64(0)
		if rec.Ephemeral && (op == OpCreate || op == OpCreate2) {
			owner = t.Session
		}
		r.tree[rec.Path] = &znode{data: rec.Data, owner: owner}
		change.Path, change.Kind, change.Data, change.EphemeralOwner = rec.Path, Created, rec.Data, owner
	case *SetData:
		n := r.tree[rec.Path]
		if n == nil { // not in a fuzzy snapshot yet
			n = &znode{}
			r.tree[rec.Path] = n
		}
		n.version, n.data = rec.Version, rec.Data
		change.Path, change.Kind, change.Version, change.Data, change.EphemeralOwner = rec.Path, Updated, rec.Version, rec.Data, n.owner
	case *Delete:
		r.delete(&change, rec.Path)
	case *CloseSession:
		r.closeSession(t, rec.Paths)
		return
	default: // check, error, createSession, setACL: no data changes
		return
	}
	r.changes = append(r.changes, change)
}

// delete removes path from the tree and fills change with what it had.
func (r *replayer) delete(change *Change, path string) {
	change.Path, change.Kind, change.Version = path, Deleted, -1
	if n := r.tree[path]; n != nil {
		change.Version, change.Data, change.EphemeralOwner = n.version, n.data, n.owner
		delete(r.tree, path)
	}
}

// closeSession deletes the paths listed, then every other ephemeral znode the session owns.
func (r *replayer) closeSession(t *Txn, listed []string) {
	var owned []string
	for p, n := range r.tree {
		if n.owner == t.Session && !slices.Contains(listed, p) {
			owned = append(owned, p)
		}
	}
	slices.Sort(owned)
	for _, p := range slices.Concat(listed, owned) {
		change := Change{Zxid: t.Zxid, Time: t.Time, Session: t.Session, SessionEnded: true}
		r.delete(&change, p)
		r.changes = append(r.changes, change)
	}
}
