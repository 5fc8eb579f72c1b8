package checkers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/kchaos/kchaos/checkers/txn"
)

// OtherAnomaly is an entry of an anomaly type this version of kchaos does not know (a newer
// kchaos's, or one written by hand), as ReadResult reads it: its JSON text, kept as it was so
// that it is written back unchanged, and the two fields every entry is expected to have.
type OtherAnomaly struct {
	Key         string `json:"key"`
	Explanation string `json:"explanation"`
	// JSON is the entry as results.json holds it.
	JSON json.RawMessage `json:"-"`
}

// MarshalJSON writes the entry as it was read.
func (a *OtherAnomaly) MarshalJSON() ([]byte, error) { return a.JSON, nil }

// OtherChecker is the result of a checker this version of kchaos does not know, as ReadResult
// reads it: its verdict, whether it had anything to check, and its JSON text, written back
// unchanged.
type OtherChecker struct {
	Valid Validity `json:"valid"`
	// Checked is false when the checker says it had nothing to check ("checked": false); a
	// checker that does not say is taken to have checked.
	Checked bool `json:"-"`
	// JSON is the checker's result as results.json holds it.
	JSON json.RawMessage `json:"-"`
}

// MarshalJSON writes the checker's result as it was read.
func (c *OtherChecker) MarshalJSON() ([]byte, error) { return c.JSON, nil }

// ReadResult reads results.json, as Result.JSON writes it, back into a Result: the verdict, the
// anomaly types, each anomaly entry as its typed case (*LostWriteCase, *UnseenCase,
// *DuplicateCase, *InconsistentOffsetCase, *G1aCase, *OrderCase for the order anomalies,
// *NotLinearizableCase, *UncleanElectionCase, the transactional checker's cases for its types
// (txn.NewEntry); *OtherAnomaly for a type it does not know), and each checker's typed result
// (Queue, Linearizable, LeaderElection, Stats, Coverage and Txn, with their case lists filled from
// the anomalies; *OtherChecker for a checker it does not know, and for a txn checker that failed).
// Writing the Result with JSON gives back the bytes Check's Result wrote.
//
// A missing "anomaly_types", "anomalies" or "checkers" is read as empty; a missing "valid", a
// value of the wrong type or malformed JSON is an error naming the line. Fields it does not know
// are ignored, so that an older kchaos reads a newer one's results.
func ReadResult(data []byte) (*Result, error) {
	// Unmarshal checks the whole text first, syntax and nesting depth, and says where it breaks.
	var probe json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, resultErr(data, syntaxOffset(err), "results", err)
	}
	r := &Result{AnomalyTypes: []string{}, Anomalies: map[string][]any{}, Checkers: map[string]any{}}
	seenValid := false
	dec := json.NewDecoder(bytes.NewReader(data))
	err := eachField(dec, data, "results", func(name string, off int64, raw json.RawMessage) error {
		switch name {
		case "valid":
			seenValid = true
			return decodeAt(data, off, raw, `"valid"`, &r.Valid)
		case "anomaly_types":
			return decodeAt(data, off, raw, `"anomaly_types"`, &r.AnomalyTypes)
		case "anomalies":
			return eachField(json.NewDecoder(bytes.NewReader(raw)), data, `"anomalies"`, func(typ string, eoff int64, list json.RawMessage) error {
				var entries []json.RawMessage
				if err := decodeAt(data, eoff, list, "anomalies "+typ, &entries); err != nil {
					return err
				}
				out := make([]any, 0, len(entries))
				for _, e := range entries {
					c := newAnomaly(typ, e)
					// The offset of the entry is not kept by encoding/json: name the type's line.
					if err := decodeAt(data, eoff, e, "an anomaly of "+typ, c); err != nil {
						return err
					}
					if err := writable(c, "an anomaly of "+typ); err != nil {
						return err
					}
					out = append(out, c)
				}
				r.Anomalies[typ] = out
				return nil
			}, off)
		case "checkers":
			return eachField(json.NewDecoder(bytes.NewReader(raw)), data, `"checkers"`, func(cn string, coff int64, c json.RawMessage) error {
				v, err := r.decodeChecker(data, coff, cn, c)
				if err != nil {
					return err
				}
				if err := writable(v, "checker "+cn); err != nil {
					return err
				}
				r.Checkers[cn] = v
				return nil
			}, off)
		}
		return nil
	}, 0)
	if err != nil {
		return nil, err
	}
	if !seenValid {
		return nil, errors.New(`results: "valid" is missing`)
	}
	r.fillCases()
	return r, nil
}

// writable checks that v, decoded from results.json, can be written back: a field that decodes
// to a value with no text of its own (an operation reference without its type, whose zero is no
// line type) would make the report and kchaos check fail to write the results again.
func writable(v any, what string) error {
	if _, err := json.Marshal(v); err != nil {
		return fmt.Errorf("results: %s cannot be written back as read (a field missing?): %w", what, err)
	}
	return nil
}

// newAnomaly returns the typed case an entry of anomaly type typ decodes into.
func newAnomaly(typ string, raw json.RawMessage) any {
	switch typ {
	case LostWrite:
		return &LostWriteCase{}
	case Unseen:
		return &UnseenCase{}
	case Duplicate:
		return &DuplicateCase{}
	case InconsistentOffsets:
		return &InconsistentOffsetCase{}
	case G1a:
		return &G1aCase{}
	case PollSkip, NonmonotonicPoll, NonmonotonicSend, IntPollSkip, IntNonmonotonicPoll, IntSendSkip, IntNonmonotonicSend:
		return &OrderCase{}
	case NotLinearizable:
		return &NotLinearizableCase{}
	case UncleanLeaderElection:
		return &UncleanElectionCase{}
	}
	if e := txn.NewEntry(typ); e != nil {
		return e // the transactional checker's types but duplicate, the queue checker's
	}
	return &OtherAnomaly{JSON: append(json.RawMessage(nil), raw...)}
}

// decodeChecker decodes the result of checker cn and keeps the typed ones in r.
func (r *Result) decodeChecker(data []byte, off int64, cn string, raw json.RawMessage) (any, error) {
	what := "checker " + cn
	switch cn {
	case CheckerQueue:
		r.Queue = &QueueResult{}
		return r.Queue, decodeAt(data, off, raw, what, r.Queue)
	case CheckerLinearizable:
		r.Linearizable = &LinearizableResult{}
		return r.Linearizable, decodeAt(data, off, raw, what, r.Linearizable)
	case CheckerLeaderElection:
		r.LeaderElection = &LeaderElectionResult{}
		return r.LeaderElection, decodeAt(data, off, raw, what, r.LeaderElection)
	case CheckerStats:
		r.Stats = &Stats{}
		return r.Stats, decodeAt(data, off, raw, what, r.Stats)
	case CheckerCoverage:
		r.Coverage = &CoverageResult{}
		return r.Coverage, decodeAt(data, off, raw, what, r.Coverage)
	case CheckerTxn:
		// A txn.Result has stats; what Check writes when the checker failed ("valid" and
		// "error") is kept as an OtherChecker.
		var head struct {
			Stats json.RawMessage `json:"stats"`
		}
		if err := decodeAt(data, off, raw, what, &head); err != nil {
			return nil, err
		}
		if head.Stats != nil {
			r.Txn = &txn.Result{}
			return r.Txn, decodeAt(data, off, raw, what, r.Txn)
		}
	}
	c := &OtherChecker{Checked: true, JSON: append(json.RawMessage(nil), raw...)}
	var head struct {
		Valid   *Validity `json:"valid"`
		Checked *bool     `json:"checked"`
	}
	if err := decodeAt(data, off, raw, what, &head); err != nil {
		return nil, err
	}
	if head.Valid == nil {
		return nil, resultErr(data, off, what, errors.New(`"valid" is missing`))
	}
	c.Valid = *head.Valid
	if head.Checked != nil {
		c.Checked = *head.Checked
	}
	return c, nil
}

// fillCases fills the checkers' case lists from the anomalies, as Check has them.
func (r *Result) fillCases() {
	if q := r.Queue; q != nil {
		lists := map[string]*[]OrderCase{
			PollSkip: &q.PollSkips, NonmonotonicPoll: &q.NonmonotonicPolls, NonmonotonicSend: &q.NonmonotonicSends,
			IntPollSkip: &q.IntPollSkips, IntNonmonotonicPoll: &q.IntNonmonotonicPoll,
			IntSendSkip: &q.IntSendSkips, IntNonmonotonicSend: &q.IntNonmonotonicSend,
		}
		for typ, entries := range r.Anomalies {
			for _, e := range entries {
				switch c := e.(type) {
				case *LostWriteCase:
					q.LostWrites = append(q.LostWrites, *c)
				case *UnseenCase:
					q.Unseen = append(q.Unseen, *c)
				case *DuplicateCase:
					q.Duplicates = append(q.Duplicates, *c)
				case *InconsistentOffsetCase:
					q.InconsistentOffsets = append(q.InconsistentOffsets, *c)
				case *G1aCase:
					q.G1a = append(q.G1a, *c)
				case *OrderCase:
					*lists[typ] = append(*lists[typ], *c)
				}
			}
		}
	}
	if l := r.Linearizable; l != nil {
		for _, e := range r.Anomalies[NotLinearizable] {
			l.Cases = append(l.Cases, *e.(*NotLinearizableCase))
		}
	}
	if le := r.LeaderElection; le != nil {
		for _, e := range r.Anomalies[UncleanLeaderElection] {
			le.Cases = append(le.Cases, *e.(*UncleanElectionCase))
		}
	}
}

// eachField calls fn with each field of the JSON object dec reads, its value's offset in data
// (base plus its offset in what dec reads) and its text. A value that is not an object is an
// error; null is an empty object.
func eachField(dec *json.Decoder, data []byte, what string, fn func(name string, off int64, raw json.RawMessage) error, base int64) error {
	tok, err := dec.Token()
	if err != nil {
		return resultErr(data, base, what, err)
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return resultErr(data, base, what, fmt.Errorf("want an object, not %v", tok))
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return resultErr(data, base+dec.InputOffset(), what, err)
		}
		name, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return resultErr(data, base+dec.InputOffset(), what, err)
		}
		// The value ends where the decoder stands: it starts len(raw) before.
		off := base + dec.InputOffset() - int64(len(raw))
		if err := fn(name, off, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		return resultErr(data, base+dec.InputOffset(), what, err)
	}
	return nil
}

// decodeAt decodes raw, found at offset off of data, into v; an error names the line.
func decodeAt(data []byte, off int64, raw json.RawMessage, what string, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			off += te.Offset
		}
		return resultErr(data, off, what, err)
	}
	return nil
}

// syntaxOffset returns where a syntax error is, or 0.
func syntaxOffset(err error) int64 {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Offset
	}
	return 0
}

// resultErr says what of results.json could not be read, and on which line.
func resultErr(data []byte, off int64, what string, err error) error {
	return fmt.Errorf("line %d: %s: %w", lineAt(data, off), what, err)
}

// lineAt returns the number, from 1, of the line holding byte offset off of data.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// AnomalyEntry is what every anomaly entry says, whatever its type: the union of the fields a
// report needs to place it in the history and explain it. DescribeAnomaly reads it from a typed
// case.
type AnomalyEntry struct {
	Key         string
	Explanation string
	// Ops are the operations the entry names with their details (writers, readers, the
	// operations of an order anomaly or of a stretch that is not linearizable).
	Ops []OpRef
	// Lines are history lines the entry names by index alone: an unseen value's writer, the
	// operations that saw a value at an offset.
	Lines []int64
	// States are the observer states the entry names: the leadership around a write, the two
	// states of an unclean election.
	States []StateRef
	// From and To bound the stretch of history the entry covers, in nanoseconds since the start;
	// both are -1 when it covers none (only not-linearizable does).
	From, To int64
}

// DescribeAnomaly returns what an anomaly entry of Result.Anomalies says: the typed cases Check
// and ReadResult put there, and *OtherAnomaly. Anything else gives an empty entry.
func DescribeAnomaly(entry any) AnomalyEntry {
	e := AnomalyEntry{From: -1, To: -1}
	leader := func(l *LeaderContext) {
		if l == nil {
			return
		}
		if l.AtAck != nil {
			e.States = append(e.States, *l.AtAck)
		}
		if n := l.NextElection; n != nil {
			e.States = append(e.States, n.Previous, n.State)
		}
	}
	opt := func(r *OpRef) {
		if r != nil {
			e.Ops = append(e.Ops, *r)
		}
	}
	switch c := entry.(type) {
	case *LostWriteCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		e.Ops = append(e.Ops, c.Writer)
		opt(c.MaxRead)
		leader(c.Leader)
	case *UnseenCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		for _, v := range c.Values {
			e.Lines = append(e.Lines, v.Writer)
		}
	case *DuplicateCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		opt(c.Writer)
		for _, r := range c.Reads {
			e.Lines = append(e.Lines, r.Ops...)
		}
		leader(c.Leader)
	case *InconsistentOffsetCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		for i := range c.Values {
			v := &c.Values[i]
			opt(v.Writer)
			e.Lines = append(e.Lines, v.SeenBy.Ops...)
			leader(v.Leader)
		}
	case *G1aCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		e.Ops = append(e.Ops, c.Writer, c.Reader)
	case *OrderCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		e.Ops = append(e.Ops, c.Ops...)
	case *NotLinearizableCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		e.Ops = append(e.Ops, c.Ops...)
		e.From, e.To = c.From, c.To
	case *UncleanElectionCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		e.States = append(e.States, c.Previous, c.State)
	case *OtherAnomaly:
		e.Key, e.Explanation = c.Key, c.Explanation
	case *txn.AbortedReadCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		e.Ops = append(e.Ops, OpRef(c.Writer), OpRef(c.Reader))
	case *txn.PrecommittedReadCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		e.Ops = append(e.Ops, OpRef(c.Op))
	case *txn.DuplicateCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		if c.Writer != nil {
			e.Ops = append(e.Ops, OpRef(*c.Writer))
		}
	case *txn.TornTransactionCase:
		// Its key is where a send is missing; it spans the keys of its sends.
		e.Explanation = c.Explanation
		if len(c.Missing) > 0 {
			e.Key = c.Missing[0].Key
		}
		e.Ops = append(e.Ops, OpRef(c.Txn))
		for _, s := range c.Seen {
			e.Ops = append(e.Ops, OpRef(s.Reader))
		}
		for _, m := range c.Missing {
			if m.ReadPast != nil {
				e.Ops = append(e.Ops, OpRef(*m.ReadPast))
			}
		}
	case *txn.G1bCase:
		e.Key, e.Explanation = c.Key, c.Explanation
		e.Ops = append(e.Ops, OpRef(c.Writer), OpRef(c.Reader))
	case *txn.CycleCase:
		e.Explanation = c.Explanation
		for _, r := range c.Txns {
			e.Ops = append(e.Ops, OpRef(r))
		}
	}
	return e
}
