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

// This file holds the namespace operations: each is applied to the backing
// directory at once and recorded in the journal under fsys.mu.

// preserveOwner gives path to the caller, as the kernel would.
func preserveOwner(ctx context.Context, path string) {
	if os.Getuid() != 0 {
		return
	}
	if caller, ok := fuse.FromContext(ctx); ok {
		_ = unix.Lchown(path, int(caller.Uid), int(caller.Gid))
	}
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
