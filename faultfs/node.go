package faultfs

import (
	"context"
	"path/filepath"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// node is a file, directory or other object of the backing directory. It
// holds no state of its own: the tree of go-fuse inodes gives its path, the
// FS holds caches and the journal.
type node struct {
	gofs.Inode
	fsys *FS
	// ino is the backing inode number.
	ino uint64
}

// rel is the node's path relative to the root.
func (n *node) rel() string { return n.Path(n.Root()) }

// abs is the node's path in the backing directory.
func (n *node) abs() string { return filepath.Join(n.fsys.backing, n.rel()) }

// hidden reports whether name is reserved in this directory.
func (n *node) hidden(name string) bool { return n.IsRoot() && name == trashName }

func (n *node) child(ctx context.Context, st *syscall.Stat_t, out *fuse.EntryOut) *gofs.Inode {
	n.fsys.fixAttr(st)
	out.Attr.FromStat(st)
	ch := &node{fsys: n.fsys, ino: st.Ino}
	return n.NewInode(ctx, ch, gofs.StableAttr{Mode: st.Mode, Ino: st.Ino, Gen: 1})
}

// check returns the fault an operation of kind op on this node meets.
func (n *node) check(op Ops, name string, grows, slow bool) syscall.Errno {
	return n.fsys.faults.check(op, func() string { return filepath.Join(n.rel(), name) }, grows, slow)
}

var _ gofs.NodeLookuper = (*node)(nil)

// Lookup finds name in the backing directory.
func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if n.hidden(name) {
		return nil, syscall.ENOENT
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(n.abs(), name), &st); err != nil {
		return nil, gofs.ToErrno(err)
	}
	return n.child(ctx, &st, out), 0
}

var _ gofs.NodeReaddirer = (*node)(nil)

// Readdir lists the backing directory, without the trash.
func (n *node) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	ds, errno := gofs.NewLoopbackDirStream(n.abs())
	if errno != 0 {
		return nil, errno
	}
	defer ds.Close()
	var list []fuse.DirEntry
	for ds.HasNext() {
		e, errno := ds.Next()
		if errno != 0 {
			return nil, errno
		}
		if !n.hidden(e.Name) {
			list = append(list, e)
		}
	}
	return gofs.NewListDirStream(list), 0
}

var _ gofs.NodeGetattrer = (*node)(nil)

// Getattr stats the backing object, with the size and times of its cache.
func (n *node) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	var st syscall.Stat_t
	var err error
	if h, ok := f.(*handle); ok {
		err = syscall.Fstat(h.fd, &st)
	} else {
		err = syscall.Lstat(n.abs(), &st)
	}
	if err != nil {
		return gofs.ToErrno(err)
	}
	n.fsys.fixAttr(&st)
	out.FromStat(&st)
	return 0
}

var _ gofs.NodeStatfser = (*node)(nil)

// Statfs reports the backing filesystem, full under a disk-full fault.
func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	var s syscall.Statfs_t
	if err := syscall.Statfs(n.fsys.backing, &s); err != nil {
		return gofs.ToErrno(err)
	}
	if _, full := n.fsys.faults.load()[DiskFull]; full {
		s.Bfree, s.Bavail = 0, 0
	}
	out.FromStatfsT(&s)
	return 0
}

var _ gofs.NodeOpener = (*node)(nil)

// Open opens the backing file; O_TRUNC truncates in the cache.
func (n *node) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	fd, err := openBacking(n.abs(), flags)
	if err != nil {
		return nil, 0, gofs.ToErrno(err)
	}
	h, err := newHandle(n, fd)
	if err != nil {
		unix.Close(fd)
		return nil, 0, gofs.ToErrno(err)
	}
	if flags&syscall.O_TRUNC != 0 {
		if errno := h.truncate(0); errno != 0 {
			h.Release(ctx)
			return nil, 0, errno
		}
	}
	return h, 0, 0
}

// openBacking opens a backing file for a handle: read-write when it may, so
// that the cache can load and flush pages, and without the flags the cache
// implements itself.
func openBacking(path string, flags uint32) (int, error) {
	fl := int(flags) &^ (syscall.O_APPEND | syscall.O_TRUNC | syscall.O_CREAT | syscall.O_EXCL | syscall.O_DIRECT | fuse.FMODE_EXEC)
	fd, err := unix.Open(path, fl&^syscall.O_ACCMODE|syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err == nil {
		return fd, nil
	}
	return unix.Open(path, fl|syscall.O_CLOEXEC, 0)
}

var _ gofs.NodeReadlinker = (*node)(nil)

// Readlink reads a symbolic link.
func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		got, err := unix.Readlink(n.abs(), buf)
		if err != nil {
			return nil, gofs.ToErrno(err)
		}
		if got < size {
			return buf[:got], 0
		}
	}
}

var _ gofs.NodeSetattrer = (*node)(nil)

// Setattr changes mode, owner and times in the backing directory at once
// (not modelled) and the size in the cache.
func (n *node) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	p := n.abs()
	if m, ok := in.GetMode(); ok {
		if err := unix.Chmod(p, m); err != nil {
			return gofs.ToErrno(err)
		}
	}
	uid, uok := in.GetUID()
	gid, gok := in.GetGID()
	if uok || gok {
		u, g := -1, -1
		if uok {
			u = int(uid)
		}
		if gok {
			g = int(gid)
		}
		if err := unix.Lchown(p, u, g); err != nil {
			return gofs.ToErrno(err)
		}
	}
	mtime, mok := in.GetMTime()
	atime, aok := in.GetATime()
	if mok || aok {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if aok {
			ts[0] = unix.NsecToTimespec(atime.UnixNano())
		}
		if mok {
			ts[1] = unix.NsecToTimespec(mtime.UnixNano())
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return gofs.ToErrno(err)
		}
	}
	if size, ok := in.GetSize(); ok {
		h, isHandle := f.(*handle)
		if !isHandle {
			fd, err := openBacking(p, syscall.O_RDWR)
			if err != nil {
				return gofs.ToErrno(err)
			}
			defer unix.Close(fd)
			if h, err = newHandle(n, fd); err != nil {
				return gofs.ToErrno(err)
			}
		}
		if errno := h.truncate(int64(size)); errno != 0 {
			return errno
		}
	}
	return n.Getattr(ctx, f, out)
}

var _ gofs.NodeFsyncer = (*node)(nil)

// Fsync makes a file's data, or a directory's entries, durable.
func (n *node) Fsync(ctx context.Context, f gofs.FileHandle, flags uint32) syscall.Errno {
	if errno := n.check(Writes, "", false, true); errno != 0 {
		return errno
	}
	if !n.IsDir() {
		h, ok := f.(*handle)
		if !ok {
			return syscall.EBADF
		}
		return h.fsync()
	}
	if err := n.fsys.commitDir(n.ino, n.abs()); err != nil {
		return errnoOf(err)
	}
	return 0
}
