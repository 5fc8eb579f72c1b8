package faultfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// mountT mounts a fresh backing directory for the test and unmounts it at
// the end, checking that nothing stays mounted.
func mountT(t *testing.T, opts Options) (f *FS, mnt, backing string) {
	t.Helper()
	dir := t.TempDir()
	backing, mnt = filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	require.NoError(t, os.Mkdir(backing, 0o755))
	require.NoError(t, os.Mkdir(mnt, 0o755))
	var err error
	f, err = Mount(backing, mnt, opts)
	var missing *MissingError
	if errors.As(err, &missing) {
		t.Skipf("FUSE unavailable: %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := f.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
			_ = lazyUnmount(mnt)
		}
		require.False(t, mounted(t, mnt), "%s still in /proc/self/mountinfo", mnt)
	})
	return f, mnt, backing
}

// mounted reports whether /proc/self/mountinfo lists mountpoint.
func mounted(t *testing.T, mountpoint string) bool {
	t.Helper()
	mounts, err := readMountInfo("/proc/self/mountinfo")
	require.NoError(t, err)
	for _, m := range mounts {
		if m.Mountpoint == mountpoint {
			return true
		}
	}
	return false
}

// writeFile creates or truncates path and writes data, fsyncing it if sync.
func writeFile(t *testing.T, path, data string, sync bool) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(data)
	require.NoError(t, err)
	if sync {
		require.NoError(t, f.Sync())
	}
	require.NoError(t, f.Close())
}

// appendFile appends data to path, fsyncing it if sync.
func appendFile(t *testing.T, path, data string, sync bool) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(data)
	require.NoError(t, err)
	if sync {
		require.NoError(t, f.Sync())
	}
	require.NoError(t, f.Close())
}

// syncDir fsyncs directory path.
func syncDir(t *testing.T, path string) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	require.NoError(t, unix.Fsync(fd))
}

// contents maps every file under root (relative path) to its content, and
// every directory to "/".
func contents(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." || strings.HasPrefix(rel, trashName) {
			if d.IsDir() && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			out[rel] = "/"
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	require.NoError(t, err)
	return out
}
