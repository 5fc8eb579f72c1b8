package broker

import (
	"context"
	"slices"
	"time"
)

// The live observer of a KRaft cluster. KRaft has no watch a client can set on a partition's
// state, so the observer polls: every pollInterval it asks every broker for the state of every
// partition (DescribeTopicPartitions, with the ELR) and the quorum for its leader, merges the
// answers (freshest) and reports what changed. A poll misses states that lasted less than a round;
// the leader epoch, which stands in for the version (see liveState), shows a missed election as
// an observer-gap. The exact history is read after the run (ReadMetadataHistory).

// pollInterval is the time between two polls of a KRaft cluster.
const pollInterval = 250 * time.Millisecond

// kraftPoller is the polling loop of an Observer of a KRaft cluster.
type kraftPoller struct {
	c      *Cluster
	o      *Observer
	cancel context.CancelFunc
	done   chan struct{}

	last       map[string]PartitionState // key → the last state reported
	controller ControllerState
}

// observeKRaft starts the poller; the Observer's Close stops it.
func (c *Cluster) observeKRaft(ctx context.Context, emit func(Observation)) (*Observer, error) {
	ctx, cancel := context.WithCancel(ctx)
	o := &Observer{emit: emit, cancel: cancel}
	p := &kraftPoller{c: c, o: o, cancel: cancel, done: make(chan struct{}),
		last: map[string]PartitionState{}, controller: ControllerState{Broker: -2}}
	o.kraft = p
	go p.run(ctx)
	return o, nil
}

func (p *kraftPoller) run(ctx context.Context) {
	defer close(p.done)
	for ctx.Err() == nil {
		p.poll(ctx)
		_ = sleepCtx(ctx, pollInterval)
	}
}

// close stops the loop and polls once more, as the ZooKeeper observer reads every state once more
// at Close: a state that changed since the last poll is reported.
func (p *kraftPoller) close() {
	p.cancel()
	<-p.done
	ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
	defer cancel()
	p.poll(ctx)
}

// poll asks every broker at once, so a paused broker delays a round by requestTimeout at most.
func (p *kraftPoller) poll(ctx context.Context) {
	v := p.c.admin.askEveryBroker(ctx, false)
	if ctx.Err() != nil {
		return // cancelled mid-round: the answers may be partial
	}
	if v.controllerErr == nil && v.controller != p.controller {
		p.controller = v.controller
		p.o.report(ObservedController, v.controller)
	}
	for _, s := range freshest(v.partitions) {
		p.observe(s)
	}
}

// observe reports s unless it is the state reported last or older (a lagging broker's view), and
// an observer-gap first when the leader epoch moved by more than one.
func (p *kraftPoller) observe(s PartitionState) {
	last, seen := p.last[s.Key]
	if seen && (s.LeaderEpoch < last.LeaderEpoch || sameState(s, last)) {
		return
	}
	if seen && s.ZkVersion > last.ZkVersion+1 {
		p.o.report(ObservedGap, ObserverGap{Key: s.Key, FromVersion: last.ZkVersion, ToVersion: s.ZkVersion})
	}
	p.last[s.Key] = s
	p.o.report(ObservedPartitionState, s)
}

func sameState(a, b PartitionState) bool {
	return a.Leader == b.Leader && a.LeaderEpoch == b.LeaderEpoch && slices.Equal(a.ISR, b.ISR) &&
		slices.Equal(a.ELR, b.ELR) && slices.Equal(a.LastKnownELR, b.LastKnownELR)
}
