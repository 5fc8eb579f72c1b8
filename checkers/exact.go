package checkers

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kchaos/kchaos/history"
)

// The rules that may elect a leader, as results.json and the explanations name them.
const (
	// RuleISR: the new leader was in the ISR of the state before (ZooKeeper and KRaft).
	RuleISR = "isr"
	// RuleELR: the ISR was empty (or emptied by the same change) and the new leader was an
	// eligible leader replica (KRaft with eligible.leader.replicas.version 1, KIP-966).
	RuleELR = "elr"
	// RuleLastKnownLeader: the ISR (or what the same change left of it) and the ELR were empty
	// and the new leader was in the last known ELR, the replicas that last held the whole log
	// (KRaft).
	RuleLastKnownLeader = "last-known-leader"
	// RuleUnclean: none of the above; allowed only with unclean.leader.election.enable.
	RuleUnclean = "unclean"
)

// ElectionDecision is one leader change read from the system's log, and the rule that allowed
// it.
type ElectionDecision struct {
	Key string `json:"key"`
	// Position is the log position of the state that names the new leader (zxid or metadata
	// offset), LogTime when the log wrote it on the history's clock.
	Position int64  `json:"position"`
	LogTime  int64  `json:"log_time"`
	Leader   int    `json:"leader"`
	Epoch    int    `json:"leader_epoch"`
	Rule     string `json:"rule"`
}

// electionRule names the rule by which cur's leader may follow prev: "" when cur elects no new
// leader.
//
// The KRaft controller removes fenced replicas from the ISR and elects in one record: when the last
// ISR member is fenced, one PartitionChangeRecord moves it to the ELR and elects an ELR member
// (ISR [3] ELR [1] becomes leader 1, ISR [1], ELR [3], as 4.1.1 writes it). So the ELR and
// the last known leader are eligible when no member of prev's ISR stays in cur's: the ISR the
// controller elected from was empty.
func electionRule(prev, cur history.PartitionState) string {
	isrStays := slices.ContainsFunc(prev.ISR, func(r int) bool { return slices.Contains(cur.ISR, r) })
	switch {
	case cur.Leader == history.NoLeader || cur.Leader == prev.Leader:
		return ""
	case prev.InISR(cur.Leader):
		return RuleISR
	case !isrStays && slices.Contains(prev.ELR, cur.Leader):
		return RuleELR
	case !isrStays && len(prev.ELR) == 0 && slices.Contains(prev.LastKnownELR, cur.Leader):
		return RuleLastKnownLeader
	}
	return RuleUnclean
}

// position is an exact state's place in its log.
func position(s history.PartitionState) int64 {
	if s.Source == history.SourceKRaftLog {
		return s.MetadataOffset
	}
	return s.Zxid
}

// exactLog sums up the metadata-log lines: whether exact states may decide, and why not.
func (t *timeline) exactLog() (present, complete bool, why string) {
	if len(t.logs) == 0 {
		return false, false, ""
	}
	var reasons []string
	for _, l := range t.logs {
		if !l.Complete {
			reasons = append(reasons, fmt.Sprintf("the %s was incomplete: %s", l.Source, l.Reason))
		}
	}
	return true, len(reasons) == 0, strings.Join(reasons, "; ")
}

// checkExact judges every leader change in the states read from the system's log, which hold
// every version of every partition's state: no election can be missed. It also holds the live
// observer to the log: a state seen live that the log lacks, or holds differently, means one of
// them cannot be trusted, and the checker cannot decide.
func checkExact(a *Analysis, r *LeaderElectionResult, keys []string) {
	r.Exact = true
	r.ElectedBy = map[string]int{}
	for _, key := range keys {
		p := a.timeline.partitions[key]
		if len(p.exact) == 0 {
			continue
		}
		r.Partitions++
		r.States += len(p.exact)
		for j := 1; j < len(p.exact); j++ {
			prev, cur := &p.exact[j-1], &p.exact[j]
			rule := electionRule(prev.PartitionState, cur.PartitionState)
			if rule == "" {
				continue
			}
			r.Elections++
			r.ElectedBy[rule]++
			r.Decisions = append(r.Decisions, ElectionDecision{Key: key, Position: position(cur.PartitionState),
				LogTime: cur.time, Leader: cur.Leader, Epoch: cur.LeaderEpoch, Rule: rule})
			if rule != RuleUnclean {
				continue
			}
			r.Unclean++
			c := UncleanElectionCase{Key: key, State: a.stateRef(cur), Previous: a.stateRef(prev)}
			c.Explanation = fmt.Sprintf("%s: the %s shows broker %d elected leader in epoch %d at %s (%s), but the state before it (%s) had %s and ISR %s%s: broker %d was in neither, an unclean election.",
				history.Printable(key), cur.Source, cur.Leader, cur.LeaderEpoch, seconds(cur.time), positionText(cur.PartitionState),
				positionText(prev.PartitionState), leaderPhrase(prev.Leader), brokers(prev.ISR), elrText(prev.PartitionState), cur.Leader)
			r.Cases = append(r.Cases, c)
		}
		r.Mismatches = append(r.Mismatches, liveAgainstLog(key, p)...)
	}
	// The log of a kchaos run starts before its topic exists: a partition the clients used must
	// be in it.
	for _, key := range a.Keys() {
		if p := a.timeline.partitions[key]; p == nil || len(p.exact) == 0 {
			r.Undecided = append(r.Undecided, UndecidedElection{Key: key, Index: -1,
				Reason: "the metadata log read after the run holds no state of this partition the clients used"})
		}
	}
}

// liveAgainstLog lists the live states of a partition that the ZooKeeper log lacks or holds
// differently. KRaft's live states carry no log position to compare.
func liveAgainstLog(key string, p *partitionTimeline) []string {
	byVersion := map[int]*history.PartitionState{}
	for i := range p.exact {
		if p.exact[i].Source == history.SourceZooKeeperLog {
			byVersion[p.exact[i].ZkVersion] = &p.exact[i].PartitionState
		}
	}
	if len(byVersion) == 0 {
		return nil
	}
	var out []string
	for _, live := range p.states {
		logged, ok := byVersion[live.ZkVersion]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: the observer saw zk_version %d (leader %d, ISR %s), which the ZooKeeper log lacks",
				history.Printable(key), live.ZkVersion, live.Leader, brokers(live.ISR)))
		case logged.Leader != live.Leader || logged.LeaderEpoch != live.LeaderEpoch || !slices.Equal(logged.ISR, live.ISR):
			out = append(out, fmt.Sprintf("%s: zk_version %d is leader %d epoch %d ISR %s in the ZooKeeper log but leader %d epoch %d ISR %s as the observer saw it",
				history.Printable(key), live.ZkVersion, logged.Leader, logged.LeaderEpoch, brokers(logged.ISR), live.Leader, live.LeaderEpoch, brokers(live.ISR)))
		}
	}
	return out
}

func positionText(s history.PartitionState) string {
	if s.Source == history.SourceKRaftLog {
		return fmt.Sprintf("metadata offset %d", s.MetadataOffset)
	}
	return fmt.Sprintf("zxid 0x%x, zk_version %d", s.Zxid, s.ZkVersion)
}

func elrText(s history.PartitionState) string {
	if s.Source != history.SourceKRaftLog {
		return ""
	}
	return fmt.Sprintf(", ELR %s and last known ELR %s", brokers(s.ELR), brokers(s.LastKnownELR))
}
