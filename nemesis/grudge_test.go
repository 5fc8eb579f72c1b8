package nemesis

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func brokerNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("n%d", i+1)
	}
	return out
}

// sees returns the nodes whose packets node receives under g, itself included.
func sees(g Grudge, node string, nodes []string) []string {
	var out []string
	for _, o := range nodes {
		if !g.Drops(node, o) {
			out = append(out, o)
		}
	}
	return out
}

// requireComplete checks that g cuts exactly between the components: within a component every
// node hears every other, across components nobody hears anybody, both ways.
func requireComplete(t *testing.T, g Grudge, components ...[]string) {
	t.Helper()
	for _, a := range components {
		for _, x := range a {
			for _, b := range components {
				for _, y := range b {
					same := slices.Equal(a, b)
					require.Equal(t, !same, g.Drops(x, y), "%s drops %s? grudge %s", x, y, g)
				}
			}
		}
	}
}

func TestCompleteAndIsolate(t *testing.T) {
	tests := []struct {
		name       string
		grudge     Grudge
		components [][]string
		want       Grudge
	}{
		{"one isolated", Isolate([]string{"n1"}, brokerNames(3)), [][]string{{"n1"}, {"n2", "n3"}},
			Grudge{"n1": {"n2", "n3"}, "n2": {"n1"}, "n3": {"n1"}}},
		{"minority of five", Isolate([]string{"n4", "n2"}, brokerNames(5)), [][]string{{"n2", "n4"}, {"n1", "n3", "n5"}},
			Grudge{"n1": {"n2", "n4"}, "n2": {"n1", "n3", "n5"}, "n3": {"n2", "n4"}, "n4": {"n1", "n3", "n5"}, "n5": {"n2", "n4"}}},
		{"three singletons", Complete([]string{"n1"}, []string{"n2"}, []string{"n3"}), [][]string{{"n1"}, {"n2"}, {"n3"}},
			Grudge{"n1": {"n2", "n3"}, "n2": {"n1", "n3"}, "n3": {"n1", "n2"}}},
		{"one component cuts nothing", Complete(brokerNames(3)), [][]string{brokerNames(3)}, Grudge{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.grudge)
			requireComplete(t, tt.grudge, tt.components...)
		})
	}
}

func TestBisect(t *testing.T) {
	tests := []struct {
		in             []string
		smaller, large []string
	}{
		{[]string{}, []string{}, []string{}},
		{[]string{"a"}, []string{}, []string{"a"}},
		{[]string{"a", "b", "c", "d"}, []string{"a", "b"}, []string{"c", "d"}},
		{[]string{"a", "b", "c", "d", "e"}, []string{"a", "b"}, []string{"c", "d", "e"}},
	}
	for _, tt := range tests {
		s, l := Bisect(tt.in)
		require.Equal(t, tt.smaller, s)
		require.Equal(t, tt.large, l)
	}
}

// components recovers the components of a complete grudge: the groups of nodes that see the same set.
func components(g Grudge, nodes []string) [][]string {
	var out [][]string
	seen := map[string]bool{}
	for _, n := range nodes {
		if seen[n] {
			continue
		}
		c := sees(g, n, nodes)
		for _, m := range c {
			seen[m] = true
		}
		out = append(out, c)
	}
	return out
}

func TestRandomHalvesAndMajorityMinority(t *testing.T) {
	for n := 2; n <= 9; n++ {
		for seed := range uint64(20) {
			nodes := brokerNames(n)
			halves := RandomHalves(rand.New(rand.NewPCG(seed, 1)), nodes)
			parts := components(halves, nodes)
			require.Len(t, parts, 2, "halves of %d: %s", n, halves)
			requireComplete(t, halves, parts...)
			sizes := []int{len(parts[0]), len(parts[1])}
			slices.Sort(sizes)
			require.Equal(t, []int{n / 2, n - n/2}, sizes, "halves of %d", n)

			mm := MajorityMinority(rand.New(rand.NewPCG(seed, 1)), nodes)
			if Minority(n) == 0 {
				require.Empty(t, mm)
				continue
			}
			parts = components(mm, nodes)
			require.Len(t, parts, 2)
			requireComplete(t, mm, parts...)
			sizes = []int{len(parts[0]), len(parts[1])}
			slices.Sort(sizes)
			require.Equal(t, []int{Minority(n), Majority(n)}, sizes, "majority/minority of %d", n)
		}
	}
	// Shuffling really happens: not every seed cuts the same halves.
	distinct := map[string]bool{}
	for seed := range uint64(20) {
		distinct[RandomHalves(rand.New(rand.NewPCG(seed, 1)), brokerNames(5)).String()] = true
	}
	require.Greater(t, len(distinct), 3)
}

func TestMajoritiesRing(t *testing.T) {
	for n := 3; n <= 9; n++ {
		for seed := range uint64(10) {
			nodes := brokerNames(n)
			g := MajoritiesRing(rand.New(rand.NewPCG(seed, 2)), nodes)
			views := map[string]bool{}
			for _, node := range nodes {
				v := sees(g, node, nodes)
				require.Contains(t, v, node)
				require.GreaterOrEqual(t, len(v), Majority(n), "%s sees %v of %d under %s", node, v, n, g)
				require.Less(t, len(v), n, "%s sees everyone under %s", node, g)
				views[fmt.Sprint(v)] = true
			}
			require.Len(t, views, n, "two nodes see the same majority under %s", g)
			if n >= 4 {
				for _, a := range nodes {
					for _, b := range nodes {
						require.Equal(t, g.Drops(a, b), g.Drops(b, a), "ring of %d is not symmetric: %s", n, g)
					}
				}
			}
		}
	}
	// Five nodes: Jepsen's perfect ring, each node sees exactly its two neighbours.
	g := MajoritiesRing(rand.New(rand.NewPCG(7, 7)), brokerNames(5))
	for _, node := range brokerNames(5) {
		require.Len(t, sees(g, node, brokerNames(5)), 3)
	}
	require.Empty(t, MajoritiesRing(rand.New(rand.NewPCG(1, 1)), brokerNames(2)))
}

func TestBridge(t *testing.T) {
	for n := 3; n <= 9; n++ {
		for seed := range uint64(10) {
			nodes := brokerNames(n)
			g := Bridge(rand.New(rand.NewPCG(seed, 3)), nodes)
			var bridges []string
			for _, node := range nodes {
				if len(sees(g, node, nodes)) == n {
					bridges = append(bridges, node)
				}
			}
			require.Len(t, bridges, 1, "bridge of %d: %s", n, g)
			bridge := bridges[0]
			for _, node := range nodes {
				require.False(t, g.Drops(node, bridge), "%s drops the bridge %s", node, bridge)
			}
			rest := without(nodes, bridges)
			parts := components(g, rest)
			require.Len(t, parts, 2, "bridge of %d: %s", n, g)
			requireComplete(t, g, parts...)
			// Jepsen's bisect puts the bridge in the larger half.
			want := []int{n / 2, n - n/2 - 1}
			got := []int{len(parts[0]), len(parts[1])}
			slices.Sort(want)
			slices.Sort(got)
			require.Equal(t, want, got, "bridge of %d: %s", n, g)
		}
	}
}

func TestOneWay(t *testing.T) {
	g := OneWay([]string{"n1"}, []string{"n1", "n2", "n3"})
	require.Equal(t, Grudge{"n2": {"n1"}, "n3": {"n1"}}, g)
	require.True(t, g.Drops("n2", "n1"))
	require.False(t, g.Drops("n1", "n2"), "the cut is one way only")
	require.Equal(t, []string{"n1", "n2", "n3"}, g.Nodes())
}

func TestWithZooKeeperAndClients(t *testing.T) {
	brokers, zks := brokerNames(3), []string{"zk1"}
	tests := []struct {
		name   string
		grudge Grudge
		want   Grudge
	}{
		{"isolated broker loses ZooKeeper and clients both ways", Isolate([]string{"n1"}, brokers), Grudge{
			"n1": {"zk1", "n2", "n3", Clients}, "n2": {"n1"}, "n3": {"n1"}, "zk1": {"n1"}, Clients: {"n1"}}},
		{"a broker nobody hears is not heard by ZooKeeper and clients", OneWay([]string{"n1"}, brokers), Grudge{
			"n2": {"n1"}, "n3": {"n1"}, "zk1": {"n1"}, Clients: {"n1"}}},
		{"a broker that hears nobody no longer hears them", OneWay([]string{"n2", "n3"}, []string{"n1"}), Grudge{
			"n1": {"zk1", "n2", "n3", Clients}}},
		{"a ring keeps every broker with a majority", Grudge{"n1": {"n2"}, "n2": {"n3"}, "n3": {"n1"}},
			Grudge{"n1": {"n2"}, "n2": {"n3"}, "n3": {"n1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, withZooKeeperAndClients(tt.grudge, brokers, zks))
		})
	}
}

func TestGrudgeJSONAndString(t *testing.T) {
	g := Isolate([]string{"n10"}, []string{"n2", "n10", "n1"})
	data, err := json.Marshal(g)
	require.NoError(t, err)
	require.JSONEq(t, `{"n1":["n10"],"n2":["n10"],"n10":["n1","n2"]}`, string(data))
	require.Equal(t, "n1<-n10 n2<-n10 n10<-n1,n2", g.String())
	require.Error(t, checkGrudge(Grudge{"n1": {"n1"}}))
}
