package results

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/history"
)

// opRefFields are the fields of an anomaly entry (at any depth) whose integers are history
// indexes of the operations involved.
var opRefFields = map[string]bool{
	"ops": true, "op": true, "op_index": true, "op_indexes": true, "indexes": true,
	"writer": true, "reader": true, "writers": true, "readers": true,
}

// collectRefs adds the history indexes an anomaly entry names. Besides opRefFields, an "index"
// field names a line unless its object also has an "offset": there (lost-write,
// inconsistent-offsets) it is a position in the key's version order, not a line.
func collectRefs(v *jvalue, add func(int64)) {
	if v == nil {
		return
	}
	switch v.kind {
	case jObject:
		if idx, ok := v.get("index").int(); ok && v.get("offset") == nil {
			add(idx)
		}
		for i, k := range v.keys {
			val := v.vals[i]
			if opRefFields[k] {
				if n, ok := val.int(); ok {
					add(n)
				}
				for _, item := range val.items() {
					if n, ok := item.int(); ok {
						add(n)
					}
				}
			}
			collectRefs(val, add)
		}
	case jArray:
		for _, item := range v.vals {
			collectRefs(item, add)
		}
	}
}

// nanosecondFields are times since the start of the test, shown in seconds.
var nanosecondFields = map[string]bool{"time": true, "invoke_time": true, "from": true, "to": true}

// explanationFields name the text that explains an anomaly entry, first found first.
var explanationFields = []string{"explanation", "message", "description", "reason"}

// anomalies lists every anomaly entry with its explanation and ops, and marks its moment on the
// timeline of its key (and on the latency chart).
func (b *builder) anomalies() {
	all := b.run.results.get("anomalies")
	for gi, typ := range anomalyTypes(b.run.results) {
		entries := all.get(typ).items()
		g := &anomalyGroup{ID: anomalyID(typ), Type: typ, Count: len(entries)}
		for ei, e := range entries {
			if ei == maxEntriesShown {
				g.Hidden = len(entries) - ei
				break
			}
			g.Entries = append(g.Entries, b.anomalyEntry(fmt.Sprintf("a%d-%d", gi, ei), typ, e))
		}
		b.view.Anomalies = append(b.view.Anomalies, g)
	}
}

func (b *builder) anomalyEntry(id, typ string, e *jvalue) anomalyEntry {
	ae := anomalyEntry{ID: id}
	if e != nil && e.kind == jString {
		ae.Explanation = e.text
	}
	for _, f := range explanationFields {
		if s := e.get(f).str(); s != "" {
			ae.Explanation = s
			break
		}
	}
	ae.Key = e.get("key").str()
	var refs []int
	seen := map[int64]bool{}
	collectRefs(e, func(idx int64) {
		if idx >= 0 && idx < int64(len(b.ops)) && !seen[idx] {
			seen[idx] = true
			refs = append(refs, int(idx))
		}
	})
	slices.Sort(refs)
	for _, r := range refs {
		b.refs[r] = true
	}
	// The moment: a stretch's start when the entry gives one, else the earliest client op it
	// names, else the latest other line (an election's new state comes after the old one).
	moment := int64(-1)
	if from, ok := e.get("from").int(); ok && ae.Key != "" {
		moment = from
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
	if moment < 0 {
		if t, ok := e.get("time").int(); ok {
			moment = t
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
	if e != nil && e.kind == jObject {
		for i, k := range e.keys {
			v := e.vals[i]
			if k == "key" || opRefFields[k] || slices.Contains(explanationFields, k) || !v.isScalar() {
				continue
			}
			text := cutUTF8(v.plain(), 120)
			if n, ok := v.int(); ok && nanosecondFields[k] {
				text = seconds(n)
			}
			ae.Fields = append(ae.Fields, specRow{Name: k, Value: text})
		}
		if typ == "not-linearizable" || e.get("linearizable") != nil {
			if href, ok := b.vizHref(ae.Key); ok {
				ae.Viz = href
			}
		}
	}
	ae.Detail = e.pretty(8, 6000)
	return ae
}

// opsTable lists the ops the anomalies name, with the other half of each operation.
func (b *builder) opsTable() {
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
