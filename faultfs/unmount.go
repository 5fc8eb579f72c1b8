package faultfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// unmountTimeout bounds how long Unmount waits for the FUSE server to stop
// before it aborts the connection.
const unmountTimeout = 5 * time.Second

// Unmount makes everything durable, as a clean shutdown does (call Crash
// first to lose it instead), and unmounts. A busy mount is detached lazily;
// a server that does not stop in time has its connection aborted. Calling
// Unmount again returns the first result.
func (f *FS) Unmount() error {
	f.once.Do(func() {
		f.ClearAll()
		close(f.stop)
		<-f.stopped
		syncErr := f.Sync()
		f.umErr = errors.Join(syncErr, unmount(f.server, f.mountpoint))
		if err := os.RemoveAll(f.jr.trashDir); err != nil {
			f.umErr = errors.Join(f.umErr, fmt.Errorf("faultfs: remove trash: %w", err))
		}
	})
	return f.umErr
}

// unmount unmounts mountpoint served by server, falling back to a lazy
// unmount and to aborting the FUSE connection.
func unmount(server *fuse.Server, mountpoint string) error {
	dev := mountDev(mountpoint)
	if err := server.Unmount(); err != nil {
		if lerr := lazyUnmount(mountpoint); lerr != nil {
			return fmt.Errorf("faultfs: unmount %s: %w; lazy unmount: %w", mountpoint, err, lerr)
		}
	}
	done := make(chan struct{})
	go func() {
		server.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(unmountTimeout):
	}
	// Someone (a container's bind mount) still holds the filesystem.
	if err := abortConn(dev); err != nil {
		return fmt.Errorf("faultfs: %s still served after %v: %w", mountpoint, unmountTimeout, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(unmountTimeout):
		return fmt.Errorf("faultfs: %s still served after aborting its connection", mountpoint)
	}
}

// lazyUnmount detaches mountpoint even if busy.
func lazyUnmount(mountpoint string) error {
	if os.Geteuid() == 0 {
		err := unix.Unmount(mountpoint, unix.MNT_DETACH)
		if err == nil || err == unix.EINVAL { // EINVAL: not mounted any more
			return nil
		}
	}
	for _, bin := range []string{"fusermount3", "fusermount"} {
		if path, err := exec.LookPath(bin); err == nil {
			out, err := exec.Command(path, "-u", "-z", mountpoint).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%s -u -z: %w: %s", bin, err, strings.TrimSpace(string(out)))
			}
			return nil
		}
	}
	return &MissingError{What: "fusermount3", Hint: "install fuse3 (apt-get install fuse3)"}
}

// mountDev returns the device number of the mount at mountpoint, or 0.
func mountDev(mountpoint string) uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat(mountpoint, &st); err != nil {
		return 0
	}
	return st.Dev
}

// fusectl is where the kernel lists FUSE connections.
const fusectl = "/sys/fs/fuse/connections"

// abortConn aborts FUSE connection dev through fusectl, mounting it if needed.
func abortConn(dev uint64) error {
	if dev == 0 {
		return errors.New("unknown FUSE device")
	}
	abort := filepath.Join(fusectl, fmt.Sprint(dev), "abort")
	if _, err := os.Stat(abort); err != nil && os.Geteuid() == 0 {
		_ = unix.Mount("fusectl", fusectl, "fusectl", 0, "")
	}
	if err := os.WriteFile(abort, []byte("1"), 0o200); err != nil {
		return fmt.Errorf("abort FUSE connection %d: %w", dev, err)
	}
	return nil
}
