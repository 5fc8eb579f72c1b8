package nemesis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kchaos/kchaos/broker"
)

// Network faults are iptables rules inside the nodes' network namespaces (broker.Node.Exec). Each
// fault puts its rules in chains of its own, kchaos-<tag>-in and kchaos-<tag>-out, jumped to from
// the first position of INPUT and OUTPUT; healing it removes exactly those chains, so faults that
// overlap heal independently and rules that Docker or anyone else put there are never touched.
// Rules live as long as the namespace: a killed node comes back without them.

// chainPrefix starts the name of every iptables chain kchaos creates.
const chainPrefix = "kchaos-"

// Cut is a set of iptables rules in place on some nodes: a partition, a ZooKeeper isolation or a
// lossy link. Heal removes them.
type Cut struct {
	cluster *broker.Cluster
	tag     string
	grudge  Grudge
	nodes   []string // nodes that hold rules, sorted

	mu     sync.Mutex
	healed bool
}

// Grudge returns what the cut drops, with ZooKeeper and clients included when it cuts them.
func (c *Cut) Grudge() Grudge { return c.grudge }

// Nodes returns the nodes that hold rules of the cut.
func (c *Cut) Nodes() []string { return slices.Clone(c.nodes) }

// rule is one iptables rule in a fault's chain: in (INPUT) drops packets from peer, out (OUTPUT)
// drops packets to peer. Loss, when between 0 and 1, drops that share of them at random. Dport and
// sport, when set, limit the rule to TCP packets to or from that port.
type rule struct {
	out          bool
	peer         netip.Addr
	loss         float64
	dport, sport int
}

func (r rule) args(chain string) string {
	dir := "-s"
	if r.out {
		dir = "-d"
	}
	s := fmt.Sprintf("iptables -w -A %s %s %s", chain, dir, r.peer)
	if r.dport > 0 || r.sport > 0 {
		s += " -p tcp"
	}
	if r.dport > 0 {
		s += " --dport " + strconv.Itoa(r.dport)
	}
	if r.sport > 0 {
		s += " --sport " + strconv.Itoa(r.sport)
	}
	if r.loss > 0 && r.loss < 1 {
		s += " -m statistic --mode random --probability " + strconv.FormatFloat(r.loss, 'f', 4, 64)
	}
	return s + " -j DROP"
}

// newTag returns a fresh tag for a fault's chains: short enough for iptables' 28 characters.
func newTag() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// addrOf returns the address a node's traffic comes from: its IP, or the gateway for Clients.
func addrOf(c *broker.Cluster, name string) (netip.Addr, error) {
	if name == Clients {
		return c.Gateway(), nil
	}
	n := c.Node(name)
	if n == nil {
		return netip.Addr{}, fmt.Errorf("nemesis: no node %q in the cluster", name)
	}
	return n.IP, nil
}

// rulesOf turns a grudge into the rules each node must hold.
func rulesOf(c *broker.Cluster, g Grudge) (map[string][]rule, error) {
	rules := map[string][]rule{}
	for _, holder := range sortNodes(slicesKeys(g)) {
		for _, from := range g[holder] {
			switch {
			case holder == Clients && from == Clients:
				return nil, errors.New("nemesis: grudge: clients cannot drop their own packets")
			case holder == Clients:
				// Nothing runs on the host: the sender drops what it sends to the gateway.
				if c.Node(from) == nil {
					return nil, fmt.Errorf("nemesis: grudge names %q, which is not a node of the cluster", from)
				}
				rules[from] = append(rules[from], rule{out: true, peer: c.Gateway()})
			default:
				if c.Node(holder) == nil {
					return nil, fmt.Errorf("nemesis: grudge names %q, which is not a node of the cluster", holder)
				}
				addr, err := addrOf(c, from)
				if err != nil {
					return nil, err
				}
				rules[holder] = append(rules[holder], rule{peer: addr})
			}
		}
	}
	return rules, nil
}

// Partition cuts the network as the grudge says. With TrafficAll the grudge, given over brokers,
// is first extended to ZooKeeper and the clients (see TrafficAll); with TrafficBrokers it is
// applied as given. It returns once every rule is in place; on an error, whatever it had put in
// place is removed again.
func Partition(ctx context.Context, c *broker.Cluster, g Grudge, traffic Traffic) (*Cut, error) {
	g = g.normalize()
	if err := checkGrudge(g); err != nil {
		return nil, err
	}
	switch traffic {
	case TrafficAll:
		g = withZooKeeperAndClients(g, names(c.Brokers()), names(c.ZooKeeper()))
	case TrafficBrokers:
	default:
		return nil, fmt.Errorf("nemesis: unknown traffic %q (want %s or %s)", traffic, TrafficBrokers, TrafficAll)
	}
	rules, err := rulesOf(c, g)
	if err != nil {
		return nil, err
	}
	return applyRules(ctx, c, g, rules)
}

// IsolateFromZooKeeper cuts the given brokers off from every ZooKeeper node, both ways, and from
// nothing else: their sessions expire, their registrations go and, for the controller, the
// controllership moves.
func IsolateFromZooKeeper(ctx context.Context, c *broker.Cluster, brokers []string) (*Cut, error) {
	g := Grudge{}
	for _, b := range brokers {
		n := c.Node(b)
		if n == nil || !n.Role.IsBroker() {
			return nil, fmt.Errorf("nemesis: zk-isolate: %q is not a broker of the cluster", b)
		}
		for _, z := range c.ZooKeeper() {
			g[b] = append(g[b], z.Name)
			g[z.Name] = append(g[z.Name], b)
		}
	}
	g = g.normalize()
	rules, err := rulesOf(c, g)
	if err != nil {
		return nil, err
	}
	return applyRules(ctx, c, g, rules)
}

// IsolateFromControllers cuts the given Kafka nodes off from the KRaft controller quorum and from
// nothing else: each node drops its traffic with the controller listener (broker.ControllerPort)
// of every voter but itself, both ways, so a broker can no longer heartbeat nor fetch the
// metadata log, while it still replicates and serves clients. A node that is itself a voter (a
// combined node, a dedicated controller) also drops what the other voters send to its own
// controller listener, and their answers: it is cut from the quorum both ways. The rules are on
// the nodes cut off alone. The grudge of the cut is {node: the other voters}, and {voter: node}
// for a node that is a voter, on the controller port only. A node that no voter but itself
// could be cut from (the one voter of the cluster) is an error wrapping ErrNoTarget.
func IsolateFromControllers(ctx context.Context, c *broker.Cluster, nodes []string) (*Cut, error) {
	cut := make([]*broker.Node, len(nodes))
	for i, name := range nodes {
		n := c.Node(name)
		if n == nil || !(n.Role.IsBroker() || n.Role.IsController()) {
			return nil, fmt.Errorf("nemesis: controller-isolate: %q is not a Kafka node of the cluster", name)
		}
		cut[i] = n
	}
	g, rules, err := controllerIsolation(cut, c.ControllerNodes())
	if err != nil {
		return nil, err
	}
	return applyRules(ctx, c, g, rules)
}

// controllerIsolation is the grudge and the rules that cut nodes off from the voters.
func controllerIsolation(nodes, voters []*broker.Node) (Grudge, map[string][]rule, error) {
	g := Grudge{}
	rules := map[string][]rule{}
	for _, n := range nodes {
		name := n.Name
		rules[name] = controllerRules(n, voters)
		if len(rules[name]) == 0 {
			return nil, nil, fmt.Errorf("%w: controller-isolate: %s has no controller but itself to be cut from", ErrNoTarget, name)
		}
		voter := isVoter(n, voters)
		for _, v := range voters {
			if v.Name == name {
				continue
			}
			g[name] = append(g[name], v.Name)
			if voter {
				g[v.Name] = append(g[v.Name], name)
			}
		}
	}
	return g.normalize(), rules, nil
}

// controllerRules are the rules that cut node n from the controller listener of every voter but
// itself, and, when n is a voter, the other voters from its own.
func controllerRules(n *broker.Node, voters []*broker.Node) []rule {
	voter := isVoter(n, voters)
	var rules []rule
	for _, v := range voters {
		if v.Name == n.Name {
			continue
		}
		rules = append(rules,
			rule{out: true, peer: v.IP, dport: broker.ControllerPort},
			rule{peer: v.IP, sport: broker.ControllerPort})
		if voter {
			rules = append(rules,
				rule{peer: v.IP, dport: broker.ControllerPort},
				rule{out: true, peer: v.IP, sport: broker.ControllerPort})
		}
	}
	return rules
}

// isVoter reports whether n is one of the voters.
func isVoter(n *broker.Node, voters []*broker.Node) bool {
	return slices.ContainsFunc(voters, func(v *broker.Node) bool { return v.Name == n.Name })
}

// Lag slows a follower's replication: the follower drops, at random, the given share of the
// packets of its own connections to the other brokers' inter-broker port (broker.InterBrokerPort),
// both ways; those carry its fetches, from whichever broker leads, so the lag holds when
// leadership moves. This is netem's "loss" done with iptables' statistic match, because the
// kernels kchaos runs on may lack netem (sch_netem); TCP's retransmission back-off turns the loss
// into delay. Nothing else is touched: connections the other brokers open to the follower (their
// fetches from it, the controller's requests), ZooKeeper and the clients. loss must be in (0, 1].
// The grudge of the cut is {follower: other brokers}, lossy and on those connections only.
func Lag(ctx context.Context, c *broker.Cluster, follower string, loss float64) (*Cut, error) {
	if !(loss > 0 && loss <= 1) {
		return nil, fmt.Errorf("nemesis: lag: loss must be in (0, 1], got %v", loss)
	}
	f := c.Node(follower)
	if f == nil || !f.Role.IsBroker() {
		return nil, fmt.Errorf("nemesis: lag: %q is not a broker of the cluster", follower)
	}
	var rules []rule
	g := Grudge{}
	for _, b := range c.Brokers() {
		if b == f {
			continue
		}
		g[follower] = append(g[follower], b.Name)
		rules = append(rules,
			rule{out: true, peer: b.IP, loss: loss, dport: broker.InterBrokerPort},
			rule{peer: b.IP, loss: loss, sport: broker.InterBrokerPort})
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("nemesis: lag: %s is the only broker", follower)
	}
	return applyRules(ctx, c, g.normalize(), map[string][]rule{follower: rules})
}

// CutReplication makes the leader drop what the followers send to its inter-broker port
// (broker.InterBrokerPort): they can no longer fetch from it, nor can the controller, if it is one
// of them, send it requests. Everything else still flows: the leader's own connections to the
// other brokers, the controller among them (Kafka 2.7 and later shrink an ISR by asking the
// controller, KIP-497, so a leader cut from the controller could never shrink it), and ZooKeeper
// and the clients. The grudge of the cut is {leader: followers}, on that port only.
func CutReplication(ctx context.Context, c *broker.Cluster, leader string, followers []string) (*Cut, error) {
	l := c.Node(leader)
	if l == nil || !l.Role.IsBroker() {
		return nil, fmt.Errorf("nemesis: cut replication: %q is not a broker of the cluster", leader)
	}
	g := Grudge{}
	var rules []rule
	for _, f := range followers {
		n := c.Node(f)
		if n == nil || !n.Role.IsBroker() || n == l {
			return nil, fmt.Errorf("nemesis: cut replication: follower %q is not another broker of the cluster", f)
		}
		g[leader] = append(g[leader], f)
		rules = append(rules, rule{peer: n.IP, dport: broker.InterBrokerPort})
	}
	return applyRules(ctx, c, g.normalize(), map[string][]rule{leader: rules})
}

func applyRules(ctx context.Context, c *broker.Cluster, g Grudge, rules map[string][]rule) (*Cut, error) {
	cut := &Cut{cluster: c, tag: newTag(), grudge: g, nodes: sortNodes(slicesKeys(rules))}
	errs := make([]error, len(cut.nodes))
	var wg sync.WaitGroup
	for i, name := range cut.nodes {
		wg.Go(func() { errs[i] = cut.install(ctx, c.Node(name), rules[name]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		if herr := cut.Heal(context.WithoutCancel(ctx)); herr != nil {
			return cut, errors.Join(err, fmt.Errorf("and removing the rules already in place failed: %w", herr))
		}
		return nil, err
	}
	return cut, nil
}

func (c *Cut) chains() (in, out string) {
	return chainPrefix + c.tag + "-in", chainPrefix + c.tag + "-out"
}

// install fills the cut's chains on one node, then hooks them into INPUT and OUTPUT.
func (c *Cut) install(ctx context.Context, n *broker.Node, rules []rule) error {
	in, out := c.chains()
	var b strings.Builder
	b.WriteString("set -e\n")
	fmt.Fprintf(&b, "iptables -w -N %s\niptables -w -N %s\n", in, out)
	for _, r := range rules {
		chain := in
		if r.out {
			chain = out
		}
		b.WriteString(r.args(chain) + "\n")
	}
	fmt.Fprintf(&b, "iptables -w -I INPUT 1 -j %s\niptables -w -I OUTPUT 1 -j %s\n", in, out)
	if _, err := n.Exec(ctx, "sh", "-c", b.String()); err != nil {
		return fmt.Errorf("nemesis: install rules on %s: %w", n.Name, err)
	}
	return nil
}

// Heal removes the cut's rules from every node that holds them. It is idempotent. A node that is
// not running holds no rules (they went with its network namespace); a paused one cannot be
// healed and is an error.
func (c *Cut) Heal(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.healed {
		return nil
	}
	in, out := c.chains()
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, name := range c.nodes {
		wg.Go(func() { errs[i] = removeChains(ctx, c.cluster.Node(name), []string{in, out}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	c.healed = true
	return nil
}

// removeChainsScript unhooks and deletes the chains named in $@, then checks that none is left.
const removeChainsScript = `for c in "$@"; do
  while iptables -w -D INPUT -j "$c" 2>/dev/null; do :; done
  while iptables -w -D OUTPUT -j "$c" 2>/dev/null; do :; done
  iptables -w -F "$c" 2>/dev/null || true
  iptables -w -X "$c" 2>/dev/null || true
  if iptables -w -S "$c" >/dev/null 2>&1; then echo "chain $c is still there" >&2; iptables -w -S >&2; exit 1; fi
done`

// listChainsScript prints the kchaos chains of the node, one a line.
const listChainsScript = `iptables -w -S | awk '$1 == "-N" && index($2, "` + chainPrefix + `") == 1 { print $2 }'`

func removeChains(ctx context.Context, n *broker.Node, chains []string) error {
	if len(chains) == 0 {
		return nil
	}
	args := append([]string{"sh", "-c", removeChainsScript, "sh"}, chains...)
	if _, err := n.Exec(ctx, args...); err != nil {
		return notRunningIsHealed(ctx, n, fmt.Errorf("nemesis: remove rules from %s: %w", n.Name, err))
	}
	return nil
}

// notRunningIsHealed turns an exec error on a node that is not running into success: its rules
// went with its network namespace. A paused node keeps its rules and the error stands.
func notRunningIsHealed(ctx context.Context, n *broker.Node, err error) error {
	running, _, serr := n.Running(ctx)
	if serr == nil && !running {
		return nil
	}
	return err
}

// Chains returns the kchaos iptables chains present on a node, for checks and for HealNetwork.
func Chains(ctx context.Context, n *broker.Node) ([]string, error) {
	out, err := n.Exec(ctx, "sh", "-c", listChainsScript)
	if err != nil {
		return nil, fmt.Errorf("nemesis: list the rules of %s: %w", n.Name, err)
	}
	return strings.Fields(out), nil
}

// HealNetwork removes every kchaos chain from every running node of the cluster, whoever made
// it: for a process that did not make the faults (a cluster kept between runs, a crashed run).
// Paused nodes are resumed first so that they can be reached.
func HealNetwork(ctx context.Context, c *broker.Cluster) error {
	nodes := c.Nodes()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			running, paused, err := n.Running(ctx)
			switch {
			case err != nil:
				errs[i] = fmt.Errorf("nemesis: heal the network of %s: %w", n.Name, err)
				return
			case !running:
				return
			case paused:
				if err := n.Resume(ctx); err != nil {
					errs[i] = fmt.Errorf("nemesis: heal the network of %s: %w", n.Name, err)
					return
				}
			}
			chains, err := Chains(ctx, n)
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = removeChains(ctx, n, chains)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func names(nodes []*broker.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	return out
}

func slicesKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
