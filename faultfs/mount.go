package faultfs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// fsType is the name of the filesystem: mounts show as "fuse.kchaos-faultfs".
const fsType = "kchaos-faultfs"

// fsNamePrefix starts the source field of every mount; the owner's pid follows.
const fsNamePrefix = fsType + ":pid="

// unmountTimeout bounds how long Unmount waits for the FUSE server to stop
// before it aborts the connection.
const unmountTimeout = 5 * time.Second

// Mount serves backing at mountpoint, both existing directories, with
// allow_other so that containers can bind-mount it. Everything in backing is
// taken as durable; trash left by an earlier mount is emptied.
func Mount(backing, mountpoint string, opts Options) (*FS, error) {
	if err := preflight(); err != nil {
		return nil, err
	}
	backing, err := filepath.Abs(backing)
	if err != nil {
		return nil, fmt.Errorf("faultfs: backing dir: %w", err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		return nil, fmt.Errorf("faultfs: backing dir %s: %w", backing, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return nil, fmt.Errorf("faultfs: backing %s is not a directory", backing)
	}
	f := &FS{
		backing:    backing,
		mountpoint: mountpoint,
		opts:       opts,
		caches:     map[fileKey]*cache{},
		jr:         journal{root: backing, trashDir: filepath.Join(backing, trashName)},
		stop:       make(chan struct{}),
		stopped:    make(chan struct{}),
	}
	if err := f.jr.clearTrash(); err != nil {
		return nil, err
	}
	f.root = &node{fsys: f, ino: st.Ino}
	zero := time.Duration(0)
	server, err := gofs.Mount(mountpoint, f.root, &gofs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther:  true,
			FsName:      fmt.Sprintf("%s%d", fsNamePrefix, os.Getpid()),
			Name:        fsType,
			DirectMount: os.Geteuid() == 0,
			MaxWrite:    fuse.MAX_KERNEL_WRITE,
			Debug:       opts.Debug,
			// The kernel checks permissions, as on a local disk; the
			// server runs as root and would let anyone do anything.
			Options: []string{"default_permissions"},
		},
		// The kernel must ask again after a crash changed the tree.
		EntryTimeout:    &zero,
		AttrTimeout:     &zero,
		NegativeTimeout: &zero,
	})
	if err != nil {
		return nil, fmt.Errorf("faultfs: mount %s at %s: %w", backing, mountpoint, err)
	}
	f.server = server
	go f.writebackLoop(opts.writebackAge())
	return f, nil
}

// Mountpoint is where the filesystem is mounted.
func (f *FS) Mountpoint() string { return f.mountpoint }

// Backing is the directory that holds the durable state.
func (f *FS) Backing() string { return f.backing }

// Inject activates a fault, replacing any active fault of its kind.
func (f *FS) Inject(fault Fault) error {
	fault, err := fault.validate()
	if err != nil {
		return err
	}
	f.faults.update(func(s faultSet) { s[fault.Kind] = fault })
	return nil
}

// Clear deactivates the fault of kind k, if active.
func (f *FS) Clear(k FaultKind) {
	f.faults.update(func(s faultSet) { delete(s, k) })
}

// ClearAll deactivates every fault.
func (f *FS) ClearAll() {
	f.faults.update(func(s faultSet) { clear(s) })
}

// Faults returns the active faults.
func (f *FS) Faults() []Fault {
	var out []Fault
	for _, k := range []FaultKind{DiskFull, DiskError, SlowDisk} {
		if fault, ok := f.faults.load()[k]; ok {
			out = append(out, fault)
		}
	}
	return out
}

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

// devFuse is the FUSE device; tests point it elsewhere.
var devFuse = "/dev/fuse"

// preflight checks what a mount needs, and names what is missing.
func preflight() error {
	if _, err := os.Stat(devFuse); err != nil {
		return &MissingError{What: devFuse, Hint: "load the fuse module, or run the container with --device /dev/fuse"}
	}
	if os.Geteuid() == 0 {
		return nil // root mounts directly and may use allow_other
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		if _, err := exec.LookPath("fusermount"); err != nil {
			return &MissingError{What: "fusermount3", Hint: "install fuse3 (apt-get install fuse3)"}
		}
	}
	if !userAllowOther("/etc/fuse.conf") {
		return &MissingError{What: "user_allow_other in /etc/fuse.conf", Hint: "allow_other needs it when not root"}
	}
	return nil
}

// userAllowOther reports whether the fuse.conf at path enables user_allow_other.
func userAllowOther(path string) bool {
	file, err := os.Open(path)
	if err != nil {
		return false
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "user_allow_other" {
			return true
		}
	}
	return false
}
