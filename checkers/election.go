package checkers

import (
	"fmt"
	"sort"
)

// LeaderElectionResult is the verdict of the unclean-leader-election checker, from the
// observer's partition-state lines: every new leader must have been in the ISR of the state
// before it. A history without partition-state lines has nothing to check (Checked false) and
// does not decide the verdict.
type LeaderElectionResult struct {
	Valid      Validity              `json:"valid"`
	Checked    bool                  `json:"checked"`
	Partitions int                   `json:"partitions"`
	States     int                   `json:"states"`
	Elections  int                   `json:"elections"`
	Unclean    int                   `json:"unclean"`
	Undecided  []UndecidedElection   `json:"undecided"`
	Cases      []UncleanElectionCase `json:"-"`

	// Exact is true when the elections were decided from the states read from the system's own
	// log (ZooKeeper's transaction log, KRaft's metadata log) rather than the live observer.
	Exact bool `json:"exact,omitempty"`
	// ElectedBy counts the elections by the rule that allowed them (RuleISR, ...); Decisions
	// lists them. Both are set when Exact.
	ElectedBy map[string]int     `json:"elected_by,omitempty"`
	Decisions []ElectionDecision `json:"decisions,omitempty"`
	// Mismatches are live states the log lacks or holds differently: the checker cannot decide.
	Mismatches []string `json:"mismatches,omitempty"`
	// LogIncomplete says why the log's states could not decide (the live observer's did).
	LogIncomplete string `json:"log_incomplete,omitempty"`
	// UncleanAllowed is true when the cluster allowed unclean elections: they are still listed,
	// but do not make the verdict invalid.
	UncleanAllowed bool `json:"unclean_allowed,omitempty"`
}

// UndecidedElection is a stretch of a partition's states the observer missed where an
// election may have happened: the checker cannot tell whether it was clean.
type UndecidedElection struct {
	Key    string `json:"key"`
	Index  int64  `json:"index"` // the first state seen after the missed ones; -1 if none was
	Reason string `json:"reason"`
}

// UncleanElectionCase is an unclean-leader-election: State's leader was not in the ISR of
// Previous, the state seen just before it.
type UncleanElectionCase struct {
	Key         string   `json:"key"`
	State       StateRef `json:"state"`
	Previous    StateRef `json:"previous"`
	Explanation string   `json:"explanation"`
}

// CheckLeaderElection judges every leader change the observer reported. observedFromCreation
// says the observer watched from before the topics were created, as in a kchaos run: then a key
// the clients used with no state seen, or whose first seen state is not the znode's first version,
// had states the observer missed, and any election among them is undecided.
//
// When the history holds states read from the system's log after the run, complete by its
// metadata-log line, those decide every election, by the rules of electionRule; a log that was
// incomplete leaves the decision to the live observer, with the reason.
func CheckLeaderElection(a *Analysis, observedFromCreation, uncleanAllowed bool) *LeaderElectionResult {
	r := &LeaderElectionResult{Undecided: []UndecidedElection{}, UncleanAllowed: uncleanAllowed}
	keys := make([]string, 0, len(a.timeline.partitions))
	for k := range a.timeline.partitions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	present, complete, why := a.timeline.exactLog()
	if present && complete {
		checkExact(a, r, keys)
		r.Checked = true
		switch {
		case r.Unclean > 0 && !uncleanAllowed:
			r.Valid = Invalid
		case len(r.Mismatches) > 0 || len(r.Undecided) > 0:
			r.Valid = Unknown
		}
		return r
	}
	r.LogIncomplete = why
	for _, key := range keys {
		p := a.timeline.partitions[key]
		r.Partitions++
		r.States += len(p.states)
		if _, used := a.keyID[key]; observedFromCreation && used && len(p.states) > 0 && p.states[0].ZkVersion > 0 {
			r.Undecided = append(r.Undecided, UndecidedElection{Key: key, Index: a.Ops[p.states[0].pos].Index,
				Reason: fmt.Sprintf("the observer watched from the topic's creation but its first state of the partition is zk_version %d: it missed %s",
					p.states[0].ZkVersion, versions(0, p.states[0].ZkVersion-1))})
		}
		for j, tr := range p.transitions {
			prev, cur := &p.states[j], &p.states[j+1]
			switch tr.kind {
			case cleanElection:
				r.Elections++
			case uncleanElection:
				r.Elections++
				r.Unclean++
				c := UncleanElectionCase{Key: key, State: a.stateRef(cur), Previous: a.stateRef(prev)}
				c.Explanation = fmt.Sprintf("%s: at %s (line %d) broker %d became leader in epoch %d, but the state seen before it (line %d, zk_version %d) had %s and ISR %s: broker %d was not in the ISR, an unclean election.",
					pkey(key), seconds(cur.time), c.State.Index+1, cur.Leader, cur.LeaderEpoch, c.Previous.Index+1, prev.ZkVersion,
					leaderPhrase(prev.Leader), brokers(prev.ISR), cur.Leader)
				r.Cases = append(r.Cases, c)
			case missedStates:
				r.Undecided = append(r.Undecided, UndecidedElection{Key: key, Index: a.Ops[cur.pos].Index, Reason: tr.reason})
			}
		}
		if p.trailingGap() {
			g := p.gaps[len(p.gaps)-1]
			r.Undecided = append(r.Undecided, UndecidedElection{Key: key, Index: -1,
				Reason: fmt.Sprintf("the observer missed %s at the end of the history and saw no state after them", versions(g.FromVersion+1, g.ToVersion-1))})
		}
	}
	if observedFromCreation {
		for _, key := range a.Keys() {
			if p := a.timeline.partitions[key]; p == nil || len(p.states) == 0 {
				r.Undecided = append(r.Undecided, UndecidedElection{Key: key, Index: -1,
					Reason: "the observer watched from the topic's creation but reported no state of this partition the clients used"})
			}
		}
	}
	r.Checked = r.States > 0 || len(r.Undecided) > 0
	switch {
	case r.Unclean > 0 && !uncleanAllowed:
		r.Valid = Invalid
	case len(r.Undecided) > 0:
		r.Valid = Unknown
	}
	return r
}
