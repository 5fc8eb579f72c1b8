package faultfs

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWritebackMakesOldDataDurable(t *testing.T) {
	const age = 200 * time.Millisecond
	f, mnt, backing := mountT(t, Options{WritebackAge: age})
	writeFile(t, filepath.Join(mnt, "f"), "hello", false)
	require.NoError(t, os.Mkdir(filepath.Join(mnt, "d"), 0o755))

	// Writeback must not happen before the age.
	start := time.Now()
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(backing, "f"))
		return err == nil && string(b) == "hello"
	}, 10*time.Second, 20*time.Millisecond, "writeback never wrote the file")
	require.GreaterOrEqual(t, time.Since(start), age/2, "written back before its age")

	// Namespace operations are committed on the same age.
	require.Eventually(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.jr.ops) == 0
	}, 10*time.Second, 20*time.Millisecond, "namespace operations never committed")

	loss, err := f.Crash()
	require.NoError(t, err)
	require.True(t, loss.Empty(), "lost %+v", loss)
	require.Equal(t, map[string]string{"f": "hello", "d": "/"}, contents(t, mnt))
}

func TestNoWritebackBeforeTheAge(t *testing.T) {
	f, mnt, _ := mountT(t, Options{WritebackAge: time.Hour})
	writeFile(t, filepath.Join(mnt, "f"), "hello", false)
	time.Sleep(300 * time.Millisecond)
	loss, err := f.Crash()
	require.NoError(t, err)
	require.Len(t, loss.Files, 1)
	require.Empty(t, contents(t, mnt))
}
