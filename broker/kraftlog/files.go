package kraftlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Snapshot is a decoded KRaft snapshot (a .checkpoint file): the whole metadata state as of
// the log offset just before EndOffset.
type Snapshot struct {
	// EndOffset is the log offset the snapshot ends at (exclusive): the log continues from it.
	EndOffset int64
	// Epoch is the KRaft epoch of the last record the snapshot contains.
	Epoch int32
	// LastContainedLogTimeMs is the append time of the last log record the snapshot contains,
	// from its SnapshotHeader.
	LastContainedLogTimeMs int64
	// Records are the snapshot's records, SnapshotHeader first and SnapshotFooter last; their
	// offsets count from 0 inside the snapshot.
	Records []Record
}

// DecodeSnapshot decodes a snapshot file's bytes. endOffset and epoch come from its file name
// (see ParseSnapshotName). The snapshot must open with a SnapshotHeader and close with a
// SnapshotFooter; one that does not is incomplete (ErrTornTail).
func DecodeSnapshot(data []byte, endOffset int64, epoch int32) (*Snapshot, error) {
	l, err := Decode(data, 0)
	if err != nil {
		return nil, fmt.Errorf("snapshot %d-%d: %w", endOffset, epoch, err)
	}
	s := &Snapshot{EndOffset: endOffset, Epoch: epoch, Records: l.Records}
	n := len(l.Records)
	if n == 0 || !l.Records[0].Control || l.Records[0].Type != ControlSnapshotHeader {
		return nil, fmt.Errorf("snapshot %d-%d: %w", endOffset, epoch,
			&DecodeError{Kind: ErrMalformed, Detail: "does not open with a SnapshotHeader"})
	}
	if h, ok := l.Records[0].Message.(*SnapshotHeader); ok {
		s.LastContainedLogTimeMs = h.LastContainedLogTimeMs
	}
	if last := l.Records[n-1]; !last.Control || last.Type != ControlSnapshotFooter {
		return nil, fmt.Errorf("snapshot %d-%d: %w", endOffset, epoch,
			&DecodeError{Kind: ErrTornTail, Offset: l.NextOffset, Detail: "does not close with a SnapshotFooter"})
	}
	return s, nil
}

// ParseSnapshotName parses a snapshot file name, <endOffset>-<epoch>.checkpoint, each number
// zero-padded to 20 and 10 digits.
func ParseSnapshotName(name string) (endOffset int64, epoch int32, err error) {
	base, ok := strings.CutSuffix(filepath.Base(name), ".checkpoint")
	off, ep, ok2 := strings.Cut(base, "-")
	if !ok || !ok2 {
		return 0, 0, fmt.Errorf("kraftlog: %q is not named <endOffset>-<epoch>.checkpoint", name)
	}
	o, err1 := strconv.ParseInt(off, 10, 64)
	e, err2 := strconv.ParseInt(ep, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("kraftlog: snapshot name %q: %w", name, err)
	}
	return o, int32(e), nil
}

// ReadSnapshotFile reads and decodes a snapshot file.
func ReadSnapshotFile(path string) (*Snapshot, error) {
	endOffset, epoch, err := ParseSnapshotName(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kraftlog: %w", err)
	}
	return DecodeSnapshot(data, endOffset, epoch)
}

// ParseSegmentName returns the base offset a segment file (<baseOffset>.log) is named after.
func ParseSegmentName(name string) (int64, error) {
	base, ok := strings.CutSuffix(filepath.Base(name), ".log")
	if !ok {
		return 0, fmt.Errorf("kraftlog: %q is not named <baseOffset>.log", name)
	}
	off, err := strconv.ParseInt(base, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("kraftlog: segment name %q: %w", name, err)
	}
	return off, nil
}

// ReadSegmentFile reads and decodes one log segment; its first batch must start at the base
// offset in its name. Like Decode, it returns the records before an error along with it.
func ReadSegmentFile(path string) (*Log, error) {
	base, err := ParseSegmentName(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kraftlog: %w", err)
	}
	l, err := Decode(data, base)
	if err != nil {
		return l, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Dir is what a controller's __cluster_metadata-0 directory holds, decoded.
type Dir struct {
	// Snapshot is the newest snapshot in the directory, or nil if there is none.
	Snapshot *Snapshot
	// Log is every segment, in order, as one log.
	Log *Log
}

// ReadDir decodes a __cluster_metadata-0 directory: its newest snapshot, if any, and all its
// segments in offset order, checked to follow one another without a gap. The log must start at
// offset 0 or, when older segments were deleted, no later than the snapshot's end offset;
// otherwise offsets are missing and the error wraps ErrGap. The Dir returned beside an error
// holds what was decoded before the problem.
func ReadDir(dir string) (*Dir, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("kraftlog: %w", err)
	}
	var segments, snapshots []string
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".log":
			segments = append(segments, e.Name())
		case ".checkpoint":
			snapshots = append(snapshots, e.Name())
		}
	}
	sort.Strings(segments) // zero-padded names sort in offset order
	sort.Strings(snapshots)
	d := &Dir{}
	if len(snapshots) > 0 {
		if d.Snapshot, err = ReadSnapshotFile(filepath.Join(dir, snapshots[len(snapshots)-1])); err != nil {
			return d, err
		}
	}
	for i, name := range segments {
		path := filepath.Join(dir, name)
		base, err := ParseSegmentName(name)
		if err != nil {
			return d, err
		}
		if i == 0 {
			d.Log = &Log{StartOffset: base, NextOffset: base}
			if base > 0 && (d.Snapshot == nil || d.Snapshot.EndOffset < base) {
				return d, fmt.Errorf("%s: %w", path, &DecodeError{Kind: ErrGap, Offset: 0,
					Detail: fmt.Sprintf("the log starts at offset %d and no snapshot reaches it", base)})
			}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return d, fmt.Errorf("kraftlog: %w", err)
		}
		if base != d.Log.NextOffset {
			return d, fmt.Errorf("%s: %w", path, &DecodeError{Kind: ErrGap, Offset: d.Log.NextOffset,
				Detail: fmt.Sprintf("segment starts at offset %d", base)})
		}
		seg, err := Decode(data, base)
		d.Log.Records = append(d.Log.Records, seg.Records...)
		d.Log.NextOffset = seg.NextOffset
		d.Log.Batches += seg.Batches
		if err != nil {
			return d, fmt.Errorf("%s: %w", path, err)
		}
	}
	if d.Log == nil {
		start := int64(0)
		if d.Snapshot != nil {
			start = d.Snapshot.EndOffset
		}
		d.Log = &Log{StartOffset: start, NextOffset: start}
	}
	return d, nil
}
