package zklog

import (
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	pathpkg "path"
)

// Snapshot is a ZooKeeper snapshot: the data tree and the sessions as they were at (or, since
// ZooKeeper snapshots are fuzzy, some time after) its zxid.
type Snapshot struct {
	// Zxid is the zxid in the snapshot's file name: every transaction up to it is in the tree,
	// and some after it may be.
	Zxid int64
	DBID int64
	// Sessions maps each live session's id to its timeout in milliseconds.
	Sessions map[int64]int32
	// Nodes maps each znode's path ("/" for the root) to the znode.
	Nodes map[string]*Node
	// Digest is the tree digest written after the tree, when ZooKeeper has digests enabled.
	Digest *SnapshotDigest
}

// Node is one znode of a snapshot.
type Node struct {
	Data []byte
	// ACL is the id of the znode's ACL in the snapshot's ACL cache.
	ACL  int64
	Stat Stat
}

// Stat is what ZooKeeper keeps about a znode (StatPersisted). Times are in milliseconds since the
// Unix epoch.
type Stat struct {
	Czxid, Mzxid   int64
	Ctime, Mtime   int64
	Version        int32
	Cversion       int32
	Aversion       int32
	EphemeralOwner int64
	Pzxid          int64
}

// SnapshotDigest is the digest of the tree a snapshot ends with (DataTree.ZxidDigest).
type SnapshotDigest struct {
	Zxid    int64
	Version int32
	Digest  int64
}

// ErrNotSnapshot is a file that does not start with a snapshot header.
var ErrNotSnapshot = errors.New("not a ZooKeeper snapshot")

// statSize is the size of a StatPersisted.
const statSize = 8*4 + 4*3 + 8*2

// ReadSnapshot reads an uncompressed snapshot (ZooKeeper's default snapshot.compression.method)
// whose file name says zxid, and verifies its checksums. A snapshot cut short or corrupt is a
// *CorruptError: ZooKeeper writes a snapshot in full before it uses it, so no tail is torn.
func ReadSnapshot(r io.Reader, zxid int64) (*Snapshot, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	d := &decoder{b: b}
	magic := d.int32("magic")
	version := d.int32("version")
	s := &Snapshot{Zxid: zxid, DBID: d.int64("dbid"), Sessions: map[int64]int32{}, Nodes: map[string]*Node{}}
	if d.err != nil || uint32(magic) != snapshotMagic {
		return nil, fmt.Errorf("%w: magic %#x", ErrNotSnapshot, uint32(magic))
	}
	if version != formatVersion {
		return nil, fmt.Errorf("snapshot format version %d, want %d", version, formatVersion)
	}
	corrupt := func(err error) error {
		return &CorruptError{Offset: int64(d.off), Reason: err.Error()}
	}
	for range d.count("sessions", 12) {
		id := d.int64("session id")
		s.Sessions[id] = d.int32("session timeout")
	}
	for range d.count("acl cache", 12) {
		d.int64("acl id")
		decodeACLs(d)
	}
	for d.err == nil {
		path := d.string("path")
		if path == "/" {
			break
		}
		n := &Node{Data: d.buffer("data"), ACL: d.int64("acl")}
		n.Stat = Stat{Czxid: d.int64("czxid"), Mzxid: d.int64("mzxid"), Ctime: d.int64("ctime"),
			Mtime: d.int64("mtime"), Version: d.int32("version"), Cversion: d.int32("cversion"),
			Aversion: d.int32("aversion"), EphemeralOwner: d.int64("ephemeralOwner"), Pzxid: d.int64("pzxid")}
		if path == "" {
			path = "/"
		} else if parent := pathpkg.Dir(path); s.Nodes[parent] == nil && d.err == nil {
			d.fail("znode %s before its parent", path)
		}
		if _, dup := s.Nodes[path]; dup && d.err == nil {
			d.fail("znode %s twice", path)
		}
		s.Nodes[path] = n
	}
	if d.err != nil {
		return nil, corrupt(d.err)
	}
	if err := checkSeal(d); err != nil {
		return nil, corrupt(err)
	}
	if d.left() > 0 {
		dg := &SnapshotDigest{Zxid: d.int64("digest zxid"), Version: d.int32("digest version")}
		if dg.Version < 2 {
			d.string("digest") // hexadecimal in digest versions before 2
		} else {
			dg.Digest = d.int64("digest")
		}
		if err := checkSeal(d); err != nil {
			return nil, corrupt(err)
		}
		s.Digest = dg
	}
	if d.left() > 0 {
		return nil, &CorruptError{Offset: int64(d.off), Reason: fmt.Sprintf("%d bytes after the end of the snapshot", d.left())}
	}
	return s, nil
}

// checkSeal reads a seal (SnapStream.sealStream): the Adler-32 of every byte before it, then the
// string "/".
func checkSeal(d *decoder) error {
	want := adler32.Checksum(d.b[:min(d.off, len(d.b))])
	got := d.int64("checksum")
	path := d.string("seal")
	if d.err != nil {
		return d.err
	}
	if uint64(got) != uint64(want) {
		return fmt.Errorf("checksum %#x, computed %#x", got, want)
	}
	if path != "/" {
		return fmt.Errorf("seal ends with %q, want \"/\"", path)
	}
	return nil
}
