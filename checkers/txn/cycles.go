package txn

import (
	"context"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/kchaos/kchaos/history"
)

// A search state tracks what a path has gone through: rw edges (0, 1, 2 or more), and whether
// it took a wr, a process and a realtime edge.
type state uint8

const (
	stRW   state = 3 // mask of the rw count
	stWR   state = 4
	stProc state = 8
	stRT   state = 16
	nState       = 32
)

func (s state) rws() int { return int(s & stRW) }

// step returns the state after taking an edge explained as kind k (a single kind).
func (s state) step(k kind) state {
	switch k {
	case wr:
		return s | stWR
	case rw:
		if s.rws() < 2 {
			return s + 1
		}
	case proc:
		return s | stProc
	case rt:
		return s | stRT
	}
	return s
}

// spec is a kind of cycle to look for: the edges it may take, and what it must have taken.
type spec struct {
	typ     string
	allowed kind
	maxRW   int
	done    func(state) bool
	wwFree  bool
}

// variant is one of the cycle types' variants: none, -process, -realtime.
type variant struct {
	suffix string
	adds   kind
	done   func(state) bool
}

var variants = []variant{
	{"", 0, func(s state) bool { return s&(stProc|stRT) == 0 }},
	{process, proc, func(s state) bool { return s&stProc != 0 && s&stRT == 0 }},
	{realtime, proc | rt, func(s state) bool { return s&stRT != 0 }},
}

// specs returns the cycle searches, in the order they run: first G1c without ww edges (what
// read_committed forbids), then Elle's G0, G1c, G-single and G2, each with its variants.
func specs() []spec {
	var out []spec
	for _, v := range variants {
		out = append(out, spec{typ: G1c + v.suffix, allowed: wr | v.adds, done: v.done, wwFree: true})
	}
	bases := []struct {
		typ     string
		allowed kind
		maxRW   int
		done    func(state) bool
	}{
		{G0, ww, 0, func(s state) bool { return s&stWR == 0 && s.rws() == 0 }},
		{G1c, ww | wr, 0, func(s state) bool { return s&stWR != 0 && s.rws() == 0 }},
		{GSingle, ww | wr | rw, 1, func(s state) bool { return s.rws() == 1 }},
		{G2, ww | wr | rw, 2, func(s state) bool { return s.rws() == 2 }},
	}
	for _, b := range bases {
		for _, v := range variants {
			done, vdone := b.done, v.done
			out = append(out, spec{typ: b.typ + v.suffix, allowed: b.allowed | v.adds, maxRW: b.maxRW,
				done: func(s state) bool { return done(s) && vdone(s) }})
		}
	}
	return out
}

const (
	// maxStarts bounds the vertices a search in one component starts from.
	maxStarts = 8
	// searchBudget bounds the edges a search in one component follows, over all its starts.
	searchBudget = 1 << 22
)

// cycle is a closed walk: vertices[i] → vertices[i+1] (and the last → the first), the edge
// explained as kinds[i].
type cycle struct {
	typ      string
	vertices []int32
	kinds    []kind
	wwFree   bool
}

// searcher looks for cycles in one component at a time, reusing its buffers.
type searcher struct {
	ctx      context.Context
	g        *graph
	local    []int32 // vertex → its index in the component, -1 outside it
	seen     []uint32
	stamp    uint32
	parent   []int32 // state index → previous state index
	via      []kind
	queue    []int32
	startIdx int32
	counter  int
}

func newSearcher(ctx context.Context, g *graph) *searcher {
	s := &searcher{ctx: ctx, g: g, local: make([]int32, g.n)}
	for i := range s.local {
		s.local[i] = -1
	}
	return s
}

// findCycles runs every spec over the components of its subgraph and returns the cycles found,
// at most one per spec and component. It stops early when ctx is done, with what it found and
// ctx's error.
func (m *model) findCycles(ctx context.Context, g *graph) ([]cycle, error) {
	s := newSearcher(ctx, g)
	var found []cycle
	byType := map[string][]int32{} // type → a vertex of each cycle found
	type components struct {
		comp  []int32
		multi [][]int32
	}
	cache := map[kind]components{} // G-single and G2 share their subgraphs
	for _, sp := range specs() {
		c, ok := cache[sp.allowed]
		if !ok {
			var err error
			if c.comp, c.multi, err = g.components(ctx, sp.allowed); err != nil {
				return found, err
			}
			cache[sp.allowed] = c
		}
		comp, multi := c.comp, c.multi
		taken := map[int32]bool{} // components with a cycle of this type already, or a worse one
		for _, typ := range impliedBy(sp.typ) {
			for _, v := range byType[typ] {
				taken[comp[v]] = true
			}
		}
		for _, members := range multi {
			if taken[comp[members[0]]] {
				continue
			}
			c, err := s.search(members, sp)
			if err != nil {
				return found, err
			}
			if c != nil {
				found = append(found, *c)
				byType[c.typ] = append(byType[c.typ], c.vertices[0])
			}
		}
		if sp.wwFree && sp.allowed&rt != 0 {
			// Every component of wr, process and realtime edges holds a cycle read_committed
			// forbids; make sure each is reported even when the searches above missed it.
			covered := map[int32]bool{}
			for _, c := range found {
				if c.wwFree {
					covered[comp[c.vertices[0]]] = true
				}
			}
			for _, members := range multi {
				if covered[comp[members[0]]] {
					continue
				}
				c, err := s.bfs(members, members[0], spec{allowed: sp.allowed, done: func(state) bool { return true }}, -1)
				if err != nil {
					return found, err
				}
				if c != nil {
					c.wwFree = true
					c.typ = classify(c.kinds)
					found = append(found, *c)
					byType[c.typ] = append(byType[c.typ], c.vertices[0])
				}
			}
		}
	}
	return found, nil
}

// impliedBy returns the cycle types whose presence in a component makes a search for typ there
// redundant, as Elle's implied anomalies do: typ itself, its lesser variants (a G1c cycle is a
// G1c-process cycle too), and for G1c, G0 (Adya's G1c includes it).
func impliedBy(typ string) []string {
	base := cycleBase(typ)
	out := []string{}
	for _, v := range variants {
		out = append(out, base+v.suffix)
		if base == G1c {
			out = append(out, G0+v.suffix)
		}
		if base+v.suffix == typ {
			break
		}
	}
	return out
}

// search looks for a cycle of spec sp in the component members, from at most maxStarts vertices
// and within searchBudget edges.
func (s *searcher) search(members []int32, sp spec) (*cycle, error) {
	need := sp.allowed
	switch {
	case sp.allowed&rt != 0:
		need = rt
	case sp.allowed&proc != 0:
		need = proc
	case sp.allowed&rw != 0:
		need = rw
	case sp.allowed&wr != 0:
		need = wr
	}
	s.enter(members)
	defer s.leave(members)
	budget := searchBudget
	starts := 0
	for _, v := range members {
		if starts == maxStarts || budget <= 0 {
			break
		}
		if !s.hasOut(v, need) {
			continue
		}
		starts++
		c, err := s.walk(members, v, sp, &budget)
		if c != nil {
			c.typ, c.wwFree = sp.typ, sp.wwFree
		}
		if err != nil || c != nil {
			return c, err
		}
	}
	return nil, nil
}

// bfs looks for a cycle of spec sp through start in the component members; budget < 0 is none.
func (s *searcher) bfs(members []int32, start int32, sp spec, budget int) (*cycle, error) {
	s.enter(members)
	defer s.leave(members)
	if budget < 0 {
		budget = int(^uint(0) >> 1)
	}
	return s.walk(members, start, sp, &budget)
}

func (s *searcher) enter(members []int32) {
	for i, v := range members {
		s.local[v] = int32(i)
	}
	if n := len(members) * nState; cap(s.seen) < n {
		s.seen = make([]uint32, n)
		s.parent = make([]int32, n)
		s.via = make([]kind, n)
		s.stamp = 0
	} else {
		s.seen = s.seen[:n]
		s.parent = s.parent[:n]
		s.via = s.via[:n]
	}
}

func (s *searcher) leave(members []int32) {
	for _, v := range members {
		s.local[v] = -1
	}
}

// hasOut reports whether v has an edge of a kind in k inside the component.
func (s *searcher) hasOut(v int32, k kind) bool {
	dst, kinds := s.g.out(v)
	for i, w := range dst {
		if kinds[i]&k != 0 && s.local[w] >= 0 {
			return true
		}
	}
	return false
}

// walk is a breadth-first search over (vertex, state) from (start, 0) for the shortest closed
// walk back to start whose state sp accepts and which visits no vertex twice.
func (s *searcher) walk(members []int32, start int32, sp spec, budget *int) (*cycle, error) {
	s.stamp++
	if s.stamp == 0 { // wrapped: clear
		clear(s.seen)
		s.stamp = 1
	}
	s.startIdx = s.local[start] * nState
	s.seen[s.startIdx] = s.stamp
	s.queue = append(s.queue[:0], s.startIdx)
	for head := 0; head < len(s.queue); head++ {
		cur := s.queue[head]
		v, st := members[cur/nState], state(cur%nState)
		dst, kinds := s.g.out(v)
		for i, w := range dst {
			lw := s.local[w]
			k := kinds[i] & sp.allowed
			if lw < 0 || k == 0 {
				continue
			}
			if *budget--; *budget < 0 {
				return nil, nil
			}
			if s.counter++; s.counter&4095 == 0 {
				if err := s.ctx.Err(); err != nil {
					return nil, err
				}
			}
			for k != 0 {
				b := kind(1) << bits.TrailingZeros8(uint8(k))
				k &^= b
				st2 := st.step(b)
				if st2.rws() > sp.maxRW {
					continue
				}
				if w == start {
					if sp.done(st2) {
						if c := s.trace(members, cur, b); c != nil {
							return c, nil
						}
					}
					continue
				}
				idx := lw*nState + int32(st2)
				if s.seen[idx] == s.stamp {
					continue
				}
				s.seen[idx] = s.stamp
				s.parent[idx] = cur
				s.via[idx] = b
				s.queue = append(s.queue, idx)
			}
		}
	}
	return nil, nil
}

// trace rebuilds the closed walk from the start through state index last and back by an edge
// of kind closing, or returns nil if it visits a vertex twice.
func (s *searcher) trace(members []int32, last int32, closing kind) *cycle {
	c := &cycle{}
	for idx := last; ; idx = s.parent[idx] {
		c.vertices = append(c.vertices, members[idx/nState])
		if idx == s.startIdx {
			break
		}
		c.kinds = append(c.kinds, s.via[idx]) // the edge into this vertex
	}
	slices.Reverse(c.vertices)
	slices.Reverse(c.kinds)
	c.kinds = append(c.kinds, closing)
	seen := make(map[int32]bool, len(c.vertices))
	for _, v := range c.vertices {
		if seen[v] {
			return nil
		}
		seen[v] = true
	}
	return c
}

// classify names a cycle by the kinds of its edges, as Elle does.
func classify(kinds []kind) string {
	var n [5]int
	for _, k := range kinds {
		n[bits.TrailingZeros8(uint8(k))]++
	}
	nwr, nrw, np, nrt := n[1], n[2], n[3], n[4]
	typ := G0
	switch {
	case nrw == 1:
		typ = GSingle
	case nrw > 1:
		typ = G2
	case nwr > 0:
		typ = G1c
	}
	switch {
	case nrt > 0:
		typ += realtime
	case np > 0:
		typ += process
	}
	return typ
}

// explain turns a cycle into a CycleCase, rotated to start at its least vertex.
func (m *model) explain(c cycle) CycleCase {
	at := 0
	for i, v := range c.vertices {
		if v < c.vertices[at] {
			at = i
		}
	}
	vs := append(slices.Clone(c.vertices[at:]), c.vertices[:at]...)
	ks := append(slices.Clone(c.kinds[at:]), c.kinds[:at]...)
	cc := CycleCase{Type: c.typ}
	names := make([]string, len(vs))
	for i, v := range vs {
		cc.Txns = append(cc.Txns, m.ref(m.vertices[v]))
		names[i] = fmt.Sprintf("T%d", i+1)
	}
	var b strings.Builder
	b.WriteString("Let:\n")
	for i, v := range vs {
		fmt.Fprintf(&b, "  %s = %s\n", names[i], m.describe(m.vertices[v]))
	}
	b.WriteString("Then:\n")
	for i := range vs {
		j := (i + 1) % len(vs)
		st := m.explainStep(vs[i], vs[j], ks[i], names[i], names[j])
		st.From, st.To = i, j
		if ks[i] == ww {
			cc.WWEdges++
		}
		cc.Steps = append(cc.Steps, st)
		if j == 0 {
			fmt.Fprintf(&b, "  - However, %s < %s, because %s: a contradiction!", names[i], names[j], st.Explanation)
		} else {
			fmt.Fprintf(&b, "  - %s < %s, because %s.\n", names[i], names[j], st.Explanation)
		}
	}
	cc.Explanation = b.String()
	return cc
}

// who names transaction ti briefly: "T1 (index 12, process 3)".
func (m *model) who(name string, ti int32) string {
	op := &m.ops[m.txns[ti].pos]
	return fmt.Sprintf("%s (index %d, process %s)", name, op.Index, op.Process)
}

// explainStep says why vertex a precedes vertex b by an edge of kind k.
func (m *model) explainStep(a, b int32, k kind, an, bn string) Step {
	ta, tb := m.vertices[a], m.vertices[b]
	st := Step{Type: kindNames[k]}
	val := func(v history.Value) *history.Value { return &v }
	off := func(o int64) *int64 { return &o }
	switch k {
	case ww:
		for _, v2 := range m.sent(tb) {
			k := m.vals[v2].key
			for _, p := range m.positions(v2) {
				q := m.prevWritten(k, p)
				if q < 0 || m.writerVertex(m.logs[k][q].val) != a {
					continue
				}
				prev, cur := m.logs[k][q], m.logs[k][p]
				st.Key, st.Value, st.Offset = m.keys[k], val(m.vals[prev.val].value), off(prev.offset)
				st.NextValue, st.NextOffset = val(m.vals[v2].value), off(cur.offset)
				st.Explanation = fmt.Sprintf("%s sent %s=%s at offset %d, and %s sent %s=%s at the next offset, %d (ww)",
					m.who(an, ta), st.Key, *st.Value, prev.offset, m.who(bn, tb), st.Key, *st.NextValue, cur.offset)
				if q != p-1 {
					st.Explanation = fmt.Sprintf("%s sent %s=%s at offset %d, and %s sent %s=%s at offset %d, the next one a committed transaction sent to %s (ww)",
						m.who(an, ta), st.Key, *st.Value, prev.offset, m.who(bn, tb), st.Key, *st.NextValue, cur.offset, st.Key)
				}
				return st
			}
		}
	case wr:
		m.each(&m.txns[tb], nil, func(key string, rec history.Record, v int32) {
			if st.Key != "" || m.writerVertex(v) != a {
				return
			}
			st.Key, st.Value, st.Offset = key, val(rec.Value), off(rec.Offset)
			st.Explanation = fmt.Sprintf("%s sent %s=%s at %s, and %s read it (wr)",
				m.who(an, ta), key, rec.Value, offsetText(rec.Offset), m.who(bn, tb))
		})
		if st.Key != "" {
			return st
		}
	case rw:
		last := map[int32]int32{}
		for _, k := range m.lastReads(&m.txns[ta], last, nil, nil) {
			p := last[k]
			q := m.nextWritten(k, p)
			if q < 0 || m.writerVertex(m.logs[k][q].val) != b {
				continue
			}
			cur, next := m.logs[k][p], m.logs[k][q]
			st.Key, st.Value, st.Offset = m.keys[k], val(m.vals[cur.val].value), off(cur.offset)
			st.NextValue, st.NextOffset = val(m.vals[next.val].value), off(next.offset)
			where := "the next offset"
			if q != p+1 {
				where = "the next offset a committed transaction sent to"
			}
			st.Explanation = fmt.Sprintf("%s last read %s=%s at offset %d, and %s sent %s=%s at %s, %d, which %s did not read (rw)",
				m.who(an, ta), st.Key, *st.Value, cur.offset, m.who(bn, tb), st.Key, *st.NextValue, where, next.offset, an)
			return st
		}
	case proc:
		p := m.ops[m.txns[ta].pos].Process
		st.Process = &p
		st.Explanation = fmt.Sprintf("process %s completed %s (index %d) before invoking %s (index %d) (process)",
			p, an, m.ops[m.txns[ta].pos].Index, bn, m.ops[m.txns[tb].inv].Index)
		return st
	case rt:
		done, inv := &m.ops[m.txns[ta].pos], &m.ops[m.txns[tb].inv]
		st.Explanation = fmt.Sprintf("%s completed at index %d, %.3f s before %s was invoked at index %d (realtime)",
			m.who(an, ta), done.Index, float64(inv.Time-done.Time)/1e9, m.who(bn, tb), inv.Index)
		return st
	}
	st.Explanation = fmt.Sprintf("%s %s %s", an, st.Type, bn) // unreachable: every edge has a reason
	return st
}
