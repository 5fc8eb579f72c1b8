package results

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/history"
)

// Geometry of a lane chart: a strip for markers on top, then one lane per broker.
const (
	laneStripTop = 4.0
	laneStripH   = 16.0
	laneTop      = 24.0
	laneH        = 13.0
	laneStep     = 17.0
)

type observedState struct {
	pos  int
	time int64
	s    history.PartitionState
}

// timelines builds a leader/ISR chart per partition and the controller chart, from the
// observer's lines.
func (b *builder) timelines() {
	states := map[string][]observedState{}
	// exact holds the states read from the system's own log after the run, on the log's clock;
	// a partition that has them is drawn from them alone (they hold every state).
	exact := map[string][]observedState{}
	fences := map[int][]brokerMoment{}
	var metaLog *history.MetadataLog
	gaps := map[string][]observedState{} // pos and time of observer-gap lines; s.ZkVersion unused
	gapText := map[int]string{}
	brokerSet := map[int]bool{}
	type ctl struct {
		time   int64
		broker int
		epoch  int
	}
	var ctls, exactCtls []ctl
	for i := range b.ops {
		op := &b.ops[i]
		if op.Process != history.ObserverProcess {
			continue
		}
		switch op.F {
		case history.FPartitionState:
			s, err := op.PartitionState()
			if err != nil {
				b.view.Warnings = append(b.view.Warnings, "Skipped an observer line: "+err.Error())
				continue
			}
			if s.Source != "" {
				exact[s.Key] = append(exact[s.Key], observedState{pos: i, time: max(s.LogTime, 0), s: s})
			} else {
				states[s.Key] = append(states[s.Key], observedState{pos: i, time: op.Time, s: s})
			}
			if s.Leader >= 0 {
				brokerSet[s.Leader] = true
			}
			for _, r := range slices.Concat(s.ISR, s.ELR, s.LastKnownELR) {
				brokerSet[r] = true
			}
		case history.FBrokerState:
			bs, err := op.BrokerState()
			if err != nil {
				b.view.Warnings = append(b.view.Warnings, "Skipped an observer line: "+err.Error())
				continue
			}
			if bs.Source != "" {
				fences[bs.Broker] = append(fences[bs.Broker], brokerMoment{time: max(bs.LogTime, 0), down: bs.Fenced || !bs.Registered, epoch: bs.Epoch})
			}
		case history.FMetadataLog:
			ml, err := op.MetadataLog()
			if err != nil {
				b.view.Warnings = append(b.view.Warnings, "Skipped an observer line: "+err.Error())
				continue
			}
			metaLog = &ml
		case history.FObserverGap:
			g, err := op.ObserverGap()
			if err != nil {
				b.view.Warnings = append(b.view.Warnings, "Skipped an observer line: "+err.Error())
				continue
			}
			gaps[g.Key] = append(gaps[g.Key], observedState{pos: i, time: op.Time})
			gapText[i] = fmt.Sprintf("%s: the observer missed zk versions %d to %d of %s", seconds(op.Time), g.FromVersion+1, g.ToVersion-1, g.Key)
		case history.FController:
			c, err := op.Controller()
			if err != nil {
				b.view.Warnings = append(b.view.Warnings, "Skipped an observer line: "+err.Error())
				continue
			}
			if c.Source != "" {
				exactCtls = append(exactCtls, ctl{time: max(c.LogTime, 0), broker: c.Broker, epoch: c.Epoch})
			} else {
				ctls = append(ctls, ctl{time: op.Time, broker: c.Broker, epoch: c.Epoch})
			}
			if c.Broker >= 0 {
				brokerSet[c.Broker] = true
			}
		}
	}
	if s := b.run.spec; s != nil && s.Cluster.Brokers > 0 && s.Cluster.Brokers <= 100 {
		n := s.Cluster.Brokers
		for id := 1; id <= int(n); id++ {
			brokerSet[id] = true
		}
	}
	brokers := make([]int, 0, len(brokerSet))
	for id := range brokerSet {
		brokers = append(brokers, id)
	}
	slices.Sort(brokers)

	if len(exactCtls) > 0 {
		ctls = exactCtls // the log's controllers, at the times it wrote them
	}
	for k, ex := range exact {
		states[k] = ex // the log's states replace the live ones, which they include
		delete(gaps, k)
	}
	keys := make([]string, 0, len(states))
	for k := range states {
		keys = append(keys, k)
	}
	for k := range gaps {
		if _, ok := states[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareKeys)
	totalClean, totalUnclean, totalUndecided := 0, 0, 0
	for pi, key := range keys {
		c := b.newLaneChart(fmt.Sprintf("p%d", pi), key, brokers)
		b.fillPartition(c, states[key], gaps[key], gapText, brokers, b.decisionRules(key, len(exact[key]) > 0))
		b.drawFences(c, fences, brokers)
		b.view.Partitions = append(b.view.Partitions, c)
		b.parts[key] = c
		totalClean += c.Clean
		totalUnclean += c.Unclean
		totalUndecided += c.Undecided
	}
	if len(keys) > 0 {
		el := stat{Label: "elections", Value: strconv.Itoa(totalClean + totalUnclean)}
		switch {
		case totalUnclean > 0:
			el.Value += fmt.Sprintf(" (%d unclean)", totalUnclean)
			el.Class = "fail"
		case totalUndecided > 0:
			el.Value += fmt.Sprintf(" (%d undecided)", totalUndecided)
			el.Class = "info"
		}
		b.view.Stats = append(b.view.Stats, el)
	}
	b.exactSummary(metaLog, len(exact) > 0)
	if len(ctls) > 0 {
		c := b.newLaneChart("controller", "controller", brokers)
		for i, ct := range ctls {
			end := b.end
			if i+1 < len(ctls) {
				end = ctls[i+1].time
			}
			for li, id := range brokers {
				if id != ct.broker {
					continue
				}
				x1, x2 := b.ts.x(ct.time), b.ts.x(end)
				c.Lanes[li].Segs = append(c.Lanes[li].Segs, segment{X: num(x1), W: num(max(x2-x1, 0.8)), Class: "ctl",
					Title: fmt.Sprintf("broker %d controller from %s to %s (controller epoch %d)", id, seconds(ct.time), seconds(end), ct.epoch)})
			}
			if i > 0 {
				c.Elections = append(c.Elections, electionMark{ID: fmt.Sprintf("controller-%d", i), X: num(b.ts.x(ct.time)), Class: "e-clean",
					Title: fmt.Sprintf("%s: broker %d became controller (epoch %d)", seconds(ct.time), ct.broker, ct.epoch)})
			}
		}
		c.Summary = fmt.Sprintf("%d controller %s", len(ctls)-1, plural(len(ctls)-1, "change", "changes"))
		b.view.Controller = c
	}
}

// compareKeys orders keys by topic, then partition number.
func compareKeys(a, c string) int {
	ta, pa, _ := strings.Cut(a, "/")
	tc, pc, _ := strings.Cut(c, "/")
	if r := cmp.Compare(ta, tc); r != 0 {
		return r
	}
	na, ea := strconv.Atoi(pa)
	nc, ec := strconv.Atoi(pc)
	if ea == nil && ec == nil {
		return cmp.Compare(na, nc)
	}
	return cmp.Compare(pa, pc)
}

func (b *builder) newLaneChart(id, key string, brokers []int) *laneChart {
	bottom := laneTop + float64(len(brokers))*laneStep
	c := &laneChart{
		ID: id, Key: key, H: num(bottom + 18),
		StripY: num(laneStripTop), StripH: num(laneStripH), BandH: num(bottom - laneStripTop), LanesBottom: num(bottom),
		AxisY: num(bottom + 13), XTicks: b.ts.ticks(),
	}
	for i, id := range brokers {
		y := laneTop + float64(i)*laneStep
		c.Lanes = append(c.Lanes, lane{Label: "broker " + strconv.Itoa(id), Y: num(y), H: num(laneH), FY: num(y + laneH + 0.5)})
	}
	for _, f := range b.faults {
		x1, x2 := b.ts.x(f.start), b.ts.x(f.stop)
		c.Bands = append(c.Bands, band{X: num(x1), W: num(max(x2-x1, 1)), Class: f.class, Title: f.title})
	}
	return c
}

// fillPartition draws a partition's states: per broker, when it led and when it was in the
// ISR; elections (a new leader; unclean when it was not in the ISR of the state before, and
// undecided when states were missed in between), leaderless stretches and observer gaps.
//
// rules, when not nil, are the rules by which the election checker found each leader elected,
// by log position: the states are the log's, and each election is named by its rule.
func (b *builder) fillPartition(c *laneChart, states, gaps []observedState, gapText map[int]string, brokers []int, rules map[int64]string) {
	for li, id := range brokers {
		var cur *segmentRun
		flush := func() {
			if cur != nil && cur.class != "" {
				x1, x2 := b.ts.x(cur.from), b.ts.x(cur.to)
				role := laneRoles[cur.class]
				title := fmt.Sprintf("broker %d %s from %s to %s, leader epoch %d", id, role, seconds(cur.from), seconds(cur.to), cur.epochFrom)
				if cur.epochTo != cur.epochFrom {
					title += fmt.Sprintf(" to %d", cur.epochTo)
				}
				c.Lanes[li].Segs = append(c.Lanes[li].Segs, segment{X: num(x1), W: num(max(x2-x1, 0.8)), Class: cur.class, Title: title})
			}
			cur = nil
		}
		for i, st := range states {
			end := b.end
			if i+1 < len(states) {
				end = states[i+1].time
			}
			class := ""
			switch {
			case st.s.Leader == id:
				class = "lead"
			case st.s.InISR(id):
				class = "isr"
			case slices.Contains(st.s.ELR, id):
				class = "elr"
			case slices.Contains(st.s.LastKnownELR, id):
				class = "lkelr"
			}
			if cur != nil && cur.class == class {
				cur.to, cur.epochTo = end, st.s.LeaderEpoch
				continue
			}
			flush()
			cur = &segmentRun{class: class, from: st.time, to: end, epochFrom: st.s.LeaderEpoch, epochTo: st.s.LeaderEpoch}
		}
		flush()
	}
	// Leaderless stretches.
	for i, st := range states {
		if st.s.Leader != history.NoLeader {
			continue
		}
		if i > 0 && states[i-1].s.Leader == history.NoLeader {
			continue // already covered
		}
		end := b.end
		for j := i + 1; j < len(states); j++ {
			if states[j].s.Leader != history.NoLeader {
				end = states[j].time
				break
			}
		}
		x1, x2 := b.ts.x(st.time), b.ts.x(end)
		c.Offline = append(c.Offline, segment{X: num(x1), W: num(max(x2-x1, 0.8)), Class: "offline",
			Title: fmt.Sprintf("no leader from %s to %s (ISR %s%s)", seconds(st.time), seconds(end), isrText(st.s.ISR), elrNote(st.s))})
	}
	// Elections.
	gi := 0
	for i := 1; i < len(states); i++ {
		prev, cur := states[i-1], states[i]
		gapBetween := false
		for gi < len(gaps) && gaps[gi].pos < prev.pos {
			gi++
		}
		if gi < len(gaps) && gaps[gi].pos < cur.pos {
			gapBetween = true
		}
		missed := cur.s.ZkVersion > prev.s.ZkVersion+1 || cur.s.ZkVersion < prev.s.ZkVersion || gapBetween
		changed := cur.s.Leader != prev.s.Leader && cur.s.Leader != history.NoLeader
		var class, label, verdict string
		rule, decided := "", false
		if rules != nil && changed {
			rule, decided = rules[cur.s.MetadataOffset], true
			if cur.s.Source == history.SourceZooKeeperLog {
				rule = rules[cur.s.Zxid]
			}
		}
		switch {
		case decided:
			class, label, verdict = ruleMark(rule, prev.s, cur.s.Leader)
			if class == "e-unclean" {
				c.Unclean++
			} else {
				c.Clean++
			}
			if c.ByRule == nil {
				c.ByRule = map[string]int{}
			}
			c.ByRule[cmp.Or(rule, "unknown")]++
		case missed && (changed || cur.s.LeaderEpoch-prev.s.LeaderEpoch >= 2):
			class, label, verdict = "e-undecided", "?", "states were missed in between: clean or not cannot be told"
			c.Undecided++
		case changed && prev.s.InISR(cur.s.Leader):
			class, verdict = "e-clean", fmt.Sprintf("clean: %d was in the ISR", cur.s.Leader)
			c.Clean++
		case changed:
			class, label, verdict = "e-unclean", "unclean", fmt.Sprintf("UNCLEAN: %d was not in the ISR %s", cur.s.Leader, isrText(prev.s.ISR))
			c.Unclean++
		default:
			continue
		}
		c.Elections = append(c.Elections, electionMark{
			ID: fmt.Sprintf("%s-e%d", c.ID, b.ops[cur.pos].Index), X: num(b.ts.x(cur.time)), Class: class, Label: label,
			Title: electionTitle(prev, cur, verdict, b.ops[cur.pos].Index),
		})
	}
	for _, g := range gaps {
		c.Gaps = append(c.Gaps, eventMark{X: num(b.ts.x(g.time)), Title: gapText[g.pos]})
	}
	parts := []string{fmt.Sprintf("%d %s", len(states), plural(len(states), "state", "states")),
		fmt.Sprintf("%d %s", c.Clean+c.Unclean, plural(c.Clean+c.Unclean, "election", "elections"))}
	if c.Unclean > 0 {
		parts = append(parts, fmt.Sprintf("%d unclean", c.Unclean))
	}
	if c.Undecided > 0 {
		parts = append(parts, fmt.Sprintf("%d undecided", c.Undecided))
	}
	if len(gaps) > 0 {
		parts = append(parts, fmt.Sprintf("%d observer %s", len(gaps), plural(len(gaps), "gap", "gaps")))
	}
	if len(c.ByRule) > 0 {
		parts = append(parts, "elected by "+rulesText(c.ByRule))
	}
	if len(states) > 0 {
		last := states[len(states)-1].s
		parts = append(parts, fmt.Sprintf("at the end: leader %s, ISR %s%s", leaderText(last.Leader), isrText(last.ISR), elrNote(last)))
	}
	if rules != nil {
		parts = append(parts, "states from the "+sourceText(states[0].s.Source))
	}
	c.Summary = strings.Join(parts, " · ")
}

type segmentRun struct {
	class              string
	from, to           int64
	epochFrom, epochTo int
}

func isrText(isr []int) string {
	s := make([]string, len(isr))
	for i, r := range isr {
		s[i] = strconv.Itoa(r)
	}
	return "[" + strings.Join(s, ",") + "]"
}

func leaderText(l int) string {
	if l == history.NoLeader {
		return "none"
	}
	return strconv.Itoa(l)
}
