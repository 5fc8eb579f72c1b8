package kraftlog

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// errShort is returned by reader methods when fewer bytes remain than a field needs.
var errShort = errors.New("unexpected end of data")

// reader decodes Kafka's wire types from a byte slice. Every length read from the data is
// checked against the bytes that remain before anything is allocated, so hostile input cannot
// make it allocate more than the input's size. The first error sticks: later reads return zero
// values and the error is reported once by err.
type reader struct {
	b   []byte
	off int
	e   error
}

func (r *reader) err() error { return r.e }

func (r *reader) remaining() int { return len(r.b) - r.off }

func (r *reader) fail(format string, args ...any) {
	if r.e == nil {
		r.e = fmt.Errorf("at byte %d: %w", r.off, fmt.Errorf(format, args...))
	}
}

func (r *reader) take(n int) []byte {
	if r.e != nil {
		return nil
	}
	if n < 0 || n > r.remaining() {
		r.fail("%w: need %d bytes, have %d", errShort, n, r.remaining())
		return nil
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p
}

func (r *reader) int8() int8 {
	p := r.take(1)
	if p == nil {
		return 0
	}
	return int8(p[0])
}

func (r *reader) bool() bool { return r.int8() != 0 }

func (r *reader) int16() int16 {
	p := r.take(2)
	if p == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(p))
}

func (r *reader) uint16() uint16 { return uint16(r.int16()) }

func (r *reader) int32() int32 {
	p := r.take(4)
	if p == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(p))
}

func (r *reader) uint32() uint32 { return uint32(r.int32()) }

func (r *reader) int64() int64 {
	p := r.take(8)
	if p == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(p))
}

// uvarint reads Kafka's unsigned varint (at most 5 bytes, 32 bits).
func (r *reader) uvarint() uint32 {
	if r.e != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 || n > 5 || v > math.MaxUint32 {
		r.fail("bad unsigned varint")
		return 0
	}
	r.off += n
	return uint32(v)
}

// varint reads Kafka's zig-zag signed varint (32 bits).
func (r *reader) varint() int32 {
	if r.e != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 || n > 5 || v < math.MinInt32 || v > math.MaxInt32 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return int32(v)
}

// varlong reads Kafka's zig-zag signed varlong (64 bits).
func (r *reader) varlong() int64 {
	if r.e != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varlong")
		return 0
	}
	r.off += n
	return v
}

// compactLen reads a compact length (N+1, 0 meaning null) and returns N, or -1 for null. It
// fails when N bytes (at least minElem bytes per element) cannot remain.
func (r *reader) compactLen(minElem int) int {
	n := int(r.uvarint()) - 1
	if r.e != nil {
		return -1
	}
	if n > 0 && n > r.remaining()/max(minElem, 1) {
		r.fail("%w: length %d exceeds the %d bytes left", errShort, n, r.remaining())
		return -1
	}
	return n
}

// compactString reads a compact string; null reads as "".
func (r *reader) compactString() string {
	s, _ := r.compactNullableString()
	return s
}

// compactNullableString reads a compact string and says whether it was null.
func (r *reader) compactNullableString() (string, bool) {
	n := r.compactLen(1)
	if n < 0 {
		return "", true
	}
	return string(r.take(n)), false
}

// compactInt32s reads a compact array of int32; null reads as nil, empty as a non-nil empty slice.
func (r *reader) compactInt32s() []int32 {
	n := r.compactLen(4)
	if n < 0 {
		return nil
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = r.int32()
	}
	return out
}

// compactUUIDs reads a compact array of UUIDs.
func (r *reader) compactUUIDs() []UUID {
	n := r.compactLen(16)
	if n < 0 {
		return nil
	}
	out := make([]UUID, n)
	for i := range out {
		out[i] = r.uuid()
	}
	return out
}

func (r *reader) uuid() UUID {
	var u UUID
	copy(u[:], r.take(16))
	return u
}

// taggedFields reads a tagged-field section, calling f for each field with a reader over its
// bytes; f returns false for a tag it does not know, which is then skipped. A field whose
// reader is not consumed exactly is an error.
func (r *reader) taggedFields(f func(tag uint32, fr *reader) bool) {
	n := r.uvarint()
	if r.e != nil {
		return
	}
	if int(n) > r.remaining()/2 {
		r.fail("%w: %d tagged fields in %d bytes", errShort, n, r.remaining())
		return
	}
	for range n {
		tag := r.uvarint()
		size := r.uvarint()
		p := r.take(int(size))
		if r.e != nil {
			return
		}
		if f == nil {
			continue
		}
		fr := &reader{b: p}
		if !f(tag, fr) {
			continue
		}
		if fr.e == nil && fr.remaining() != 0 {
			fr.fail("%d bytes left in tagged field %d", fr.remaining(), tag)
		}
		if fr.e != nil {
			r.fail("tagged field %d: %w", tag, fr.e)
			return
		}
	}
}

// skipTagged reads a tagged-field section and ignores every field in it.
func (r *reader) skipTagged() { r.taggedFields(nil) }

// UUID is a Kafka UUID (topic IDs, incarnation IDs, directory IDs).
type UUID [16]byte

// String renders u as Kafka does: URL-safe base64 without padding.
func (u UUID) String() string { return base64.RawURLEncoding.EncodeToString(u[:]) }
