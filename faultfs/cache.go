package faultfs

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// pageSize is the granularity of the dirty cache, as in the kernel's page cache.
const pageSize = 4096

// maxRun bounds one pwrite issued by a flush.
const maxRun = 1 << 20

// fileCache holds the data of one backing file (one inode) that is not yet
// durable. The logical content of the file is: the bytes of the backing file
// below floor, zeros from floor to size, and over both the cached pages.
// Pages never hold bytes at or beyond size other than zeros.
type fileCache struct {
	mu sync.Mutex
	// fd is an O_RDWR descriptor of the backing file, owned by the cache.
	fd int
	// pages maps a page index to its pageSize bytes.
	pages map[int64][]byte
	// size is the logical size of the file.
	size int64
	// floor is the lowest size the file had since the last flush: backing
	// bytes at or beyond it are stale.
	floor int64
	// durableSize is the size of the backing file after the last flush.
	durableSize int64
	// dirtySince is when the cache first differed from the backing file; zero when clean.
	dirtySince time.Time
}

// init makes c a clean cache over fd, which it takes ownership of.
func (c *fileCache) init(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat backing file: %w", err)
	}
	c.fd, c.pages = fd, map[int64][]byte{}
	c.size, c.floor, c.durableSize = st.Size, st.Size, st.Size
	return nil
}

// dirty reports whether the cache holds anything not durable.
func (c *fileCache) dirty() bool {
	return !c.dirtySince.IsZero()
}

func (c *fileCache) markDirty(now time.Time) {
	if c.dirtySince.IsZero() {
		c.dirtySince = now
	}
}

// page returns the page with index i, loading it from the backing file when
// it is not cached and full is false (the caller overwrites only part of it).
func (c *fileCache) page(i int64, full bool) ([]byte, error) {
	if p, ok := c.pages[i]; ok {
		return p, nil
	}
	p := make([]byte, pageSize)
	start := i * pageSize
	if !full && start < c.floor {
		n := min(int64(pageSize), c.floor-start)
		if err := preadFull(c.fd, p[:n], start); err != nil {
			return nil, err
		}
	}
	c.pages[i] = p
	return p, nil
}

// write stores data at off in the cache.
func (c *fileCache) write(data []byte, off int64, now time.Time) error {
	for done := 0; done < len(data); {
		pos := off + int64(done)
		i, in := pos/pageSize, int(pos%pageSize)
		n := min(pageSize-in, len(data)-done)
		p, err := c.page(i, in == 0 && n == pageSize)
		if err != nil {
			return err
		}
		copy(p[in:], data[done:done+n])
		done += n
	}
	c.size = max(c.size, off+int64(len(data)))
	c.markDirty(now)
	return nil
}

// truncate sets the logical size to size.
func (c *fileCache) truncate(size int64, now time.Time) {
	if size < c.size {
		for i := range c.pages {
			if i*pageSize >= size {
				delete(c.pages, i)
			}
		}
		if p, ok := c.pages[size/pageSize]; ok {
			clear(p[size%pageSize:])
		}
		c.floor = min(c.floor, size)
	}
	if size != c.size {
		c.size = size
		c.markDirty(now)
	}
}

// read fills dest with the logical content at off and returns how many bytes
// it filled (fewer at the end of the file).
func (c *fileCache) read(dest []byte, off int64) (int, error) {
	if off >= c.size {
		return 0, nil
	}
	dest = dest[:min(int64(len(dest)), c.size-off)]
	if off < c.floor {
		n := min(int64(len(dest)), c.floor-off)
		if err := preadFull(c.fd, dest[:n], off); err != nil {
			return 0, err
		}
		clear(dest[n:])
	} else {
		clear(dest)
	}
	for i := off / pageSize; i*pageSize < off+int64(len(dest)); i++ {
		p, ok := c.pages[i]
		if !ok {
			continue
		}
		start := i * pageSize
		from := max(off, start)
		to := min(off+int64(len(dest)), start+pageSize)
		copy(dest[from-off:to-off], p[from-start:to-start])
	}
	return len(dest), nil
}

// dirtyBytes is how many bytes of the logical content a crash would lose or
// change: cached pages (clipped to the size) and any change of size.
func (c *fileCache) dirtyBytes() int64 {
	var n int64
	for i := range c.pages {
		n += max(0, min(int64(pageSize), c.size-i*pageSize))
	}
	if c.size < c.durableSize {
		n += c.durableSize - c.size
	}
	return n
}

// flush writes the cache to the backing file and fsyncs it, making the data
// durable. On error the cache stays dirty.
func (c *fileCache) flush() error {
	if !c.dirty() {
		return nil
	}
	if c.floor < c.durableSize {
		if err := unix.Ftruncate(c.fd, c.floor); err != nil {
			return fmt.Errorf("truncate backing file: %w", err)
		}
		// Should a write below fail, the backing file is this short now.
		c.durableSize = c.floor
	}
	idx := make([]int64, 0, len(c.pages))
	for i := range c.pages {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	buf := make([]byte, 0, maxRun)
	var bufOff int64
	emit := func() error {
		if len(buf) == 0 {
			return nil
		}
		err := pwriteFull(c.fd, buf, bufOff)
		buf = buf[:0]
		return err
	}
	for _, i := range idx {
		start := i * pageSize
		n := min(int64(pageSize), c.size-start)
		if n <= 0 {
			continue
		}
		if len(buf) > 0 && (bufOff+int64(len(buf)) != start || len(buf)+int(n) > maxRun) {
			if err := emit(); err != nil {
				return err
			}
		}
		if len(buf) == 0 {
			bufOff = start
		}
		buf = append(buf, c.pages[i][:n]...)
	}
	if err := emit(); err != nil {
		return err
	}
	if err := unix.Ftruncate(c.fd, c.size); err != nil {
		return fmt.Errorf("size backing file: %w", err)
	}
	if err := unix.Fdatasync(c.fd); err != nil {
		return fmt.Errorf("fsync backing file: %w", err)
	}
	clear(c.pages)
	c.floor, c.durableSize = c.size, c.size
	c.dirtySince = time.Time{}
	return nil
}

// close releases the backing descriptor.
func (c *fileCache) close() error {
	return unix.Close(c.fd)
}

func preadFull(fd int, p []byte, off int64) error {
	for len(p) > 0 {
		n, err := unix.Pread(fd, p, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("read backing file at %d: %w", off, err)
		}
		if n == 0 {
			// The backing file is shorter than the floor: read zeros.
			clear(p)
			return nil
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}

func pwriteFull(fd int, p []byte, off int64) error {
	for len(p) > 0 {
		n, err := unix.Pwrite(fd, p, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("write backing file at %d: %w", off, err)
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}
