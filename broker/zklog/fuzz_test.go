package zklog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadLog feeds ReadLog garbage: it never panics, and whatever it accepts replays.
func FuzzReadLog(f *testing.F) {
	full, err := os.ReadFile(realLog)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	f.Add(full[:len(full)/2])
	f.Add(append(full[:2000:2000], make([]byte, 64)...))
	if b, err := os.ReadFile("testdata/killrestart/log.6d"); err == nil {
		f.Add(b)
	}
	f.Add(logFile(entry(cat(header(5, 1, OpMulti), multiRec(
		subTxn{OpCheck, enc(nil).str("/c").i32(1)}, subTxn{OpCreate2, createRec("/p", "d", true)}), digest()))))
	f.Add(logFile(entry(cat(header(5, 1, OpCloseSession), enc(nil).i32(1).str("/e")))))
	f.Fuzz(func(t *testing.T, data []byte) {
		txns, err := ReadLog(bytes.NewReader(data))
		var torn *TornTailError
		var corrupt *CorruptError
		if err != nil && !errors.As(err, &torn) && !errors.As(err, &corrupt) && len(txns) > 0 {
			t.Fatalf("an error other than a torn tail or a corruption after reading transactions: %v", err)
		}
		end := int64(fileHeaderSize)
		for _, x := range txns {
			if x.Offset != end {
				t.Fatalf("entry at %d, the last one ended at %d", x.Offset, end)
			}
			end += x.Size
		}
		if len(txns) > 0 && end > int64(len(data)) {
			t.Fatalf("entries end at %d, past the %d bytes read", end, len(data))
		}
		if _, err := Replay(nil, txns); err != nil {
			var inc *IncompleteError
			if !errors.As(err, &inc) && !bytes.Contains([]byte(err.Error()), []byte("two different transactions")) {
				t.Fatalf("replay: %v", err)
			}
		}
	})
}

// FuzzReadSnapshot feeds ReadSnapshot garbage: it never panics.
func FuzzReadSnapshot(f *testing.F) {
	names, _ := filepath.Glob("testdata/killrestart/snapshot.*")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadSnapshot(bytes.NewReader(data), 1)
		if err == nil && s.Nodes["/"] == nil && len(s.Nodes) > 0 {
			t.Fatalf("a snapshot with nodes but no root")
		}
	})
}
