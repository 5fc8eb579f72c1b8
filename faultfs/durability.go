package faultfs

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// commitDir makes durable the namespace operations on directory ino (every
// pending one under the Journal model) and fsyncs the backing directory.
func (f *FS) commitDir(ino uint64, dir string) error {
	f.mu.Lock()
	var err error
	if f.opts.Metadata == Journal {
		err = f.jr.commitAll()
	} else {
		err = f.jr.commitDir(ino)
	}
	f.mu.Unlock()
	return errors.Join(err, fsyncPath(dir))
}

// commitAll makes every pending namespace operation durable.
func (f *FS) commitAll() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jr.commitAll()
}

// Sync makes everything durable, as sync(2) on a disk would: every cached
// file and every namespace operation.
func (f *FS) Sync() error {
	return f.writeback(time.Time{})
}

// writeback flushes the files dirty since before cutoff (all files when
// cutoff is zero), makes the namespace operations done before it durable, and
// drops the caches of clean files. Files are flushed without holding f.mu,
// so that writers to other files go on.
func (f *FS) writeback(cutoff time.Time) error {
	all := cutoff.IsZero()
	f.mu.Lock()
	caches := make([]*cache, 0, len(f.caches))
	for _, c := range f.caches {
		caches = append(caches, c)
	}
	f.mu.Unlock()

	var errs []error
	for _, c := range caches {
		c.mu.Lock()
		if !c.closed && c.dirty() && (all || c.dirtySince.Before(cutoff)) {
			if err := c.flush(); err != nil {
				errs = append(errs, fmt.Errorf("faultfs: writeback of %s: %w", c.name(), err))
			}
		}
		c.mu.Unlock()
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	for key, c := range f.caches {
		c.mu.Lock()
		if !c.dirty() {
			c.closed = true
			errs = append(errs, c.close())
			delete(f.caches, key)
		}
		c.mu.Unlock()
	}
	if all {
		errs = append(errs, f.jr.commitAll(), f.syncBacking())
	} else {
		errs = append(errs, f.jr.commitOlder(cutoff))
	}
	return errors.Join(errs...)
}

// syncBacking flushes the whole backing filesystem, as sync(2) would.
func (f *FS) syncBacking() error {
	fd, err := unix.Open(f.backing, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("faultfs: open %s: %w", f.backing, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("faultfs: syncfs %s: %w", f.backing, err)
	}
	return nil
}

// writebackLoop runs the background writeback until stop is closed.
func (f *FS) writebackLoop(age time.Duration) {
	defer close(f.stopped)
	if age < 0 {
		<-f.stop
		return
	}
	t := time.NewTicker(min(max(age/4, 10*time.Millisecond), time.Second))
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case now := <-t.C:
			// Errors leave data dirty; the next round retries it.
			_ = f.writeback(now.Add(-age))
		}
	}
}

func fsyncPath(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("faultfs: open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Fsync(fd); err != nil {
		return fmt.Errorf("faultfs: fsync %s: %w", dir, err)
	}
	return nil
}
