package nemesis

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Clients is the pseudo-node that stands for everything outside the cluster network: clients,
// the ZooKeeper observer and kchaos itself, all of which reach the nodes from the network's
// gateway (broker.Cluster.Gateway). A grudge may name it on either side.
const Clients = "clients"

// Grudge is a partition as Jepsen writes it: each node maps to the nodes whose packets it drops.
// A one-way cut is a grudge held on one side only; a complete partition holds it on both. Nodes
// with no grudge are left out. Lists are sorted in node order (n2 before n10).
//
// Dropping is done on the receiving node (iptables INPUT), except when Clients holds the grudge:
// nothing runs on the host, so the sender drops what it would send to the gateway (OUTPUT).
// Note that TCP needs both directions: a one-way cut breaks connections either way, while packets
// that need no answer (and the SYN that opens a connection) still arrive in the direction not cut.
type Grudge map[string][]string

// Nodes returns every node the grudge names, holders and dropped alike, sorted.
func (g Grudge) Nodes() []string {
	set := map[string]bool{}
	for holder, dropped := range g {
		set[holder] = true
		for _, d := range dropped {
			set[d] = true
		}
	}
	return sortNodes(slices.Collect(maps.Keys(set)))
}

// Drops reports whether node `to` drops the packets that node `from` sends.
func (g Grudge) Drops(to, from string) bool { return slices.Contains(g[to], from) }

// String renders the grudge compactly and deterministically: "n1<-n2,n3 n2<-n1".
func (g Grudge) String() string {
	holders := sortNodes(slices.Collect(maps.Keys(g)))
	parts := make([]string, 0, len(holders))
	for _, h := range holders {
		parts = append(parts, h+"<-"+strings.Join(g[h], ","))
	}
	return strings.Join(parts, " ")
}

// normalize sorts every list, removes duplicates and drops holders with nothing to drop.
func (g Grudge) normalize() Grudge {
	out := Grudge{}
	for holder, dropped := range g {
		d := sortNodes(slices.Clone(dropped))
		d = slices.Compact(d)
		if len(d) > 0 {
			out[holder] = d
		}
	}
	return out
}

// Complete returns the grudge in which no node talks to any node outside its own component.
func Complete(components ...[]string) Grudge {
	var universe []string
	for _, c := range components {
		universe = append(universe, c...)
	}
	g := Grudge{}
	for _, c := range components {
		for _, node := range c {
			for _, other := range universe {
				if !slices.Contains(c, other) {
					g[node] = append(g[node], other)
				}
			}
		}
	}
	return g.normalize()
}

// Isolate returns the grudge that cuts the nodes in cut off from the rest of nodes, both ways.
func Isolate(cut, nodes []string) Grudge {
	return Complete(cut, without(nodes, cut))
}

// OneWay returns the grudge in which every node of to drops what the nodes of from send, while
// the nodes of from still receive everything.
func OneWay(from, to []string) Grudge {
	g := Grudge{}
	for _, t := range to {
		for _, f := range from {
			if f != t {
				g[t] = append(g[t], f)
			}
		}
	}
	return g.normalize()
}

// Bisect cuts nodes in two in the order given, the smaller half first.
func Bisect(nodes []string) (smaller, larger []string) {
	half := len(nodes) / 2
	return slices.Clone(nodes[:half]), slices.Clone(nodes[half:])
}

// RandomHalves returns a complete partition into two random halves, the smaller first.
func RandomHalves(rng *rand.Rand, nodes []string) Grudge {
	a, b := Bisect(shuffled(rng, nodes))
	return Complete(a, b)
}

// Majority is the size of a majority of n nodes: ⌊n/2⌋+1.
func Majority(n int) int { return n/2 + 1 }

// Minority is the size of the largest minority of n nodes: ⌊(n−1)/2⌋.
func Minority(n int) int { return n - Majority(n) }

// MajorityMinority returns a complete partition into a random minority and the majority.
func MajorityMinority(rng *rand.Rand, nodes []string) Grudge {
	s := shuffled(rng, nodes)
	return Complete(s[:Minority(len(s))], s[Minority(len(s)):])
}

// Bridge returns Jepsen's bridge: the nodes, shuffled, are cut in halves, except the first node
// of the larger half, which keeps both ways to everyone and which nobody drops.
func Bridge(rng *rand.Rand, nodes []string) Grudge {
	a, b := Bisect(shuffled(rng, nodes))
	if len(b) == 0 {
		return Grudge{}
	}
	bridge := b[0]
	g := Complete(a, b)
	delete(g, bridge)
	for holder, dropped := range g {
		g[holder] = slices.DeleteFunc(dropped, func(n string) bool { return n == bridge })
	}
	return g.normalize()
}

// MajoritiesRing returns a grudge in which every node sees (does not drop) a majority of the nodes,
// itself included, but no two nodes see the same set. The nodes are shuffled into a ring. From 4
// nodes on, each node sees the ring neighbours within the smallest radius r with 2r+1 ≥ a
// majority, so the grudge is symmetric (for 5 nodes this is Jepsen's perfect ring). With 3 nodes
// no symmetric ring exists, and the grudge is Jepsen's: each node sees itself and the node
// before it, so each link is cut in one direction. With fewer than 3 nodes no node is cut.
func MajoritiesRing(rng *rand.Rand, nodes []string) Grudge {
	ring := shuffled(rng, nodes)
	n := len(ring)
	g := Grudge{}
	if n < 3 {
		return g
	}
	at := func(i int) string { return ring[((i%n)+n)%n] }
	if n == 3 {
		for i := range n {
			g[at(i)] = []string{at(i + 1)}
		}
		return g.normalize()
	}
	r := Majority(n) / 2 // smallest r with 2r+1 >= Majority(n)
	for i := range n {
		seen := map[string]bool{}
		for d := -r; d <= r; d++ {
			seen[at(i+d)] = true
		}
		for _, other := range ring {
			if !seen[other] {
				g[at(i)] = append(g[at(i)], other)
			}
		}
	}
	return g.normalize()
}

// withZooKeeperAndClients extends a grudge over brokers to ZooKeeper and the clients, which stand
// with the majority (see TrafficAll): a broker that hears fewer than a majority of the brokers,
// itself included, drops ZooKeeper and the clients; one that fewer than a majority hear is
// dropped by them.
func withZooKeeperAndClients(g Grudge, brokers, zooKeeper []string) Grudge {
	out := Grudge{}
	for k, v := range g {
		out[k] = slices.Clone(v)
	}
	others := append(slices.Clone(zooKeeper), Clients)
	for _, b := range brokers {
		heard, heardBy := 0, 0
		for _, o := range brokers {
			if !g.Drops(b, o) {
				heard++
			}
			if !g.Drops(o, b) {
				heardBy++
			}
		}
		if heard < Majority(len(brokers)) {
			out[b] = append(out[b], others...)
		}
		if heardBy < Majority(len(brokers)) {
			for _, o := range others {
				out[o] = append(out[o], b)
			}
		}
	}
	return out.normalize()
}

func shuffled(rng *rand.Rand, nodes []string) []string {
	s := slices.Clone(nodes)
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

func without(nodes, remove []string) []string {
	return slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return slices.Contains(remove, n) })
}

// sortNodes sorts node names by their letters, then by their number: zk1, n1, n2, n10, clients.
// ZooKeeper first and clients last follow broker.Cluster.Nodes.
func sortNodes(nodes []string) []string {
	slices.SortFunc(nodes, compareNodes)
	return nodes
}

func compareNodes(a, b string) int {
	ra, rb := nodeRank(a), nodeRank(b)
	if ra != rb {
		return ra - rb
	}
	pa, na := splitName(a)
	pb, nb := splitName(b)
	if pa != pb {
		return strings.Compare(pa, pb)
	}
	if na != nb {
		return na - nb
	}
	return strings.Compare(a, b)
}

func nodeRank(name string) int {
	switch {
	case strings.HasPrefix(name, "zk"):
		return 0
	case name == Clients:
		return 2
	}
	return 1
}

func splitName(name string) (string, int) {
	i := strings.IndexFunc(name, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return name, -1
	}
	n, err := strconv.Atoi(name[i:])
	if err != nil {
		return name, -1
	}
	return name[:i], n
}

// checkGrudge reports a grudge that names a node twice on one side or holds a grudge against itself.
func checkGrudge(g Grudge) error {
	for holder, dropped := range g {
		if slices.Contains(dropped, holder) {
			return fmt.Errorf("nemesis: grudge: %s cannot drop its own packets", holder)
		}
	}
	return nil
}
