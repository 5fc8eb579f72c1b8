package results

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/txn"
	"github.com/kchaos/kchaos/history"
)

// maxCycleShown bounds the transactions of a cycle drawn as a chain; the cycles the checker
// finds are the shortest it could, a handful of transactions.
const maxCycleShown = 40

// txnView is the Transactions section: what the transactional checker (checkers/txn) counted and
// found. It is nil when that checker did not run.
type txnView struct {
	Verdict  string
	Settings string // the producers and consumers the history was judged as from
	Reasons  []string
	Stats    []stat    // transactions by outcome
	Figures  []specRow // sends, reads, edges, components
	Groups   []*txnGroup
}

// txnGroup is one anomaly type of the transactional checker.
type txnGroup struct {
	ID, Type string
	Count    int    // found
	Class    string // of the count's pill: fail when the type makes the run invalid
	Note     string
	Entries  []txnEntry
	More     string // what is not shown
}

// txnEntry is one anomaly entry: its explanation and operations, or the chain of a cycle.
type txnEntry struct {
	ID          string
	Explanation string
	Note        string
	Fields      []specRow
	Ops         []opChip
	Chain       []chainRow // a cycle's transactions, each with the edge to the next
	ChainMore   int        // transactions of the cycle not drawn
	First       string     // the name of the first transaction, where the chain closes
	Detail      string     // the entry's JSON, but a cycle's: its chain and explanation say it all
}

// chainRow is a transaction of a cycle and the edge that leads from it to the next.
type chainRow struct {
	Name    string // T1, T2, ...
	Op      opChip
	Process string
	When    string
	Value   string
	Edge    chainEdge
}

// chainEdge is why one transaction of a cycle precedes the next.
type chainEdge struct {
	Kind, Class string // ww, wr, rw, process, realtime
	Text        string // the key and values that make it, briefly
	Title       string // the checker's explanation of the step
}

// transactions builds the Transactions section from the transactional checker's result. It runs
// after opsTable, whose rows the operations link to.
func (b *builder) transactions(inTable map[int]bool) {
	t := b.run.results.Txn
	if t == nil {
		return
	}
	v := &txnView{Verdict: checkers.Validity(t.Valid).String(),
		Settings: fmt.Sprintf("Judged as from %s producers and %s consumers.", t.Producer, t.Isolation)}
	v.Reasons = checkerReasons(t, 5)
	s := t.Stats
	v.Stats = []stat{
		{Label: "transactions", Value: group(s.Transactions)},
		{Label: "committed", Value: group(s.Committed), Class: "ok"},
		{Label: "aborted", Value: group(s.Aborted), Class: "fail"},
		{Label: "unknown", Value: group(s.Indeterminate), Class: "info"},
	}
	e := s.Edges
	v.Figures = []specRow{
		{Name: "sends committed", Value: group(s.Sends)},
		{Name: "records read", Value: group(s.Reads)},
		{Name: "edges", Value: fmt.Sprintf("ww %s · wr %s · rw %s · process %s · realtime %s", group(e.WW), group(e.WR), group(e.RW), group(e.Process), group(e.Realtime))},
		{Name: "cyclic components", Value: group(s.Components)},
	}
	if s.Components > 0 {
		v.Figures = append(v.Figures, specRow{Name: "largest", Value: group(s.Largest) + " transactions"})
	}
	bad := map[string]bool{}
	for _, typ := range t.BadAnomalyTypes {
		bad[typ] = true
	}
	for _, typ := range txnAnomalyTypes(t) {
		entries := t.Anomalies[typ]
		g := &txnGroup{ID: "txn-" + safeID(typ), Type: typ, Count: max(t.Counts[typ], len(entries))}
		if bad[typ] {
			g.Class, g.Note = "fail", "forbidden with these producers and consumers: the run is invalid"
		} else {
			g.Note = "allowed with these producers and consumers"
		}
		for ei, entry := range entries {
			if ei == maxEntriesShown {
				break
			}
			g.Entries = append(g.Entries, b.txnEntry(txnEntryID(typ, ei), entry, inTable))
		}
		if hidden := g.Count - len(g.Entries); hidden > 0 {
			g.More = fmt.Sprintf("And %s more", group(hidden))
			if len(entries) < g.Count {
				g.More += fmt.Sprintf("; results.json lists the first %s", group(len(entries)))
			}
			g.More += "."
		}
		v.Groups = append(v.Groups, g)
	}
	b.view.Txn = v
}

// txnEntryID is the id of entry i of type typ in the Transactions section.
func txnEntryID(typ string, i int) string { return "txn-" + safeID(typ) + "." + strconv.Itoa(i) }

// txnChainHref links entry i of anomaly type typ to its chain in the Transactions section, when
// it is a cycle drawn there.
func (b *builder) txnChainHref(typ string, i int, entry any) string {
	t := b.run.results.Txn
	if _, ok := entry.(*txn.CycleCase); !ok || t == nil || i >= min(len(t.Anomalies[typ]), maxEntriesShown) {
		return ""
	}
	return "#" + txnEntryID(typ, i)
}

// txnAnomalyTypes returns the checker's anomaly types, then any its anomalies hold besides, in
// name order.
func txnAnomalyTypes(t *txn.Result) []string {
	out := slices.Clone(t.AnomalyTypes)
	for _, typ := range slices.Sorted(maps.Keys(t.Anomalies)) {
		if !slices.Contains(out, typ) {
			out = append(out, typ)
		}
	}
	return slices.Compact(out)
}

// txnEntry shows one entry: a cycle as the chain of its transactions, any other entry as its
// explanation and the operations it names.
func (b *builder) txnEntry(id string, entry any, inTable map[int]bool) txnEntry {
	te := txnEntry{ID: id, Fields: anomalyFields(entry)}
	c, ok := entry.(*txn.CycleCase)
	if !ok {
		te.Detail = prettyJSON(entry, 8, 6000)
		d := checkers.DescribeAnomaly(entry)
		te.Explanation = d.Explanation
		if te.Explanation == "" {
			te.Explanation = "An entry this kchaos does not know; its JSON is below."
		}
		seen := map[int64]bool{}
		for _, r := range d.Ops {
			if len(te.Ops) == maxOpChips || seen[r.Index] {
				continue
			}
			seen[r.Index] = true
			te.Ops = append(te.Ops, b.refChip(txn.OpRef(r), inTable))
		}
		return te
	}
	te.Fields = nil // the chain shows them
	if strings.HasPrefix(c.Type, txn.G1c) && c.WWEdges > 0 {
		te.Note = "It has a ww edge: allowed, since Kafka does not isolate writes."
	}
	n := len(c.Txns)
	for i, r := range c.Txns {
		if i == maxCycleShown {
			te.ChainMore = n - i
			break
		}
		row := chainRow{Name: txnName(i), Op: b.refChip(r, inTable), Process: r.Process.String(), When: refWhen(r), Value: b.refValue(r)}
		if i < len(c.Steps) {
			row.Edge = stepEdge(&c.Steps[i], c.Txns, txnName(i), txnName((i+1)%n))
		}
		te.Chain = append(te.Chain, row)
	}
	if n > 0 {
		te.First = txnName(0)
	}
	te.Explanation = c.Explanation
	return te
}

func txnName(i int) string { return "T" + strconv.Itoa(i+1) }

// refPos returns the position in the history of the line an OpRef names, if it is there.
func (b *builder) refPos(index int64) (int, bool) {
	if index < 0 || index >= int64(len(b.ops)) || b.ops[index].Index != index {
		return 0, false
	}
	return int(index), true
}

// refChip is the chip of an operation, linked to its row of the operations table when it has one.
func (b *builder) refChip(r txn.OpRef, inTable map[int]bool) opChip {
	outcome := r.Type.String()
	if r.Type == history.Invoke {
		outcome = "never completed"
	}
	chip := opChip{Label: fmt.Sprintf("#%d %s %s", r.Index, r.F, outcome), Class: r.Type.String()}
	if p, ok := b.refPos(r.Index); ok && inTable[p] {
		chip.Href = "#op-" + strconv.Itoa(p)
	}
	return chip
}

// refWhen says when an operation ran: "0.120 s – 0.135 s", or when it was invoked if it never
// completed.
func refWhen(r txn.OpRef) string {
	if r.Type == history.Invoke {
		return "invoked at " + seconds(r.InvokeTime) + ", never completed"
	}
	return seconds(r.InvokeTime) + " – " + seconds(r.Time)
}

// refValue is what an operation sent and read, briefly, from its completion (its invocation's
// when the completion repeats nothing).
func (b *builder) refValue(r txn.OpRef) string {
	p, ok := b.refPos(r.Index)
	if !ok {
		return ""
	}
	if len(b.ops[p].Mops) == 0 {
		if q, ok := b.refPos(r.InvokeIndex); ok {
			p = q
		}
	}
	return opValueText(&b.ops[p])
}

// stepEdge says briefly why transaction from precedes transaction to, from the fields of the
// step; its title is the checker's explanation.
func stepEdge(st *txn.Step, txns []txn.OpRef, from, to string) chainEdge {
	e := chainEdge{Kind: st.Type, Class: "k-" + safeID(st.Type), Title: st.Explanation}
	val := func(v *history.Value, off *int64) string {
		s := "?"
		if v != nil {
			s = v.String()
		}
		if off != nil && *off != history.NoOffset {
			s += " @" + strconv.FormatInt(*off, 10)
		}
		return s
	}
	switch st.Type {
	case "ww":
		e.Text = fmt.Sprintf("%s: %s sent %s, then %s sent %s", st.Key, from, val(st.Value, st.Offset), to, val(st.NextValue, st.NextOffset))
	case "wr":
		e.Text = fmt.Sprintf("%s: %s sent %s, %s read it", st.Key, from, val(st.Value, st.Offset), to)
	case "rw":
		e.Text = fmt.Sprintf("%s: %s last read %s, %s sent the next, %s, which %s did not read", st.Key, from, val(st.Value, st.Offset), to,
			val(st.NextValue, st.NextOffset), from)
	case "process":
		p := "one process"
		if st.Process != nil {
			p = "process " + st.Process.String()
		}
		e.Text = fmt.Sprintf("%s completed %s before invoking %s", p, from, to)
	case "realtime":
		e.Text = fmt.Sprintf("%s completed before %s was invoked", from, to)
		if st.From >= 0 && st.From < len(txns) && st.To >= 0 && st.To < len(txns) {
			a, c := txns[st.From], txns[st.To]
			e.Text += fmt.Sprintf(" (%s, then %s)", seconds(a.Time), seconds(c.InvokeTime))
		}
	default:
		e.Text = st.Explanation
	}
	return e
}
