package faultfs

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// trashName is the hidden directory, at the root of the backing directory,
// that keeps removed objects until their removal is durable.
const trashName = ".kchaos-faultfs-trash"

// FS is a mounted fault-injecting filesystem. Its methods are safe for
// concurrent use.
type FS struct {
	backing    string
	mountpoint string
	opts       Options
	server     *fuse.Server
	root       *node

	// epoch counts crashes; handles opened before the last crash fail.
	epoch  atomic.Uint64
	faults faults

	// mu guards caches and jr, and orders namespace operations.
	mu     sync.Mutex
	caches map[fileKey]*cache
	jr     journal

	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
	umErr   error
}

// fileKey identifies a backing inode.
type fileKey struct{ dev, ino uint64 }

func keyOf(st *syscall.Stat_t) fileKey { return fileKey{uint64(st.Dev), st.Ino} }

// cache is a fileCache with what the FS needs around it.
type cache struct {
	fileCache
	// closed is set when the cache was dropped; users must look it up again.
	closed bool
	// inode is the last node that wrote, to name the file in reports.
	inode *gofs.Inode
	// mtime is the modification time of the last cached change.
	mtime time.Time
}

// withCache runs fn on the cache of h's file, creating it if needed, with
// the cache locked.
func (f *FS) withCache(h *handle, fn func(c *cache) error) syscall.Errno {
	for {
		if f.epoch.Load() != h.epoch {
			return syscall.EIO
		}
		f.mu.Lock()
		c, ok := f.caches[h.key]
		if !ok {
			rw, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", h.fd), unix.O_RDWR|unix.O_CLOEXEC, 0)
			if err != nil {
				f.mu.Unlock()
				return gofs.ToErrno(err)
			}
			c = &cache{}
			if err := c.init(rw); err != nil {
				unix.Close(rw)
				f.mu.Unlock()
				return syscall.EIO
			}
			f.caches[h.key] = c
		}
		f.mu.Unlock()
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			continue
		}
		c.inode = h.node.EmbeddedInode()
		err := fn(c)
		c.mu.Unlock()
		return errnoOf(err)
	}
}

// peekCache runs fn on the cache of file key if there is one, with the
// cache locked, and reports whether there was.
func (f *FS) peekCache(key fileKey, fn func(c *cache) error) (bool, error) {
	for {
		f.mu.Lock()
		c, ok := f.caches[key]
		f.mu.Unlock()
		if !ok {
			return false, nil
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			continue
		}
		err := fn(c)
		c.mu.Unlock()
		return true, err
	}
}

// fixAttr replaces the size and times of st by those of its cache, if any.
func (f *FS) fixAttr(st *syscall.Stat_t) {
	f.peekCache(keyOf(st), func(c *cache) error {
		st.Size = c.size
		st.Blocks = max(st.Blocks, (c.size+511)/512)
		if !c.mtime.IsZero() {
			ts := syscall.NsecToTimespec(c.mtime.UnixNano())
			st.Mtim, st.Ctim = ts, ts
		}
		return nil
	})
}

// errnoOf turns an error into the errno it carries, or EIO.
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EIO
}
