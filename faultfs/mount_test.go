package faultfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnmountLeavesNothingMounted(t *testing.T) {
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	require.NoError(t, os.Mkdir(backing, 0o755))
	require.NoError(t, os.Mkdir(mnt, 0o755))
	f, err := Mount(backing, mnt, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Unmount() })
	writeFile(t, filepath.Join(mnt, "f"), "kept", false)
	require.True(t, mounted(t, mnt))

	require.NoError(t, f.Unmount())
	require.False(t, mounted(t, mnt))
	require.NoError(t, f.Unmount(), "a second Unmount")
	b, err := os.ReadFile(filepath.Join(backing, "f"))
	require.NoError(t, err)
	require.Equal(t, "kept", string(b), "a clean unmount makes everything durable")
	_, err = os.Stat(filepath.Join(backing, trashName))
	require.ErrorIs(t, err, os.ErrNotExist, "trash left behind")
}

func TestUnmountOfABusyMount(t *testing.T) {
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	require.NoError(t, os.Mkdir(backing, 0o755))
	require.NoError(t, os.Mkdir(mnt, 0o755))
	f, err := Mount(backing, mnt, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Unmount() })
	busy, err := os.Open(mnt) // an open directory keeps the mount busy
	require.NoError(t, err)
	defer busy.Close()

	require.NoError(t, f.Unmount())
	require.False(t, mounted(t, mnt))
}

func TestMountNamesWhatIsMissing(t *testing.T) {
	saved := devFuse
	devFuse = filepath.Join(t.TempDir(), "fuse")
	t.Cleanup(func() { devFuse = saved })
	dir := t.TempDir()
	_, err := Mount(dir, dir, Options{})
	var missing *MissingError
	require.ErrorAs(t, err, &missing)
	require.Equal(t, devFuse, missing.What)
	require.Contains(t, err.Error(), devFuse)
	require.False(t, mounted(t, dir))
}
