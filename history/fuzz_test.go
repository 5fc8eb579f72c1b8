package history_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
)

// FuzzRead checks whole histories: what Read accepts, written back and read again, is the same
// history, and the streaming Decoder agrees with Read on the ops and on the first bad line.
func FuzzRead(f *testing.F) {
	data, err := os.ReadFile("testdata/valid.jsonl")
	require.NoError(f, err)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte("\n\n"))
	f.Add(append(append([]byte{}, data[:200]...), "\n\n"...))
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := history.Read(bytes.NewReader(data))
		dec := history.NewDecoder(bytes.NewReader(data))
		var decoded []history.Op
		var decErr error
		for {
			var op history.Op
			if decErr = dec.Decode(&op); decErr != nil {
				break
			}
			decoded = append(decoded, op)
		}
		if err != nil {
			var le, dle *history.LineError
			require.True(t, errors.As(err, &le), "%v", err)
			require.True(t, errors.As(decErr, &dle), "read: %v, decoder: %v", err, decErr)
			require.Equal(t, le.Line, dle.Line)
			return
		}
		require.ErrorIs(t, decErr, io.EOF)
		require.Equal(t, len(ops), len(decoded))
		for i := range ops {
			require.Equal(t, ops[i], decoded[i])
		}
		var buf bytes.Buffer
		w := history.NewWriter(&buf)
		for i := range ops {
			require.NoError(t, w.Write(&ops[i]))
		}
		require.NoError(t, w.Flush())
		back, err := history.Read(&buf)
		require.NoError(t, err)
		require.Equal(t, ops, back)
	})
}
