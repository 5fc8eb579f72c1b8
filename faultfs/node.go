package faultfs

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"time"

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

// preserveOwner gives path to the caller, as the kernel would.
func preserveOwner(ctx context.Context, path string) {
	if os.Getuid() != 0 {
		return
	}
	if caller, ok := fuse.FromContext(ctx); ok {
		_ = unix.Lchown(path, int(caller.Uid), int(caller.Gid))
	}
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

var _ gofs.NodeCreater = (*node)(nil)

// Create creates a file whose entry is durable only after a sync.
func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	if n.hidden(name) {
		return nil, nil, 0, syscall.EPERM
	}
	if errno := n.check(Writes, name, true, false); errno != 0 {
		return nil, nil, 0, errno
	}
	p := filepath.Join(n.abs(), name)
	fd, created, err := n.create(ctx, name, p, flags, mode)
	if err != nil {
		return nil, nil, 0, gofs.ToErrno(err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, nil, 0, gofs.ToErrno(err)
	}
	ch := n.child(ctx, &st, out)
	h, err := newHandle(ch.Operations().(*node), fd)
	if err != nil {
		unix.Close(fd)
		return nil, nil, 0, gofs.ToErrno(err)
	}
	if !created && flags&syscall.O_TRUNC != 0 {
		if errno := h.truncate(0); errno != 0 {
			h.Release(ctx)
			return nil, nil, 0, errno
		}
		out.Attr.Size = 0
	}
	return ch, h, 0, 0
}

// create opens path, creating it and recording that in the journal if it
// did not exist.
func (n *node) create(ctx context.Context, name, p string, flags, mode uint32) (fd int, created bool, err error) {
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	fd, err = unix.Open(p, syscall.O_CREAT|syscall.O_EXCL|syscall.O_RDWR|syscall.O_CLOEXEC, mode)
	if err == syscall.EEXIST && flags&syscall.O_EXCL == 0 {
		fd, err = openBacking(p, flags)
		return fd, false, err
	}
	if err != nil {
		return -1, false, err
	}
	preserveOwner(ctx, p)
	n.record(opCreate, name, "", "", n.ino)
	return fd, true, nil
}

// record adds a namespace operation to the journal; fsys.mu must be held.
func (n *node) record(kind opKind, name, to, trash string, dirs ...uint64) {
	n.fsys.jr.add(nsOp{kind: kind, path: filepath.Join(n.rel(), name), to: to, trash: trash, dirs: dirs, at: time.Now()})
}

// made finishes the creation of name by mk: it records it and returns its inode.
func (n *node) made(ctx context.Context, kind opKind, name string, out *fuse.EntryOut, mk func(p string) error) (*gofs.Inode, syscall.Errno) {
	if n.hidden(name) {
		return nil, syscall.EEXIST
	}
	if errno := n.check(Writes, name, true, false); errno != 0 {
		return nil, errno
	}
	p := filepath.Join(n.abs(), name)
	var st syscall.Stat_t
	n.fsys.mu.Lock()
	err := mk(p)
	if err == nil {
		if kind != opLink {
			preserveOwner(ctx, p)
		}
		n.record(kind, name, "", "", n.ino)
		err = syscall.Lstat(p, &st)
	}
	n.fsys.mu.Unlock()
	if err != nil {
		return nil, gofs.ToErrno(err)
	}
	return n.child(ctx, &st, out), 0
}

var _ gofs.NodeMkdirer = (*node)(nil)

// Mkdir creates a directory whose entry is durable only after a sync.
func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return n.made(ctx, opMkdir, name, out, func(p string) error { return unix.Mkdir(p, mode) })
}

var _ gofs.NodeMknoder = (*node)(nil)

// Mknod creates a special file.
func (n *node) Mknod(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return n.made(ctx, opCreate, name, out, func(p string) error { return unix.Mknod(p, mode, int(dev)) })
}

var _ gofs.NodeSymlinker = (*node)(nil)

// Symlink creates a symbolic link.
func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return n.made(ctx, opCreate, name, out, func(p string) error { return unix.Symlink(target, p) })
}

var _ gofs.NodeLinker = (*node)(nil)

// Link creates a hard link to target.
func (n *node) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	t, ok := target.(*node)
	if !ok {
		return nil, syscall.EXDEV
	}
	return n.made(ctx, opLink, name, out, func(p string) error { return unix.Link(t.abs(), p) })
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

var _ gofs.NodeUnlinker = (*node)(nil)

// Unlink removes a file; the file waits in the trash until that is durable.
func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	return n.remove(name, false)
}

var _ gofs.NodeRmdirer = (*node)(nil)

// Rmdir removes an empty directory; it waits in the trash until that is durable.
func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	return n.remove(name, true)
}

func (n *node) remove(name string, dir bool) syscall.Errno {
	if n.hidden(name) {
		return syscall.EPERM
	}
	if errno := n.check(Writes, name, false, false); errno != 0 {
		return errno
	}
	p := filepath.Join(n.abs(), name)
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		return gofs.ToErrno(err)
	}
	isDir := st.Mode&syscall.S_IFMT == syscall.S_IFDIR
	switch {
	case dir && !isDir:
		return syscall.ENOTDIR
	case !dir && isDir:
		return syscall.EISDIR
	case dir:
		if errno := checkEmpty(p); errno != 0 {
			return errno
		}
	}
	trash := n.fsys.jr.trashName()
	if err := unix.Rename(p, n.fsys.jr.trashPath(trash)); err != nil {
		return gofs.ToErrno(err)
	}
	n.record(opRemove, name, "", trash, n.ino)
	return 0
}

// checkEmpty returns ENOTEMPTY unless directory p is empty.
func checkEmpty(p string) syscall.Errno {
	f, err := os.Open(p)
	if err != nil {
		return gofs.ToErrno(err)
	}
	defer f.Close()
	if names, _ := f.Readdirnames(1); len(names) > 0 {
		return syscall.ENOTEMPTY
	}
	return 0
}

var _ gofs.NodeRenamer = (*node)(nil)

// Rename renames name to newName in newParent. A replaced target waits in the
// trash until the rename is durable.
func (n *node) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	np, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	if n.hidden(name) || np.hidden(newName) {
		return syscall.EPERM
	}
	if errno := n.check(Writes, name, false, false); errno != 0 {
		return errno
	}
	src, dst := filepath.Join(n.abs(), name), filepath.Join(np.abs(), newName)
	to := filepath.Join(np.rel(), newName)
	n.fsys.mu.Lock()
	defer n.fsys.mu.Unlock()
	switch flags {
	case 0:
		trash, errno := n.fsys.replace(src, dst)
		if errno != 0 {
			return errno
		}
		n.record(opRename, name, to, trash, n.ino, np.ino)
	case unix.RENAME_NOREPLACE:
		if err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE); err != nil {
			return gofs.ToErrno(err)
		}
		n.record(opRename, name, to, "", n.ino, np.ino)
	case unix.RENAME_EXCHANGE:
		if err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_EXCHANGE); err != nil {
			return gofs.ToErrno(err)
		}
		n.record(opExchange, name, to, "", n.ino, np.ino)
	default:
		return syscall.EINVAL
	}
	return 0
}

// replace renames src to dst, moving an existing dst to the trash first, and
// returns the trash name ("" if dst did not exist). fsys.mu must be held.
func (f *FS) replace(src, dst string) (string, syscall.Errno) {
	var sst, dstSt syscall.Stat_t
	if err := syscall.Lstat(src, &sst); err != nil {
		return "", gofs.ToErrno(err)
	}
	if err := syscall.Lstat(dst, &dstSt); err != nil {
		if err != syscall.ENOENT {
			return "", gofs.ToErrno(err)
		}
		return "", gofs.ToErrno(unix.Rename(src, dst))
	}
	if sst.Ino == dstSt.Ino && sst.Dev == dstSt.Dev {
		return "", 0 // POSIX: renaming a link onto another link of the same file does nothing
	}
	srcDir := sst.Mode&syscall.S_IFMT == syscall.S_IFDIR
	dstDir := dstSt.Mode&syscall.S_IFMT == syscall.S_IFDIR
	switch {
	case srcDir && !dstDir:
		return "", syscall.ENOTDIR
	case !srcDir && dstDir:
		return "", syscall.EISDIR
	case dstDir:
		if errno := checkEmpty(dst); errno != 0 {
			return "", errno
		}
	}
	trash := f.jr.trashName()
	if err := unix.Rename(dst, f.jr.trashPath(trash)); err != nil {
		return "", gofs.ToErrno(err)
	}
	if err := unix.Rename(src, dst); err != nil {
		_ = unix.Rename(f.jr.trashPath(trash), dst)
		return "", gofs.ToErrno(err)
	}
	return trash, 0
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
