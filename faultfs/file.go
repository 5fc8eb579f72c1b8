package faultfs

import (
	"context"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// handle is an open file. Its descriptor is on the backing file; writes go
// to the FS's cache of that file, reads see the cache over the file.
type handle struct {
	node *node
	fd   int
	key  fileKey
	// epoch is the FS crash count when the file was opened: a handle that
	// outlived a crash fails, as no process survives a power loss.
	epoch uint64
}

// newHandle returns a handle of n on the backing descriptor fd.
func newHandle(n *node, fd int) (*handle, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, err
	}
	return &handle{node: n, fd: fd, key: keyOf(&st), epoch: n.fsys.epoch.Load()}, nil
}

func (h *handle) stale() bool { return h.node.fsys.epoch.Load() != h.epoch }

func (h *handle) check(op Ops, grows, slow bool) syscall.Errno {
	if h.stale() {
		return syscall.EIO
	}
	return h.node.check(op, "", grows, slow)
}

var _ gofs.FileReader = (*handle)(nil)

// Read reads the cache over the backing file.
func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if errno := h.check(Reads, false, false); errno != 0 {
		return nil, errno
	}
	var n int
	cached, err := h.node.fsys.peekCache(h.key, func(c *cache) error {
		var err error
		n, err = c.read(dest, off)
		return err
	})
	if err != nil {
		return nil, errnoOf(err)
	}
	if !cached {
		n, err = unix.Pread(h.fd, dest, off)
		if err != nil {
			return nil, gofs.ToErrno(err)
		}
	}
	return fuse.ReadResultData(dest[:n]), 0
}

var _ gofs.FileWriter = (*handle)(nil)

// Write writes to the cache.
func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if errno := h.check(Writes, true, true); errno != 0 {
		return 0, errno
	}
	errno := h.node.fsys.withCache(h, func(c *cache) error {
		now := time.Now()
		c.mtime = now
		return c.write(data, off, now)
	})
	if errno != 0 {
		return 0, errno
	}
	return uint32(len(data)), 0
}

// truncate sets the size in the cache.
func (h *handle) truncate(size int64) syscall.Errno {
	if errno := h.check(Writes, false, false); errno != 0 {
		return errno
	}
	return h.node.fsys.withCache(h, func(c *cache) error {
		if size > c.size {
			if errno := h.node.fsys.faults.check(Writes, h.node.rel, true, false); errno != 0 {
				return errno
			}
		}
		now := time.Now()
		c.mtime = now
		c.truncate(size, now)
		return nil
	})
}

// fsync makes the file's data durable; under the Journal model it also
// makes every pending namespace operation durable.
func (h *handle) fsync() syscall.Errno {
	if h.stale() {
		return syscall.EIO
	}
	if _, err := h.node.fsys.peekCache(h.key, func(c *cache) error { return c.flush() }); err != nil {
		return errnoOf(err)
	}
	if h.node.fsys.opts.Metadata == Journal {
		if err := h.node.fsys.commitAll(); err != nil {
			return errnoOf(err)
		}
	}
	return 0
}

var _ gofs.FileFlusher = (*handle)(nil)

// Flush is close(2): it makes nothing durable.
func (h *handle) Flush(ctx context.Context) syscall.Errno { return 0 }

var _ gofs.FileReleaser = (*handle)(nil)

// Release closes the backing descriptor.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	return gofs.ToErrno(unix.Close(h.fd))
}
