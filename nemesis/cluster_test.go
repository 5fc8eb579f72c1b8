package nemesis

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/broker/brokertest"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

// These tests run against a real cluster (scripts/setup provides the engine and the image); -short
// skips them. One cluster is shared by the subtests of TestFaultsOnARealCluster, each of which
// leaves it healed.

// TestMain also runs the child process of TestSIGINTHealsAPartitionAndAPause, and checks that
// the tests left no container or network of this process behind.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChild()
		return
	}
	os.Exit(brokertest.CheckLeftovers(m.Run(), "nemesis"))
}

// events collects what a nemesis records.
type events struct {
	mu   sync.Mutex
	seen []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = append(e.seen, ev)
}

func (e *events) all() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.seen)
}

func (e *events) fs() []string {
	var out []string
	for _, ev := range e.all() {
		out = append(out, ev.F)
	}
	return out
}

// port is the port a probe connects to: Kafka's inter-broker listener, or ZooKeeper's client port.
func port(n *broker.Node) int {
	if n.Role == broker.RoleZooKeeper {
		return 2181
	}
	return 9092
}

// halfOpen returns the half-open connections (SYN received, handshake not completed) that node to
// holds from node from: proof that from's SYN arrived even though the connection never completed.
func halfOpen(ctx context.Context, to, from *broker.Node) ([]string, error) {
	out, err := to.Exec(ctx, "ss", "-Htn", "state", "syn-recv")
	if err != nil {
		return nil, err
	}
	var peers []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[2] == fmt.Sprintf("%s:%d", to.IP, port(to)) && strings.HasPrefix(f[3], from.IP.String()+":") {
			peers = append(peers, f[3])
		}
	}
	return peers, nil
}

// link is what a probe from one node to another found.
type link struct {
	connected bool // a TCP connection completed
	arrived   bool // from's packets reached to
}

// probe opens a TCP connection from one node to another. When it does not complete, to's
// half-open connections tell whether from's SYN arrived (the cut is then the other way).
func probe(ctx context.Context, from, to *broker.Node) (link, error) {
	before, err := halfOpen(ctx, to, from)
	if err != nil {
		return link{}, err
	}
	_, err = from.Exec(ctx, "timeout", "5", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d", to.IP, port(to)))
	if err == nil {
		return link{connected: true, arrived: true}, nil
	}
	after, err := halfOpen(ctx, to, from)
	if err != nil {
		return link{}, err
	}
	for _, p := range after {
		if !slices.Contains(before, p) {
			return link{arrived: true}, nil
		}
	}
	return link{}, nil
}

// requireLinks probes every ordered pair of nodes at once and checks each against want.
func requireLinks(t *testing.T, nodes []*broker.Node, want func(from, to string) link) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type pair struct{ from, to *broker.Node }
	var pairs []pair
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				pairs = append(pairs, pair{a, b})
			}
		}
	}
	got := make([]link, len(pairs))
	errs := make([]error, len(pairs))
	var wg sync.WaitGroup
	for i, p := range pairs {
		wg.Go(func() { got[i], errs[i] = probe(ctx, p.from, p.to) })
	}
	wg.Wait()
	for i, p := range pairs {
		require.NoError(t, errs[i])
		require.Equal(t, want(p.from.Name, p.to.Name), got[i], "%s -> %s", p.from.Name, p.to.Name)
	}
}

// underGrudge is the link a probe finds under g: a connection needs both ways, a SYN only one.
func underGrudge(g Grudge) func(from, to string) link {
	return func(from, to string) link {
		arrives := !g.Drops(to, from)
		return link{connected: arrives && !g.Drops(from, to), arrived: arrives}
	}
}

func fullyConnected(string, string) link { return link{connected: true, arrived: true} }

// requireHealed checks that no node holds a kchaos rule or is paused, that every broker is
// registered and that every partition of the topics has a leader and its full ISR again (rf
// maps each topic to its replication factor).
func requireHealed(t *testing.T, c *broker.Cluster, rf map[string]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, n := range c.Nodes() {
		running, paused, err := n.Running(ctx)
		require.NoError(t, err)
		require.True(t, running, "%s is not running", n.Name)
		require.False(t, paused, "%s is still paused", n.Name)
		chains, err := Chains(ctx, n)
		require.NoError(t, err)
		require.Empty(t, chains, "%s still holds kchaos rules", n.Name)
	}
	require.NoError(t, waitUntil(ctx, func() error {
		snap, err := c.Describe(ctx)
		if err != nil {
			return err
		}
		if len(snap.Registered) != len(c.Brokers()) {
			return fmt.Errorf("registered: %v", snap.Registered)
		}
		for _, p := range snap.Partitions {
			topic, _, _ := strings.Cut(p.Key, "/")
			if want, ok := rf[topic]; ok && (p.Leader < 1 || len(p.ISR) != want) {
				return fmt.Errorf("%s: leader %d, ISR %v", p.Key, p.Leader, p.ISR)
			}
		}
		return nil
	}), "the cluster did not recover")
}

// recoverCluster undoes whatever a failed subtest left: rules, paused and killed brokers.
func recoverCluster(t *testing.T, c *broker.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, HealNetwork(ctx, c))
	for _, b := range c.Brokers() {
		running, _, err := b.Running(ctx)
		require.NoError(t, err)
		if !running {
			require.NoError(t, waitUntil(ctx, func() error {
				if ok, err := registered(ctx, c, b.ID); err != nil || ok {
					return fmt.Errorf("%s still registered (%v)", b.Name, err)
				}
				return nil
			}))
			require.NoError(t, b.Start(ctx))
		}
	}
}

// writeTraffic writes small records to topic every 20 ms until stop is called: a follower only
// falls out of the ISR when the leader has records it lacks. Writes fail while the leader is cut
// from clients; that is expected and ignored.
func writeTraffic(t *testing.T, c *broker.Cluster, topic string) (stop func()) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(c.BootstrapAddrs()...), Topic: topic, RequiredAcks: kafka.RequireOne,
		MaxAttempts: 1, BatchTimeout: time.Millisecond, WriteTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var ok, failed int
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
			if err := w.WriteMessages(wctx, kafka.Message{Value: []byte(strconv.Itoa(i))}); err != nil {
				failed++
			} else {
				ok++
			}
			wcancel()
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			_ = w.Close()
			t.Logf("traffic: %d writes acknowledged, %d failed", ok, failed)
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitUntil(ctx context.Context, check func() error) error {
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func registered(ctx context.Context, c *broker.Cluster, id int) (bool, error) {
	snap, err := c.Describe(ctx)
	if err != nil {
		return false, err
	}
	return slices.Contains(snap.Registered, id), nil
}

// answers reports whether a broker answers a Kafka ApiVersions request within 3 s.
func answers(n *broker.Node) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(n.HostAddr()), Timeout: 3 * time.Second, Transport: tr}
	_, err := cl.ApiVersions(ctx, &kafka.ApiVersionsRequest{})
	return err == nil
}

func leaderOf(t *testing.T, c *broker.Cluster, key string) broker.PartitionState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := WaitISR(ctx, c, key, func(st broker.PartitionState) bool { return st.Leader > 0 && len(st.ISR) == 3 })
	require.NoError(t, err)
	return st
}

func TestFaultsOnARealCluster(t *testing.T) {
	c := brokertest.StartCluster(t, brokertest.FastSpec())
	obs := brokertest.Observe(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const topic = "t"
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 3}))
	topics := map[string]int{topic: 3}
	brokers := c.Brokers()
	n1, n2, n3 := brokers[0], brokers[1], brokers[2]
	step := func(name string, fn func(t *testing.T)) {
		started := time.Now()
		ok := t.Run(name, fn)
		t.Logf("%s: %s", name, time.Since(started).Round(100*time.Millisecond))
		if !ok {
			recoverCluster(t, c)
		}
		requireHealed(t, c, topics)
	}

	step("partition n1 | n2,n3 between brokers, then heal", func(t *testing.T) {
		g := Isolate([]string{"n1"}, []string{"n1", "n2", "n3"})
		cut, err := Partition(ctx, c, g, TrafficBrokers)
		require.NoError(t, err)
		require.Equal(t, g, cut.Grudge(), "broker traffic only: ZooKeeper and clients are left alone")
		requireLinks(t, c.Nodes(), underGrudge(g))
		require.NoError(t, cut.Heal(ctx))
		require.NoError(t, cut.Heal(ctx), "healing twice is harmless")
		requireLinks(t, c.Nodes(), fullyConnected)
	})

	step("one-way cuts, each in the direction asked", func(t *testing.T) {
		for i, dir := range []struct{ from, to string }{{"n1", "n2"}, {"n3", "n1"}} {
			g := OneWay([]string{dir.from}, []string{dir.to})
			cut, err := Partition(ctx, c, g, TrafficBrokers)
			require.NoError(t, err)
			// The SYN gets through the way that is not cut; the connection needs both ways.
			requireLinks(t, brokers, underGrudge(g))
			if i == 1 {
				// What another process left is removed too.
				require.NoError(t, HealNetwork(ctx, c))
				chains, err := Chains(ctx, n1)
				require.NoError(t, err)
				require.Empty(t, chains)
			}
			require.NoError(t, cut.Heal(ctx))
		}
		requireLinks(t, brokers, fullyConnected)
	})

	step("partition with all traffic cuts the minority from ZooKeeper and clients", func(t *testing.T) {
		n := New(c, Config{}, nil)
		id, err := n.Start(ctx, Fault{Kind: KindPartition, Grudge: Isolate([]string{"n3"}, names(brokers)), Shape: ShapeIsolate})
		require.NoError(t, err)
		require.Equal(t, []string{"partition isolate zk1<-n3 n1<-n3 n2<-n3 n3<-zk1,n1,n2,clients clients<-n3 (all traffic)"}, n.Active())
		requireLinks(t, c.Nodes(), func(from, to string) link {
			if (from == "n3") != (to == "n3") {
				return link{}
			}
			return fullyConnected(from, to)
		})
		require.False(t, answers(n3), "clients no longer reach n3")
		require.True(t, answers(n1))
		require.NoError(t, n.Stop(ctx, id))
		require.Empty(t, n.Active())
		require.True(t, answers(n3))
	})

	step("zk-isolate: the registration goes after the session timeout and comes back after heal", func(t *testing.T) {
		cut, err := IsolateFromZooKeeper(ctx, c, []string{"n2"})
		require.NoError(t, err)
		cutAt := time.Now()
		zk := c.ZooKeeper()[0]
		requireLinks(t, []*broker.Node{zk, n1, n2}, func(from, to string) link {
			if (from == "n2" && to == "zk1") || (from == "zk1" && to == "n2") {
				return link{}
			}
			return fullyConnected(from, to)
		})
		require.NoError(t, waitUntil(ctxTimeout(t, 60*time.Second), func() error {
			if ok, err := registered(ctx, c, 2); err != nil || ok {
				return fmt.Errorf("still registered (%v)", err)
			}
			return nil
		}))
		gone := time.Since(cutAt)
		require.GreaterOrEqual(t, gone, 4*time.Second, "the znode went before the session could expire")
		t.Logf("/brokers/ids/2 gone %s after the cut", gone.Round(100*time.Millisecond))
		require.NoError(t, cut.Heal(ctx))
		healedAt := time.Now()
		require.NoError(t, c.WaitBrokerRegistered(ctxTimeout(t, 60*time.Second), 2))
		t.Logf("/brokers/ids/2 back %s after the heal", time.Since(healedAt).Round(100*time.Millisecond))
	})

	step("lag: the follower leaves the ISR and rejoins after heal", func(t *testing.T) {
		st := leaderOf(t, c, topic+"/0")
		leader := c.Broker(st.Leader)
		follower := c.Broker(slices.DeleteFunc(slices.Clone(st.ISR), func(id int) bool { return id == st.Leader })[0])
		at := len(obs.States(topic + "/0"))
		defer writeTraffic(t, c, topic)()
		n := New(c, Config{}, nil)
		started := time.Now()
		id, err := n.Start(ctx, Fault{Kind: KindLag, Follower: follower.Name, Leader: leader.Name, Key: topic + "/0"})
		require.NoError(t, err)
		require.Equal(t, []string{"lag " + follower.Name + " 90% loss"}, n.Active())
		_, at = obs.WaitState(t, topic+"/0", at, 90*time.Second, follower.Name+" out of the ISR", func(s broker.PartitionState) bool {
			return s.Leader == leader.ID && !slices.Contains(s.ISR, follower.ID)
		})
		t.Logf("%s left the ISR %s after the lag began", follower.Name, time.Since(started).Round(100*time.Millisecond))
		ok, err := registered(ctx, c, follower.ID)
		require.NoError(t, err)
		require.True(t, ok, "a lagging follower keeps its ZooKeeper session")
		require.NoError(t, n.Stop(ctx, id))
		healedAt := time.Now()
		obs.WaitState(t, topic+"/0", at+1, 90*time.Second, follower.Name+" back in the ISR", func(s broker.PartitionState) bool {
			return slices.Contains(s.ISR, follower.ID)
		})
		t.Logf("%s rejoined the ISR %s after the heal", follower.Name, time.Since(healedAt).Round(100*time.Millisecond))
	})

	step("pause: the broker stops answering, resume brings it back", func(t *testing.T) {
		ev := &events{}
		n := New(c, Config{}, ev.add)
		require.True(t, answers(n2))
		id, err := n.Start(ctx, Fault{Kind: KindPause, Nodes: []string{"n2"}})
		require.NoError(t, err)
		_, paused, err := n2.Running(ctx)
		require.NoError(t, err)
		require.True(t, paused)
		require.False(t, answers(n2), "a paused broker must not answer")
		require.Equal(t, []string{"pause n2"}, n.Active())
		require.NoError(t, n.Stop(ctx, id))
		require.True(t, answers(n2), "a resumed broker answers")
		require.Equal(t, []string{"start-pause", "stop-pause"}, ev.fs())
		require.Equal(t, NodesValue{Nodes: []string{"n2"}}, ev.all()[0].Value)
	})

	step("kill: the process is gone, the restart brings it back with its data", func(t *testing.T) {
		// A topic whose only replica is n3: what it serves after the restart was on its disk.
		cl := &kafka.Client{Addr: kafka.TCP(c.BootstrapAddrs()...), Timeout: 30 * time.Second}
		resp, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: "only-n3",
			NumPartitions: -1, ReplicationFactor: -1, ReplicaAssignments: []kafka.ReplicaAssignment{{Partition: 0, Replicas: []int{3}}}}}})
		require.NoError(t, err)
		require.NoError(t, resp.Errors["only-n3"])
		topics["only-n3"] = 1
		_, err = WaitISR(ctxTimeout(t, 30*time.Second), c, "only-n3/0", func(s broker.PartitionState) bool { return s.Leader == 3 })
		require.NoError(t, err)
		w := &kafka.Writer{Addr: kafka.TCP(c.BootstrapAddrs()...), Topic: "only-n3", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
		const count = 20
		for i := range count {
			require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: []byte(strconv.Itoa(i))}))
		}
		require.NoError(t, w.Close())

		ev := &events{}
		n := New(c, Config{}, ev.add)
		id, err := n.Start(ctx, Fault{Kind: KindKill, Nodes: []string{"n3"}})
		require.NoError(t, err)
		running, _, err := n3.Running(ctx)
		require.NoError(t, err)
		require.False(t, running, "the killed broker's process must be gone")
		require.False(t, answers(n3))
		restartAt := time.Now()
		require.NoError(t, n.Stop(ctx, id))
		t.Logf("n3 restarted and registered in %s", time.Since(restartAt).Round(100*time.Millisecond))
		ok, err := registered(ctx, c, 3)
		require.NoError(t, err)
		require.True(t, ok, "Stop returns once the broker is registered again")
		require.Equal(t, []string{"start-kill", "stop-kill"}, ev.fs())

		r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.BootstrapAddrs(), Topic: "only-n3", Partition: 0, MaxWait: 200 * time.Millisecond})
		defer r.Close()
		require.NoError(t, r.SetOffset(0))
		rctx, rcancel := context.WithTimeout(ctx, time.Minute)
		defer rcancel()
		for i := range count {
			m, err := r.ReadMessage(rctx)
			require.NoError(t, err, "reading message %d after the restart", i)
			require.Equal(t, strconv.Itoa(i), string(m.Value))
		}
	})

	step("jepsen-2013: the ISR shrinks to the leader, then the leader is isolated", func(t *testing.T) {
		// The hard case: the controller is a follower, which the leader must still reach to shrink
		// the ISR. Three partitions have their leaders on three brokers; take one the controller
		// does not lead.
		require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "j", Partitions: 3, ReplicationFactor: 3}))
		topics["j"] = 3
		snap, err := c.Describe(ctx)
		require.NoError(t, err)
		var st broker.PartitionState
		for _, p := range snap.Partitions {
			if strings.HasPrefix(p.Key, "j/") && p.Leader > 0 && p.Leader != snap.Controller.Broker && len(p.ISR) == 3 {
				st = p
			}
		}
		require.NotZero(t, st.Leader, "no partition of j is led by a broker other than the controller: %+v", snap)
		leader := c.Broker(st.Leader)
		t.Logf("%s: leader %s, controller n%d", st.Key, leader.Name, snap.Controller.Broker)
		defer writeTraffic(t, c, "j")()
		ev := &events{}
		n := New(c, Config{RecoverTimeout: time.Minute}, ev.add)
		started := time.Now()
		id, err := n.Start(ctx, Fault{Kind: KindJepsen2013, Key: st.Key})
		require.NoError(t, err)
		t.Logf("ISR shrank and %s was isolated %s after the cut", leader.Name, time.Since(started).Round(100*time.Millisecond))
		require.Equal(t, []string{"start-jepsen-2013", "isolate-jepsen-2013"}, ev.fs())
		require.Empty(t, ev.all()[1].Error)
		first, second := ev.all()[0].Value.(Jepsen2013Value), ev.all()[1].Value.(Jepsen2013Value)
		require.Equal(t, leader.Name, first.Leader)
		require.Equal(t, PhaseCutReplication, first.Phase)
		require.NotContains(t, first.Grudge.Nodes(), "zk1", "the first phase leaves ZooKeeper alone")
		require.Equal(t, broker.InterBrokerPort, first.Port)
		require.Len(t, first.Grudge[leader.Name], 2, "the leader drops both followers' fetches")
		require.Equal(t, []int{leader.ID}, second.ISR)
		require.Equal(t, PhaseIsolateLeader, second.Phase)
		require.GreaterOrEqual(t, second.AloneMs, jepsen2013Alone.Milliseconds(), "the leader served alone in the ISR before it was isolated")
		require.Contains(t, second.Grudge[leader.Name], "zk1")
		require.Contains(t, second.Grudge[leader.Name], Clients)
		// Isolated from ZooKeeper, the leader loses its session; with unclean election off nobody
		// else may lead, so the partition has no leader.
		_, err = WaitISR(ctxTimeout(t, 60*time.Second), c, st.Key, func(s broker.PartitionState) bool { return s.Leader == -1 })
		require.NoError(t, err)
		require.NoError(t, n.Stop(ctx, id))
		require.Equal(t, []string{"start-jepsen-2013", "isolate-jepsen-2013", "stop-jepsen-2013"}, ev.fs())
		stop := ev.all()[2]
		require.Equal(t, []string{leader.Name}, stop.Value.(NodesValue).Nodes)
		require.Equal(t, st.Key, stop.Value.(NodesValue).Key)
		a := achievedOf(t, stop)
		require.Empty(t, a.Error)
		require.GreaterOrEqual(t, a.Leaderless, 1, "the stop line says the partition was left without a leader: %+v", *a)
		require.True(t, a.ISRShrunk, "%+v", *a)
	})

	step("Run: a seeded schedule starts and stops faults, and heals when it ends", func(t *testing.T) {
		ev := &events{}
		// The hold covers what the faults need on this cluster: a 6 s session timeout + 2 s.
		cfg := Config{Kinds: []Kind{KindPause, KindPartition, KindZKIsolate}, Interval: 500 * time.Millisecond,
			Hold: 8 * time.Second, Seed: 7, Topic: topic, Targets: []Target{TargetOne, TargetMinority, TargetPrimaries}}
		require.ErrorContains(t, New(c, Config{Kinds: cfg.Kinds, Interval: 500 * time.Millisecond, Hold: 1500 * time.Millisecond}, nil).Run(ctx),
			"hold 1.5s is shorter than what pause needs to play out: 6s (zookeeper.session.timeout.ms) + 2s",
			"the nemesis knows the cluster's session timeout")
		n := New(c, cfg, ev.add)
		rctx, rcancel := context.WithTimeout(ctx, 18*time.Second)
		defer rcancel()
		require.NoError(t, n.Run(rctx))
		require.Empty(t, n.Active())
		got := ev.all()
		require.NotEmpty(t, got)
		var open []string
		held := 0
		for _, e := range got {
			require.Empty(t, e.Error, "%s failed", e.F)
			kind, isStart := strings.CutPrefix(e.F, "start-")
			if isStart {
				require.Empty(t, open, "one fault at a time")
				open = append(open, kind)
				continue
			}
			kind, isStop := strings.CutPrefix(e.F, "stop-")
			require.True(t, isStop, e.F)
			require.Equal(t, []string{kind}, open)
			open = nil
			a := achievedOf(t, e)
			require.Empty(t, a.Error)
			if a.HeldMs >= cfg.Hold.Milliseconds() {
				held++
			}
			t.Logf("%s achieved %+v", e.F, *a)
		}
		require.Empty(t, open, "every fault was stopped")
		require.GreaterOrEqual(t, held, 1, "a fault the schedule stopped was held for the whole hold")
		t.Logf("events: %v", ev.fs())
	})

	step("Heal heals faults of every kind at once, and again is a no-op", func(t *testing.T) {
		ev := &events{}
		n := New(c, Config{}, ev.add)
		_, err := n.Start(ctx, Fault{Kind: KindPartition, Grudge: Isolate([]string{"n1"}, names(brokers)), Traffic: TrafficBrokers})
		require.NoError(t, err)
		_, err = n.Start(ctx, Fault{Kind: KindPause, Nodes: []string{"n1", "n2"}})
		require.NoError(t, err)
		_, err = n.Start(ctx, Fault{Kind: KindZKIsolate, Nodes: []string{"n3"}})
		require.NoError(t, err)
		require.Len(t, n.Active(), 3)
		require.NoError(t, n.Heal(ctx))
		require.Empty(t, n.Active())
		// The pause is healed first: its nodes hold rules that cannot be removed while frozen.
		require.Equal(t, []string{"start-partition", "start-pause", "start-zk-isolate", "stop-pause", "stop-zk-isolate", "stop-partition"}, ev.fs())
		require.NoError(t, n.Heal(ctx))
		require.Len(t, ev.all(), 6)
	})
}

// achievedOf returns what a stop line says its fault achieved.
func achievedOf(t *testing.T, e Event) *Achieved {
	t.Helper()
	var a *Achieved
	switch v := e.Value.(type) {
	case NodesValue:
		a = v.Achieved
	case PartitionStopValue:
		a = v.Achieved
	default:
		t.Fatalf("%s: unexpected stop value %#v", e.F, e.Value)
	}
	require.NotNil(t, a, "%s has no achieved", e.F)
	return a
}

// With Kafka's default session timeout (18 s) jepsen-2013 holds its isolated leader until the
// controller has elected another: the run of the issue, whose 15 s isolation elected nobody.
func TestFaultsOnARealClusterJepsen2013ElectsWithDefaultSessionTimeout(t *testing.T) {
	spec := brokertest.FastSpec()
	spec.ZooKeeperSessionTimeoutMs = 0 // Kafka's 18 s
	spec.UncleanLeaderElection = true
	spec.MinInsyncReplicas = 1
	c := brokertest.StartCluster(t, spec)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "j", Partitions: 1, ReplicationFactor: 3}))
	before := leaderOf(t, c, "j/0")
	defer writeTraffic(t, c, "j")()

	ev := &events{}
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	n := New(c, Config{Kinds: []Kind{KindJepsen2013}, Interval: time.Second, Seed: 1, Topic: "j"}, func(e Event) {
		ev.add(e)
		if e.F == "stop-jepsen-2013" {
			rcancel()
		}
	})
	require.Equal(t, 18*time.Second, n.Config().SessionTimeout, "taken from the cluster")
	started := time.Now()
	require.NoError(t, n.Run(rctx))
	t.Logf("jepsen-2013 ran for %s: %v", time.Since(started).Round(100*time.Millisecond), ev.fs())
	require.Equal(t, []string{"start-jepsen-2013", "isolate-jepsen-2013", "stop-jepsen-2013"}, ev.fs())
	for _, e := range ev.all() {
		require.Empty(t, e.Error, "%s failed", e.F)
	}
	a := achievedOf(t, ev.all()[2])
	t.Logf("achieved: %+v", *a)
	require.Empty(t, a.Error)
	require.GreaterOrEqual(t, a.Elections, 1, "the controller elected a new leader before the heal")
	require.NotEmpty(t, a.NewLeader)
	require.NotEqual(t, broker.BrokerName(before.Leader), a.NewLeader)
	require.Less(t, a.HeldMs, (3*18*time.Second + 20*time.Second).Milliseconds(), "the hold ends at the new leader, not at the cap")
	requireHealed(t, c, map[string]int{"j": 3})
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
