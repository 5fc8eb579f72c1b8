package faultfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNamespaceDurability(t *testing.T) {
	// Every case starts from a durable tree: files a ("A"), b ("B"), d/c ("C")
	// and an empty directory e.
	durable := map[string]string{"a": "A", "b": "B", "d": "/", "d/c": "C", "e": "/"}
	with := func(change func(m map[string]string)) map[string]string {
		m := map[string]string{}
		for k, v := range durable {
			m[k] = v
		}
		change(m)
		return m
	}
	tests := []struct {
		name string
		step func(t *testing.T, mnt string)
		want map[string]string
	}{
		{
			name: "rename, not synced",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Rename(filepath.Join(mnt, "a"), filepath.Join(mnt, "z")))
			},
			want: durable,
		},
		{
			name: "rename, directory synced",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Rename(filepath.Join(mnt, "a"), filepath.Join(mnt, "z")))
				syncDir(t, mnt)
			},
			want: with(func(m map[string]string) { delete(m, "a"); m["z"] = "A" }),
		},
		{
			name: "rename over a file, not synced",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Rename(filepath.Join(mnt, "a"), filepath.Join(mnt, "b")))
			},
			want: durable,
		},
		{
			name: "rename over a file, directory synced",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Rename(filepath.Join(mnt, "a"), filepath.Join(mnt, "b")))
				syncDir(t, mnt)
			},
			want: with(func(m map[string]string) { delete(m, "a"); m["b"] = "A" }),
		},
		{
			name: "rename across directories, target directory synced",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Rename(filepath.Join(mnt, "a"), filepath.Join(mnt, "d", "a")))
				syncDir(t, filepath.Join(mnt, "d"))
			},
			want: with(func(m map[string]string) { delete(m, "a"); m["d/a"] = "A" }),
		},
		{
			name: "rename across directories, an unrelated directory synced",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Rename(filepath.Join(mnt, "a"), filepath.Join(mnt, "d", "a")))
				syncDir(t, filepath.Join(mnt, "e"))
			},
			want: durable,
		},
		{
			name: "unlink, not synced",
			step: func(t *testing.T, mnt string) { require.NoError(t, os.Remove(filepath.Join(mnt, "d", "c"))) },
			want: durable,
		},
		{
			name: "unlink, directory synced",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Remove(filepath.Join(mnt, "d", "c")))
				syncDir(t, filepath.Join(mnt, "d"))
			},
			want: with(func(m map[string]string) { delete(m, "d/c") }),
		},
		{
			name: "rmdir, not synced",
			step: func(t *testing.T, mnt string) { require.NoError(t, os.Remove(filepath.Join(mnt, "e"))) },
			want: durable,
		},
		{
			name: "mkdir and a file in it, both directories synced",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Mkdir(filepath.Join(mnt, "n"), 0o755))
				writeFile(t, filepath.Join(mnt, "n", "f"), "F", true)
				syncDir(t, filepath.Join(mnt, "n"))
				syncDir(t, mnt)
			},
			want: with(func(m map[string]string) { m["n"] = "/"; m["n/f"] = "F" }),
		},
		{
			name: "mkdir and a file in it, only the new directory synced",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Mkdir(filepath.Join(mnt, "n"), 0o755))
				writeFile(t, filepath.Join(mnt, "n", "f"), "F", true)
				syncDir(t, filepath.Join(mnt, "n"))
			},
			want: durable,
		},
		{
			name: "create, unlink, create again, directory synced",
			step: func(t *testing.T, mnt string) {
				writeFile(t, filepath.Join(mnt, "x"), "1", true)
				require.NoError(t, os.Remove(filepath.Join(mnt, "x")))
				writeFile(t, filepath.Join(mnt, "x"), "2", true)
				syncDir(t, mnt)
			},
			want: with(func(m map[string]string) { m["x"] = "2" }),
		},
		{
			name: "symlink and hard link, not synced",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Symlink("a", filepath.Join(mnt, "s")))
				require.NoError(t, os.Link(filepath.Join(mnt, "b"), filepath.Join(mnt, "d", "l")))
			},
			want: durable,
		},
		{
			name: "symlink and hard link, directories synced",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Symlink("a", filepath.Join(mnt, "s")))
				require.NoError(t, os.Link(filepath.Join(mnt, "b"), filepath.Join(mnt, "d", "l")))
				syncDir(t, mnt)
				syncDir(t, filepath.Join(mnt, "d"))
			},
			// contents follows the symlink to a.
			want: with(func(m map[string]string) { m["s"] = "A"; m["d/l"] = "B" }),
		},
		{
			name: "rename a directory, then sync a file's entry inside it",
			step: func(t *testing.T, mnt string) {
				require.NoError(t, os.Rename(filepath.Join(mnt, "d"), filepath.Join(mnt, "d2")))
				writeFile(t, filepath.Join(mnt, "d2", "n"), "N", true)
				syncDir(t, filepath.Join(mnt, "d2"))
			},
			// The directory is known by its inode: the new entry in it is
			// durable, the rename of d is not, so n appears under d.
			want: with(func(m map[string]string) { m["d/n"] = "N" }),
		},
		{
			name: "atomic replace: write tmp, fsync, rename, fsync dir",
			step: func(t *testing.T, mnt string) {
				writeFile(t, filepath.Join(mnt, "b.tmp"), "B2", true)
				require.NoError(t, os.Rename(filepath.Join(mnt, "b.tmp"), filepath.Join(mnt, "b")))
				syncDir(t, mnt)
			},
			want: with(func(m map[string]string) { m["b"] = "B2" }),
		},
		{
			name: "atomic replace without the data fsync",
			step: func(t *testing.T, mnt string) {
				writeFile(t, filepath.Join(mnt, "b.tmp"), "B2", false)
				require.NoError(t, os.Rename(filepath.Join(mnt, "b.tmp"), filepath.Join(mnt, "b")))
				syncDir(t, mnt)
			},
			// The rename is durable, the data is not: the zero-length file
			// ext4 without its rename heuristic would leave.
			want: with(func(m map[string]string) { m["b"] = "" }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, mnt, backing := mountT(t, Options{})
			writeFile(t, filepath.Join(mnt, "a"), "A", false)
			writeFile(t, filepath.Join(mnt, "b"), "B", false)
			require.NoError(t, os.Mkdir(filepath.Join(mnt, "d"), 0o755))
			writeFile(t, filepath.Join(mnt, "d", "c"), "C", false)
			require.NoError(t, os.Mkdir(filepath.Join(mnt, "e"), 0o755))
			require.NoError(t, f.Sync())
			require.Equal(t, durable, contents(t, mnt))

			tt.step(t, mnt)
			_, err := f.Crash()
			require.NoError(t, err)
			require.Equal(t, tt.want, contents(t, mnt), "through the mount")
			require.Equal(t, tt.want, contents(t, backing), "in the backing dir")
		})
	}
}

func TestNamespaceErrorsMatchLinux(t *testing.T) {
	_, mnt, _ := mountT(t, Options{})
	require.NoError(t, os.Mkdir(filepath.Join(mnt, "d"), 0o755))
	writeFile(t, filepath.Join(mnt, "d", "f"), "", false)
	writeFile(t, filepath.Join(mnt, "g"), "", false)

	require.ErrorIs(t, os.Remove(filepath.Join(mnt, "nope")), os.ErrNotExist)
	require.Error(t, os.Remove(filepath.Join(mnt, "d")), "rmdir of a non-empty directory")
	require.Error(t, os.Rename(filepath.Join(mnt, "g"), filepath.Join(mnt, "d")), "a file over a directory")
	require.NoError(t, os.Mkdir(filepath.Join(mnt, "e"), 0o755))
	require.Error(t, os.Rename(filepath.Join(mnt, "e"), filepath.Join(mnt, "g")), "a directory over a file")
	require.Error(t, os.Rename(filepath.Join(mnt, "e"), filepath.Join(mnt, "d")), "a directory over a non-empty one")
	require.Equal(t, map[string]string{"d": "/", "d/f": "", "e": "/", "g": ""}, contents(t, mnt))

	entries, err := os.ReadDir(mnt)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{"d", "e", "g"}, names, "the trash is hidden")
	_, err = os.Stat(filepath.Join(mnt, trashName))
	require.ErrorIs(t, err, os.ErrNotExist)
}
