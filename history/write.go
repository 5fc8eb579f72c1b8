package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// AppendJSON appends op as one history line, without the trailing newline, to dst:
//
//	{"index":0,"time":5,"process":3,"type":"invoke","f":"send","value":[["send","kchaos/0",17]]}
//
// Fields come in the order index, time, process, type, f, value, error; error only when
// op.Error is not empty, written from op.ErrorRaw when that is set. The value is taken from Mops, Keys or Raw as op.F says (see Op); a
// nil value is written as null. Raw must hold valid JSON; it is compacted if it spans lines.
func AppendJSON(dst []byte, op *Op) []byte {
	dst = append(dst, `{"index":`...)
	dst = strconv.AppendInt(dst, op.Index, 10)
	dst = append(dst, `,"time":`...)
	dst = strconv.AppendInt(dst, op.Time, 10)
	dst = append(dst, `,"process":`...)
	dst = op.Process.AppendJSON(dst)
	dst = append(dst, `,"type":"`...)
	dst = append(dst, op.Type.String()...)
	dst = append(dst, `","f":`...)
	dst = appendQuoted(dst, op.F)
	dst = append(dst, `,"value":`...)
	dst = appendValue(dst, op)
	switch {
	case len(op.ErrorRaw) > 0:
		dst = append(dst, `,"error":`...)
		dst = appendRaw(dst, op.ErrorRaw)
	case op.Error != "":
		dst = append(dst, `,"error":`...)
		dst = appendQuoted(dst, op.Error)
	}
	return append(dst, '}')
}

func appendValue(dst []byte, op *Op) []byte {
	switch {
	case HasMops(op.F):
		if op.Mops == nil {
			return append(dst, "null"...)
		}
		return appendMops(dst, op.Mops)
	case HasKeys(op.F):
		if op.Keys == nil {
			return append(dst, "null"...)
		}
		dst = append(dst, '[')
		for i, k := range op.Keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendQuoted(dst, k)
		}
		return append(dst, ']')
	}
	if len(op.Raw) == 0 {
		return append(dst, "null"...)
	}
	return appendRaw(dst, op.Raw)
}

// appendRaw appends the JSON text raw, compacted if it spans lines.
func appendRaw(dst []byte, raw json.RawMessage) []byte {
	if bytes.ContainsAny(raw, "\r\n") {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err == nil {
			return append(dst, buf.Bytes()...)
		}
	}
	return append(dst, raw...)
}

func appendMops(dst []byte, mops []Mop) []byte {
	dst = append(dst, '[')
	for i := range mops {
		if i > 0 {
			dst = append(dst, ',')
		}
		m := &mops[i]
		switch m.Kind {
		case MopSend:
			dst = append(dst, `["send",`...)
			dst = appendQuoted(dst, m.Key)
			dst = append(dst, ',')
			if m.Offset == NoOffset {
				dst = m.Value.AppendJSON(dst)
			} else {
				dst = append(dst, '[')
				dst = strconv.AppendInt(dst, m.Offset, 10)
				dst = append(dst, ',')
				dst = m.Value.AppendJSON(dst)
				dst = append(dst, ']')
			}
			dst = append(dst, ']')
		case MopPoll:
			if !m.Polled {
				dst = append(dst, `["poll"]`...)
				continue
			}
			dst = append(dst, `["poll",{`...)
			for j := range m.Reads {
				if j > 0 {
					dst = append(dst, ',')
				}
				kr := &m.Reads[j]
				dst = appendQuoted(dst, kr.Key)
				dst = append(dst, ":["...)
				for k, r := range kr.Records {
					if k > 0 {
						dst = append(dst, ',')
					}
					dst = append(dst, '[')
					if r.Offset == NoOffset {
						dst = append(dst, "null"...)
					} else {
						dst = strconv.AppendInt(dst, r.Offset, 10)
					}
					dst = append(dst, ',')
					dst = r.Value.AppendJSON(dst)
					dst = append(dst, ']')
				}
				dst = append(dst, ']')
			}
			dst = append(dst, "}]"...)
		default:
			// Not a valid Mop; write something that reads back as an error rather than
			// something that reads back as a different history.
			dst = append(dst, `["invalid-mop"]`...)
		}
	}
	return append(dst, ']')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (op Op) MarshalJSON() ([]byte, error) {
	if op.Type < Invoke || op.Type > Info {
		return nil, fmt.Errorf("index %d: invalid type %d", op.Index, op.Type)
	}
	return AppendJSON(nil, &op), nil
}

// UnmarshalJSON implements json.Unmarshaler with ParseLine.
func (op *Op) UnmarshalJSON(b []byte) error {
	x, err := ParseLine(b)
	if err != nil {
		return err
	}
	*op = x
	return nil
}

// Writer writes history lines. It buffers: call Flush when done. It is not safe for concurrent
// use; the recorder serializes its writes (and assigns Index and Time) itself.
type Writer struct {
	w   *bufio.Writer
	buf []byte
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes op as one line. It refuses a line Read would refuse for its type, process or f
// (see Op.Validate): a history is written to be read back.
func (w *Writer) Write(op *Op) error {
	if err := op.Validate(); err != nil {
		return fmt.Errorf("write history line %d: %w", op.Index, err)
	}
	w.buf = AppendJSON(w.buf[:0], op)
	w.buf = append(w.buf, '\n')
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("write history line %d: %w", op.Index, err)
	}
	return nil
}

// Flush writes any buffered lines to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("flush history: %w", err)
	}
	return nil
}
