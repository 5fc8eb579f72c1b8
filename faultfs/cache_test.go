package faultfs

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestCacheAgainstAModel runs random writes, truncates, reads and flushes on
// a fileCache and on a plain byte slice, and compares them after every step;
// after each flush the backing file must hold the model's bytes.
func TestCacheAgainstAModel(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		p := filepath.Join(t.TempDir(), "f")
		initial := make([]byte, rng.IntN(3*pageSize))
		for i := range initial {
			initial[i] = byte(rng.IntN(256))
		}
		require.NoError(t, os.WriteFile(p, initial, 0o644))
		fd, err := unix.Open(p, unix.O_RDWR, 0)
		require.NoError(t, err)
		var c fileCache
		require.NoError(t, c.init(fd))
		model := append([]byte(nil), initial...)
		durable := append([]byte(nil), initial...)

		for step := range 300 {
			switch op := rng.IntN(10); {
			case op < 5:
				off := int64(rng.IntN(4 * pageSize))
				data := make([]byte, rng.IntN(2*pageSize)+1)
				for i := range data {
					data[i] = byte(rng.IntN(256))
				}
				require.NoError(t, c.write(data, off, time.Now()))
				if end := off + int64(len(data)); end > int64(len(model)) {
					model = append(model, make([]byte, end-int64(len(model)))...)
				}
				copy(model[off:], data)
			case op < 7:
				size := int64(rng.IntN(4 * pageSize))
				c.truncate(size, time.Now())
				if size < int64(len(model)) {
					model = model[:size]
				} else {
					model = append(model, make([]byte, size-int64(len(model)))...)
				}
			case op < 8:
				require.NoError(t, c.flush())
				durable = append(durable[:0], model...)
				onDisk, err := os.ReadFile(p)
				require.NoError(t, err)
				require.Equal(t, durable, onDisk, "seed %d step %d: backing file after flush", seed, step)
			}
			require.EqualValues(t, len(model), c.size, "seed %d step %d: size", seed, step)
			got := make([]byte, len(model)+pageSize)
			n, err := c.read(got, 0)
			require.NoError(t, err)
			require.Equal(t, model, got[:n], "seed %d step %d: content", seed, step)
			off := int64(rng.IntN(len(model) + 1))
			n, err = c.read(got[:rng.IntN(pageSize)+1], off)
			require.NoError(t, err)
			require.Equal(t, model[off:off+int64(n)], got[:n], "seed %d step %d: read at %d", seed, step, off)
		}
		onDisk, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Equal(t, durable, onDisk, "seed %d: unflushed changes reached the backing file", seed)
		require.NoError(t, c.close())
	}
}
