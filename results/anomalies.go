package results

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/txn"
	"github.com/kchaos/kchaos/history"
)

// anomalies lists every anomaly entry with its explanation and ops, and marks its moment on the
// timeline of its key (and on the latency chart).
func (b *builder) anomalies() {
	all := b.run.results.Anomalies
	for gi, typ := range anomalyTypes(b.run.results) {
		entries := all[typ]
		g := &anomalyGroup{ID: anomalyID(typ), Type: typ, Count: len(entries)}
		for ei, e := range entries {
			if ei == maxEntriesShown {
				g.Hidden = len(entries) - ei
				break
			}
			ae := b.anomalyEntry(fmt.Sprintf("a%d-%d", gi, ei), typ, e)
			ae.Chain = b.txnChainHref(typ, ei, e)
			g.Entries = append(g.Entries, ae)
		}
		b.view.Anomalies = append(b.view.Anomalies, g)
	}
}

// entryRefs returns the positions in the history of the lines an anomaly entry names, in order.
func (b *builder) entryRefs(d *checkers.AnomalyEntry) []int {
	var refs []int
	seen := map[int64]bool{}
	add := func(idx int64) {
		if idx >= 0 && idx < int64(len(b.ops)) && !seen[idx] {
			seen[idx] = true
			refs = append(refs, int(idx))
		}
	}
	for _, r := range d.Ops {
		add(r.Index)
	}
	for _, l := range d.Lines {
		add(l)
	}
	for _, s := range d.States {
		add(s.Index)
	}
	slices.Sort(refs)
	return refs
}

func (b *builder) anomalyEntry(id, typ string, e any) anomalyEntry {
	d := checkers.DescribeAnomaly(e)
	ae := anomalyEntry{ID: id, Explanation: d.Explanation, Key: d.Key}
	refs := b.entryRefs(&d)
	for _, r := range refs {
		b.refs[r] = true
	}
	// The moment: a stretch's start when the entry gives one, else the earliest client op it
	// names, else the latest other line (an election's new state comes after the old one).
	moment := int64(-1)
	if d.From >= 0 && ae.Key != "" {
		moment = d.From
	}
	if moment < 0 {
		for _, r := range refs {
			if b.ops[r].Process.IsClient() && (moment < 0 || b.ops[r].Time < moment) {
				moment = b.ops[r].Time
			}
		}
	}
	if moment < 0 {
		for _, r := range refs {
			moment = max(moment, b.ops[r].Time)
		}
	}
	if moment >= 0 {
		x := num(b.ts.x(moment))
		ae.Moment, ae.MarkX = seconds(moment), x
		title := fmt.Sprintf("%s at %s", typ, seconds(moment))
		if ae.Key != "" {
			title += " on " + ae.Key
		}
		if ae.Explanation != "" {
			title += ": " + cutUTF8(ae.Explanation, 300)
		}
		b.latMarks = append(b.latMarks, mark{ID: "l-" + id, X: x, Title: title, Href: "#" + id})
		ae.MarkHref = "#l-" + id
		if c := b.parts[ae.Key]; c != nil && len(c.Marks) < maxMarksPerChart {
			c.Marks = append(c.Marks, mark{ID: "m-" + id, X: x, Title: title, Href: "#" + id})
			ae.MarkHref = "#m-" + id
		}
	}
	for i, r := range refs {
		if i == maxOpChips {
			ae.MoreOps = len(refs) - i
			break
		}
		op := &b.ops[r]
		ae.Ops = append(ae.Ops, opChip{Label: fmt.Sprintf("#%d %s %s", op.Index, op.F, op.Type), Href: "#op-" + strconv.Itoa(r), Class: op.Type.String()})
	}
	ae.Fields = anomalyFields(e)
	if typ == checkers.NotLinearizable {
		if href, ok := b.vizHref(ae.Key); ok {
			ae.Viz = href
		}
	}
	ae.Detail = prettyJSON(e, 8, 6000)
	return ae
}

// anomalyFields returns the figures of an anomaly entry shown beside its explanation: the
// values, offsets and counts it names; its key, operations and states are shown apart.
func anomalyFields(e any) []specRow {
	var out []specRow
	add := func(name string, v any) {
		out = append(out, specRow{Name: name, Value: cutUTF8(fmt.Sprint(v), 120)})
	}
	switch c := e.(type) {
	case *checkers.LostWriteCase:
		add("value", c.Value)
		add("offset", c.Offset)
		add("index", c.Index)
		add("max_read_index", c.MaxReadIndex)
		add("max_read_offset", c.MaxReadOffset)
		if c.AbsentFromFinalReads {
			add("absent_from_final_reads", true)
			add("read_before", c.ReadBefore)
		}
	case *checkers.UnseenCase:
		add("count", c.Count)
		if c.FinalReadsIncomplete {
			add("final_reads_incomplete", true)
		}
	case *checkers.DuplicateCase:
		add("value", c.Value)
		add("count", c.Count)
		add("offsets", strings.Trim(fmt.Sprint(c.Offsets), "[]"))
	case *checkers.InconsistentOffsetCase:
		add("offset", c.Offset)
		add("index", c.Index)
		add("values", len(c.Values))
	case *checkers.G1aCase:
		add("value", c.Value)
		add("offset", c.Offset)
	case *checkers.OrderCase:
		add("values", c.Values[0].String()+" → "+c.Values[1].String())
		add("delta", c.Delta)
		if c.SkippedCount > 0 {
			add("skipped_count", c.SkippedCount)
		}
		if c.Subscribed {
			add("subscribed", true)
		}
	case *checkers.NotLinearizableCase:
		add("from", seconds(c.From))
		add("to", seconds(c.To))
		add("segment_ops", c.SegmentOps)
		add("linearized", c.Linearized)
	case *txn.AbortedReadCase:
		add("value", c.Value)
		add("offset", c.Offset)
	case *txn.PrecommittedReadCase:
		add("value", c.Value)
		add("offset", c.Offset)
		add("count", c.Count)
	case *txn.DuplicateCase:
		add("value", c.Value)
		add("offsets", strings.Trim(fmt.Sprint(c.Offsets), "[]"))
	case *txn.TornTransactionCase:
		add("sends_seen", len(c.Seen))
		add("sends_missing", len(c.Missing))
	case *txn.G1bCase:
		add("value", c.Value)
		add("offset", c.Offset)
		add("later", c.Later)
	case *txn.CycleCase:
		add("transactions", len(c.Txns))
		add("ww_edges", c.WWEdges)
	}
	return out
}

// opsTable lists the ops the anomalies name, with the other half of each operation, and returns
// the positions of the lines it lists.
func (b *builder) opsTable() map[int]bool {
	for r := range b.refs {
		if p := b.run.partner[r]; p >= 0 {
			b.refs[p] = true
		}
	}
	rows := make([]int, 0, len(b.refs))
	for r := range b.refs {
		rows = append(rows, r)
	}
	slices.Sort(rows)
	if len(rows) > maxOpsTable {
		b.view.OpsNote = fmt.Sprintf("The first %s of the %s lines the anomalies name; history.jsonl has them all.", group(maxOpsTable), group(len(rows)))
		rows = rows[:maxOpsTable]
	}
	inTable := map[int]bool{}
	for _, r := range rows {
		inTable[r] = true
	}
	for _, r := range rows {
		op := &b.ops[r]
		row := opRow{
			ID: "op-" + strconv.Itoa(r), Index: strconv.FormatInt(op.Index, 10), Time: seconds(op.Time),
			Process: op.Process.String(), Type: op.Type.String(), F: op.F, Value: opValueText(op), Error: cutUTF8(op.Error, 400),
			Class: op.Type.String(),
		}
		if p := b.run.partner[r]; p >= 0 {
			row.Partner = strconv.FormatInt(b.ops[p].Index, 10)
			if inTable[p] {
				row.PartnerHref = "#op-" + strconv.Itoa(p)
			}
			if p < r {
				row.Latency = msLabel(float64(op.Time-b.ops[p].Time) / 1e6)
			}
		}
		b.view.Ops = append(b.view.Ops, row)
	}
	// Op chips link only to rows present.
	for _, g := range b.view.Anomalies {
		for i := range g.Entries {
			for j := range g.Entries[i].Ops {
				c := &g.Entries[i].Ops[j]
				n, _ := strconv.Atoi(strings.TrimPrefix(c.Href, "#op-"))
				if !inTable[n] {
					c.Href = ""
				}
			}
		}
	}
	return inTable
}

// opValueText writes an op's value for a person: "send kchaos/0 17 @42", "poll kchaos/0: 41→16".
func opValueText(op *history.Op) string {
	var b strings.Builder
	switch {
	case history.HasMops(op.F):
		for i, m := range op.Mops {
			if i > 0 {
				b.WriteString("; ")
			}
			switch m.Kind {
			case history.MopSend:
				b.WriteString("send " + m.Key + " " + m.Value.String())
				if m.Offset != history.NoOffset {
					b.WriteString(" @" + strconv.FormatInt(m.Offset, 10))
				}
			case history.MopPoll:
				b.WriteString("poll")
				for j, kr := range m.Reads {
					if j > 0 {
						b.WriteString(",")
					}
					b.WriteString(" " + kr.Key + ":")
					if len(kr.Records) == 0 {
						b.WriteString(" —")
					}
					for _, rec := range kr.Records {
						b.WriteString(" ")
						if rec.Offset != history.NoOffset {
							b.WriteString(strconv.FormatInt(rec.Offset, 10) + "→")
						}
						b.WriteString(rec.Value.String())
					}
					if b.Len() > valueTextLimit {
						break
					}
				}
			}
			if b.Len() > valueTextLimit {
				break
			}
		}
	case history.HasKeys(op.F):
		b.WriteString(strings.Join(op.Keys, ", "))
	default:
		b.Write(op.Raw)
	}
	s := b.String()
	if len(s) > valueTextLimit {
		return cutUTF8(s, valueTextLimit) + "…"
	}
	return s
}
