package nemesis

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/kchaos/kchaos/broker"
	"github.com/stretchr/testify/require"
)

func TestControllerIsolateAvailable(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		c       ClusterInfo
		wantErr string
	}{
		{"ZooKeeper mode", KindControllerIsolate, ClusterInfo{Brokers: 3, ZooKeeperNodes: 1},
			"needs KRaft controllers, and the cluster runs ZooKeeper: zk-isolate is its ZooKeeper-mode counterpart"},
		{"combined", KindControllerIsolate, ClusterInfo{Brokers: 3, KRaft: true, Controllers: 3}, ""},
		{"dedicated", KindControllerIsolate, ClusterInfo{Brokers: 1, KRaft: true, Controllers: 1, DedicatedControllers: true}, ""},
		{"one combined node", KindControllerIsolate, ClusterInfo{Brokers: 1, KRaft: true, Controllers: 1},
			"needs a controller other than the broker it cuts off"},
		{"one controller among three brokers", KindControllerIsolate, ClusterInfo{Brokers: 3, KRaft: true, Controllers: 1}, ""},
		{"zk-isolate in KRaft mode", KindZKIsolate, ClusterInfo{Brokers: 3, KRaft: true, Controllers: 3},
			"needs ZooKeeper, and the cluster runs KRaft: controller-isolate is its KRaft counterpart"},
		{"kill in KRaft mode", KindKill, ClusterInfo{Brokers: 3, KRaft: true, Controllers: 3, DedicatedControllers: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Available([]Kind{tt.kind}, tt.c)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, string(tt.kind)+" cannot run on this cluster: "+tt.wantErr)
		})
	}
}

func TestAvailableTargets(t *testing.T) {
	zk := ClusterInfo{Brokers: 3, ZooKeeperNodes: 3}
	kraft := ClusterInfo{Brokers: 3, KRaft: true, Controllers: 3}
	require.NoError(t, AvailableTargets(DefaultTargets(), zk))
	require.NoError(t, AvailableTargets(AllTargets(), kraft))
	for _, target := range []Target{TargetControllersMinority, TargetControllersMajority} {
		require.ErrorContains(t, AvailableTargets([]Target{TargetOne, target}, zk),
			"target "+string(target)+" needs KRaft controllers, and the cluster runs ZooKeeper")
	}
	require.NoError(t, Config{Kinds: []Kind{KindKill}, Targets: AllTargets()}.WithDefaults().Validate(),
		"the quorum targets are targets Validate knows")
}

func TestClusterInfoOfSpec(t *testing.T) {
	tests := []struct {
		spec broker.ClusterSpec
		want ClusterInfo
	}{
		{broker.ClusterSpec{}, ClusterInfo{Brokers: 3, ZooKeeperNodes: 1}},
		{broker.ClusterSpec{KafkaVersion: "4.1.1"}, ClusterInfo{Brokers: 3, KRaft: true, Controllers: 3}},
		{broker.ClusterSpec{Metadata: broker.MetadataKRaft, ControllerMode: broker.ControllersDedicated, Brokers: 1, FaultFS: true},
			ClusterInfo{Brokers: 1, KRaft: true, Controllers: 1, DedicatedControllers: true, FaultFS: true}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, ClusterInfoOfSpec(tt.spec), "%+v", tt.spec)
	}
}

// kraftView is a KRaft cluster of five brokers: combined (voters n1..n3, quorum leader n2) or
// dedicated (voters c1..c3, quorum leader c2, node id 102).
func kraftView(dedicated bool) view {
	v := testView()
	v.controllers = []string{"n1", "n2", "n3"}
	v.snap.Controller = broker.ControllerState{Broker: 2, Epoch: 7}
	if dedicated {
		v.controllers = []string{"c1", "c2", "c3"}
		v.snap.Controller.Broker = 102
	}
	return v
}

func TestResolveControllerTargets(t *testing.T) {
	zk, combined, dedicated := testView(), kraftView(false), kraftView(true)
	five := kraftView(false)
	five.controllers = brokerNames(5)
	tests := []struct {
		name    string
		v       view
		step    Step
		want    []string // exactly these nodes
		among   []string // or this many of these
		size    int
		grudge  Grudge
		wantErr string
		noTgt   bool
	}{
		{name: "ZooKeeper: the controller broker", v: zk, step: Step{Kind: KindKill, Target: TargetController}, want: []string{"n4"}},
		{name: "combined: the quorum leader", v: combined, step: Step{Kind: KindPause, Target: TargetController}, want: []string{"n2"}},
		{name: "dedicated: the quorum leader is c2, not n102", v: dedicated, step: Step{Kind: KindKill, Target: TargetController}, want: []string{"c2"}},
		{name: "dedicated: controller-isolate the quorum leader", v: dedicated, step: Step{Kind: KindControllerIsolate, Target: TargetController},
			want: []string{"c2"}},
		{name: "combined: controller-isolate a broker", v: combined, step: Step{Kind: KindControllerIsolate, Target: TargetPrimaries, Pick: 9},
			want: []string{"n2"}},
		{name: "combined: minority of 3 voters", v: combined, step: Step{Kind: KindKill, Target: TargetControllersMinority, Pick: 1},
			among: combined.controllers, size: 1},
		{name: "combined: majority of 3 voters", v: combined, step: Step{Kind: KindPause, Target: TargetControllersMajority, Pick: 2},
			among: combined.controllers, size: 2},
		{name: "5 voters: minority", v: five, step: Step{Kind: KindKill, Target: TargetControllersMinority, Pick: 3}, among: five.controllers, size: 2},
		{name: "5 voters: majority", v: five, step: Step{Kind: KindKill, Target: TargetControllersMajority, Pick: 3}, among: five.controllers, size: 3},
		{name: "dedicated: minority", v: dedicated, step: Step{Kind: KindKill, Target: TargetControllersMinority, Pick: 4},
			among: dedicated.controllers, size: 1},
		{name: "dedicated: majority", v: dedicated, step: Step{Kind: KindControllerIsolate, Target: TargetControllersMajority, Pick: 5},
			among: dedicated.controllers, size: 2},
		{name: "dedicated: partition isolates the controller from brokers and controllers", v: dedicated,
			step:   Step{Kind: KindPartition, Shape: ShapeIsolate, Target: TargetController},
			grudge: Isolate([]string{"c2"}, append(brokerNames(5), "c1", "c2", "c3"))},
		{name: "combined: partition isolates the controller among the brokers", v: combined,
			step: Step{Kind: KindPartition, Shape: ShapeIsolate, Target: TargetController}, grudge: Isolate([]string{"n2"}, brokerNames(5))},
		{name: "dedicated: one way from the controller", v: dedicated,
			step:   Step{Kind: KindPartition, Shape: ShapeOneWay, Target: TargetController},
			grudge: OneWay([]string{"c2"}, append(brokerNames(5), "c1", "c3"))},
		{name: "ZooKeeper: no quorum targets", v: zk, step: Step{Kind: KindKill, Target: TargetControllersMinority},
			wantErr: "target controllers-minority needs KRaft controllers, the cluster has none"},
		{name: "dedicated: crash acts on brokers only", v: dedicated, step: Step{Kind: KindCrash, Target: TargetController},
			wantErr: "crash acts on brokers, and target controller names c2, a dedicated controller", noTgt: true},
		{name: "dedicated: disk faults act on brokers only", v: dedicated, step: Step{Kind: KindDiskError, Target: TargetController},
			wantErr: "a dedicated controller", noTgt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := resolve(tt.step, tt.v)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Equal(t, tt.noTgt, errors.Is(err, ErrNoTarget), "ErrNoTarget: Run skips the step")
				return
			}
			require.NoError(t, err)
			switch {
			case tt.grudge != nil:
				require.Equal(t, tt.grudge, f.Grudge)
			case tt.want != nil:
				require.Equal(t, tt.want, f.Nodes)
			default:
				require.Len(t, f.Nodes, tt.size)
				require.Subset(t, tt.among, f.Nodes)
				require.True(t, slices.IsSorted(f.Nodes), "sorted: %v", f.Nodes)
			}
			again, err := resolve(tt.step, tt.v)
			require.NoError(t, err)
			require.Equal(t, f, again, "the same step and cluster give the same fault")
		})
	}
}

// Over many picks a quorum minority hits every voter, and a majority never the same set only.
func TestQuorumTargetsUseThePick(t *testing.T) {
	v := kraftView(true)
	hit := map[string]bool{}
	for _, s := range Plan(Config{Kinds: []Kind{KindKill}, Targets: []Target{TargetControllersMinority}, Seed: 3}, 30) {
		f, err := resolve(s, v)
		require.NoError(t, err)
		hit[f.Nodes[0]] = true
	}
	require.Len(t, hit, 3)
}

func TestPlanDrawsTargetsForControllerIsolate(t *testing.T) {
	for _, s := range Plan(Config{Kinds: []Kind{KindControllerIsolate}, Seed: 11, Targets: AllTargets()}, 20) {
		require.Equal(t, KindControllerIsolate, s.Kind)
		require.Contains(t, AllTargets(), s.Target)
		require.Empty(t, s.Shape)
	}
}

func TestControllerIsolationRules(t *testing.T) {
	ip := func(last byte) netip.Addr { return netip.AddrFrom4([4]byte{172, 30, 0, last}) }
	n1 := &broker.Node{Name: "n1", Role: broker.RoleCombined, ID: 1, IP: ip(20)}
	n2 := &broker.Node{Name: "n2", Role: broker.RoleCombined, ID: 2, IP: ip(21)}
	n3 := &broker.Node{Name: "n3", Role: broker.RoleCombined, ID: 3, IP: ip(22)}
	n4 := &broker.Node{Name: "n4", Role: broker.RoleBroker, ID: 4, IP: ip(23)}
	c1 := &broker.Node{Name: "c1", Role: broker.RoleController, ID: 101, IP: ip(30)}
	c2 := &broker.Node{Name: "c2", Role: broker.RoleController, ID: 102, IP: ip(31)}
	combined := []*broker.Node{n1, n2, n3}
	dedicated := []*broker.Node{c1, c2}
	tests := []struct {
		name    string
		nodes   []*broker.Node
		voters  []*broker.Node
		grudge  Grudge
		rules   map[string][]string
		wantErr string
	}{
		{name: "a broker that is no voter: its connections to every voter's controller port",
			nodes: []*broker.Node{n4}, voters: combined,
			grudge: Grudge{"n4": {"n1", "n2", "n3"}},
			rules: map[string][]string{"n4": {
				"-A X -d 172.30.0.20 -p tcp --dport 9093 -j DROP", "-A X -s 172.30.0.20 -p tcp --sport 9093 -j DROP",
				"-A X -d 172.30.0.21 -p tcp --dport 9093 -j DROP", "-A X -s 172.30.0.21 -p tcp --sport 9093 -j DROP",
				"-A X -d 172.30.0.22 -p tcp --dport 9093 -j DROP", "-A X -s 172.30.0.22 -p tcp --sport 9093 -j DROP",
			}}},
		{name: "a combined node: cut from the other voters both ways, not from itself",
			nodes: []*broker.Node{n1}, voters: combined,
			grudge: Grudge{"n1": {"n2", "n3"}, "n2": {"n1"}, "n3": {"n1"}},
			rules: map[string][]string{"n1": {
				"-A X -d 172.30.0.21 -p tcp --dport 9093 -j DROP", "-A X -s 172.30.0.21 -p tcp --sport 9093 -j DROP",
				"-A X -s 172.30.0.21 -p tcp --dport 9093 -j DROP", "-A X -d 172.30.0.21 -p tcp --sport 9093 -j DROP",
				"-A X -d 172.30.0.22 -p tcp --dport 9093 -j DROP", "-A X -s 172.30.0.22 -p tcp --sport 9093 -j DROP",
				"-A X -s 172.30.0.22 -p tcp --dport 9093 -j DROP", "-A X -d 172.30.0.22 -p tcp --sport 9093 -j DROP",
			}}},
		{name: "a node that is no voter (dedicated mode): cut from c1 and c2 one way",
			nodes: []*broker.Node{n1}, voters: dedicated,
			grudge: Grudge{"n1": {"c1", "c2"}},
			rules: map[string][]string{"n1": {
				"-A X -d 172.30.0.30 -p tcp --dport 9093 -j DROP", "-A X -s 172.30.0.30 -p tcp --sport 9093 -j DROP",
				"-A X -d 172.30.0.31 -p tcp --dport 9093 -j DROP", "-A X -s 172.30.0.31 -p tcp --sport 9093 -j DROP",
			}}},
		{name: "a dedicated controller: cut from the other voter both ways",
			nodes: []*broker.Node{c2}, voters: dedicated,
			grudge: Grudge{"c2": {"c1"}, "c1": {"c2"}},
			rules: map[string][]string{"c2": {
				"-A X -d 172.30.0.30 -p tcp --dport 9093 -j DROP", "-A X -s 172.30.0.30 -p tcp --sport 9093 -j DROP",
				"-A X -s 172.30.0.30 -p tcp --dport 9093 -j DROP", "-A X -d 172.30.0.30 -p tcp --sport 9093 -j DROP",
			}}},
		{name: "two brokers: rules on each", nodes: []*broker.Node{n4, n2}, voters: []*broker.Node{n1},
			grudge: Grudge{"n4": {"n1"}, "n2": {"n1"}},
			rules: map[string][]string{
				"n4": {"-A X -d 172.30.0.20 -p tcp --dport 9093 -j DROP", "-A X -s 172.30.0.20 -p tcp --sport 9093 -j DROP"},
				"n2": {"-A X -d 172.30.0.20 -p tcp --dport 9093 -j DROP", "-A X -s 172.30.0.20 -p tcp --sport 9093 -j DROP"},
			}},
		{name: "the only voter has nobody to be cut from", nodes: []*broker.Node{n1}, voters: []*broker.Node{n1},
			wantErr: "n1 has no controller but itself to be cut from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, rules, err := controllerIsolation(tt.nodes, tt.voters)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorIs(t, err, ErrNoTarget)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.grudge, g)
			got := map[string][]string{}
			for node, rs := range rules {
				for _, r := range rs {
					// r.args names the chain by direction; X stands for either.
					got[node] = append(got[node], r.args("X")[len("iptables -w "):])
				}
			}
			require.Equal(t, tt.rules, got)
			for _, rs := range rules {
				for _, r := range rs {
					require.Equal(t, broker.ControllerPort, max(r.dport, r.sport), "only the controller port is cut")
				}
			}
		})
	}
}
