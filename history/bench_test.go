package history_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/history/historytest"
)

func generated(b *testing.B, ops int) []byte {
	b.Helper()
	var buf bytes.Buffer
	require.NoError(b, historytest.Write(&buf, historytest.Config{Ops: ops, Seed: 1, InfoRate: 0.02, FailRate: 0.02}))
	return buf.Bytes()
}

// BenchmarkRead reads a generated history of 10^5 operations (2x10^5 lines); the reported
// ns/op and B/op are per line.
func BenchmarkRead(b *testing.B) {
	data := generated(b, 100000)
	lines := bytes.Count(data, []byte{'\n'})
	b.SetBytes(int64(len(data) / lines))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += lines {
		if _, err := history.Read(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecoder is BenchmarkRead with the streaming Decoder.
func BenchmarkDecoder(b *testing.B) {
	data := generated(b, 100000)
	lines := bytes.Count(data, []byte{'\n'})
	b.SetBytes(int64(len(data) / lines))
	b.ReportAllocs()
	b.ResetTimer()
	var op history.Op
	for i := 0; i < b.N; {
		dec := history.NewDecoder(bytes.NewReader(data))
		for ; i < b.N && dec.Decode(&op) == nil; i++ {
		}
	}
}

// BenchmarkAppendJSON writes lines; ns/op is per line.
func BenchmarkAppendJSON(b *testing.B) {
	ops, err := history.Read(bytes.NewReader(generated(b, 10000)))
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf = history.AppendJSON(buf[:0], &ops[i%len(ops)])
	}
}
