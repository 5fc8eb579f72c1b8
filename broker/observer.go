package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/kchaos/kchaos/history"
)

// What the observer reports: the types of shared/HISTORY.md's observer lines, defined once in
// package history, so that what the observer saw is written and read back as one type.

// PartitionState is one version of /brokers/topics/T/partitions/P/state. Leader -1 means no leader.
type PartitionState = history.PartitionState

// ControllerState is the content of /controller and /controller_epoch. Broker -1 means no controller.
type ControllerState = history.Controller

// ObserverGap says that versions of a key's state znode between FromVersion and ToVersion (both
// exclusive) changed before the observer could read them.
type ObserverGap = history.ObserverGap

// Observation kinds, the f of the observer's history lines.
const (
	ObservedPartitionState = history.FPartitionState
	ObservedController     = history.FController
	ObservedGap            = history.FObserverGap
)

// Observation is one thing the observer saw, when it saw it. Value is a PartitionState,
// ControllerState or ObserverGap, as F says.
type Observation struct {
	Seen  time.Time
	F     string
	Value any
}

// Observer watches ZooKeeper for every change of each partition's state znode and of the
// controller. It discovers topics and partitions as they are created.
type Observer struct {
	conn   *zk.Conn
	emit   func(Observation)
	emitMu sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	watching map[string]bool  // state znode paths with a watcher
	last     map[string]int32 // key → the zk_version of the last state reported

	// kraft is set for an observer of a KRaft cluster, which polls instead of watching.
	kraft *kraftPoller
}

// Observe starts an observer of the cluster's ZooKeeper, or in KRaft mode a poller of the brokers
// (see kraftobserver.go). emit is called for every observation, one call at a time, in the order
// seen. Stop the observer with Close.
func (c *Cluster) Observe(ctx context.Context, emit func(Observation)) (*Observer, error) {
	if c.Spec.KRaft() {
		return c.observeKRaft(ctx, emit)
	}
	return ObserveZooKeeper(ctx, c.ZooKeeperAddrs(), emit)
}

// ObserveZooKeeper starts an observer of the ZooKeeper ensemble at addrs.
func ObserveZooKeeper(ctx context.Context, addrs []string, emit func(Observation)) (*Observer, error) {
	conn, _, err := zk.Connect(addrs, 10*time.Second, zk.WithLogInfo(false), zk.WithLogger(silentLogger{}))
	if err != nil {
		return nil, fmt.Errorf("observer: connect to ZooKeeper %s: %w", strings.Join(addrs, ","), err)
	}
	ctx, cancel := context.WithCancel(ctx)
	o := &Observer{conn: conn, emit: emit, cancel: cancel, watching: map[string]bool{}, last: map[string]int32{}}
	o.wg.Add(2)
	go o.watchController(ctx)
	go o.watchTopics(ctx)
	return o, nil
}

// Close stops every watcher, reads every partition's state once more, and closes the ZooKeeper
// session. The last read reports what the watchers had not: a state changed since the last one
// reported (after a gap when versions were skipped), a partition never watched. A missed
// observation then shows in the history instead of passing unseen.
func (o *Observer) Close() {
	if o.kraft != nil {
		o.kraft.close()
		return
	}
	o.cancel()
	o.wg.Wait()
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.catchUp()
	}()
	// ZooKeeper may be gone already (a cluster removed first): closing the session ends the
	// reads that wait for it.
	select {
	case <-done:
	case <-time.After(catchUpTimeout):
	}
	o.conn.Close()
	<-done
}

// catchUpTimeout bounds Close's last read of the partition states.
const catchUpTimeout = 10 * time.Second

// catchUp reads the state of every partition in ZooKeeper and reports those not reported yet.
func (o *Observer) catchUp() {
	topics, _, err := o.conn.Children("/brokers/topics")
	if err != nil {
		return
	}
	slices.Sort(topics)
	for _, t := range topics {
		dir := path.Join("/brokers/topics", t, "partitions")
		parts, _, err := o.conn.Children(dir)
		if err != nil {
			continue
		}
		slices.SortFunc(parts, func(a, b string) int { return compareKeys(t+"/"+a, t+"/"+b) })
		for _, p := range parts {
			if data, stat, err := o.conn.Get(path.Join(dir, p, "state")); err == nil {
				o.observeState(t+"/"+p, data, stat.Version)
			}
		}
	}
}

// observeState reports a partition state read at version unless it was reported already, after
// an observer gap when the versions between the last one reported and it were missed.
func (o *Observer) observeState(key string, data []byte, version int32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	last, seen := o.last[key]
	if seen && version == last {
		return
	}
	state, err := parseState(key, data, version)
	if err != nil {
		return // unreadable: the next version read shows the gap
	}
	if seen && version > last+1 {
		o.report(ObservedGap, ObserverGap{Key: key, FromVersion: int(last), ToVersion: int(version)})
	}
	o.last[key] = version
	o.report(ObservedPartitionState, state)
}

func (o *Observer) report(f string, value any) {
	o.emitMu.Lock()
	defer o.emitMu.Unlock()
	o.emit(Observation{Seen: time.Now(), F: f, Value: value})
}

// retryDelay is the pause after a ZooKeeper error (a lost connection, an expired session) before
// the watcher reads again; the versions it then finds tell whether anything was missed.
const retryDelay = 200 * time.Millisecond

func (o *Observer) watchController(ctx context.Context) {
	defer o.wg.Done()
	last := ControllerState{Broker: -2}
	for ctx.Err() == nil {
		state, ch, err := readController(o.conn)
		if err != nil {
			_ = sleepCtx(ctx, retryDelay)
			continue
		}
		if state != last {
			last = state
			o.report(ObservedController, state)
		}
		select {
		case <-ctx.Done():
		case <-ch:
		}
	}
}

// readController reads /controller and /controller_epoch and sets a watch on /controller (on its
// existence when there is none).
func readController(conn *zk.Conn) (ControllerState, <-chan zk.Event, error) {
	data, _, ch, err := conn.GetW("/controller")
	if errors.Is(err, zk.ErrNoNode) {
		exists, _, ech, err := conn.ExistsW("/controller")
		if err != nil {
			return ControllerState{}, nil, err
		}
		if exists {
			return readController(conn)
		}
		epoch, _ := readControllerEpoch(conn)
		return ControllerState{Broker: -1, Epoch: epoch}, ech, nil
	}
	if err != nil {
		return ControllerState{}, nil, err
	}
	var ctl struct {
		BrokerID int `json:"brokerid"`
	}
	if err := json.Unmarshal(data, &ctl); err != nil {
		return ControllerState{}, nil, fmt.Errorf("parse /controller %q: %w", data, err)
	}
	epoch, err := readControllerEpoch(conn)
	if err != nil {
		return ControllerState{}, nil, err
	}
	return ControllerState{Broker: ctl.BrokerID, Epoch: epoch}, ch, nil
}

func readControllerEpoch(conn *zk.Conn) (int, error) {
	data, _, err := conn.Get("/controller_epoch")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// watchTopics follows /brokers/topics and starts a partition watcher for every topic it finds.
func (o *Observer) watchTopics(ctx context.Context) {
	defer o.wg.Done()
	known := map[string]bool{}
	for ctx.Err() == nil {
		topics, ch, err := childrenW(o.conn, "/brokers/topics")
		if err != nil {
			_ = sleepCtx(ctx, retryDelay)
			continue
		}
		for _, t := range topics {
			if !known[t] {
				known[t] = true
				o.wg.Add(1)
				go o.watchPartitions(ctx, t)
			}
		}
		select {
		case <-ctx.Done():
		case <-ch:
		}
	}
}

// watchPartitions follows a topic's partitions and starts a state watcher for each.
func (o *Observer) watchPartitions(ctx context.Context, topic string) {
	defer o.wg.Done()
	dir := path.Join("/brokers/topics", topic, "partitions")
	for ctx.Err() == nil {
		parts, ch, err := childrenW(o.conn, dir)
		if err != nil {
			_ = sleepCtx(ctx, retryDelay)
			continue
		}
		for _, p := range parts {
			statePath := path.Join(dir, p, "state")
			o.mu.Lock()
			isNew := !o.watching[statePath]
			o.watching[statePath] = true
			o.mu.Unlock()
			if isNew {
				o.wg.Add(1)
				go o.watchState(ctx, topic+"/"+p, statePath)
			}
		}
		select {
		case <-ctx.Done():
		case <-ch:
		}
	}
}

// childrenW returns the children of dir and a channel that fires when they change or, when dir
// does not exist yet, when it is created. A dir created between the failed ChildrenW and the
// ExistsW is read again: ExistsW's data watch on an existing znode would never fire for new
// children, and the watcher would wait forever (a topic created right after the observer started
// went unobserved this way).
func childrenW(conn *zk.Conn, dir string) ([]string, <-chan zk.Event, error) {
	for {
		children, _, ch, err := conn.ChildrenW(dir)
		if !errors.Is(err, zk.ErrNoNode) {
			return children, ch, err
		}
		if testHookChildrenNoNode != nil {
			testHookChildrenNoNode(dir)
		}
		exists, _, ch, err := conn.ExistsW(dir)
		if err != nil || !exists {
			return nil, ch, err
		}
	}
}

// testHookChildrenNoNode, when set by a test, runs between childrenW's failed ChildrenW and its
// ExistsW, where a znode's creation races the watcher.
var testHookChildrenNoNode func(dir string)

// watchState reports every version of one partition's state znode it reads, and a gap when the
// version it reads is more than one past the last.
func (o *Observer) watchState(ctx context.Context, key, statePath string) {
	defer o.wg.Done()
	for ctx.Err() == nil {
		data, stat, ch, err := o.conn.GetW(statePath)
		if errors.Is(err, zk.ErrNoNode) {
			var exists bool
			exists, _, ch, err = o.conn.ExistsW(statePath)
			if err == nil && exists {
				continue
			}
		} else if err == nil {
			o.observeState(key, data, stat.Version)
		}
		if err != nil {
			_ = sleepCtx(ctx, retryDelay)
			continue
		}
		select {
		case <-ctx.Done():
		case <-ch:
		}
	}
}

func parseState(key string, data []byte, version int32) (PartitionState, error) {
	var raw struct {
		Leader      int   `json:"leader"`
		LeaderEpoch int   `json:"leader_epoch"`
		ISR         []int `json:"isr"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return PartitionState{}, fmt.Errorf("parse state of %s %q: %w", key, data, err)
	}
	if raw.ISR == nil {
		raw.ISR = []int{}
	}
	return PartitionState{Key: key, Leader: raw.Leader, LeaderEpoch: raw.LeaderEpoch, ISR: raw.ISR, ZkVersion: int(version)}, nil
}

// Snapshot is the cluster as ZooKeeper (or, in KRaft mode, the brokers and the quorum) describes
// it at one moment.
type Snapshot struct {
	// Registered are the broker ids present under /brokers/ids, sorted; in KRaft mode the
	// registered and unfenced brokers.
	Registered []int
	Controller ControllerState
	// Partitions are the state of every partition, sorted by key.
	Partitions []PartitionState
}

// Describe reads a Snapshot of the cluster from ZooKeeper; in KRaft mode from the brokers and
// the quorum (see describeKRaft).
func (c *Cluster) Describe(ctx context.Context) (Snapshot, error) {
	if c.Spec.KRaft() {
		return c.describeKRaft(ctx)
	}
	return DescribeZooKeeper(ctx, c.ZooKeeperAddrs())
}

// DescribeZooKeeper reads a Snapshot from the ZooKeeper ensemble at addrs.
func DescribeZooKeeper(ctx context.Context, addrs []string) (Snapshot, error) {
	conn, _, err := zk.Connect(addrs, 10*time.Second, zk.WithLogInfo(false), zk.WithLogger(silentLogger{}))
	if err != nil {
		return Snapshot{}, fmt.Errorf("connect to ZooKeeper: %w", err)
	}
	defer conn.Close()
	var snap Snapshot
	ids, _, err := conn.Children("/brokers/ids")
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return snap, fmt.Errorf("read /brokers/ids: %w", err)
	}
	for _, id := range ids {
		if n, err := strconv.Atoi(id); err == nil {
			snap.Registered = append(snap.Registered, n)
		}
	}
	slices.Sort(snap.Registered)
	if snap.Controller, _, err = readController(conn); err != nil {
		return snap, fmt.Errorf("read the controller: %w", err)
	}
	topics, _, err := conn.Children("/brokers/topics")
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return snap, fmt.Errorf("read /brokers/topics: %w", err)
	}
	for _, t := range topics {
		parts, _, err := conn.Children(path.Join("/brokers/topics", t, "partitions"))
		if err != nil {
			continue // a topic being created has no partitions yet
		}
		for _, p := range parts {
			data, stat, err := conn.Get(path.Join("/brokers/topics", t, "partitions", p, "state"))
			if err != nil {
				continue
			}
			if st, err := parseState(t+"/"+p, data, stat.Version); err == nil {
				snap.Partitions = append(snap.Partitions, st)
			}
		}
	}
	slices.SortFunc(snap.Partitions, func(a, b PartitionState) int { return compareKeys(a.Key, b.Key) })
	return snap, ctx.Err()
}

// compareKeys orders "topic/partition" keys by topic, then by partition number.
func compareKeys(a, b string) int {
	ta, pa, _ := strings.Cut(a, "/")
	tb, pb, _ := strings.Cut(b, "/")
	if ta != tb {
		return strings.Compare(ta, tb)
	}
	na, _ := strconv.Atoi(pa)
	nb, _ := strconv.Atoi(pb)
	return na - nb
}
