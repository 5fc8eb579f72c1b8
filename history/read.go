package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// LineError is a malformed history line: its number, from 1, and what is wrong with it.
type LineError struct {
	Line int
	Err  error
}

// Error returns "line N: " and the cause.
func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// ParseLine parses one history line (without its newline). It does not check the line's index.
func ParseLine(line []byte) (Op, error) {
	var s scanner
	var op Op
	if s.parse(line, &op) {
		return op, nil
	}
	return parseSlow(line)
}

// parseLine parses line number lineNo into op, with s's interner and slabs, and checks that
// its index is its position.
func (s *scanner) parseLine(line []byte, lineNo int, op *Op) error {
	if !s.parse(line, op) {
		var err error
		if *op, err = parseSlow(line); err != nil {
			if isBlank(line) {
				err = errors.New("empty line")
			}
			return &LineError{Line: lineNo, Err: err}
		}
	}
	if op.Index != int64(lineNo-1) {
		return &LineError{Line: lineNo, Err: fmt.Errorf("index %d, want %d: lines are numbered from 0 in order", op.Index, lineNo-1)}
	}
	return nil
}

// ReadFile reads the history in the file at path. See Read.
func ReadFile(path string) ([]Op, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer f.Close()
	ops, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	return ops, nil
}

// Read reads a whole history: one JSON line per op, each line's index equal to its position.
// White space at the end is ignored; an empty line before the end is an error. A malformed line
// is reported as a *LineError naming the first such line.
//
// Read holds all of r in memory while it parses it, on all CPUs.
func Read(r io.Reader) ([]Op, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return parseAll(data, runtime.GOMAXPROCS(0))
}

func readAll(r io.Reader) ([]byte, error) {
	size := 0
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = int(fi.Size())
		}
	}
	if size == 0 {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		return data, nil
	}
	data := make([]byte, 0, size+1) // +1: see EOF without growing
	for {
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // the file grew: make room
		}
	}
}

// chunk is a run of whole lines parsed by one worker.
type chunk struct {
	data      []byte
	firstLine int // number of the chunk's first line, from 1
}

const chunkBytes = 1 << 20

func parseAll(data []byte, workers int) ([]Op, error) {
	end := len(data)
	for end > 0 && isSpace(data[end-1]) {
		end--
	}
	data = data[:end]
	if len(data) == 0 {
		return []Op{}, nil
	}
	// Cut the data into chunks of whole lines and number their first lines.
	var chunks []chunk
	line := 1
	for start := 0; start < len(data); {
		stop := start + chunkBytes
		if stop >= len(data) {
			stop = len(data)
		} else if nl := bytes.IndexByte(data[stop:], '\n'); nl < 0 {
			stop = len(data)
		} else {
			stop += nl + 1
		}
		chunks = append(chunks, chunk{data: data[start:stop], firstLine: line})
		line += bytes.Count(data[start:stop], []byte{'\n'})
		start = stop
	}
	ops := make([]Op, line) // the last line has no newline
	if workers > len(chunks) {
		workers = len(chunks)
	}
	var (
		next    atomic.Int64
		mu      sync.Mutex
		first   *LineError
		errLine atomic.Int64 // the first bad line found so far; chunks after it are skipped
		wg      sync.WaitGroup
	)
	errLine.Store(int64(line + 1))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := scanner{in: newInterner(), sl: &slabs{}}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(chunks) || int64(chunks[i].firstLine) > errLine.Load() {
					return
				}
				if err := s.parseChunk(chunks[i], ops); err != nil {
					mu.Lock()
					if first == nil || err.Line < first.Line {
						first = err
						errLine.Store(int64(err.Line))
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return ops, nil
}

func (s *scanner) parseChunk(c chunk, ops []Op) *LineError {
	data, lineNo := c.data, c.firstLine
	for len(data) > 0 {
		line := data
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			line, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		if err := s.parseLine(line, lineNo, &ops[lineNo-1]); err != nil {
			var le *LineError
			errors.As(err, &le)
			return le
		}
		lineNo++
	}
	return nil
}

// isSpace reports whether c is JSON white space.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isBlank reports whether line holds nothing but JSON white space.
func isBlank(line []byte) bool {
	for _, c := range line {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// Decoder reads a history one line at a time, for when the whole of it need not be in memory.
type Decoder struct {
	r     *bufio.Reader
	line  int // lines read so far
	blank int // the first of a run of blank lines not yet known to be at the end; 0 if none
	s     scanner
	buf   []byte
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 1<<16), s: scanner{in: newInterner()}}
}

// Decode reads the next op into op. It returns io.EOF after the last one, and a *LineError for
// a malformed line, with the same rules as Read.
func (d *Decoder) Decode(op *Op) error {
	for {
		line, err := d.readLine()
		if err == io.EOF && len(line) == 0 {
			return io.EOF
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read line %d: %w", d.line+1, err)
		}
		d.line++
		if isBlank(line) {
			if d.blank == 0 {
				d.blank = d.line
			}
			continue
		}
		if d.blank != 0 {
			return &LineError{Line: d.blank, Err: errors.New("empty line")}
		}
		return d.s.parseLine(line, d.line, op)
	}
}

// readLine returns the next line without its newline; the slice is valid until the next call.
func (d *Decoder) readLine() ([]byte, error) {
	d.buf = d.buf[:0]
	for {
		part, err := d.r.ReadSlice('\n')
		d.buf = append(d.buf, part...)
		switch err {
		case nil:
			return d.buf[:len(d.buf)-1], nil
		case bufio.ErrBufferFull:
			continue
		default:
			return d.buf, err
		}
	}
}
