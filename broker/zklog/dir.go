package zklog

import (
	"archive/tar"
	"cmp"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
)

// ParseName returns the kind ("log" or "snapshot") and zxid of a file of dataDir/version-2
// (log.1a2b, snapshot.0, snapshot.6c.gz), and whether name is one. A snapshot being written
// (snapshot.6c.tmp) is not.
func ParseName(name string) (kind string, zxid int64, ok bool) {
	parts := strings.Split(path.Base(name), ".")
	switch {
	case len(parts) == 2 && (parts[0] == "log" || parts[0] == "snapshot"):
	case len(parts) == 3 && parts[0] == "snapshot" && (parts[2] == "gz" || parts[2] == "snappy"):
	default:
		return "", 0, false
	}
	z, err := strconv.ParseUint(parts[1], 16, 64)
	if err != nil {
		return "", 0, false
	}
	return parts[0], int64(z), true
}

// LogFile is one transaction log file of a data directory.
type LogFile struct {
	Name string
	// Zxid is the zxid in the file name, the first transaction the file was opened for.
	Zxid   int64
	Header LogHeader
	Txns   []Txn
	// Torn is set when the last entry was only partly written.
	Torn *TornTailError
}

// DataDir is what a ZooKeeper server's dataDir/version-2 holds: its snapshots and transaction
// logs, each in zxid order.
type DataDir struct {
	Snapshots []*Snapshot
	Logs      []LogFile
}

// ReadDir reads the log.* and snapshot.* files at the root of fsys; other files are ignored.
func ReadDir(fsys fs.FS) (*DataDir, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read ZooKeeper data directory: %w", err)
	}
	d := &DataDir{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if err := d.readFile(e.Name(), func() (io.ReadCloser, error) { return fsys.Open(e.Name()) }); err != nil {
			return nil, err
		}
	}
	d.sort()
	return d, nil
}

// ReadTar reads the log.* and snapshot.* files of a tar stream, such as Docker's copy of a
// container's version-2 directory; other entries are ignored.
func ReadTar(r io.Reader) (*DataDir, error) {
	d := &DataDir{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read ZooKeeper data directory archive: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if err := d.readFile(h.Name, func() (io.ReadCloser, error) { return io.NopCloser(tr), nil }); err != nil {
			return nil, err
		}
	}
	d.sort()
	return d, nil
}

// readFile reads one file named name, if it is a log or a snapshot.
func (d *DataDir) readFile(name string, open func() (io.ReadCloser, error)) error {
	kind, zxid, ok := ParseName(name)
	if !ok {
		return nil
	}
	f, err := open()
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	base := path.Base(name)
	switch kind {
	case "log":
		h, txns, err := ReadLogFile(f)
		lf := LogFile{Name: base, Zxid: zxid, Header: h, Txns: txns}
		if !errors.As(err, &lf.Torn) && err != nil {
			return fmt.Errorf("transaction log %s: %w", base, err)
		}
		d.Logs = append(d.Logs, lf)
	case "snapshot":
		var r io.Reader = f
		switch path.Ext(base) {
		case ".gz":
			gz, err := gzip.NewReader(f)
			if err != nil {
				return fmt.Errorf("snapshot %s: %w", base, err)
			}
			defer gz.Close()
			r = gz
		case ".snappy":
			return fmt.Errorf("snapshot %s: snappy compression is not supported", base)
		}
		s, err := ReadSnapshot(r, zxid)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", base, err)
		}
		d.Snapshots = append(d.Snapshots, s)
	}
	return nil
}

func (d *DataDir) sort() {
	slices.SortFunc(d.Snapshots, func(a, b *Snapshot) int { return cmp.Compare(a.Zxid, b.Zxid) })
	slices.SortFunc(d.Logs, func(a, b LogFile) int { return cmp.Compare(a.Zxid, b.Zxid) })
}

// History is the replayed history of one ZooKeeper server, or of an ensemble.
type History struct {
	// Snapshot is the zxid of the snapshot the history starts from: it holds every change after.
	Snapshot int64
	// Txns are the transactions after the snapshot, in zxid order.
	Txns []Txn
	// Changes are the znode changes they made.
	Changes []Change
	// Missing are the zxids missing between the snapshot and the last transaction.
	Missing []ZxidRange
	// Torn names the log files whose last entry was only partly written; that entry never took
	// effect (ZooKeeper acknowledges a transaction once it is in its log).
	Torn []string

	base *Snapshot // the snapshot replayed on, nil for an empty tree
}

// Last is the zxid of the last transaction, or Snapshot when there is none.
func (h *History) Last() int64 {
	if len(h.Txns) == 0 {
		return h.Snapshot
	}
	return h.Txns[len(h.Txns)-1].Zxid
}

// Complete reports whether no zxid is missing.
func (h *History) Complete() bool { return len(h.Missing) == 0 }

// Err is an *IncompleteError when zxids are missing, nil otherwise.
func (h *History) Err() error {
	if h.Complete() {
		return nil
	}
	return &IncompleteError{Missing: h.Missing}
}

// Replay replays the transaction logs on the oldest snapshot, the one with the longest history
// after it (ZooKeeper starts a fresh dataDir with an empty snapshot at zxid 0). Zxids missing are
// reported in the history, not as an error.
func (d *DataDir) Replay() (*History, error) {
	var snap *Snapshot
	if len(d.Snapshots) > 0 {
		snap = d.Snapshots[0]
	}
	var all []Txn
	var torn []string
	for _, l := range d.Logs {
		all = append(all, l.Txns...)
		if l.Torn != nil {
			torn = append(torn, l.Name)
		}
	}
	h, err := replayAll(snap, all)
	if err != nil {
		return nil, err
	}
	h.Torn = torn
	return h, nil
}

// replayAll replays txns, from any number of logs, on snap.
func replayAll(snap *Snapshot, txns []Txn) (*History, error) {
	h := &History{base: snap}
	if snap != nil {
		h.Snapshot = snap.Zxid
	}
	var err error
	if h.Txns, err = Sorted(txns, h.Snapshot); err != nil {
		return nil, err
	}
	changes, err := Replay(snap, h.Txns)
	var inc *IncompleteError
	if errors.As(err, &inc) {
		h.Missing = inc.Missing
	} else if err != nil {
		return nil, err
	}
	h.Changes = changes
	return h, nil
}

// Merge checks that the histories of the servers of one ensemble hold the same transactions
// over the zxids they have in common, and returns the ensemble's history: every server's
// transactions, replayed on the oldest snapshot among them. A server fills the zxids another
// lacks (a follower that was down, a log cut short). A disagreement is an error naming the
// servers and the first zxid where they differ; so is a transaction that one server holds and
// another skips without a gap, such as a proposal logged by a leader that died before it was
// committed.
func Merge(servers map[string]*History) (*History, error) {
	names := slices.Sorted(maps.Keys(servers))
	if len(names) == 0 {
		return nil, errors.New("no ZooKeeper server history to merge")
	}
	for i, a := range names {
		for _, b := range names[i+1:] {
			if err := agree(servers[a], servers[b]); err != nil {
				return nil, fmt.Errorf("ZooKeeper servers %s and %s disagree: %w", a, b, err)
			}
		}
	}
	base := servers[names[0]]
	var all []Txn
	var torn []string
	for _, n := range names {
		h := servers[n]
		if h.Snapshot < base.Snapshot {
			base = h
		}
		all = append(all, h.Txns...)
		for _, t := range h.Torn {
			torn = append(torn, n+"/"+t)
		}
	}
	m, err := replayAll(base.base, all)
	if err != nil {
		return nil, err
	}
	m.Torn = torn
	return m, nil
}

// agree compares two histories over the zxids both hold.
func agree(a, b *History) error {
	lo := max(a.Snapshot, b.Snapshot)
	hi := min(a.Last(), b.Last())
	byZxid := make(map[int64]Txn)
	for _, t := range a.Txns {
		if t.Zxid > lo && t.Zxid <= hi {
			byZxid[t.Zxid] = t
		}
	}
	for _, t := range b.Txns {
		if t.Zxid <= lo || t.Zxid > hi {
			continue
		}
		u, ok := byZxid[t.Zxid]
		if !ok {
			if missingIn(a, t.Zxid) {
				continue // a lacks it: reported as missing in a's history
			}
			return fmt.Errorf("zxid %#x (%s) is only in the second", t.Zxid, t.Type)
		}
		if !sameTxn(t, u) {
			return fmt.Errorf("zxid %#x is %s (session %#x, checksum %#x) in the first and %s (session %#x, checksum %#x) in the second",
				t.Zxid, u.Type, u.Session, u.Checksum, t.Type, t.Session, t.Checksum)
		}
		delete(byZxid, t.Zxid)
	}
	for _, z := range slices.Sorted(maps.Keys(byZxid)) {
		if !missingIn(b, z) {
			return fmt.Errorf("zxid %#x (%s) is only in the first", z, byZxid[z].Type)
		}
	}
	return nil
}

func missingIn(h *History, zxid int64) bool {
	for _, r := range h.Missing {
		if zxid >= r.First && zxid <= r.Last {
			return true
		}
	}
	return false
}
