package txn

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestComponentsDeep runs Tarjan's algorithm over one cycle of 10^6 transactions: a recursive
// version would need a million frames.
func TestComponentsDeep(t *testing.T) {
	const n = 1_000_000
	edges := make([]edge, n)
	for i := range edges {
		edges[i] = edge{int32(i), int32((i + 1) % n), ww}
	}
	g, _ := csr(n, edges)
	_, multi, err := g.components(context.Background(), ww)
	require.NoError(t, err)
	require.Len(t, multi, 1)
	require.Len(t, multi[0], n)
	_, multi, err = g.components(context.Background(), wr)
	require.NoError(t, err)
	require.Empty(t, multi)
}

// randomGraph returns a random graph of n vertices, its edges' kinds drawn from ww, wr and rw.
func randomGraph(rng *rand.Rand, n, m int) *graph {
	var edges []edge
	for i := 0; i < m; i++ {
		a, b := rng.IntN(n), rng.IntN(n)
		if a != b {
			edges = append(edges, edge{int32(a), int32(b), kind(1) << rng.IntN(3)})
		}
	}
	g, _ := csr(n, edges)
	return g
}

// reach returns, by Floyd-Warshall, whether each vertex reaches each other over edges of kinds
// allowed, in one or more steps.
func reach(g *graph, allowed kind) [][]bool {
	r := make([][]bool, g.n)
	for v := range r {
		r[v] = make([]bool, g.n)
		dst, kinds := g.out(int32(v))
		for i, w := range dst {
			r[v][w] = r[v][w] || kinds[i]&allowed != 0
		}
	}
	for k := 0; k < g.n; k++ {
		for i := 0; i < g.n; i++ {
			for j := 0; j < g.n; j++ {
				r[i][j] = r[i][j] || (r[i][k] && r[k][j])
			}
		}
	}
	return r
}

// TestComponentsRandom checks components against mutual reachability on random small graphs.
func TestComponentsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 300; iter++ {
		n := 2 + rng.IntN(20)
		g := randomGraph(rng, n, rng.IntN(3*n))
		for _, allowed := range []kind{ww, ww | wr, ww | wr | rw} {
			comp, multi, err := g.components(context.Background(), allowed)
			require.NoError(t, err)
			r := reach(g, allowed)
			for a := 0; a < n; a++ {
				for b := 0; b < n; b++ {
					if a != b {
						require.Equal(t, r[a][b] && r[b][a], comp[a] == comp[b], "graph %v, %d and %d", g, a, b)
					}
				}
			}
			inMulti := 0
			for _, members := range multi {
				require.GreaterOrEqual(t, len(members), 2)
				inMulti += len(members)
			}
			want := 0
			for a := 0; a < n; a++ {
				for b := 0; b < n; b++ {
					if a != b && r[a][b] && r[b][a] {
						want++
						break
					}
				}
			}
			require.Equal(t, want, inMulti)
		}
	}
}

// TestShortestCycle checks that the search finds a shortest cycle through its start, and that
// each spec's cycle has the edges it needs.
func TestShortestCycle(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 300; iter++ {
		n := 2 + rng.IntN(15)
		g := randomGraph(rng, n, rng.IntN(3*n))
		comp, multi, err := g.components(context.Background(), ww|wr|rw)
		require.NoError(t, err)
		s := newSearcher(context.Background(), g)
		for _, members := range multi {
			start := members[0]
			// Breadth-first distances from start inside the component.
			dist := map[int32]int{start: 0}
			queue := []int32{start}
			best := -1
			for len(queue) > 0 {
				v := queue[0]
				queue = queue[1:]
				dst, _ := g.out(v)
				for _, w := range dst {
					if comp[w] != comp[start] {
						continue
					}
					if w == start && (best < 0 || dist[v]+1 < best) {
						best = dist[v] + 1
					}
					if _, ok := dist[w]; !ok {
						dist[w] = dist[v] + 1
						queue = append(queue, w)
					}
				}
			}
			c, err := s.bfs(members, start, spec{allowed: ww | wr | rw, maxRW: 2, done: func(state) bool { return true }}, -1)
			require.NoError(t, err)
			require.NotNil(t, c)
			require.Len(t, c.vertices, best)
			for i, v := range c.vertices {
				w := c.vertices[(i+1)%len(c.vertices)]
				require.NotZero(t, g.kindOf(v, w)&c.kinds[i], "step %d of %v", i, c)
			}
			for _, sp := range specs() {
				c, err := s.search(members, sp)
				require.NoError(t, err)
				if c != nil {
					require.Equal(t, sp.typ, classify(c.kinds))
				}
			}
		}
	}
}
