package txn

import (
	"cmp"
	"context"
	"slices"

	"github.com/kchaos/kchaos/history"
)

// kind is a set of edge kinds.
type kind uint8

// The edge kinds.
const (
	ww   kind = 1 << iota // T1 sent the value before T2's on a key
	wr                    // T2 read a value T1 sent
	rw                    // T1's last read of a key is just before a value T2 sent
	proc                  // one process completed T1 before invoking T2
	rt                    // T1 completed before T2 was invoked

	allKinds = ww | wr | rw | proc | rt
)

var kindNames = map[kind]string{ww: "ww", wr: "wr", rw: "rw", proc: "process", rt: "realtime"}

// edge is a directed edge between vertices with its kinds.
type edge struct {
	from, to int32
	k        kind
}

// graph is the dependency graph between committed transactions, as adjacency lists: vertex v's
// edges are dst[off[v]:off[v+1]], sorted by target, with their kinds in kinds.
type graph struct {
	n     int
	off   []int32
	dst   []int32
	kinds []kind
}

// out returns v's targets and their kinds.
func (g *graph) out(v int32) ([]int32, []kind) {
	return g.dst[g.off[v]:g.off[v+1]], g.kinds[g.off[v]:g.off[v+1]]
}

// kindOf returns the kinds of the edge from a to b, 0 if none.
func (g *graph) kindOf(a, b int32) kind {
	dst, kinds := g.out(a)
	if i, ok := slices.BinarySearch(dst, b); ok {
		return kinds[i]
	}
	return 0
}

// buildGraph draws the edges between the committed transactions (the vertices):
//
//   - ww: the writers of two consecutive entries of a key's log (consecutive among the entries
//     committed transactions wrote);
//   - wr: from the writer of a value to each transaction that read it;
//   - rw: from a transaction whose last read of a key is an entry to the writer of the next
//     entry (Elle's anti-dependency; Jepsen's kafka workload relates the reader to every later
//     writer of the key, which the ww edges from that writer on do);
//   - process: between a process's consecutive committed transactions;
//   - realtime: from an ok transaction to each transaction invoked after it completed, reduced
//     as Elle does: not past a later transaction that itself follows it.
func (m *model) buildGraph(ctx context.Context) (*graph, EdgeStats, error) {
	var edges []edge
	add := func(a, b int32, k kind) {
		if a >= 0 && b >= 0 && a != b {
			edges = append(edges, edge{a, b, k})
		}
	}
	m.indexWritten()
	for k, log := range m.logs {
		for p := range log {
			if w := m.writerVertex(log[p].val); w >= 0 {
				if q := m.prevWritten(int32(k), int32(p)); q >= 0 {
					add(m.writerVertex(log[q].val), w, ww)
				}
			}
		}
	}
	lastPos := map[int32]int32{} // key → highest entry read, per transaction
	var keys []int32
	for vx, ti := range m.vertices {
		if vx&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, EdgeStats{}, err
			}
		}
		keys = m.lastReads(&m.txns[ti], lastPos, keys, func(v int32) {
			add(m.writerVertex(v), int32(vx), wr)
		})
		for _, k := range keys {
			if q := m.nextWritten(k, lastPos[k]); q >= 0 {
				add(int32(vx), m.writerVertex(m.logs[k][q].val), rw)
			}
		}
	}
	// Process order.
	lastOf := map[history.Process]int32{}
	for vx, ti := range m.vertices {
		p := m.ops[m.txns[ti].pos].Process
		if prev, ok := lastOf[p]; ok {
			add(prev, int32(vx), proc)
		}
		lastOf[p] = int32(vx)
	}
	// Real-time order, Elle's transitive reduction: a frontier of ok transactions not known to
	// precede another completed one; each invocation follows the whole frontier.
	vertexAt := make([]int32, len(m.ops)) // invocation or completion position → vertex, or -1
	for i := range vertexAt {
		vertexAt[i] = -1
	}
	for vx, ti := range m.vertices {
		t := &m.txns[ti]
		vertexAt[t.inv] = int32(vx)
		vertexAt[t.pos] = int32(vx)
	}
	var frontier []int32
	inFrontier := make([]bool, len(m.vertices))
	rtIn := make([][2]int, len(m.vertices)) // each vertex's realtime in-edges: edges[lo:hi]
	for i, vx := range vertexAt {
		if vx < 0 {
			continue
		}
		t := &m.txns[m.vertices[vx]]
		if int32(i) == t.inv {
			frontier = slices.DeleteFunc(frontier, func(f int32) bool { return !inFrontier[f] })
			lo := len(edges)
			for _, f := range frontier {
				add(f, vx, rt)
			}
			rtIn[vx] = [2]int{lo, len(edges)}
		}
		if int32(i) == t.pos && t.typ == history.OK {
			for _, e := range edges[rtIn[vx][0]:rtIn[vx][1]] {
				inFrontier[e.from] = false
			}
			inFrontier[vx] = true
			frontier = append(frontier, vx)
		}
	}
	g, s := csr(len(m.vertices), edges)
	return g, s, nil
}

// indexWritten computes, for each entry of each key's log, the entries before and after it
// that committed transactions wrote. Entries of aborted or unknown transactions (which
// read_uncommitted consumers read) are stepped over, so that the version order runs through
// them.
func (m *model) indexWritten() {
	m.prevW = make([][]int32, len(m.logs))
	m.nextW = make([][]int32, len(m.logs))
	for k, log := range m.logs {
		prev, next := make([]int32, len(log)), make([]int32, len(log))
		last := int32(-1)
		for p := range log {
			prev[p] = last
			if m.writerVertex(log[p].val) >= 0 {
				last = int32(p)
			}
		}
		last = -1
		for p := len(log) - 1; p >= 0; p-- {
			next[p] = last
			if m.writerVertex(log[p].val) >= 0 {
				last = int32(p)
			}
		}
		m.prevW[k], m.nextW[k] = prev, next
	}
}

// prevWritten returns the last entry of key k before entry p that a committed transaction
// wrote, or -1.
func (m *model) prevWritten(k, p int32) int32 { return m.prevW[k][p] }

// nextWritten returns the first entry of key k after entry p that a committed transaction
// wrote, or -1.
func (m *model) nextWritten(k, p int32) int32 { return m.nextW[k][p] }

// lastReads finds, for each key transaction t read, the highest entry of the key's log it read:
// the entry at the offset read, not the value's first (a duplicate), when the read names its
// offset. It clears last and fills it (key → entry), and returns the keys read, in the order
// first read, in keys[:0]; last and keys are the caller's, to be used again. read, if not nil, is
// called with each value read, in order.
func (m *model) lastReads(t *txnInfo, last map[int32]int32, keys []int32, read func(v int32)) []int32 {
	clear(last)
	keys = keys[:0]
	m.each(t, nil, func(_ string, rec history.Record, v int32) {
		if read != nil {
			read(v)
		}
		k := m.vals[v].key
		p := m.vals[v].pos
		if rec.Offset != history.NoOffset {
			p = m.entryAt(k, rec.Offset, v)
		}
		if p < 0 {
			return
		}
		if old, ok := last[k]; !ok || p > old {
			if !ok {
				keys = append(keys, k)
			}
			last[k] = p
		}
	})
	return keys
}

// entryAt returns the entry of key k at offset that holds value v, or -1.
func (m *model) entryAt(k int32, offset int64, v int32) int32 {
	log := m.logs[k]
	i, _ := slices.BinarySearchFunc(log, offset, func(e entry, o int64) int { return cmp.Compare(e.offset, o) })
	for ; i < len(log) && log[i].offset == offset; i++ {
		if log[i].val == v {
			return int32(i)
		}
	}
	return -1
}

// csr buckets edges by source (a counting sort), sorts each vertex's edges by target, merges
// the edges between the same two vertices, and counts them by kind.
func csr(n int, edges []edge) (*graph, EdgeStats) {
	start := make([]int32, n+1)
	for _, e := range edges {
		start[e.from+1]++
	}
	for v := 0; v < n; v++ {
		start[v+1] += start[v]
	}
	fill := slices.Clone(start[:n])
	dst := make([]int32, len(edges))
	kinds := make([]kind, len(edges))
	for _, e := range edges {
		dst[fill[e.from]], kinds[fill[e.from]] = e.to, e.k
		fill[e.from]++
	}
	g := &graph{n: n, off: make([]int32, n+1), dst: dst[:0], kinds: kinds[:0]}
	type out struct {
		to int32
		k  kind
	}
	var buf []out
	for v := 0; v < n; v++ {
		buf = buf[:0]
		for i := start[v]; i < start[v+1]; i++ {
			buf = append(buf, out{dst[i], kinds[i]})
		}
		slices.SortFunc(buf, func(a, b out) int { return cmp.Compare(a.to, b.to) })
		for i := 0; i < len(buf); {
			o := buf[i]
			for i++; i < len(buf) && buf[i].to == o.to; i++ {
				o.k |= buf[i].k
			}
			// Writing in place is safe: vertex v's merged edges never outrun its unmerged ones.
			g.dst = append(g.dst, o.to)
			g.kinds = append(g.kinds, o.k)
		}
		g.off[v+1] = int32(len(g.dst))
	}
	var s EdgeStats
	for _, k := range g.kinds {
		s.WW += int(k & ww >> 0)
		s.WR += int(k & wr >> 1)
		s.RW += int(k & rw >> 2)
		s.Process += int(k & proc >> 3)
		s.Realtime += int(k & rt >> 4)
	}
	return g, s
}

// components finds the strongly connected components of g restricted to edges of kinds allowed,
// with Tarjan's algorithm on an explicit stack. It returns each vertex's component and the
// components of two or more vertices, each sorted, in order of their least vertex.
func (g *graph) components(ctx context.Context, allowed kind) ([]int32, [][]int32, error) {
	const none = -1
	index := make([]int32, g.n)
	low := make([]int32, g.n)
	comp := make([]int32, g.n)
	onStack := make([]bool, g.n)
	for i := range index {
		index[i], comp[i] = none, none
	}
	var (
		stack  []int32 // Tarjan's stack of vertices
		frames []struct {
			v    int32
			next int32 // next edge of v to look at
		}
		next   int32
		ncomp  int32
		multi  [][]int32
		visits int
	)
	for root := int32(0); int(root) < g.n; root++ {
		if index[root] != none {
			continue
		}
		frames = append(frames, struct{ v, next int32 }{root, g.off[root]})
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(frames) > 0 {
			if visits++; visits&4095 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, nil, err
				}
			}
			f := &frames[len(frames)-1]
			v := f.v
			if f.next < g.off[v+1] {
				w, k := g.dst[f.next], g.kinds[f.next]
				f.next++
				if k&allowed == 0 {
					continue
				}
				if index[w] == none {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					frames = append(frames, struct{ v, next int32 }{w, g.off[w]})
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			frames = frames[:len(frames)-1]
			if len(frames) > 0 {
				p := frames[len(frames)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] != index[v] {
				continue
			}
			start := len(stack) - 1
			for stack[start] != v {
				start--
			}
			members := stack[start:]
			for _, w := range members {
				onStack[w] = false
				comp[w] = ncomp
			}
			if len(members) > 1 {
				multi = append(multi, slices.Sorted(slices.Values(members)))
			}
			stack = stack[:start]
			ncomp++
		}
	}
	slices.SortFunc(multi, func(a, b []int32) int { return int(a[0] - b[0]) })
	return comp, multi, nil
}
