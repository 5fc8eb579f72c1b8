package faultfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// opKind names a namespace operation.
type opKind string

const (
	opCreate   opKind = "create" // a file, node or symlink was created
	opLink     opKind = "link"
	opMkdir    opKind = "mkdir"
	opRemove   opKind = "remove" // unlink or rmdir
	opRename   opKind = "rename"
	opExchange opKind = "exchange"
)

// nsOp is one namespace operation applied to the backing directory but not
// yet durable, with what it takes to undo it.
type nsOp struct {
	kind opKind
	// path and to are relative to the backing root, as at the time of the op.
	path, to string
	// trash names the object the op removed or replaced, kept in the trash
	// directory until the op is durable.
	trash string
	// dirs are the backing inode numbers of the parent directories the op
	// changed: an fsync of any of them makes it durable.
	dirs []uint64
	at   time.Time
}

// journal is the list of pending namespace operations, oldest first.
// Its methods are called with FS.mu held.
type journal struct {
	root     string // backing root
	trashDir string // where removed objects wait
	ops      []nsOp
	seq      int
}

// trashName returns a fresh name in the trash directory.
func (j *journal) trashName() string {
	j.seq++
	return fmt.Sprintf("%08d", j.seq)
}

func (j *journal) abs(rel string) string { return filepath.Join(j.root, rel) }

func (j *journal) trashPath(name string) string { return filepath.Join(j.trashDir, name) }

// add appends an operation.
func (j *journal) add(op nsOp) {
	j.ops = append(j.ops, op)
}

// commit makes durable the operations for which durable returns true: it
// drops them from the journal, deletes what they removed for good, and
// fsyncs the backing directories they changed.
func (j *journal) commit(durable func(op *nsOp) bool) error {
	var errs []error
	dirs := map[string]bool{}
	kept := j.ops[:0]
	for i := range j.ops {
		op := j.ops[i]
		if !durable(&op) {
			kept = append(kept, op)
			continue
		}
		dirs[filepath.Dir(j.abs(op.path))] = true
		if op.to != "" {
			dirs[filepath.Dir(j.abs(op.to))] = true
		}
		if op.trash != "" {
			if err := os.RemoveAll(j.trashPath(op.trash)); err != nil {
				errs = append(errs, fmt.Errorf("purge %s of %s %s: %w", op.trash, op.kind, op.path, err))
			}
		}
	}
	clear(j.ops[len(kept):])
	j.ops = kept
	for dir := range dirs {
		// A directory a later operation removed or renamed needs no fsync.
		if err := fsyncPath(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// commitDir makes durable the operations that changed directory ino.
func (j *journal) commitDir(ino uint64) error {
	return j.commit(func(op *nsOp) bool {
		for _, d := range op.dirs {
			if d == ino {
				return true
			}
		}
		return false
	})
}

// commitAll makes every pending operation durable.
func (j *journal) commitAll() error {
	return j.commit(func(*nsOp) bool { return true })
}

// commitOlder makes durable the operations done before t.
func (j *journal) commitOlder(t time.Time) error {
	return j.commit(func(op *nsOp) bool { return op.at.Before(t) })
}

// rollback undoes every pending operation, newest first, and returns them
// oldest first.
// Undoing is best effort: an operation whose traces a later durable one
// changed is undone as far as the backing directory allows.
func (j *journal) rollback() ([]nsOp, error) {
	var errs []error
	for i := len(j.ops) - 1; i >= 0; i-- {
		if err := j.undo(j.ops[i]); err != nil {
			errs = append(errs, fmt.Errorf("undo %s %s: %w", j.ops[i].kind, j.ops[i].path, err))
		}
	}
	undone := j.ops
	j.ops = nil
	return undone, errors.Join(errs...)
}

func (j *journal) undo(op nsOp) error {
	switch op.kind {
	case opCreate, opLink:
		return ignoreNotExist(unix.Unlink(j.abs(op.path)))
	case opMkdir:
		return os.RemoveAll(j.abs(op.path))
	case opRemove:
		return ignoreNotExist(unix.Rename(j.trashPath(op.trash), j.abs(op.path)))
	case opRename:
		if err := ignoreNotExist(unix.Rename(j.abs(op.to), j.abs(op.path))); err != nil {
			return err
		}
		if op.trash != "" {
			return ignoreNotExist(unix.Rename(j.trashPath(op.trash), j.abs(op.to)))
		}
		return nil
	case opExchange:
		return ignoreNotExist(unix.Renameat2(unix.AT_FDCWD, j.abs(op.path), unix.AT_FDCWD, j.abs(op.to), unix.RENAME_EXCHANGE))
	}
	return fmt.Errorf("unknown operation %q", op.kind)
}

// clearTrash empties the trash directory, creating it if needed.
func (j *journal) clearTrash() error {
	if err := os.RemoveAll(j.trashDir); err != nil {
		return fmt.Errorf("clear trash %s: %w", j.trashDir, err)
	}
	if err := os.Mkdir(j.trashDir, 0o700); err != nil {
		return fmt.Errorf("create trash %s: %w", j.trashDir, err)
	}
	return nil
}

func ignoreNotExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
