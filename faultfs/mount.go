package faultfs

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fsType is the name of the filesystem: mounts show as "fuse.kchaos-faultfs".
const fsType = "kchaos-faultfs"

// fsNamePrefix starts the source field of every mount; the owner's pid follows.
const fsNamePrefix = fsType + ":pid="

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
