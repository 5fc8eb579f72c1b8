package zklog

import (
	"bytes"
	"testing"
)

// BenchmarkReadLog reads the captured log (108 transactions, 10 KB), trimmed and as ZooKeeper
// leaves it on disk: followed by the zeros of its 64 MiB preallocation, all of which are read to
// check that nothing follows the last transaction.
func BenchmarkReadLog(b *testing.B) {
	trimmed := readTestFile(b, realLog)
	preallocated := append(bytes.Clone(trimmed), make([]byte, 64<<20-len(trimmed))...)
	for _, bc := range []struct {
		name string
		log  []byte
	}{{"trimmed", trimmed}, {"preallocated", preallocated}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.log)))
			b.ReportAllocs()
			for b.Loop() {
				txns, err := ReadLog(bytes.NewReader(bc.log))
				if err != nil || len(txns) != 108 {
					b.Fatalf("%d transactions, %v", len(txns), err)
				}
			}
		})
	}
}

// BenchmarkReplay replays the captured data directory into znode changes.
func BenchmarkReplay(b *testing.B) {
	txns, err := ReadLog(bytes.NewReader(readTestFile(b, realLog)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Replay(nil, txns); err != nil {
			b.Fatal(err)
		}
	}
}
