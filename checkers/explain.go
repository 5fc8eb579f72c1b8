package checkers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/history"
)

// LeaderContext says who led a partition when a write was acknowledged, and what election
// came after, from the observer's lines.
type LeaderContext struct {
	// AtAck is the last partition state the observer reported before the acknowledgement.
	AtAck *StateRef `json:"at_ack,omitempty"`
	// NextElection is the first election seen after the acknowledgement, or the first stretch
	// of missed states that could hide one.
	NextElection *ElectionRef `json:"next_election,omitempty"`
}

// StateRef is one partition state the observer reported, and its line.
type StateRef struct {
	Index       int64 `json:"index"`
	Time        int64 `json:"time"`
	Leader      int   `json:"leader"`
	LeaderEpoch int   `json:"leader_epoch"`
	ISR         []int `json:"isr"`
	ZkVersion   int   `json:"zk_version"`
}

// ElectionRef is a change of leader: the state before and the state after. Kind is "clean"
// (the new leader was in the ISR before), "unclean", or "unknown" when states were missed in
// between and Reason says which.
type ElectionRef struct {
	Kind     string   `json:"kind"`
	State    StateRef `json:"state"`
	Previous StateRef `json:"previous"`
	Reason   string   `json:"reason,omitempty"`
}

func (a *Analysis) stateRef(s *stateAt) StateRef {
	return StateRef{Index: a.Ops[s.pos].Index, Time: s.time, Leader: s.Leader, LeaderEpoch: s.LeaderEpoch, ISR: s.ISR, ZkVersion: s.ZkVersion}
}

// leaderContext returns the leadership of key around the acknowledgement at position pos, or
// nil when the observer reported nothing of key.
func (a *Analysis) leaderContext(key string, pos int) *LeaderContext {
	p := a.timeline.partitions[key]
	if p == nil || len(p.states) == 0 {
		return nil
	}
	lc := &LeaderContext{}
	idx := p.stateBefore(pos)
	if idx >= 0 {
		ref := a.stateRef(&p.states[idx])
		lc.AtAck = &ref
	}
	for j := max(idx, 0); j < len(p.transitions); j++ {
		tr := p.transitions[j]
		if p.states[j+1].pos < pos {
			continue
		}
		var kind string
		switch tr.kind {
		case cleanElection:
			kind = "clean"
		case uncleanElection:
			kind = "unclean"
		case missedStates:
			kind = "unknown"
		default:
			continue
		}
		lc.NextElection = &ElectionRef{Kind: kind, State: a.stateRef(&p.states[j+1]), Previous: a.stateRef(&p.states[j]), Reason: tr.reason}
		break
	}
	return lc
}

// Explanations are read on terminals and in reports: the history's own text in them (keys,
// values) goes through history.Printable, so that a key or value with control characters is
// shown escaped rather than acted on.
func pkey(key string) string { return history.Printable(key) }

func pval(v history.Value) string { return history.Printable(v.String()) }

// seconds formats nanoseconds since the start of the test.
func seconds(ns int64) string {
	return strconv.FormatFloat(float64(ns)/1e9, 'f', 3, 64) + "s"
}

func describeOp(r *OpRef) string {
	return fmt.Sprintf("op %d (process %s, %s %s at %s)", r.Index, r.Process, r.F, r.Type, seconds(r.Time))
}

func brokers(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// leaderPhrase says who leads: "leader 3" or "no leader".
func leaderPhrase(id int) string {
	if id == history.NoLeader {
		return "no leader"
	}
	return "leader " + strconv.Itoa(id)
}

func leaderName(id int) string {
	if id == history.NoLeader {
		return "no broker"
	}
	return "broker " + strconv.Itoa(id)
}

// describeLeadership tells what lc says, in sentences, for a write acknowledged on key.
func describeLeadership(key string, lc *LeaderContext) string {
	if lc == nil {
		return ""
	}
	var b strings.Builder
	if s := lc.AtAck; s != nil {
		fmt.Fprintf(&b, " When it was acknowledged, %s led %s in leader epoch %d with ISR %s (zk_version %d).",
			leaderName(s.Leader), pkey(key), s.LeaderEpoch, brokers(s.ISR), s.ZkVersion)
	} else {
		fmt.Fprintf(&b, " The observer had reported no state of %s before it was acknowledged.", pkey(key))
	}
	e := lc.NextElection
	switch {
	case e == nil:
		b.WriteString(" No election was observed after it.")
	case e.Kind == "unknown":
		fmt.Fprintf(&b, " After it, at %s, %s.", seconds(e.State.Time), e.Reason)
	default:
		fmt.Fprintf(&b, " The next election was at %s: broker %d became leader in epoch %d; the state before it had %s and ISR %s, ",
			seconds(e.State.Time), e.State.Leader, e.State.LeaderEpoch, leaderPhrase(e.Previous.Leader), brokers(e.Previous.ISR))
		if e.Kind == "unclean" {
			fmt.Fprintf(&b, "so broker %d was not in the ISR: an unclean election.", e.State.Leader)
		} else {
			b.WriteString("a clean election.")
		}
	}
	return b.String()
}

// crashFaults are the faults that drop what a broker's filesystem never made durable.
var crashFaults = []string{"crash", "power-loss"}

// crashWindow is a crash or power-loss fault and what each node it hit dropped.
type crashWindow struct {
	history.FaultWindow
	dropped map[string]history.Dropped
}

// crashAfter returns the first crash or power loss after c's acknowledgement that hit every
// replica of the ISR it was acknowledged in, or nil: without the ISR at the acknowledgement, or
// without such a fault, nothing says every copy was dropped.
func (a *Analysis) crashAfter(c *LostWriteCase) *CrashRef {
	if c.Leader == nil || c.Leader.AtAck == nil || len(c.Leader.AtAck.ISR) == 0 {
		return nil
	}
	if a.crashWindows == nil {
		a.crashWindows = []crashWindow{}
		for _, w := range history.FaultWindows(a.Ops) {
			if w.Step == "" && w.Error == "" && slices.Contains(crashFaults, w.Kind) {
				a.crashWindows = append(a.crashWindows, crashWindow{w, history.DecodeDropped(w.Value)})
			}
		}
	}
	for _, cw := range a.crashWindows {
		w, dropped := cw.FaultWindow, cw.dropped
		if w.StartTime < c.Writer.Time {
			continue
		}
		ref := &CrashRef{Fault: w.Kind, Index: a.Ops[w.Start].Index, Time: w.StartTime}
		for _, id := range c.Leader.AtAck.ISR {
			d, ok := dropped[history.BrokerName(id)]
			if !ok {
				ref = nil
				break
			}
			ref.Replicas = append(ref.Replicas, DroppedReplica{Node: history.BrokerName(id), DroppedBytes: d.Bytes})
		}
		if ref != nil {
			return ref
		}
	}
	return nil
}

// describeCrash says that every replica of a lost write went through a crash after it was
// acknowledged.
func describeCrash(r *CrashRef) string {
	if r == nil {
		return ""
	}
	var nodes, bytes []string
	for _, d := range r.Replicas {
		nodes = append(nodes, d.Node)
		bytes = append(bytes, fmt.Sprintf("%s %d", d.Node, d.DroppedBytes))
	}
	return fmt.Sprintf(" Every replica in that ISR (%s) then went through the %s at %s (op %d), whose filesystems dropped what Kafka had never fsynced (bytes: %s): acknowledged, never fsynced, lost in the %s.",
		strings.Join(nodes, ", "), r.Fault, seconds(r.Time), r.Index, strings.Join(bytes, ", "), r.Fault)
}

func (a *Analysis) explainLostWrite(c *LostWriteCase) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: value %s was sent by %s", pkey(c.Key), pval(c.Value), describeOp(&c.Writer))
	if c.Writer.Type == history.OK {
		fmt.Fprintf(&b, ", which acknowledged offset %d,", c.Offset)
	} else {
		fmt.Fprintf(&b, ", whose outcome was unknown, at offset %d (another of its sends was read),", c.Offset)
	}
	if c.AbsentFromFinalReads {
		if c.ReadBefore > 0 {
			fmt.Fprintf(&b, " and %d ok poll(s) read it, but", c.ReadBefore)
		} else {
			b.WriteString(" and no ok poll ever read it;")
		}
		fmt.Fprintf(&b, " the final reads, which read the whole of %s's log (to offset %d), do not hold it: the log lost it.", pkey(c.Key), c.MaxReadOffset)
		b.WriteString(describeLeadership(c.Key, c.Leader))
		b.WriteString(describeCrash(c.Crash))
		return b.String()
	}
	b.WriteString(" and no ok poll ever read it, though ")
	if c.MaxRead != nil {
		b.WriteString(describeOp(c.MaxRead))
	} else {
		b.WriteString("polls")
	}
	fmt.Fprintf(&b, " read %s up to offset %d.", pkey(c.Key), c.MaxReadOffset)
	b.WriteString(describeLeadership(c.Key, c.Leader))
	b.WriteString(describeCrash(c.Crash))
	return b.String()
}

func explainUnseen(c *UnseenCase) string {
	v := c.Values[0]
	return fmt.Sprintf("%s: %d acknowledged value(s) were never read by an ok poll, e.g. %s sent by op %d (acknowledged offset %d).",
		pkey(c.Key), c.Count, pval(v.Value), v.Writer, v.Offset)
}

func describeReads(r *OffsetReads) string {
	if r.Count == 0 {
		return "seen by no operation still in the history"
	}
	ops := make([]string, len(r.Ops))
	for i, op := range r.Ops {
		ops[i] = strconv.FormatInt(op, 10)
	}
	s := "seen by op " + strings.Join(ops, ", ")
	if r.Count > len(r.Ops) {
		s += fmt.Sprintf(" and %d more", r.Count-len(r.Ops))
	}
	return s
}

func (a *Analysis) explainDuplicate(c *DuplicateCase) string {
	var b strings.Builder
	offs := make([]string, len(c.Offsets))
	for i, o := range c.Offsets {
		offs[i] = strconv.FormatInt(o, 10)
	}
	fmt.Fprintf(&b, "%s: value %s, sent once", pkey(c.Key), pval(c.Value))
	if c.Writer != nil {
		fmt.Fprintf(&b, " by %s", describeOp(c.Writer))
	}
	fmt.Fprintf(&b, ", is at %d offsets: %s.", c.Count, strings.Join(offs, ", "))
	for _, r := range c.Reads {
		fmt.Fprintf(&b, " Offset %d: %s.", r.Offset, describeReads(&r))
	}
	b.WriteString(describeLeadership(c.Key, c.Leader))
	return b.String()
}

func (a *Analysis) explainInconsistent(c *InconsistentOffsetCase) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: offset %d holds %d different values.", pkey(c.Key), c.Offset, len(c.Values))
	for _, v := range c.Values {
		fmt.Fprintf(&b, " Value %s: ", pval(v.Value))
		if v.Writer != nil {
			fmt.Fprintf(&b, "sent by %s, ", describeOp(v.Writer))
		} else {
			b.WriteString("sent by no operation in the history, ")
		}
		b.WriteString(describeReads(&v.SeenBy))
		b.WriteString(".")
		if v.Writer != nil && v.Writer.Type == history.OK {
			b.WriteString(describeLeadership(c.Key, v.Leader))
		}
	}
	return b.String()
}

func explainG1a(c *G1aCase) string {
	return fmt.Sprintf("%s: %s read value %s at offset %d, but its send, %s, failed: an aborted read.",
		pkey(c.Key), describeOp(&c.Reader), pval(c.Value), c.Offset, describeOp(&c.Writer))
}

func (a *Analysis) explainOrder(anomaly string, c *OrderCase) string {
	var b strings.Builder
	switch anomaly {
	case PollSkip, NonmonotonicPoll:
		fmt.Fprintf(&b, "%s: process %s read %s last in %s, then began %s at %s",
			pkey(c.Key), c.Ops[1].Process, pval(c.Values[0]), describeOp(&c.Ops[0]), describeOp(&c.Ops[1]), pval(c.Values[1]))
	case NonmonotonicSend:
		fmt.Fprintf(&b, "%s: process %s sent %s in %s, then %s in %s",
			pkey(c.Key), c.Ops[1].Process, pval(c.Values[0]), describeOp(&c.Ops[0]), pval(c.Values[1]), describeOp(&c.Ops[1]))
	case IntPollSkip, IntNonmonotonicPoll:
		fmt.Fprintf(&b, "%s: %s read %s, then %s", pkey(c.Key), describeOp(&c.Ops[0]), pval(c.Values[0]), pval(c.Values[1]))
	default:
		fmt.Fprintf(&b, "%s: %s sent %s, then %s", pkey(c.Key), describeOp(&c.Ops[0]), pval(c.Values[0]), pval(c.Values[1]))
	}
	switch {
	case c.Delta > 1:
		vals := make([]string, len(c.Skipped))
		for i, v := range c.Skipped {
			vals[i] = pval(v)
		}
		more := ""
		if int(c.SkippedCount) > len(c.Skipped) {
			more = fmt.Sprintf(" and %d more", int(c.SkippedCount)-len(c.Skipped))
		}
		fmt.Fprintf(&b, ", skipping %d value(s) between them in the log: %s%s.", c.SkippedCount, strings.Join(vals, ", "), more)
	case c.Delta == 0:
		b.WriteString(": the same position in the log again.")
	default:
		fmt.Fprintf(&b, ": %d position(s) back in the log.", -c.Delta)
	}
	if c.Subscribed {
		b.WriteString(" The consumer was subscribed, so a rebalance may explain it (allowed).")
	}
	return b.String()
}
