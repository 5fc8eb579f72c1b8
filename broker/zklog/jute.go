package zklog

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// decoder reads jute's binary encoding from a byte slice. Its first error sticks: every later
// read returns a zero value, so a record is decoded straight through and checked once. Lengths
// and counts are checked against the bytes left, so garbage never makes it allocate more than
// the input holds.
type decoder struct {
	b   []byte
	off int
	err error
}

// fail records the first error.
func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: %s", d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) left() int { return len(d.b) - d.off }

// take returns the next n bytes; what and suffix name them in an error (two strings, so that
// callers need not concatenate them on every read).
func (d *decoder) take(n int, what, suffix string) []byte {
	if d.err != nil {
		return nil
	}
	if n > d.left() {
		d.fail("%s%s needs %d bytes, %d left", what, suffix, n, d.left())
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) int32(what string) int32 { return d.int32Of(what, "") }

func (d *decoder) int32Of(what, suffix string) int32 {
	p := d.take(4, what, suffix)
	if p == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(p))
}

func (d *decoder) int64(what string) int64 {
	p := d.take(8, what, "")
	if p == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(p))
}

func (d *decoder) bool(what string) bool {
	p := d.take(1, what, "")
	return p != nil && p[0] != 0
}

// buffer reads a jute buffer; -1 is nil. The bytes are copied out of the input.
func (d *decoder) buffer(what string) []byte {
	n := d.int32Of(what, " length")
	if d.err != nil || n == -1 {
		return nil
	}
	if n < 0 {
		d.fail("%s has length %d", what, n)
		return nil
	}
	p := d.take(int(n), what, "")
	if p == nil {
		return nil
	}
	return append(make([]byte, 0, len(p)), p...)
}

// string reads a jute ustring; null reads as "".
func (d *decoder) string(what string) string {
	n := d.int32Of(what, " length")
	if d.err != nil || n == -1 {
		return ""
	}
	if n < 0 {
		d.fail("%s has length %d", what, n)
		return ""
	}
	p := d.take(int(n), what, "")
	if p == nil {
		return ""
	}
	if !utf8.Valid(p) {
		d.fail("%s is not UTF-8: %q", what, p)
		return ""
	}
	return string(p)
}

// count reads a vector's count; null reads as 0. Each element takes at least minSize bytes, so a
// count the bytes left cannot hold is an error before anything is allocated for it.
func (d *decoder) count(what string, minSize int) int {
	n := d.int32Of(what, " count")
	if d.err != nil || n == -1 {
		return 0
	}
	if n < 0 || int(n) > d.left()/minSize {
		d.fail("%s has %d elements, %d bytes left", what, n, d.left())
		return 0
	}
	return int(n)
}
