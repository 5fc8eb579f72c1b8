package kraftlog

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
)

// The ways a log can stop being readable. A Decode error wraps exactly one of them in a
// *DecodeError; test with errors.Is.
var (
	// ErrTornTail: the data ends inside a batch (a write cut short by a crash, or a copy taken
	// while the log was being appended to).
	ErrTornTail = errors.New("torn tail")
	// ErrCRC: a batch's CRC-32C does not match its bytes.
	ErrCRC = errors.New("batch CRC mismatch")
	// ErrGap: offsets are not contiguous (a batch starts after the offset expected, or a batch
	// skips offsets inside it).
	ErrGap = errors.New("offset gap")
	// ErrMalformed: the bytes are not a valid record batch v2 (bad magic, a length out of range,
	// overlapping offsets, a record that does not parse).
	ErrMalformed = errors.New("malformed batch")
	// ErrCompression: the batch uses a compression codec this package does not read (snappy,
	// lz4, zstd; none and gzip are read).
	ErrCompression = errors.New("unsupported compression")
)

// DecodeError says where and why a log stopped being decodable. Records before it were decoded
// and are returned beside it; nothing after it is.
type DecodeError struct {
	// Kind is one of ErrTornTail, ErrCRC, ErrGap, ErrMalformed, ErrCompression.
	Kind error
	// Pos is the byte position of the batch in the data.
	Pos int
	// Offset is the first offset that was not decoded: the offset expected next.
	Offset int64
	// Detail says what exactly was wrong.
	Detail string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("kraftlog: %v at byte %d (expected offset %d): %s", e.Kind, e.Pos, e.Offset, e.Detail)
}

// Unwrap returns Kind, so errors.Is(err, ErrCRC) and the like work.
func (e *DecodeError) Unwrap() error { return e.Kind }

const (
	batchHeaderSize = 61 // bytes of a v2 batch header, up to and including the record count
	lengthPrefix    = 12 // baseOffset and batchLength: the bytes batchLength does not count

	attrCompressionMask = 0x07
	attrControl         = 0x20

	// maxBatchBytes caps what one compressed batch may inflate to. KRaft writes batches of at
	// most 8 MiB.
	maxBatchBytes = 16 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Log is a decoded run of record batches: a log segment, several segments in a row, or a
// snapshot.
type Log struct {
	// StartOffset is the offset the data was expected to start at.
	StartOffset int64
	// NextOffset is the offset after the last decoded record: StartOffset plus the number of
	// records, since offsets are contiguous.
	NextOffset int64
	// Batches is the number of batches decoded.
	Batches int
	// Records are the decoded records in offset order.
	Records []Record
}

// Decode decodes the record batches (format v2) in data, whose first batch must start at offset
// start (a segment's base offset, the file name of a .log file; 0 for a snapshot). It checks
// every batch's CRC-32C and that offsets run on without a gap. At the first batch that fails a
// check it stops and returns what it decoded so far together with a *DecodeError: a torn tail,
// a bad CRC or a gap is never silently accepted. Records of unknown types, and records whose
// schema version this package does not know, are kept (with their type and raw bytes) and do not
// stop the decode.
func Decode(data []byte, start int64) (*Log, error) {
	l := &Log{StartOffset: start, NextOffset: start}
	pos := 0
	for pos < len(data) {
		n, err := l.decodeBatch(data[pos:])
		if err != nil {
			err.Pos += pos
			return l, err
		}
		pos += n
	}
	return l, nil
}

// decodeBatch decodes the batch at the start of b, appends its records to l and returns its
// size in bytes.
func (l *Log) decodeBatch(b []byte) (int, *DecodeError) {
	fail := func(kind error, format string, args ...any) (int, *DecodeError) {
		return 0, &DecodeError{Kind: kind, Offset: l.NextOffset, Detail: fmt.Sprintf(format, args...)}
	}
	if len(b) < lengthPrefix {
		return fail(ErrTornTail, "%d bytes left, a batch header needs %d", len(b), batchHeaderSize)
	}
	baseOffset := int64(binary.BigEndian.Uint64(b[0:]))
	batchLength := int32(binary.BigEndian.Uint32(b[8:]))
	if batchLength < batchHeaderSize-lengthPrefix || batchLength > maxBatchBytes {
		return fail(ErrMalformed, "batch length %d out of range", batchLength)
	}
	size := lengthPrefix + int(batchLength)
	if len(b) < size {
		return fail(ErrTornTail, "batch at offset %d is %d bytes, %d remain", baseOffset, size, len(b))
	}
	b = b[:size]
	r := &reader{b: b, off: lengthPrefix}
	epoch := r.int32()
	if magic := r.int8(); magic != 2 {
		return fail(ErrMalformed, "magic %d, want 2", magic)
	}
	crc := r.uint32()
	if got := crc32.Checksum(b[21:], castagnoli); got != crc {
		return fail(ErrCRC, "batch at offset %d: stored %#08x, computed %#08x", baseOffset, crc, got)
	}
	attributes := r.int16()
	lastOffsetDelta := r.int32()
	baseTimestamp := r.int64()
	_ = r.int64() // maxTimestamp
	_ = r.int64() // producerId
	_ = r.int16() // producerEpoch
	_ = r.int32() // baseSequence
	count := r.int32()
	if r.err() != nil {
		return fail(ErrMalformed, "header: %v", r.err())
	}
	switch {
	case baseOffset > l.NextOffset:
		return fail(ErrGap, "batch starts at offset %d, offsets %d..%d are missing", baseOffset, l.NextOffset, baseOffset-1)
	case baseOffset < l.NextOffset:
		return fail(ErrMalformed, "batch starts at offset %d, before the expected %d", baseOffset, l.NextOffset)
	case lastOffsetDelta < 0 || count < 0:
		return fail(ErrMalformed, "last offset delta %d, record count %d", lastOffsetDelta, count)
	case int64(count) != int64(lastOffsetDelta)+1:
		return fail(ErrGap, "batch at offset %d holds %d records for %d offsets", baseOffset, count, int64(lastOffsetDelta)+1)
	}

	body := b[batchHeaderSize:]
	switch codec := attributes & attrCompressionMask; codec {
	case 0:
	case 1:
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return fail(ErrMalformed, "batch at offset %d: gzip: %v", baseOffset, err)
		}
		body, err = io.ReadAll(io.LimitReader(zr, maxBatchBytes+1))
		if err != nil {
			return fail(ErrMalformed, "batch at offset %d: gzip: %v", baseOffset, err)
		}
		if len(body) > maxBatchBytes {
			return fail(ErrMalformed, "batch at offset %d inflates beyond %d bytes", baseOffset, maxBatchBytes)
		}
	default:
		names := map[int16]string{2: "snappy", 3: "lz4", 4: "zstd"}
		name := names[codec]
		if name == "" {
			name = fmt.Sprintf("codec %d", codec)
		}
		return fail(ErrCompression, "batch at offset %d is compressed with %s", baseOffset, name)
	}

	control := attributes&attrControl != 0
	rr := &reader{b: body}
	// Records go straight into l.Records; on an error the batch's records are taken back out, so
	// a batch counts whole or not at all.
	n0 := len(l.Records)
	fail = func(kind error, format string, args ...any) (int, *DecodeError) {
		l.Records = l.Records[:n0]
		return 0, &DecodeError{Kind: kind, Offset: l.NextOffset, Detail: fmt.Sprintf(format, args...)}
	}
	l.Records = slices.Grow(l.Records, min(int(count), rr.remaining()/7+1))
	for i := range count {
		length := rr.varint()
		rec := &reader{b: rr.take(int(length))}
		if rr.err() != nil {
			return fail(ErrMalformed, "batch at offset %d, record %d: %v", baseOffset, i, rr.err())
		}
		_ = rec.int8() // attributes
		tsDelta := rec.varlong()
		offsetDelta := rec.varint()
		key := rec.bytes()
		value := rec.bytes()
		headers := int(rec.varint())
		if headers < 0 || headers > rec.remaining()/2 {
			rec.fail("%d headers in %d bytes", headers, rec.remaining())
		}
		for j := 0; j < headers && rec.err() == nil; j++ {
			rec.bytes()
			rec.bytes()
		}
		if rec.err() == nil && rec.remaining() != 0 {
			rec.fail("%d bytes left over", rec.remaining())
		}
		if rec.err() != nil {
			return fail(ErrMalformed, "batch at offset %d, record %d: %v", baseOffset, i, rec.err())
		}
		if offsetDelta != i {
			return fail(ErrGap, "batch at offset %d: record %d has offset delta %d", baseOffset, i, offsetDelta)
		}
		r := Record{
			Offset:  baseOffset + int64(i),
			TimeMs:  baseTimestamp + tsDelta,
			Epoch:   epoch,
			Control: control,
			Key:     key,
			Value:   value,
		}
		if control {
			r.decodeControl()
		} else {
			r.decodeMetadata()
		}
		l.Records = append(l.Records, r)
	}
	if rr.remaining() != 0 {
		return fail(ErrMalformed, "batch at offset %d: %d bytes after its %d records", baseOffset, rr.remaining(), count)
	}
	l.NextOffset = baseOffset + int64(count)
	l.Batches++
	return size, nil
}

// bytes reads a record's varint-length byte field (key, value, header key or value); length
// -1 is null.
func (r *reader) bytes() []byte {
	n := r.varint()
	if n < 0 {
		if n != -1 {
			r.fail("negative length %d", n)
		}
		return nil
	}
	return r.take(int(n))
}
