package harness

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
)

func TestRecorderIndexesAndTimesInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	rec, err := NewRecorder(path, time.Now())
	require.NoError(t, err)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				inv := history.SendInvoke(history.Process(w), "k/0", history.IntValue(int64(w*1000+i)))
				rec.Append(&inv)
				done := history.SendOK(history.Process(w), "k/0", int64(w*1000+i), inv.Mops[0].Value)
				rec.Append(&done)
			}
		})
	}
	wg.Wait()
	require.NoError(t, rec.Close())
	require.Equal(t, Counts{OK: 800}, rec.Counts())

	ops, err := history.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, ops, 1600)
	for i, op := range ops {
		require.Equal(t, int64(i), op.Index)
		if i > 0 {
			require.GreaterOrEqual(t, op.Time, ops[i-1].Time, "line %d goes back in time", i)
		}
	}
}

// A run killed at any moment must leave what was recorded more than a second ago on disk, without
// Close or Sync.
func TestRecorderFlushesWithinASecond(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	rec, err := NewRecorder(path, time.Now())
	require.NoError(t, err)
	defer rec.Close()
	op := history.PollInvoke(1)
	rec.Append(&op)
	require.Eventually(t, func() bool {
		data, err := os.ReadFile(path)
		return err == nil && len(data) > 0
	}, 3*time.Second, 50*time.Millisecond)
	ops, err := history.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, ops, 1)
}

func TestRecorderRefusesToOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("{}\n"), 0o644))
	_, err := NewRecorder(path, time.Now())
	require.ErrorContains(t, err, "create history")
}
