package zklog

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
)

// Magic numbers and the format version of log and snapshot files.
const (
	logMagic      = 0x5a4b4c47 // "ZKLG"
	snapshotMagic = 0x5a4b534e // "ZKSN"
	formatVersion = 2
)

// fileHeaderSize is the size of a FileHeader: magic, version, dbid.
const fileHeaderSize = 4 + 4 + 8

// maxEntrySize bounds the length of one log entry. ZooKeeper refuses buffers over jute.maxbuffer
// (1 MiB by default); a length far beyond any setting of it is corruption, not a transaction.
const maxEntrySize = 256 << 20

// CorruptError is a log or snapshot that cannot be read at Offset: a bad checksum, a malformed
// record, or data after a stretch of zeros, in the middle of the file rather than at its end.
type CorruptError struct {
	Offset int64
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("corrupt at offset %d: %s", e.Offset, e.Reason)
}

// TornTailError is a log whose last entry, at Offset, was only partly written: the file ends
// inside it, or it fails its checksum or lacks its end-of-record byte with nothing but zeros after
// it. That is what a crash in the middle of a write leaves; ZooKeeper itself stops reading there.
// The transactions before it are complete.
type TornTailError struct {
	Offset int64
	Reason string
}

func (e *TornTailError) Error() string {
	return fmt.Sprintf("torn last entry at offset %d: %s", e.Offset, e.Reason)
}

// ErrNotLog is a file that does not start with a transaction log header.
var ErrNotLog = errors.New("not a ZooKeeper transaction log")

// LogHeader is the header of a log file.
type LogHeader struct {
	Version int32
	DBID    int64
}

// ReadLog reads a transaction log, from its file header to the end of its transactions: the
// zeros ZooKeeper preallocates after them, or the end of the input. Every entry's checksum is
// verified and its record decoded.
//
// It returns the transactions read before any error along with the error. A last entry that was
// only partly written is a *TornTailError; anything wrong before the end, including data after
// the zeros that end the log, is a *CorruptError. Use errors.As to tell them apart.
func ReadLog(r io.Reader) ([]Txn, error) {
	_, txns, err := readLog(r)
	return txns, err
}

// ReadLogFile is ReadLog that also returns the file header.
func ReadLogFile(r io.Reader) (LogHeader, []Txn, error) {
	return readLog(r)
}

func readLog(r io.Reader) (LogHeader, []Txn, error) {
	lr := &logReader{r: bufio.NewReaderSize(r, 16<<10)}
	var hdr [fileHeaderSize]byte
	if n, err := io.ReadFull(lr.r, hdr[:]); err == io.EOF || err == io.ErrUnexpectedEOF {
		return LogHeader{}, nil, fmt.Errorf("%w: %d-byte file", ErrNotLog, n)
	} else if err != nil {
		return LogHeader{}, nil, fmt.Errorf("read the transaction log header: %w", err)
	}
	lr.off = fileHeaderSize
	if m := binary.BigEndian.Uint32(hdr[0:]); m != logMagic {
		return LogHeader{}, nil, fmt.Errorf("%w: magic %#x", ErrNotLog, m)
	}
	h := LogHeader{Version: int32(binary.BigEndian.Uint32(hdr[4:])), DBID: int64(binary.BigEndian.Uint64(hdr[8:]))}
	if h.Version != formatVersion {
		return h, nil, fmt.Errorf("transaction log format version %d, want %d", h.Version, formatVersion)
	}
	var txns []Txn
	for {
		t, err := lr.next()
		if err == io.EOF {
			return h, txns, nil
		}
		if err != nil {
			return h, txns, err
		}
		txns = append(txns, t)
	}
}

// logReader reads the entries of a log after its header.
type logReader struct {
	r   *bufio.Reader
	off int64 // of the next byte of r
	buf bytes.Buffer
}

// entryHeaderSize is the size of an entry's checksum and length.
const entryHeaderSize = 8 + 4

// next reads one entry; io.EOF is the clean end of the log.
func (lr *logReader) next() (Txn, error) {
	start := lr.off
	var eh [entryHeaderSize]byte
	n, err := io.ReadFull(lr.r, eh[:])
	lr.off += int64(n)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return Txn{}, fmt.Errorf("read the entry at offset %d: %w", start, err)
	}
	if err != nil {
		if isZero(eh[:n]) {
			return Txn{}, io.EOF // the input ends on the end of an entry, or in the zeros after it
		}
		return Txn{}, &TornTailError{Offset: start, Reason: fmt.Sprintf("the file ends %d bytes into the entry's checksum and length", n)}
	}
	sum := binary.BigEndian.Uint64(eh[0:])
	length := int32(binary.BigEndian.Uint32(eh[8:]))
	if sum == 0 && length == 0 {
		// The end of the transactions. ZooKeeper preallocates the file with zeros: anything else
		// after this point is a hole in the log.
		if at, found, err := lr.nonZero(); err != nil {
			return Txn{}, err
		} else if found {
			return Txn{}, &CorruptError{Offset: at, Reason: fmt.Sprintf("data after the end of the log at offset %d", start)}
		}
		return Txn{}, io.EOF
	}
	bad := func(reason string, args ...any) (Txn, error) {
		// A bad entry followed by zeros only is the last write, torn by a crash.
		reason = fmt.Sprintf(reason, args...)
		at, found, err := lr.nonZero()
		if err != nil {
			return Txn{}, err
		}
		if found {
			return Txn{}, &CorruptError{Offset: start, Reason: fmt.Sprintf("%s (and more data follows at offset %d)", reason, at)}
		}
		return Txn{}, &TornTailError{Offset: start, Reason: reason}
	}
	if length <= 0 || length > maxEntrySize || sum>>32 != 0 {
		return bad("checksum %#x, length %d", sum, length)
	}
	lr.buf.Reset()
	m, err := io.CopyN(&lr.buf, lr.r, int64(length)+1)
	lr.off += m
	if err != nil {
		if err == io.EOF {
			return Txn{}, &TornTailError{Offset: start, Reason: fmt.Sprintf("the file ends %d bytes into a %d-byte entry", m, length+1)}
		}
		return Txn{}, fmt.Errorf("read the entry at offset %d: %w", start, err)
	}
	b := lr.buf.Bytes()
	body, eor := b[:length], b[length]
	if got := adler32.Checksum(body); uint64(got) != sum {
		return bad("checksum %#x, computed %#x", sum, got)
	}
	if eor != 'B' {
		return bad("end-of-record byte %#x, want 'B'", eor)
	}
	t, err := decodeTxn(body)
	if err != nil {
		return Txn{}, &CorruptError{Offset: start, Reason: err.Error()}
	}
	t.Offset, t.Size, t.Checksum = start, int64(entryHeaderSize)+int64(length)+1, uint32(sum)
	return t, nil
}

// nonZero reads the rest of the input and returns the offset of its first non-zero byte, if any.
func (lr *logReader) nonZero() (int64, bool, error) {
	var chunk [32 << 10]byte
	for {
		n, err := lr.r.Read(chunk[:])
		if i := indexNonZero(chunk[:n]); i >= 0 {
			return lr.off + int64(i), true, nil
		}
		lr.off += int64(n)
		if err == io.EOF {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("read the log after offset %d: %w", lr.off, err)
		}
	}
}

// zeroChunk is compared against, a chunk at a time, to find the end of the preallocated zeros.
var zeroChunk [32 << 10]byte

// indexNonZero returns the index of the first non-zero byte of b, -1 if none.
func indexNonZero(b []byte) int {
	skipped := 0
	for len(b)-skipped >= len(zeroChunk) && bytes.Equal(b[skipped:skipped+len(zeroChunk)], zeroChunk[:]) {
		skipped += len(zeroChunk)
	}
	for i, c := range b[skipped:] {
		if c != 0 {
			return skipped + i
		}
	}
	return -1
}

func isZero(b []byte) bool { return indexNonZero(b) < 0 }
