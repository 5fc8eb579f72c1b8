package history

// The fast scanner reads the lines the harness writes, and any line of the same shape, without
// encoding/json: one pass over the bytes, strings interned, slices carved out of shared slabs.
// It accepts a line only when it is sure of its meaning: on anything else (escapes or non-ASCII
// in strings, fractions, unknown fields, nemesis and observer values, errors of any kind) it gives
// up and parseSlow decides. FuzzParseLine checks that the two agree.

// interner returns one string for equal byte strings (keys, f, error messages), so a history
// of millions of lines holds each key once. A nil interner allocates every string.
type interner struct {
	m map[string]string
}

const (
	maxInterned    = 1 << 14
	maxInternedLen = 256
)

func newInterner() *interner { return &interner{m: make(map[string]string, 64)} }

func (in *interner) get(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.m) < maxInterned && len(b) <= maxInternedLen {
		in.m[s] = s
	}
	return s
}

// slabs hands out small slices carved from large shared arrays, so that parsing a line does not
// allocate per micro-operation. A nil *slabs allocates each slice. Every slice handed out is
// non-nil and has its capacity capped at its length.
type slabs struct {
	mops  []Mop
	recs  []Record
	reads []KeyReads
	keys  []string
}

const (
	slabSize  = 4096
	slabLimit = slabSize / 8 // larger slices get their own array
)

func carve[T any](slab *[]T, src []T) []T {
	n := len(src)
	if slab == nil || n > slabLimit {
		out := make([]T, n)
		copy(out, src)
		return out
	}
	if cap(*slab)-len(*slab) < n || *slab == nil {
		*slab = make([]T, 0, slabSize)
	}
	start := len(*slab)
	*slab = append(*slab, src...)
	return (*slab)[start:len(*slab):len(*slab)]
}

func (s *slabs) mopSlab() *[]Mop {
	if s == nil {
		return nil
	}
	return &s.mops
}

func (s *slabs) recSlab() *[]Record {
	if s == nil {
		return nil
	}
	return &s.recs
}

func (s *slabs) readSlab() *[]KeyReads {
	if s == nil {
		return nil
	}
	return &s.reads
}

func (s *slabs) keySlab() *[]string {
	if s == nil {
		return nil
	}
	return &s.keys
}

// scanner is the fast line parser. Its scratch slices are reused from line to line.
type scanner struct {
	b  []byte
	i  int
	in *interner
	sl *slabs

	mops  []Mop
	reads []KeyReads
	recs  []Record
	keys  []string
}

// Field bits of the top-level object.
const (
	fieldIndex = 1 << iota
	fieldTime
	fieldProcess
	fieldType
	fieldF
	fieldValue
	fieldError
	requiredFields = fieldIndex | fieldTime | fieldProcess | fieldType | fieldF
)

// parse parses line into op and reports whether it could. On false, op holds garbage.
func (s *scanner) parse(line []byte, op *Op) bool {
	*op = Op{}
	s.b, s.i = line, 0
	s.ws()
	if !s.eat('{') {
		return false
	}
	var seen int
	for {
		s.ws()
		name, ok := s.plainString()
		if !ok {
			return false
		}
		s.ws()
		if !s.eat(':') {
			return false
		}
		s.ws()
		var bit int
		switch string(name) {
		case "index":
			bit = fieldIndex
			if op.Index, ok = s.int(); !ok || op.Index < 0 {
				return false
			}
		case "time":
			bit = fieldTime
			if op.Time, ok = s.int(); !ok || op.Time < 0 {
				return false
			}
		case "process":
			bit = fieldProcess
			n, ok := s.int()
			if !ok || n < 0 {
				return false
			}
			op.Process = Process(n)
		case "type":
			bit = fieldType
			t, ok := s.plainString()
			if !ok {
				return false
			}
			switch string(t) {
			case "invoke":
				op.Type = Invoke
			case "ok":
				op.Type = OK
			case "fail":
				op.Type = Fail
			case "info":
				op.Type = Info
			default:
				return false
			}
		case "f":
			bit = fieldF
			f, ok := s.plainString()
			if !ok {
				return false
			}
			op.F = s.in.get(f)
		case "value":
			bit = fieldValue
			// The scanner needs f to know the value's shape; the harness writes f first.
			if seen&fieldF == 0 || !s.value(op) {
				return false
			}
		case "error":
			bit = fieldError
			e, ok := s.plainString()
			if !ok {
				return false
			}
			op.Error = s.in.get(e)
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		s.ws()
		if s.eat(',') {
			continue
		}
		if !s.eat('}') {
			return false
		}
		break
	}
	s.ws()
	// Lines checkLine refuses go to parseSlow, for its error message.
	return s.i == len(s.b) && seen&requiredFields == requiredFields && checkLine(op) == nil
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// plainString reads a JSON string of printable ASCII without escapes and returns its contents.
func (s *scanner) plainString() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			s.i++
			return s.b[start : s.i-1], true
		}
		if c < 0x20 || c == '\\' || c >= 0x80 {
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// int reads a JSON integer that fits in an int64, and nothing that continues as a fraction or
// an exponent.
func (s *scanner) int() (int64, bool) {
	neg := s.eat('-')
	start := s.i
	var n uint64
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c < '0' || c > '9' {
			break
		}
		if n > (1<<63)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || (digits > 1 && s.b[start] == '0') {
		return 0, false
	}
	switch s.peek() {
	case '.', 'e', 'E':
		return 0, false
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

// scalar reads a message value: an integer or a plain string.
func (s *scanner) scalar() (Value, bool) {
	if s.peek() == '"' {
		start := s.i
		if _, ok := s.plainString(); !ok {
			return Value{}, false
		}
		return Value{raw: string(s.b[start:s.i])}, true
	}
	n, ok := s.int()
	return Value{n: n}, ok
}

// offset reads a non-negative integer offset or null.
func (s *scanner) offset() (int64, bool) {
	if s.literal("null") {
		return NoOffset, true
	}
	n, ok := s.int()
	return n, ok && n >= 0
}

func (s *scanner) value(op *Op) bool {
	switch {
	case HasMops(op.F):
		if s.literal("null") {
			return true
		}
		return s.mopList(op)
	case HasKeys(op.F):
		if s.literal("null") {
			return true
		}
		return s.keyList(op)
	}
	return false
}

func (s *scanner) keyList(op *Op) bool {
	s.keys = s.keys[:0]
	if !s.seq('[', ']', func() bool {
		k, ok := s.plainString()
		if ok {
			s.keys = append(s.keys, s.in.get(k))
		}
		return ok
	}) {
		return false
	}
	op.Keys = carve(s.sl.keySlab(), s.keys)
	return true
}

func (s *scanner) mopList(op *Op) bool {
	s.mops = s.mops[:0]
	if !s.seq('[', ']', func() bool {
		var m Mop
		if !s.mop(&m) {
			return false
		}
		s.mops = append(s.mops, m)
		return true
	}) {
		return false
	}
	op.Mops = carve(s.sl.mopSlab(), s.mops)
	return true
}

// seq scans open, elements separated by commas, and close; elem scans one element at the
// scanner's position (after white space) and reports whether it was well formed.
func (s *scanner) seq(open, close byte, elem func() bool) bool {
	if !s.eat(open) {
		return false
	}
	s.ws()
	if s.eat(close) {
		return true
	}
	for {
		s.ws()
		if !elem() {
			return false
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		return s.eat(close)
	}
}

func (s *scanner) mop(m *Mop) bool {
	if !s.eat('[') {
		return false
	}
	s.ws()
	kind, ok := s.plainString()
	if !ok {
		return false
	}
	s.ws()
	switch string(kind) {
	case "send":
		*m = Mop{Kind: MopSend, Offset: NoOffset}
		if !s.eat(',') {
			return false
		}
		s.ws()
		k, ok := s.plainString()
		if !ok {
			return false
		}
		m.Key = s.in.get(k)
		s.ws()
		if !s.eat(',') {
			return false
		}
		s.ws()
		if s.eat('[') {
			s.ws()
			if m.Offset, ok = s.offset(); !ok {
				return false
			}
			s.ws()
			if !s.eat(',') {
				return false
			}
			s.ws()
			if m.Value, ok = s.scalar(); !ok {
				return false
			}
			s.ws()
			if !s.eat(']') {
				return false
			}
		} else if m.Value, ok = s.scalar(); !ok {
			return false
		}
		s.ws()
		return s.eat(']')
	case "poll":
		*m = Mop{Kind: MopPoll}
		if s.eat(']') {
			return true
		}
		if !s.eat(',') {
			return false
		}
		s.ws()
		if !s.readsObject(m) {
			return false
		}
		s.ws()
		return s.eat(']')
	}
	return false
}

func (s *scanner) readsObject(m *Mop) bool {
	m.Polled = true
	s.reads = s.reads[:0]
	if !s.seq('{', '}', func() bool {
		kb, ok := s.plainString()
		if !ok {
			return false
		}
		key := s.in.get(kb)
		for _, kr := range s.reads {
			if kr.Key == key {
				return false // duplicate key: parseSlow reports it
			}
		}
		s.ws()
		if !s.eat(':') {
			return false
		}
		s.ws()
		recs, ok := s.records()
		if ok {
			s.reads = append(s.reads, KeyReads{Key: key, Records: recs})
		}
		return ok
	}) {
		return false
	}
	m.Reads = carve(s.sl.readSlab(), s.reads)
	return true
}

func (s *scanner) records() ([]Record, bool) {
	s.recs = s.recs[:0]
	if !s.seq('[', ']', s.record) {
		return nil, false
	}
	return carve(s.sl.recSlab(), s.recs), true
}

// record scans one [offset, value] pair into s.recs.
func (s *scanner) record() bool {
	if !s.eat('[') {
		return false
	}
	s.ws()
	var r Record
	var ok bool
	if r.Offset, ok = s.offset(); !ok {
		return false
	}
	s.ws()
	if !s.eat(',') {
		return false
	}
	s.ws()
	if r.Value, ok = s.scalar(); !ok {
		return false
	}
	s.ws()
	if !s.eat(']') {
		return false
	}
	s.recs = append(s.recs, r)
	return true
}
