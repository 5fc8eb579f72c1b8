package zklog

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// newTestTar writes the named files of dir into a tar stream under prefix, as Docker's copy of a
// directory does.
func newTestTar(t *testing.T, w io.Writer, prefix, dir string, names ...string) *tar.Writer {
	t.Helper()
	tw := tar.NewWriter(w)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: prefix, Typeflag: tar.TypeDir, Mode: 0o755}))
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: prefix + n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))}))
		_, err = tw.Write(b)
		require.NoError(t, err)
	}
	return tw
}
