package faultfs

import (
	"cmp"
	"errors"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
)

// Loss is what a crash dropped: the data and namespace operations that were
// never made durable.
type Loss struct {
	// At is when the crash happened.
	At time.Time `json:"at"`
	// Files lists each file whose cached data was dropped, by path.
	Files []FileLoss `json:"files,omitempty"`
	// Ops lists the namespace operations undone, in the order they were done.
	Ops []OpLoss `json:"ops,omitempty"`
}

// FileLoss is the data of one file a crash dropped.
type FileLoss struct {
	// Path is the file's path relative to the mount point, as the crash
	// found it (a file already unlinked shows where go-fuse last saw it).
	Path string `json:"path"`
	// Bytes counts what was not durable: the bytes of the dirty pages (4 KiB
	// each, clipped to the size, so a 1-byte write counts its whole page)
	// plus the bytes a truncate cut.
	Bytes int64 `json:"bytes"`
	// Size is the size the file had before the crash.
	Size int64 `json:"size"`
	// DurableSize is the size it has after.
	DurableSize int64 `json:"durableSize"`
}

// OpLoss is one namespace operation a crash undid.
type OpLoss struct {
	// Op is create, link, mkdir, remove, rename or exchange.
	Op string `json:"op"`
	// Path is the path the operation named, relative to the mount point.
	Path string `json:"path"`
	// To is the new path of a rename or exchange.
	To string `json:"to,omitempty"`
}

// Bytes is the total of data bytes lost.
func (l Loss) Bytes() int64 {
	var n int64
	for _, f := range l.Files {
		n += f.Bytes
	}
	return n
}

// Empty reports whether the crash lost nothing.
func (l Loss) Empty() bool { return len(l.Files) == 0 && len(l.Ops) == 0 }

// Crash drops every change that is not durable, as a power loss would: the
// cached data of every file and every pending namespace operation. Files
// open before the crash fail with EIO from then on. The filesystem stays
// mounted and serves what was durable. The error, if any, tells which
// undo steps failed; the Loss is valid either way.
func (f *FS) Crash() (Loss, error) {
	loss := Loss{At: time.Now()}
	f.mu.Lock()
	f.epoch.Add(1)
	var errs []error
	for key, c := range f.caches {
		c.mu.Lock()
		if c.dirty() {
			loss.Files = append(loss.Files, FileLoss{Path: c.name(), Bytes: c.dirtyBytes(), Size: c.size, DurableSize: c.durableSize})
		}
		c.closed = true
		errs = append(errs, c.close())
		c.mu.Unlock()
		delete(f.caches, key)
	}
	undone, err := f.jr.rollback()
	errs = append(errs, err)
	f.mu.Unlock()
	for _, op := range undone {
		loss.Ops = append(loss.Ops, OpLoss{Op: string(op.kind), Path: op.path, To: op.to})
	}
	slices.SortFunc(loss.Files, func(a, b FileLoss) int { return cmp.Compare(a.Path, b.Path) })
	f.forgetStale(f.root.EmbeddedInode(), f.backing)
	return loss, errors.Join(errs...)
}

// name is the path of the file the cache holds, for reports.
func (c *cache) name() string {
	if c.inode == nil {
		return "?"
	}
	return c.inode.Path(c.inode.Root())
}

// forgetStale makes go-fuse's tree and the kernel's caches agree with the
// backing directory again after a crash: entries whose backing object is
// gone or different are dropped, and the kernel's cached pages of every
// file are invalidated.
func (f *FS) forgetStale(dir *gofs.Inode, path string) {
	for name, ch := range dir.Children() {
		var st syscall.Stat_t
		p := filepath.Join(path, name)
		if err := syscall.Lstat(p, &st); err != nil || st.Ino != ch.StableAttr().Ino {
			dir.RmChild(name)
			_ = dir.NotifyEntry(name)
			continue
		}
		if ch.IsDir() {
			f.forgetStale(ch, p)
		} else {
			_ = ch.NotifyContent(0, 0)
		}
	}
}
