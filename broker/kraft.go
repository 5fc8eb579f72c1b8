package broker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// startKRaft places the KRaft nodes (brokers, combined nodes, dedicated controllers), formats
// their storage with one cluster id and starts them all at once: a controller quorum needs a
// majority of its voters up to elect a leader, and brokers wait for it by themselves.
func (c *Cluster) startKRaft(ctx context.Context, readyTimeout time.Duration, started time.Time) error {
	ports, err := freePorts(c.Spec.Brokers)
	if err != nil {
		return err
	}
	c.clusterID = newClusterID()
	c.brokers, c.controllers = c.Spec.kraftNodes(c.nodeIP, ports)
	for _, n := range c.kafkaNodes() {
		n.cluster = c
	}
	c.admin = newKRaftAdmin(c.brokers)

	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := c.createAll(ctx, c.kafkaNodes()); err != nil {
		return err
	}
	if err := c.waitStarted(ctx); err != nil {
		return err
	}
	c.logf("cluster ready after %s: %s", time.Since(started).Round(100*time.Millisecond), c.Spec.Topology())
	return nil
}

// kraftNodes places a KRaft cluster's nodes: brokers n1..nB with node ids 1..B at .20+, the first
// Controllers of them combined in ControllersCombined mode, else dedicated controllers c1..cK
// with node ids ControllerIDBase+1.. at .30+. ports are the brokers' host ports.
func (s ClusterSpec) kraftNodes(ip func(host int) netip.Addr, ports []int) (brokers, controllers []*Node) {
	for i := range s.Brokers {
		role := RoleBroker
		if s.ControllerMode == ControllersCombined && i < s.Controllers {
			role = RoleCombined
		}
		brokers = append(brokers, &Node{Name: BrokerName(i + 1), Role: role, ID: i + 1, IP: ip(20 + i), HostPort: ports[i]})
	}
	if s.ControllerMode == ControllersDedicated {
		for i := range s.Controllers {
			controllers = append(controllers, &Node{Name: ControllerName(i + 1), Role: RoleController,
				ID: ControllerIDBase + i + 1, IP: ip(30 + i)})
		}
	}
	return brokers, controllers
}

// ClusterID is the KRaft cluster id the nodes' storage was formatted with; "" in ZooKeeper mode.
func (c *Cluster) ClusterID() string { return c.clusterID }

// waitReadyKRaft waits until the quorum has a leader and every broker answers and lists every
// broker: a broker lists only brokers that are registered and unfenced, so each one has then
// caught up with the registrations of all.
func (c *Cluster) waitReadyKRaft(ctx context.Context) error {
	var missing []string
	for {
		missing = missing[:0]
		for _, b := range c.brokers {
			ids, err := c.admin.brokersSeenBy(ctx, b.ID)
			if err != nil {
				missing = append(missing, b.Name)
				continue
			}
			for _, other := range c.brokers {
				if !slices.Contains(ids, other.ID) && !slices.Contains(missing, other.Name) {
					missing = append(missing, other.Name)
				}
			}
		}
		if _, err := c.admin.quorumLeader(ctx); err != nil {
			missing = append(missing, "a quorum leader")
			for _, n := range c.controllers { // dedicated controllers: restart one that exited
				missing = append(missing, n.Name)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		if err := c.checkRunning(ctx, missing); err != nil {
			return err
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			var tails strings.Builder
			for _, n := range c.kafkaNodes() {
				if slices.Contains(missing, n.Name) {
					tails.WriteString(c.tailLogs(n))
				}
			}
			return fmt.Errorf("cluster not ready, still waiting for %s: %w%s", strings.Join(missing, ", "), err, tails.String())
		}
	}
}

// waitBrokerUnfenced waits until some broker lists broker id: registered and unfenced.
func (c *Cluster) waitBrokerUnfenced(ctx context.Context, id int) error {
	for {
		for _, b := range c.brokers {
			if ids, err := c.admin.brokersSeenBy(ctx, b.ID); err == nil && slices.Contains(ids, id) {
				return nil
			}
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			return fmt.Errorf("broker %s did not register unfenced: %w", BrokerName(id), err)
		}
	}
}

// kraftAdmin sends admin requests to one chosen broker at a time: one franz-go client per broker,
// seeded with that broker alone, so that an answer says what that broker knows. A broker serves
// the requests of one connection one at a time, in order, and forwards DescribeQuorum to the
// active controller: while that controller is cut off, the forwarded request waits for it, and
// every Metadata request queued behind it on the same connection waited too (all brokers
// answered nothing for the 30 s the quorum took to elect another leader). Forwarded requests
// therefore go over a client, and a connection, of their own.
type kraftAdmin struct {
	mu      sync.Mutex
	addrs   map[int]string
	clients map[adminConn]*kgo.Client
	closed  bool // the cluster is closed: no new client, so that none outlives it
}

// adminConn names one of the admin's connections: to broker id, for forwarded requests or not.
type adminConn struct {
	id        int
	forwarded bool
}

// forwardedToController reports whether a broker forwards req to the active controller rather
// than answering it from its own metadata.
func forwardedToController(req kmsg.Request) bool {
	return req.Key() == kmsg.DescribeQuorum.Int16()
}

func newKRaftAdmin(brokers []*Node) *kraftAdmin {
	a := &kraftAdmin{addrs: map[int]string{}, clients: map[adminConn]*kgo.Client{}}
	for _, b := range brokers {
		a.addrs[b.ID] = b.HostAddr()
	}
	return a
}

// requestTimeout bounds one admin request; a paused or partitioned broker answers never.
const requestTimeout = 3 * time.Second

// request sends req to broker id.
func (a *kraftAdmin) request(ctx context.Context, id int, req kmsg.Request) (kmsg.Response, error) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, fmt.Errorf("%s to broker %s: the cluster is closed", kmsg.NameForKey(req.Key()), BrokerName(id))
	}
	conn := adminConn{id: id, forwarded: forwardedToController(req)}
	cl, ok := a.clients[conn]
	if !ok {
		addr, known := a.addrs[id]
		if !known {
			a.mu.Unlock()
			return nil, fmt.Errorf("no broker %d", id)
		}
		var err error
		cl, err = kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTimeout(requestTimeout), kgo.RequestRetries(0))
		if err != nil {
			a.mu.Unlock()
			return nil, fmt.Errorf("admin client for %s: %w", addr, err)
		}
		a.clients[conn] = cl
	}
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	seeds := cl.SeedBrokers()
	if len(seeds) == 0 {
		return nil, fmt.Errorf("admin client of broker %d has no seed", id)
	}
	resp, err := seeds[0].Request(ctx, req)
	if err != nil && ctx.Err() == nil {
		// A connection that died with its broker's last restart fails the first request on it at
		// once; the second dials anew.
		resp, err = seeds[0].Request(ctx, req)
	}
	if err != nil {
		return nil, fmt.Errorf("%s to broker %s: %w", kmsg.NameForKey(req.Key()), BrokerName(id), err)
	}
	return resp, nil
}

func (a *kraftAdmin) ids() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]int, 0, len(a.addrs))
	for id := range a.addrs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (a *kraftAdmin) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, cl := range a.clients {
		cl.Close()
	}
	a.clients, a.closed = map[adminConn]*kgo.Client{}, true
}

// brokersSeenBy asks broker id for the brokers it lists in its metadata: the registered and
// unfenced ones, sorted.
func (a *kraftAdmin) brokersSeenBy(ctx context.Context, id int) ([]int, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{} // brokers only, no topic
	resp, err := a.request(ctx, id, req)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, b := range resp.(*kmsg.MetadataResponse).Brokers {
		ids = append(ids, int(b.NodeID))
	}
	slices.Sort(ids)
	return ids, nil
}

// quorumLeader asks every broker at once for the KRaft quorum's leader (they forward
// DescribeQuorum to the active controller) and takes the first answer that names one; a paused
// broker delays nothing. No leader is an error.
func (a *kraftAdmin) quorumLeader(ctx context.Context) (ControllerState, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ids := a.ids()
	type answer struct {
		state ControllerState
		err   error
	}
	answers := make(chan answer, len(ids))
	for _, id := range ids {
		go func() {
			state, err := a.quorumLeaderThrough(ctx, id)
			answers <- answer{state, err}
		}()
	}
	var errs []error
	for range ids {
		ans := <-answers
		if ans.err == nil {
			return ans.state, nil
		}
		errs = append(errs, ans.err)
	}
	return ControllerState{Broker: -1}, fmt.Errorf("no quorum leader: %w", errors.Join(errs...))
}

// quorumLeaderThrough asks broker id for the KRaft quorum's leader.
func (a *kraftAdmin) quorumLeaderThrough(ctx context.Context, id int) (ControllerState, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	t.Partitions = append(t.Partitions, kmsg.NewDescribeQuorumRequestTopicPartition())
	req.Topics = append(req.Topics, t)
	resp, err := a.request(ctx, id, req)
	if err != nil {
		return ControllerState{}, err
	}
	r := resp.(*kmsg.DescribeQuorumResponse)
	if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
		return ControllerState{}, fmt.Errorf("DescribeQuorum through %s: %w", BrokerName(id), err)
	}
	if len(r.Topics) != 1 || len(r.Topics[0].Partitions) != 1 {
		return ControllerState{}, fmt.Errorf("DescribeQuorum through %s: no partition in the answer", BrokerName(id))
	}
	p0 := r.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p0.ErrorCode); err != nil {
		return ControllerState{}, fmt.Errorf("DescribeQuorum through %s: %w", BrokerName(id), err)
	}
	if p0.LeaderID < 0 {
		return ControllerState{}, fmt.Errorf("DescribeQuorum through %s: no leader in epoch %d", BrokerName(id), p0.LeaderEpoch)
	}
	return ControllerState{Broker: int(p0.LeaderID), Epoch: int(p0.LeaderEpoch)}, nil
}

// partitionsSeenBy asks broker id for the state of every partition it knows, with
// DescribeTopicPartitions (Kafka 3.8 on: it carries the ELR), or Metadata where that is not
// served. The states have no version (see liveState).
func (a *kraftAdmin) partitionsSeenBy(ctx context.Context, id int) ([]PartitionState, error) {
	var out []PartitionState
	req := kmsg.NewPtrDescribeTopicPartitionsRequest() // no topic: every topic
	for {
		resp, err := a.request(ctx, id, req)
		if err != nil {
			// franz-go says "broker is too old" when the broker does not serve the API.
			if errors.Is(err, kerr.UnsupportedVersion) || strings.Contains(err.Error(), "too old") {
				return a.partitionsFromMetadata(ctx, id, err)
			}
			return nil, err
		}
		r := resp.(*kmsg.DescribeTopicPartitionsResponse)
		for _, t := range r.Topics {
			if t.Topic == nil || kerr.ErrorForCode(t.ErrorCode) != nil {
				continue
			}
			for _, p := range t.Partitions {
				if kerr.ErrorForCode(p.ErrorCode) != nil {
					continue
				}
				out = append(out, liveState(*t.Topic, p.Partition, p.LeaderID, p.LeaderEpoch, p.ISR, p.EligibleLeaderReplicas, p.LastKnownELR))
			}
		}
		if r.NextCursor == nil {
			break
		}
		req.Cursor = &kmsg.DescribeTopicPartitionsRequestCursor{Topic: r.NextCursor.Topic, Partition: r.NextCursor.Partition}
	}
	slices.SortFunc(out, func(a, b PartitionState) int { return compareKeys(a.Key, b.Key) })
	return out, nil
}

// partitionsFromMetadata is partitionsSeenBy for brokers without DescribeTopicPartitions: no ELR.
func (a *kraftAdmin) partitionsFromMetadata(ctx context.Context, id int, why error) ([]PartitionState, error) {
	resp, err := a.request(ctx, id, kmsg.NewPtrMetadataRequest())
	if err != nil {
		return nil, errors.Join(why, err)
	}
	var out []PartitionState
	for _, t := range resp.(*kmsg.MetadataResponse).Topics {
		if t.Topic == nil || kerr.ErrorForCode(t.ErrorCode) != nil {
			continue
		}
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil && !errors.Is(err, kerr.LeaderNotAvailable) {
				continue
			}
			out = append(out, liveState(*t.Topic, p.Partition, p.Leader, p.LeaderEpoch, p.ISR, nil, nil))
		}
	}
	slices.SortFunc(out, func(a, b PartitionState) int { return compareKeys(a.Key, b.Key) })
	return out, nil
}

// liveState is a partition state a broker reported. No API gives the partition epoch, which
// counts every change in KRaft: the leader epoch stands in for the version (ZkVersion), since it
// grows by one with every election, and the checkers' rule (a version more than one past the last
// is a gap) then reads a missed election as missed states. PartitionEpoch stays 0 and Source
// empty: a live state is never exact.
func liveState(topic string, partition, leader, leaderEpoch int32, isr, elr, lastKnownELR []int32) PartitionState {
	return PartitionState{
		Key:          topic + "/" + strconv.Itoa(int(partition)),
		Leader:       int(leader),
		LeaderEpoch:  int(leaderEpoch),
		ISR:          ints(isr),
		ELR:          optionalInts(elr),
		LastKnownELR: optionalInts(lastKnownELR),
		ZkVersion:    int(leaderEpoch),
	}
}

// ints converts a replica list, never nil (the history writes "isr":[] for an empty ISR).
func ints(s []int32) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}

// optionalInts converts a replica list, nil when empty (ELR fields are omitted when empty).
func optionalInts(s []int32) []int {
	if len(s) == 0 {
		return nil
	}
	return ints(s)
}

// describeKRaft is Describe in KRaft mode: the brokers half the brokers list, the quorum
// leader as the controller, and each partition's freshest state among the brokers' answers.
func (c *Cluster) describeKRaft(ctx context.Context) (Snapshot, error) {
	v := c.admin.askEveryBroker(ctx, true)
	// quorumLeader answers Broker -1 when no broker names a leader.
	snap := Snapshot{Controller: v.controller, Registered: v.registered}
	if len(v.partitions) == 0 {
		return snap, fmt.Errorf("describe the cluster: no broker answered: %w", errors.Join(v.errs...))
	}
	snap.Partitions = freshest(v.partitions)
	return snap, ctx.Err()
}

// brokerViews is what the brokers, asked at once, answered.
type brokerViews struct {
	// partitions are the partition states each broker that answered sees, by broker id.
	partitions map[int][]PartitionState
	// registered are the brokers at least half the answering brokers list (registeredByHalf),
	// sorted; asked for only by Describe.
	registered []int
	// errs are the errors of the brokers that did not answer.
	errs []error
	// controller is the quorum's leader (Broker -1 when no broker names one), unless controllerErr.
	controller    ControllerState
	controllerErr error
}

// askEveryBroker asks every broker at once for the partitions it sees (and, with registered, the
// brokers it lists) and the quorum for its leader. One by one, a paused broker held each request
// for requestTimeout, and the brokers after it were never asked before the caller's deadline.
func (a *kraftAdmin) askEveryBroker(ctx context.Context, registered bool) brokerViews {
	ids := a.ids()
	seen := make([][]int, len(ids))
	views := make([][]PartitionState, len(ids))
	errs := make([]error, len(ids))
	var v brokerViews
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			if registered {
				var err error
				if seen[i], err = a.brokersSeenBy(ctx, id); err != nil {
					errs[i] = err
					return
				}
			}
			views[i], errs[i] = a.partitionsSeenBy(ctx, id)
		})
	}
	wg.Go(func() { v.controller, v.controllerErr = a.quorumLeader(ctx) })
	wg.Wait()
	v.partitions = map[int][]PartitionState{}
	listedBy := map[int]int{}
	for i, id := range ids {
		if errs[i] == nil {
			v.partitions[id] = views[i]
			for _, b := range seen[i] {
				listedBy[b]++
			}
		} else {
			v.errs = append(v.errs, errs[i])
		}
	}
	v.registered = registeredByHalf(listedBy, len(v.partitions))
	return v
}

// registeredByHalf returns the brokers that at least half of the answering brokers list, sorted,
// given how many list each. A broker cut from the controllers is fenced, but its own metadata
// stands still and lists it still: one stale view must not count it registered. Half, not a
// majority, so that of two brokers one catching up after a restart does not unregister the
// other.
func registeredByHalf(listedBy map[int]int, answered int) []int {
	var out []int
	for b, n := range listedBy {
		if 2*n >= answered {
			out = append(out, b)
		}
	}
	slices.Sort(out)
	return out
}

// freshest merges the brokers' views, keyed by broker id, into one state per partition: the one
// with the highest leader epoch; between equal epochs the partition leader's own view (it learns
// its ISR changes first), else the lowest broker id's. Sorted by key.
func freshest(views map[int][]PartitionState) []PartitionState {
	type pick struct {
		s    PartitionState
		from int
	}
	best := map[string]pick{}
	ids := make([]int, 0, len(views))
	for id := range views {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		for _, s := range views[id] {
			cur, ok := best[s.Key]
			if !ok || s.LeaderEpoch > cur.s.LeaderEpoch ||
				(s.LeaderEpoch == cur.s.LeaderEpoch && id == s.Leader && cur.from != cur.s.Leader) {
				best[s.Key] = pick{s, id}
			}
		}
	}
	out := make([]PartitionState, 0, len(best))
	for _, p := range best {
		out = append(out, p.s)
	}
	slices.SortFunc(out, func(a, b PartitionState) int { return compareKeys(a.Key, b.Key) })
	return out
}
