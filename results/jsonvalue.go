package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// jvalue is a JSON value read generically with its object keys in file order and its numbers
// as written, so that test.json and results.json can be shown as their writers laid them out,
// and a 64-bit seed keeps all its digits. The report reads those files this way because their
// Go types belong to packages being written alongside this one.
type jvalue struct {
	kind  jkind
	text  string    // a string's value, a number's literal
	b     bool      // a boolean
	keys  []string  // an object's keys, in order
	vals  []*jvalue // an object's values, or an array's items
	index map[string]int
}

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// parseJSON reads one JSON document.
func parseJSON(data []byte) (*jvalue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("unexpected data after the top-level value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (*jvalue, error) {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jvalue{kind: jNull}, nil
	case bool:
		return &jvalue{kind: jBool, b: t}, nil
	case json.Number:
		return &jvalue{kind: jNumber, text: t.String()}, nil
	case string:
		return &jvalue{kind: jString, text: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := &jvalue{kind: jArray}
			for dec.More() {
				item, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				v.vals = append(v.vals, item)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		case '{':
			v := &jvalue{kind: jObject, index: map[string]int{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				item, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				if i, dup := v.index[k]; dup {
					v.vals[i] = item // the last of duplicate keys wins, as in encoding/json
					continue
				}
				v.index[k] = len(v.keys)
				v.keys = append(v.keys, k)
				v.vals = append(v.vals, item)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// get returns the field k of an object, or nil.
func (v *jvalue) get(k string) *jvalue {
	if v == nil || v.kind != jObject {
		return nil
	}
	if i, ok := v.index[k]; ok {
		return v.vals[i]
	}
	return nil
}

// path returns the value at a dotted path of object fields, or nil.
func (v *jvalue) path(p string) *jvalue {
	for _, k := range strings.Split(p, ".") {
		v = v.get(k)
	}
	return v
}

// str returns a string's value, or "".
func (v *jvalue) str() string {
	if v == nil || v.kind != jString {
		return ""
	}
	return v.text
}

// int returns a number's value as an integer, and whether it is one.
func (v *jvalue) int() (int64, bool) {
	if v == nil || v.kind != jNumber {
		return 0, false
	}
	n, err := strconv.ParseInt(v.text, 10, 64)
	return n, err == nil
}

// float returns a number's value, and whether v is a number.
func (v *jvalue) float() (float64, bool) {
	if v == nil || v.kind != jNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.text, 64)
	return f, err == nil
}

// isScalar reports whether v is neither an array nor an object.
func (v *jvalue) isScalar() bool { return v == nil || v.kind < jArray }

// plain returns a scalar as a person reads it: strings without quotes, numbers as written.
// Arrays and objects give their compact JSON.
func (v *jvalue) plain() string {
	if v == nil {
		return "null"
	}
	switch v.kind {
	case jString, jNumber:
		return v.text
	}
	return v.compact(0)
}

// compact returns v's compact JSON text, cut after about limit bytes (0: no limit) with "…".
func (v *jvalue) compact(limit int) string {
	var b strings.Builder
	v.write(&b, limit)
	s := b.String()
	if limit > 0 && len(s) > limit {
		return cutUTF8(s, limit) + "…"
	}
	return s
}

func (v *jvalue) write(b *strings.Builder, limit int) {
	if limit > 0 && b.Len() > limit {
		return
	}
	if v == nil {
		b.WriteString("null")
		return
	}
	switch v.kind {
	case jNull:
		b.WriteString("null")
	case jBool:
		b.WriteString(strconv.FormatBool(v.b))
	case jNumber:
		b.WriteString(v.text)
	case jString:
		q, _ := json.Marshal(v.text)
		b.Write(q)
	case jArray:
		b.WriteByte('[')
		for i, item := range v.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			item.write(b, limit)
		}
		b.WriteByte(']')
	case jObject:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			q, _ := json.Marshal(k)
			b.Write(q)
			b.WriteByte(':')
			v.vals[i].write(b, limit)
		}
		b.WriteByte('}')
	}
}

// pretty returns v as indented JSON, arrays of more than maxItems items shortened with a note
// of how many were left out, cut after about limit bytes.
func (v *jvalue) pretty(maxItems, limit int) string {
	var b strings.Builder
	v.writePretty(&b, "", maxItems, limit)
	s := b.String()
	if len(s) > limit {
		return cutUTF8(s, limit) + "\n…"
	}
	return s
}

func (v *jvalue) writePretty(b *strings.Builder, indent string, maxItems, limit int) {
	if b.Len() > limit {
		return
	}
	if v == nil || v.isScalar() || len(v.vals) == 0 {
		b.WriteString(v.compact(0))
		return
	}
	inner := indent + "  "
	if v.kind == jArray {
		allScalar := true
		for _, item := range v.vals {
			if !item.isScalar() {
				allScalar = false
				break
			}
		}
		if allScalar {
			// Short lists of scalars on one line.
			b.WriteByte('[')
			for i, item := range v.vals {
				if i == maxItems*4 {
					fmt.Fprintf(b, ", … %d more", len(v.vals)-i)
					break
				}
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(item.compact(0))
			}
			b.WriteByte(']')
			return
		}
		b.WriteString("[\n")
		for i, item := range v.vals {
			if i == maxItems {
				fmt.Fprintf(b, "%s… %d more\n", inner, len(v.vals)-i)
				break
			}
			b.WriteString(inner)
			item.writePretty(b, inner, maxItems, limit)
			if i < len(v.vals)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
		return
	}
	b.WriteString("{\n")
	for i, k := range v.keys {
		q, _ := json.Marshal(k)
		b.WriteString(inner)
		b.Write(q)
		b.WriteString(": ")
		v.vals[i].writePretty(b, inner, maxItems, limit)
		if i < len(v.keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(indent + "}")
}

// cutUTF8 returns s cut to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
