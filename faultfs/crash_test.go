package faultfs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCrashDropsWhatWasNotDurable(t *testing.T) {
	tests := []struct {
		name  string
		model MetadataModel
		// before runs against the mount before any step; its result is made durable.
		before func(t *testing.T, mnt string)
		step   func(t *testing.T, mnt string)
		want   map[string]string
	}{
		{
			name: "new file, nothing synced",
			step: func(t *testing.T, mnt string) { writeFile(t, filepath.Join(mnt, "f"), "hello", false) },
			want: map[string]string{},
		},
		{
			name: "new file fsynced, directory not (POSIX)",
			step: func(t *testing.T, mnt string) { writeFile(t, filepath.Join(mnt, "f"), "hello", true) },
			want: map[string]string{},
		},
		{
			name:  "new file fsynced, journal commits its entry",
			model: Journal,
			step:  func(t *testing.T, mnt string) { writeFile(t, filepath.Join(mnt, "f"), "hello", true) },
			want:  map[string]string{"f": "hello"},
		},
		{
			name: "entry synced, data not",
			step: func(t *testing.T, mnt string) {
				writeFile(t, filepath.Join(mnt, "f"), "", false)
				syncDir(t, mnt)
				appendFile(t, filepath.Join(mnt, "f"), "hello", false)
			},
			want: map[string]string{"f": ""},
		},
		{
			name: "entry and data synced",
			step: func(t *testing.T, mnt string) {
				writeFile(t, filepath.Join(mnt, "f"), "hello", true)
				syncDir(t, mnt)
			},
			want: map[string]string{"f": "hello"},
		},
		{
			name:   "O_DSYNC write to a durable file",
			before: func(t *testing.T, mnt string) { writeFile(t, filepath.Join(mnt, "f"), "old", false) },
			step: func(t *testing.T, mnt string) {
				f, err := os.OpenFile(filepath.Join(mnt, "f"), os.O_WRONLY|os.O_APPEND|syscall.O_DSYNC, 0)
				require.NoError(t, err)
				defer f.Close()
				_, err = f.WriteString("new")
				require.NoError(t, err)
			},
			want: map[string]string{"f": "oldnew"},
		},
		{
			name:   "append to a durable file, not synced",
			before: func(t *testing.T, mnt string) { writeFile(t, filepath.Join(mnt, "f"), "old", false) },
			step:   func(t *testing.T, mnt string) { appendFile(t, filepath.Join(mnt, "f"), "new", false) },
			want:   map[string]string{"f": "old"},
		},
		{
			name:   "append to a durable file, synced",
			before: func(t *testing.T, mnt string) { writeFile(t, filepath.Join(mnt, "f"), "old", false) },
			step:   func(t *testing.T, mnt string) { appendFile(t, filepath.Join(mnt, "f"), "new", true) },
			want:   map[string]string{"f": "oldnew"},
		},
		{
			name:   "truncate, not synced",
			before: func(t *testing.T, mnt string) { writeFile(t, filepath.Join(mnt, "f"), "0123456789", false) },
			step:   func(t *testing.T, mnt string) { require.NoError(t, os.Truncate(filepath.Join(mnt, "f"), 3)) },
			want:   map[string]string{"f": "0123456789"},
		},
		{
			name:   "truncate then sync",
			before: func(t *testing.T, mnt string) { writeFile(t, filepath.Join(mnt, "f"), "0123456789", false) },
			step: func(t *testing.T, mnt string) {
				f, err := os.OpenFile(filepath.Join(mnt, "f"), os.O_RDWR, 0)
				require.NoError(t, err)
				defer f.Close()
				require.NoError(t, f.Truncate(3))
				require.NoError(t, f.Sync())
			},
			want: map[string]string{"f": "012"},
		},
		{
			name:   "truncate, extend, overwrite, sync",
			before: func(t *testing.T, mnt string) { writeFile(t, filepath.Join(mnt, "f"), "0123456789", false) },
			step: func(t *testing.T, mnt string) {
				f, err := os.OpenFile(filepath.Join(mnt, "f"), os.O_RDWR, 0)
				require.NoError(t, err)
				defer f.Close()
				require.NoError(t, f.Truncate(2))
				_, err = f.WriteAt([]byte("x"), 5)
				require.NoError(t, err)
				require.NoError(t, f.Sync())
			},
			want: map[string]string{"f": "01\x00\x00\x00x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, mnt, backing := mountT(t, Options{Metadata: tt.model})
			if tt.before != nil {
				tt.before(t, mnt)
				require.NoError(t, f.Sync())
			}
			tt.step(t, mnt)
			_, err := f.Crash()
			require.NoError(t, err)
			require.Equal(t, tt.want, contents(t, mnt), "through the mount")
			require.Equal(t, tt.want, contents(t, backing), "in the backing dir")
		})
	}
}

func TestReadsSeeTheCache(t *testing.T) {
	_, mnt, backing := mountT(t, Options{})
	p := filepath.Join(mnt, "f")
	writeFile(t, p, "hello", false)
	appendFile(t, p, " world", false)
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "hello world", string(got))
	st, err := os.Stat(p)
	require.NoError(t, err)
	require.EqualValues(t, 11, st.Size())
	raw, err := os.ReadFile(filepath.Join(backing, "f"))
	require.NoError(t, err)
	require.Empty(t, raw, "unsynced data reached the backing file")
}

func TestCrashReportsLoss(t *testing.T) {
	f, mnt, _ := mountT(t, Options{})
	require.NoError(t, os.Mkdir(filepath.Join(mnt, "d"), 0o755))
	writeFile(t, filepath.Join(mnt, "d", "kept"), "", false)
	require.NoError(t, f.Sync())
	appendFile(t, filepath.Join(mnt, "d", "kept"), "12345", false)
	writeFile(t, filepath.Join(mnt, "d", "new"), "abc", false)

	loss, err := f.Crash()
	require.NoError(t, err)
	require.Equal(t, []FileLoss{
		{Path: "d/kept", Bytes: 5, Size: 5, DurableSize: 0},
		{Path: "d/new", Bytes: 3, Size: 3, DurableSize: 0},
	}, loss.Files)
	require.Equal(t, []OpLoss{{Op: "create", Path: "d/new"}}, loss.Ops)
	require.EqualValues(t, 8, loss.Bytes())
	require.False(t, loss.Empty())

	again, err := f.Crash()
	require.NoError(t, err)
	require.True(t, again.Empty(), "a second crash has nothing to lose: %+v", again)
}

func TestHandlesFailAfterCrash(t *testing.T) {
	f, mnt, _ := mountT(t, Options{})
	p := filepath.Join(mnt, "f")
	writeFile(t, p, "x", true)
	syncDir(t, mnt)
	file, err := os.OpenFile(p, os.O_RDWR, 0)
	require.NoError(t, err)
	defer file.Close()
	_, err = f.Crash()
	require.NoError(t, err)
	_, err = file.WriteAt([]byte("y"), 0)
	require.Error(t, err, "a process that outlived the crash wrote")
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "x", string(got), "a reopened file reads what was durable")
}
