package checkers

import (
	"fmt"
	"sort"

	"github.com/kchaos/kchaos/history"
)

// timeline is what the observer reported, per partition, in history order.
type timeline struct {
	partitions map[string]*partitionTimeline
	// logs are the metadata-log lines: the exact states' sources and whether each was complete.
	logs []history.MetadataLog
}

// partitionTimeline is one partition's states as the observer saw them, and the judgement of
// each change from one seen state to the next.
type partitionTimeline struct {
	key         string
	states      []stateAt // seen live, in history order
	gaps        []gapAt
	transitions []transition // transitions[i] leads from states[i] to states[i+1]
	// exact are the states read from the system's log after the run, in log order; their time
	// is when the log wrote them.
	exact []stateAt
}

type stateAt struct {
	pos  int // position of the line in the history
	time int64
	history.PartitionState
}

type gapAt struct {
	pos  int
	time int64
	history.ObserverGap
}

// transitionKind judges the change between two states the observer saw one after the other.
type transitionKind uint8

const (
	noElection      transitionKind = iota // the leader stayed, or the partition lost its leader
	cleanElection                         // a new leader that was in the preceding ISR
	uncleanElection                       // a new leader outside the preceding ISR
	missedStates                          // states were missed that could hide an election
)

type transition struct {
	kind   transitionKind
	reason string // for missedStates
}

func (t *timeline) build(a *Analysis) error {
	t.partitions = map[string]*partitionTimeline{}
	get := func(key string) *partitionTimeline {
		p, ok := t.partitions[key]
		if !ok {
			p = &partitionTimeline{key: key}
			t.partitions[key] = p
		}
		return p
	}
	for i := range a.Ops {
		op := &a.Ops[i]
		if op.Process != history.ObserverProcess {
			continue
		}
		var err error
		switch op.F {
		case history.FPartitionState:
			var s history.PartitionState
			if s, err = op.PartitionState(); err == nil {
				p := get(s.Key)
				if s.Exact() {
					p.exact = append(p.exact, stateAt{pos: i, time: s.LogTime, PartitionState: s})
				} else {
					p.states = append(p.states, stateAt{pos: i, time: op.Time, PartitionState: s})
				}
			}
		case history.FMetadataLog:
			var m history.MetadataLog
			if m, err = op.MetadataLog(); err == nil {
				t.logs = append(t.logs, m)
			}
		case history.FObserverGap:
			var g history.ObserverGap
			if g, err = op.ObserverGap(); err == nil {
				p := get(g.Key)
				p.gaps = append(p.gaps, gapAt{pos: i, time: op.Time, ObserverGap: g})
			}
		}
		if err != nil {
			return &history.LineError{Line: i + 1, Err: err}
		}
	}
	for _, p := range t.partitions {
		p.judge()
	}
	return nil
}

// judge classifies every change between consecutive seen states. Kafka's leader epoch grows by
// one with every election and with some ISR changes; ZooKeeper's version by one with every
// write of the state.
func (p *partitionTimeline) judge() {
	p.transitions = make([]transition, 0, max(len(p.states)-1, 0))
	for i := 1; i < len(p.states); i++ {
		prev, cur := &p.states[i-1], &p.states[i]
		var tr transition
		missed := cur.ZkVersion > prev.ZkVersion+1 || p.gapBetween(prev.pos, cur.pos)
		switch {
		case cur.ZkVersion < prev.ZkVersion:
			tr = transition{kind: missedStates, reason: fmt.Sprintf("zk_version went back from %d to %d", prev.ZkVersion, cur.ZkVersion)}
		case missed && (cur.LeaderEpoch-prev.LeaderEpoch >= 2 || cur.LeaderEpoch < prev.LeaderEpoch ||
			(cur.Leader != prev.Leader && cur.Leader != history.NoLeader)):
			tr = transition{kind: missedStates, reason: fmt.Sprintf("the observer missed %s, and the leader went from %s in epoch %d to %s in epoch %d: an election may have happened unseen",
				versions(prev.ZkVersion+1, cur.ZkVersion-1), leaderPhrase(prev.Leader), prev.LeaderEpoch, leaderPhrase(cur.Leader), cur.LeaderEpoch)}
		case cur.Leader != prev.Leader && cur.Leader != history.NoLeader:
			if prev.InISR(cur.Leader) {
				tr.kind = cleanElection
			} else {
				tr.kind = uncleanElection
			}
		}
		p.transitions = append(p.transitions, tr)
	}
}

// versions names the zk_versions from a to b.
func versions(a, b int) string {
	if a >= b {
		return fmt.Sprintf("zk_version %d", a)
	}
	return fmt.Sprintf("zk_versions %d to %d", a, b)
}

// gapBetween reports whether an observer-gap line lies between positions from and to.
func (p *partitionTimeline) gapBetween(from, to int) bool {
	i := sort.Search(len(p.gaps), func(i int) bool { return p.gaps[i].pos > from })
	return i < len(p.gaps) && p.gaps[i].pos < to
}

// trailingGap reports whether an observer-gap line follows the last seen state: the states it
// announced were never seen.
func (p *partitionTimeline) trailingGap() bool {
	if len(p.gaps) == 0 {
		return false
	}
	return len(p.states) == 0 || p.gaps[len(p.gaps)-1].pos > p.states[len(p.states)-1].pos
}

// stateBefore returns the index of the last state seen before position pos, or -1.
func (p *partitionTimeline) stateBefore(pos int) int {
	return sort.Search(len(p.states), func(i int) bool { return p.states[i].pos >= pos }) - 1
}
