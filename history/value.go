package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Value is a message value: one JSON scalar. An integer that fits in an int64 (what the harness
// writes) is held as that integer, so that comparing, hashing and writing it costs nothing. Any
// other scalar (a string, a fraction, an integer beyond int64, true, false, null) is held as its
// canonical JSON text: strings are re-quoted in one canonical way, so that two JSON spellings of
// the same string ("A" and "\u0041") are the same Value; numbers keep the literal's text.
//
// Values are comparable with == and usable as map keys. The zero Value is the integer 0.
type Value struct {
	n   int64
	raw string // canonical JSON text of a non-integer scalar; "" for an integer
}

// IntValue returns the Value of the integer n.
func IntValue(n int64) Value { return Value{n: n} }

// StringValue returns the Value of the JSON string s. Invalid UTF-8 in s becomes U+FFFD, as
// encoding/json would read it back.
func StringValue(s string) Value { return Value{raw: string(appendQuoted(nil, s))} }

// ParseValue returns the Value written as the JSON scalar text b (surrounding white space
// allowed). Arrays and objects are not values.
func ParseValue(b []byte) (Value, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return Value{}, fmt.Errorf("empty value")
	}
	switch b[0] {
	case '{', '[':
		return Value{}, fmt.Errorf("value %s is not a JSON scalar", truncate(b))
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return Value{}, fmt.Errorf("value %s: %w", truncate(b), err)
		}
		return StringValue(s), nil
	}
	if !json.Valid(b) {
		return Value{}, fmt.Errorf("value %s is not valid JSON", truncate(b))
	}
	if n, ok := parseJSONInt(b); ok {
		return IntValue(n), nil
	}
	return Value{raw: string(b)}, nil
}

// Int returns v as an integer, and whether it is one.
func (v Value) Int() (int64, bool) { return v.n, v.raw == "" }

// IsInt reports whether v is an integer.
func (v Value) IsInt() bool { return v.raw == "" }

// String returns v's JSON text, e.g. 17 or "seventeen".
func (v Value) String() string {
	if v.raw == "" {
		return strconv.FormatInt(v.n, 10)
	}
	return v.raw
}

// AppendJSON appends v's JSON text to dst.
func (v Value) AppendJSON(dst []byte) []byte {
	if v.raw == "" {
		return strconv.AppendInt(dst, v.n, 10)
	}
	return append(dst, v.raw...)
}

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (v *Value) UnmarshalJSON(b []byte) error {
	x, err := ParseValue(b)
	if err != nil {
		return err
	}
	*v = x
	return nil
}

// parseJSONInt parses b as a JSON number that is an integer within int64: no fraction, no
// exponent. "-0" is 0.
func parseJSONInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string in this package's canonical form: '"' and '\\' and
// control characters escaped, everything else as UTF-8, invalid UTF-8 replaced by U+FFFD.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// truncate returns b, shortened and made printable for an error message.
func truncate(b []byte) string {
	const max = 64
	if len(b) <= max {
		return Printable(string(b))
	}
	return Printable(string(b[:max])) + "..."
}
