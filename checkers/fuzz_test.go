package checkers_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

// FuzzCheck feeds arbitrary bytes to what kchaos check does: read a history, check it, write
// results.json. Any input must give a result or an error, never a panic or a hang.
func FuzzCheck(f *testing.F) {
	files, err := filepath.Glob("testdata/*.jsonl")
	require.NoError(f, err)
	more, err := filepath.Glob("../history/testdata/*.jsonl")
	require.NoError(f, err)
	for _, file := range append(files, more...) {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data, false)
		f.Add(data, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, kchaosRun bool) {
		began := time.Now()
		ops, err := history.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		r, err := checkers.Check(ops, checkers.Options{LinearizabilityTimeout: 100 * time.Millisecond, Workers: 1,
			ExpectFinalReads: kchaosRun, ObservedFromCreation: kchaosRun})
		// A history of a few lines checks in milliseconds; seconds mean work out of proportion
		// to the input.
		require.Less(t, time.Since(began), 5*time.Second, "%d ops", len(ops))
		if err != nil {
			return
		}
		_, err = r.JSON()
		require.NoError(t, err)
	})
}
