package nemesis

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kchaos/kchaos/broker"
)

// Achieved is what a fault did to the cluster, in its stop line: a fault that changed nothing
// tested nothing, and the report and the checkers can say so. It compares the cluster's state
// (ZooKeeper's, or in KRaft mode the brokers' and the quorum's): the active controller, the
// registered brokers and the partitions of Config.Topic (of every topic not starting with "__" when the topic is
// empty) read just before the fault started with the state read just before it was healed, so it
// counts what the fault left in place, not every change in between: a leader elected and
// replaced again during the fault counts once, or not at all.
type Achieved struct {
	// HeldMs is how long the fault was in place, from its start to its heal.
	HeldMs int64 `json:"held_ms"`
	// Elections counts the partitions whose leader was another broker at the end than at the start.
	Elections int `json:"elections"`
	// Leaderless counts the partitions that had a leader at the start and none at the end.
	Leaderless int `json:"leaderless"`
	// ISRShrunk says whether some partition's ISR lost a member it had at the start.
	ISRShrunk bool `json:"isr_shrunk"`
	// NewLeader is the leader at the end of the partition the fault was chosen for (Key: a
	// jepsen-2013's, a lag's, a primaries target's), when it is another broker than at the start.
	NewLeader string `json:"new_leader,omitempty"`
	// NewController is the active controller at the end (a broker in ZooKeeper mode, the KRaft
	// quorum's leader, n1.. or c1.., in KRaft mode) when it is another node than at the start: what
	// a fault on the controller or the controller quorum achieves, partitions or not.
	NewController string `json:"new_controller,omitempty"`
	// Unregistered are the brokers registered at the start and not at the end (in KRaft mode:
	// registered and unfenced at the start, fenced or gone at the end), sorted: a broker cut off
	// from ZooKeeper or from the controllers, or killed or paused, that led no partition shows it
	// played out here. In KRaft mode Describe counts the brokers half the brokers list: the cut
	// broker's own stale view still lists it.
	Unregistered []string `json:"unregistered,omitempty"`
	// Error says why the states could not be compared; the counts are then zero and mean nothing.
	Error string `json:"error,omitempty"`
}

// achieved measures what the fault f did, reading the cluster's state now.
func (n *Nemesis) achieved(ctx context.Context, f *fault) *Achieved {
	a := &Achieved{}
	if !f.started.IsZero() {
		a.HeldMs = time.Since(f.started).Milliseconds()
	}
	if f.before == nil {
		a.Error = "the cluster's state before the fault could not be read"
		if f.beforeErr != nil {
			a.Error += ": " + f.beforeErr.Error()
		}
		return a
	}
	after, err := n.describe(ctx)
	if err != nil {
		a.Error = "the cluster's state before the heal could not be read: " + err.Error()
		return a
	}
	compare(a, *f.before, *after, n.cfg.Topic, f.key)
	return a
}

// compare fills a's counts from the states of the topic's partitions before and after a fault
// chosen for partition key (empty for none).
func compare(a *Achieved, before, after broker.Snapshot, topic, key string) {
	if c := after.Controller.Broker; c > 0 && c != before.Controller.Broker {
		a.NewController = broker.NodeName(c)
	}
	for _, id := range before.Registered {
		if !slices.Contains(after.Registered, id) {
			a.Unregistered = append(a.Unregistered, broker.BrokerName(id))
		}
	}
	was := map[string]broker.PartitionState{}
	for _, p := range before.Partitions {
		if inTopic(p.Key, topic) {
			was[p.Key] = p
		}
	}
	for _, p := range after.Partitions {
		old, ok := was[p.Key]
		if !ok {
			continue
		}
		switch {
		case p.Leader > 0 && p.Leader != old.Leader:
			a.Elections++
			if p.Key == key {
				a.NewLeader = broker.BrokerName(p.Leader)
			}
		case p.Leader < 1 && old.Leader > 0:
			a.Leaderless++
		}
		for _, id := range old.ISR {
			if !slices.Contains(p.ISR, id) {
				a.ISRShrunk = true
			}
		}
	}
}

// inTopic reports whether partition key belongs to topic, or, for an empty topic, to a topic
// that is not internal.
func inTopic(key, topic string) bool {
	t, _, _ := strings.Cut(key, "/")
	return t == topic || (topic == "" && !strings.HasPrefix(t, "__"))
}
