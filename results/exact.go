package results

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

// What the timelines draw from the system's own metadata log (KRaft's __cluster_metadata, or
// ZooKeeper's transaction log) read after the run: every state of every partition, the
// eligible leader replicas (KIP-966), the brokers' fencing, and the rule by which the election
// checker found each leader elected.

// laneRoles names a broker's role in a partition, by the class of its lane segment.
var laneRoles = map[string]string{
	"lead":  "leader",
	"isr":   "in the ISR (follower)",
	"elr":   "in the ELR (eligible leader replica: out of the ISR with the whole log)",
	"lkelr": "in the last known ELR",
}

// ruleNames are the election rules as the report names them.
var ruleNames = map[string]string{
	checkers.RuleISR:             "ISR",
	checkers.RuleELR:             "ELR",
	checkers.RuleLastKnownLeader: "last known leader",
	checkers.RuleUnclean:         "unclean",
}

// exactView sums up the metadata log the timelines were drawn from, above them.
type exactView struct {
	// Source names the log; Note says whether it was read whole.
	Source, Note, NoteClass string
	// ELR says which level of eligible.leader.replicas.version the log finalized ("" in
	// ZooKeeper mode).
	ELR string
	// Rules counts the elections by rule; Writes says whether every acknowledged write survived.
	Rules               string
	Writes, WritesClass string
}

// brokerMoment is a broker's registration as the metadata log holds it from time on.
type brokerMoment struct {
	time  int64
	down  bool // fenced or unregistered
	epoch int64
}

// decisionRules returns the election checker's rules for key's elections by log position, when
// the key's states come from the log (exact); nil otherwise, or when the checker decided
// nothing from the log.
func (b *builder) decisionRules(key string, exact bool) map[int64]string {
	le := b.run.results.LeaderElection
	if !exact || le == nil || !le.Exact {
		return nil
	}
	rules := map[int64]string{}
	for _, d := range le.Decisions {
		if d.Key == key {
			rules[d.Position] = d.Rule
		}
	}
	return rules
}

// drawFences draws, under each broker's lane, the stretches the log shows it fenced or
// unregistered.
func (b *builder) drawFences(c *laneChart, fences map[int][]brokerMoment, brokers []int) {
	for li, id := range brokers {
		ms := fences[id]
		for i, m := range ms {
			if !m.down || (i > 0 && ms[i-1].down) {
				continue
			}
			end := b.end
			for _, n := range ms[i+1:] {
				if !n.down {
					end = n.time
					break
				}
			}
			x1, x2 := b.ts.x(m.time), b.ts.x(end)
			c.Lanes[li].Fenced = append(c.Lanes[li].Fenced, segment{X: num(x1), W: num(max(x2-x1, 0.8)), Class: "fenced",
				Title: fmt.Sprintf("broker %d fenced from %s to %s (the metadata log)", id, seconds(m.time), seconds(end))})
		}
	}
}

// ruleMark is the class, label and verdict of an election the checker found allowed by rule,
// from the state before it, prev, to leader.
func ruleMark(rule string, prev history.PartitionState, leader int) (class, label, verdict string) {
	switch rule {
	case checkers.RuleISR:
		return "e-clean", "", fmt.Sprintf("elected by rule ISR: %d was in the ISR %s", leader, isrText(prev.ISR))
	case checkers.RuleELR:
		return "e-clean", "ELR", fmt.Sprintf("elected by rule ELR: the ISR was empty and %d was in the ELR %s", leader, isrText(prev.ELR))
	case checkers.RuleLastKnownLeader:
		return "e-clean", "last known", fmt.Sprintf("elected by rule last known leader: the ISR and the ELR were empty and %d was in the last known ELR %s", leader, isrText(prev.LastKnownELR))
	case checkers.RuleUnclean:
		return "e-unclean", "unclean", fmt.Sprintf("UNCLEAN: %d was not in the ISR %s%s", leader, isrText(prev.ISR), elrNote(prev))
	}
	return "e-undecided", "?", "the election checker named no rule for this election"
}

// electionTitle describes an election from prev to cur.
func electionTitle(prev, cur observedState, verdict string, index int64) string {
	where := fmt.Sprintf("zk_version %d → %d", prev.s.ZkVersion, cur.s.ZkVersion)
	switch cur.s.Source {
	case history.SourceKRaftLog:
		where = fmt.Sprintf("metadata offset %d", cur.s.MetadataOffset)
		if len(prev.s.ELR)+len(cur.s.ELR) > 0 {
			where = fmt.Sprintf("ELR %s → %s, %s", isrText(prev.s.ELR), isrText(cur.s.ELR), where)
		}
	case history.SourceZooKeeperLog:
		where = fmt.Sprintf("zk_version %d → %d, zxid 0x%x", prev.s.ZkVersion, cur.s.ZkVersion, cur.s.Zxid)
	}
	return fmt.Sprintf("%s: leader %s → %s, epoch %d → %d, ISR %s → %s, %s: %s (line %d)",
		seconds(cur.time), leaderText(prev.s.Leader), leaderText(cur.s.Leader), prev.s.LeaderEpoch, cur.s.LeaderEpoch,
		isrText(prev.s.ISR), isrText(cur.s.ISR), where, verdict, index)
}

// elrNote is ", ELR [..], last known ELR [..]" for a KRaft state that has either; "" otherwise.
func elrNote(s history.PartitionState) string {
	out := ""
	if len(s.ELR) > 0 {
		out += ", ELR " + isrText(s.ELR)
	}
	if len(s.LastKnownELR) > 0 {
		out += ", last known ELR " + isrText(s.LastKnownELR)
	}
	return out
}

// rulesText counts elections by rule, in the order ISR, ELR, last known leader, unclean:
// "3 ISR, 1 ELR".
func rulesText(byRule map[string]int) string {
	order := []string{checkers.RuleISR, checkers.RuleELR, checkers.RuleLastKnownLeader, checkers.RuleUnclean}
	for _, r := range slices.Sorted(maps.Keys(byRule)) {
		if !slices.Contains(order, r) {
			order = append(order, r)
		}
	}
	var parts []string
	for _, r := range order {
		if n := byRule[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, cmp.Or(ruleNames[r], r)))
		}
	}
	return strings.Join(parts, ", ")
}

func sourceText(source string) string {
	switch source {
	case history.SourceKRaftLog:
		return "KRaft metadata log"
	case history.SourceZooKeeperLog:
		return "ZooKeeper transaction log"
	}
	return cmp.Or(source, "system's log")
}

// exactSummary sums up, above the timelines, the metadata log they were drawn from: whether it
// was complete, which ELR level it finalized, the elections by rule, and whether every
// acknowledged write survived.
func (b *builder) exactSummary(ml *history.MetadataLog, drawn bool) {
	if ml == nil && !drawn {
		return
	}
	v := &exactView{Source: "the system's log"}
	if ml != nil {
		v.Source = sourceText(ml.Source)
		if ml.Complete {
			v.Note, v.NoteClass = fmt.Sprintf("read whole after the run (%d partition states)", ml.States), "ok"
		} else {
			v.Note, v.NoteClass = "incomplete: "+cutUTF8(ml.Reason, 300), "info"
		}
		if level, ok := ml.ELRLevel(); ok {
			v.ELR = fmt.Sprintf("%s %d: eligible leader replicas (KIP-966) off; a partition whose ISR empties waits for its last ISR member", history.FeatureELR, level)
			if level > 0 {
				v.ELR = fmt.Sprintf("%s %d: eligible leader replicas (KIP-966) on; a replica that left the ISR with the whole log, because it fell below min.insync.replicas, may still be elected", history.FeatureELR, level)
			}
		}
	}
	if le := b.run.results.LeaderElection; le != nil && le.Exact {
		v.Rules = fmt.Sprintf("%d %s", le.Elections, plural(le.Elections, "election", "elections"))
		if len(le.ElectedBy) > 0 {
			v.Rules += " by rule: " + rulesText(le.ElectedBy)
		}
	}
	v.Writes, v.WritesClass = b.writesSurvived()
	b.view.Exact = v
}

// writesSurvived says whether every acknowledged write was read, from the queue checker.
func (b *builder) writesSurvived() (string, string) {
	q := b.run.results.Queue
	if q == nil {
		return "", ""
	}
	acked := ""
	if c := b.run.results.Coverage; c != nil {
		acked = strconv.Itoa(c.AckedSends) + " "
	}
	if n := q.Counts[checkers.LostWrite]; n > 0 {
		return fmt.Sprintf("%d of the %sacknowledged writes lost", n, acked), "fail"
	}
	if q.Valid.String() == "unknown" {
		return "whether every acknowledged write survived is unknown: " + cutUTF8(strings.Join(q.Errors, "; "), 200), "info"
	}
	return fmt.Sprintf("every one of the %sacknowledged writes survived (no lost write)", acked), "ok"
}
