package txn

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/kchaos/kchaos/history"
)

// describe names transaction ti for an explanation: "the ok txn of process 3 (index 12)".
func (m *model) describe(ti int32) string {
	t := &m.txns[ti]
	op := &m.ops[t.pos]
	outcome := op.Type.String()
	if op.Type == history.Invoke {
		outcome = "never completed"
	}
	return fmt.Sprintf("the %s %s of process %s (index %d)", outcome, op.F, op.Process, op.Index)
}

// offsetText formats an offset for an explanation.
func offsetText(o int64) string {
	if o == history.NoOffset {
		return "an unknown offset"
	}
	return fmt.Sprintf("offset %d", o)
}

// abortedReads finds polls that read a value whose transaction failed.
func (m *model) abortedReads(r *Result) {
	for ti := range m.txns {
		var seen map[int32]bool
		m.each(&m.txns[ti], nil, func(key string, rec history.Record, v int32) {
			w := m.vals[v].writer
			if w < 0 || w == int32(ti) || m.txns[w].typ != history.Fail || seen[v] {
				return // a failed transaction reading its own send is a precommitted-read
			}
			if seen == nil {
				seen = map[int32]bool{}
			}
			seen[v] = true
			c := AbortedReadCase{Key: key, Value: rec.Value, Offset: rec.Offset, Writer: m.ref(w), Reader: m.ref(int32(ti))}
			c.Explanation = fmt.Sprintf("%s sent %s=%s and failed (aborted), yet %s read it at %s",
				m.describe(w), key, rec.Value, m.describe(int32(ti)), offsetText(rec.Offset))
			r.AbortedReads = append(r.AbortedReads, c)
		})
	}
}

// precommittedReads finds transactions that read a value they sent themselves (Jepsen's
// precommitted-read-cases).
func (m *model) precommittedReads(r *Result) {
	for ti := range m.txns {
		t := &m.txns[ti]
		var sent []int32
		m.each(t, func(_ int, _ *history.Mop, v int32) { sent = append(sent, v) }, nil)
		if len(sent) == 0 {
			continue
		}
		var c *PrecommittedReadCase
		m.each(t, nil, func(key string, rec history.Record, v int32) {
			if !slices.Contains(sent, v) {
				return
			}
			if c == nil {
				c = &PrecommittedReadCase{Op: m.ref(int32(ti)), Key: key, Value: rec.Value, Offset: rec.Offset}
			}
			c.Count++
		})
		if c != nil {
			c.Explanation = fmt.Sprintf("%s sent %s=%s and read it back at %s before it committed", m.describe(int32(ti)), c.Key, c.Value, offsetText(c.Offset))
			if c.Count > 1 {
				c.Explanation += fmt.Sprintf(" (and %d more of its own sends)", c.Count-1)
			}
			r.PrecommittedReads = append(r.PrecommittedReads, *c)
		}
	}
}

// duplicates finds values at more than one offset of a key.
func (m *model) duplicates(r *Result) {
	for _, k := range m.sortedKeys() {
		for _, e := range m.logs[k] {
			pos := m.morePos[e.val]
			if len(pos) == 0 || m.logs[k][pos[0]] != e {
				continue // not a duplicate, or not its first entry
			}
			vi := &m.vals[e.val]
			c := DuplicateCase{Key: m.keys[k], Value: vi.value}
			for _, p := range pos {
				if o := m.logs[k][p].offset; len(c.Offsets) == 0 || c.Offsets[len(c.Offsets)-1] != o {
					c.Offsets = append(c.Offsets, o)
				}
			}
			if len(c.Offsets) < 2 {
				continue
			}
			who := "a value no operation sent"
			if vi.writer >= 0 {
				ref := m.ref(vi.writer)
				c.Writer = &ref
				who = "the value sent by " + m.describe(vi.writer)
			}
			c.Explanation = fmt.Sprintf("%s=%s, %s, is at %d offsets: %v", c.Key, c.Value, who, len(c.Offsets), c.Offsets)
			r.Duplicates = append(r.Duplicates, c)
		}
	}
}

// tornTransactions finds committed transactions with a send another transaction read and a send
// nobody read, though its key was read past where it belongs (or the key's final reads read it all).
func (m *model) tornTransactions(r *Result) {
	for ti := range m.txns {
		t := &m.txns[ti]
		if !t.committed {
			continue
		}
		var c TornTransactionCase
		m.each(t, func(mi int, mop *history.Mop, v int32) {
			vi := &m.vals[v]
			if vi.writer != int32(ti) || vi.writerMop != int32(mi) {
				return // sent twice: the first send speaks for it
			}
			offset := mop.Offset
			if offset == history.NoOffset && vi.pos >= 0 {
				offset = m.logs[vi.key][vi.pos].offset
			}
			if vi.otherReader >= 0 {
				c.Seen = append(c.Seen, SeenSend{Key: mop.Key, Value: mop.Value, Offset: offset, Reader: m.ref(vi.otherReader)})
				return
			}
			if vi.reads > 0 {
				return // read, if only by its own transaction
			}
			miss := MissedSend{Key: mop.Key, Value: mop.Value, Offset: offset}
			switch {
			case offset != history.NoOffset && m.maxRead[vi.key] > offset:
				miss.ReadPastOffset = m.maxRead[vi.key]
				if rd := m.readerAt(vi.key, miss.ReadPastOffset); rd >= 0 {
					ref := m.ref(rd)
					miss.ReadPast = &ref
				}
			case m.finalReads[vi.key]:
				miss.FinalRead = true
			default:
				return
			}
			c.Missing = append(c.Missing, miss)
		}, nil)
		if len(c.Seen) == 0 || len(c.Missing) == 0 {
			continue
		}
		c.Txn = m.ref(int32(ti))
		s, x := c.Seen[0], c.Missing[0]
		why := "the final reads of " + x.Key + " read its whole log"
		if !x.FinalRead {
			why = fmt.Sprintf("%s was read up to offset %d", x.Key, x.ReadPastOffset)
		}
		c.Explanation = fmt.Sprintf("%s committed; its send %s=%s at %s was read, but no poll read its send %s=%s at %s, though %s",
			m.describe(int32(ti)), s.Key, s.Value, offsetText(s.Offset), x.Key, x.Value, offsetText(x.Offset), why)
		r.TornTransactions = append(r.TornTransactions, c)
	}
}

// readerAt returns the first transaction that read key k at offset, or -1.
func (m *model) readerAt(k int32, offset int64) int32 {
	log := m.logs[k]
	i, _ := slices.BinarySearchFunc(log, offset, func(e entry, o int64) int { return cmp.Compare(e.offset, o) })
	for ; i < len(log) && log[i].offset == offset; i++ {
		if rd := m.vals[log[i].val].reader; rd >= 0 {
			return rd
		}
	}
	return -1
}

// intermediateReads finds G1b: a committed transaction's last read of a key is a value another
// committed transaction sent to that key before sending it another value, which the reader did
// not read.
func (m *model) intermediateReads(r *Result) {
	last := map[int32]int32{} // key → the value read at the highest entry
	var order []int32         // keys in the order first read
	var read []int32          // values read
	for _, ti := range m.vertices {
		t := &m.txns[ti]
		clear(last)
		order, read = order[:0], read[:0]
		m.each(t, nil, func(_ string, _ history.Record, v int32) {
			read = append(read, v)
			k := m.vals[v].key
			prev, ok := last[k]
			if !ok {
				order = append(order, k)
			}
			if !ok || m.vals[v].pos > m.vals[prev].pos {
				last[k] = v
			}
		})
		for _, k := range order {
			v := last[k]
			vi := &m.vals[v]
			w := vi.writer
			if w < 0 || w == ti || !m.txns[w].committed {
				continue
			}
			wt := &m.txns[w]
			var later *history.Mop
			m.each(wt, func(mi int, mop *history.Mop, lv int32) {
				if later == nil && mi > int(vi.writerMop) && m.vals[lv].key == k && !slices.Contains(read, lv) {
					later = mop
				}
			}, nil)
			if later == nil {
				continue
			}
			offset := history.NoOffset
			if vi.pos >= 0 {
				offset = m.logs[k][vi.pos].offset
			}
			c := G1bCase{Key: m.keys[k], Value: vi.value, Offset: offset, Later: later.Value, Writer: m.ref(w), Reader: m.ref(ti)}
			c.Explanation = fmt.Sprintf("%s last read %s=%s at %s, an intermediate value: %s sent it and then %s=%s, which the reader did not read",
				m.describe(ti), c.Key, c.Value, offsetText(offset), m.describe(w), c.Key, c.Later)
			r.IntermediateReads = append(r.IntermediateReads, c)
		}
	}
}
