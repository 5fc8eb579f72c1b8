package results

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/txn"
	"github.com/kchaos/kchaos/history"
)

// checkers lists each checker of results.json, in name order, with its verdict, what it could
// not decide, a few figures and the whole of its result.
func (b *builder) checkers() {
	res := b.run.results
	for _, name := range slices.Sorted(maps.Keys(res.Checkers)) {
		c := res.Checkers[name]
		row := checkerRow{Name: name, Verdict: checkerVerdict(c).String()}
		if !checkerChecked(c) {
			row.Note = "nothing to check: does not decide the verdict"
		}
		row.Reasons = checkerReasons(c, 5)
		row.Summary = checkerSummary(c)
		row.Detail = prettyJSON(detailOf(c), 10, 20000)
		b.view.Checkers = append(b.view.Checkers, row)
	}
}

// detailOf returns what the details of a checker show: all of its result but the stats'
// per-second counts, a series as long as the run in seconds that the throughput chart draws.
func detailOf(c any) any {
	if st, ok := c.(*checkers.Stats); ok && len(st.PerSecond) > 0 {
		cp := *st
		cp.PerSecond = nil
		return &cp
	}
	return c
}

// checkerVerdict returns the verdict of a checker's result in Result.Checkers.
func checkerVerdict(c any) checkers.Validity {
	switch c := c.(type) {
	case *checkers.QueueResult:
		return c.Valid
	case *checkers.LinearizableResult:
		return c.Valid
	case *checkers.LeaderElectionResult:
		return c.Valid
	case *checkers.Stats:
		return c.Valid
	case *checkers.CoverageResult:
		return c.Valid
	case *checkers.OtherChecker:
		return c.Valid
	case *txn.Result:
		return checkers.Validity(c.Valid) // the same values
	}
	return checkers.Unknown
}

// checkerChecked reports whether a checker had anything to check: one that had not does not
// decide the verdict.
func checkerChecked(c any) bool {
	switch c := c.(type) {
	case *checkers.LeaderElectionResult:
		return c.Checked
	case *checkers.OtherChecker:
		return c.Checked
	}
	return true
}

// checkerReasons returns up to max texts saying what a checker could not decide or read, each
// after the key it concerns ("kchaos/1: timed out").
func checkerReasons(c any, max int) []string {
	var out []string
	add := func(key, reason string) {
		if reason == "" || len(out) >= max {
			return
		}
		if key != "" {
			reason = key + ": " + reason
		}
		out = append(out, cutUTF8(reason, 300))
	}
	switch c := c.(type) {
	case *checkers.QueueResult:
		for _, e := range c.Errors {
			add("", e)
		}
		if len(c.FinalReadsIncomplete) > 0 {
			add("", "the final reads did not read the whole log of "+strings.Join(c.FinalReadsIncomplete, ", "))
		}
	case *checkers.LinearizableResult:
		for _, k := range slices.SortedFunc(maps.Keys(c.Keys), compareKeys) {
			if kr := c.Keys[k]; kr != nil {
				add(k, kr.Reason)
			}
		}
	case *checkers.LeaderElectionResult:
		for _, u := range c.Undecided {
			add(u.Key, u.Reason)
		}
		for _, m := range c.Mismatches {
			add("", m)
		}
	case *checkers.CoverageResult:
		for _, r := range c.Reasons {
			add("", r)
		}
	case *txn.Result:
		add("", c.Reason)
		for _, e := range c.Errors {
			add("", e)
		}
	}
	return out
}

// checkerSummary returns a checker's figures, each on one line.
func checkerSummary(c any) []specRow {
	var out []specRow
	add := func(name string, v any) { out = append(out, specRow{Name: name, Value: cutUTF8(fmt.Sprint(v), 200)}) }
	list := func(name string, l []string) {
		if len(l) > 0 {
			add(name, strings.Join(l, ", "))
		}
	}
	switch c := c.(type) {
	case *checkers.QueueResult:
		if len(c.Counts) > 0 && len(c.Counts) <= 8 {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(c.Counts)) {
				parts = append(parts, fmt.Sprintf("%s=%d", k, c.Counts[k]))
			}
			add("counts", strings.Join(parts, ", "))
		}
		list("bad_anomaly_types", c.BadAnomalyTypes)
		list("final_reads_incomplete", c.FinalReadsIncomplete)
	case *checkers.LinearizableResult:
		add("timeout", c.Timeout)
		add("keys", len(c.Keys))
	case *checkers.LeaderElectionResult:
		if c.Exact {
			add("decided from", "the system's own log")
		} else if c.LogIncomplete != "" {
			add("log_incomplete", c.LogIncomplete)
		}
		add("partitions", c.Partitions)
		add("states", c.States)
		add("elections", c.Elections)
		add("unclean", c.Unclean)
		add("undecided", len(c.Undecided))
		if c.UncleanAllowed {
			add("unclean_allowed", true)
		}
	case *checkers.CoverageResult:
		add("acked_sends", c.AckedSends)
		add("reads", c.Reads)
		add("elections", c.Elections)
		add("faults", len(c.Faults))
	case *txn.Result:
		add("producer", c.Producer)
		add("isolation", c.Isolation)
		add("transactions", c.Stats.Transactions)
		add("committed", c.Stats.Committed)
		add("aborted", c.Stats.Aborted)
		add("unknown", c.Stats.Indeterminate)
		list("bad_anomaly_types", c.BadAnomalyTypes)
	case *checkers.Stats:
		add("seconds", c.Seconds)
		if len(c.PerSecond) > 0 {
			add("per_second", "counts of each second, in results.json")
		}
	}
	return out
}

// prettyJSON returns v as indented JSON for a person: lists of scalars on one line, lists of
// more than maxItems items shortened with a note of how many were left out, the whole cut after
// about limit bytes.
func prettyJSON(v any, maxItems, limit int) string {
	data, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	writePretty(&b, data, "", maxItems, limit)
	if s := b.String(); len(s) > limit {
		return cutUTF8(s, limit) + "\n…"
	}
	return b.String()
}

// writePretty writes the JSON text raw indented. Its depth is bounded: encoding/json refuses
// text nested more than 10,000 deep, and v came from it.
func writePretty(b *strings.Builder, raw []byte, indent string, maxItems, limit int) {
	if b.Len() > limit {
		return
	}
	raw = bytes.TrimSpace(raw)
	inner := indent + "  "
	switch {
	case len(raw) > 0 && raw[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 {
			b.Write(raw)
			return
		}
		if !slices.ContainsFunc(items, func(r json.RawMessage) bool { return r[0] == '[' || r[0] == '{' }) {
			b.WriteByte('[')
			for i, item := range items {
				if i == maxItems*4 {
					fmt.Fprintf(b, ", … %d more", len(items)-i)
					break
				}
				if i > 0 {
					b.WriteString(", ")
				}
				b.Write(item)
			}
			b.WriteByte(']')
			return
		}
		b.WriteString("[\n")
		for i, item := range items {
			if i == maxItems {
				fmt.Fprintf(b, "%s… %d more\n", inner, len(items)-i)
				break
			}
			b.WriteString(inner)
			writePretty(b, item, inner, maxItems, limit)
			if i < len(items)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case len(raw) > 0 && raw[0] == '{':
		// A decoder keeps the fields in the order they were written; a map would sort them.
		dec := json.NewDecoder(bytes.NewReader(raw))
		if _, err := dec.Token(); err != nil {
			b.Write(raw)
			return
		}
		first := true
		for dec.More() {
			k, err := dec.Token()
			var val json.RawMessage
			if err == nil {
				err = dec.Decode(&val)
			}
			if err != nil {
				break
			}
			if first {
				b.WriteString("{\n")
			} else {
				b.WriteString(",\n")
			}
			first = false
			name, _ := json.Marshal(k)
			b.WriteString(inner)
			b.Write(name)
			b.WriteString(": ")
			writePretty(b, val, inner, maxItems, limit)
		}
		if first {
			b.WriteString("{}")
			return
		}
		b.WriteString("\n" + indent + "}")
	default:
		b.Write(raw)
	}
}

// errors groups the failed and indeterminate completions by function, outcome and error text.
func (b *builder) errors() {
	type agg struct {
		f, typ, err string
		count       int
		first, last int
	}
	groups := map[string]*agg{}
	var order []*agg
	for i := range b.ops {
		op := &b.ops[i]
		if op.Error == "" {
			continue
		}
		k := op.F + "\x00" + op.Type.String() + "\x00" + op.Error
		g := groups[k]
		if g == nil {
			g = &agg{f: op.F, typ: op.Type.String(), err: op.Error, first: i}
			groups[k] = g
			order = append(order, g)
		}
		g.count++
		g.last = i
	}
	slices.SortStableFunc(order, func(a, c *agg) int { return cmp.Compare(c.count, a.count) })
	if len(order) > maxErrorRows {
		b.view.ErrorNote = fmt.Sprintf("The %d most frequent of %d distinct errors.", maxErrorRows, len(order))
		order = order[:maxErrorRows]
	}
	for _, g := range order {
		row := errorRow{F: g.f, Type: g.typ, Error: cutUTF8(g.err, 600), Count: group(g.count), First: strconv.FormatInt(b.ops[g.first].Index, 10),
			Span: seconds(b.ops[g.first].Time)}
		if g.count > 1 {
			row.Span += " – " + seconds(b.ops[g.last].Time)
		}
		if b.refs[g.first] {
			row.FirstHref = "#op-" + strconv.Itoa(g.first)
		}
		b.view.Errors = append(b.view.Errors, row)
	}
}

// finalReads lists what the final reads reached, per key.
func (b *builder) finalReads() {
	incomplete := 0
	for i := range b.ops {
		op := &b.ops[i]
		if op.Process != history.ObserverProcess || op.F != history.FFinalRead {
			continue
		}
		v, err := op.FinalRead()
		if err != nil {
			b.view.Warnings = append(b.view.Warnings, "Skipped an observer line: "+err.Error())
			continue
		}
		row := finalReadRow{Key: v.Key, Position: strconv.FormatInt(v.Position, 10), HighWatermark: strconv.FormatInt(v.HighWatermark, 10),
			Target: strconv.FormatInt(v.Target, 10), Complete: "yes", Class: "ok"}
		if !v.Complete {
			row.Complete, row.Class = "no", "fail"
			incomplete++
		}
		b.view.Final = append(b.view.Final, row)
	}
	slices.SortStableFunc(b.view.Final, func(a, c finalReadRow) int { return compareKeys(a.Key, c.Key) })
	if incomplete > 0 {
		b.view.Warnings = append(b.view.Warnings, fmt.Sprintf("%d final %s did not reach the high watermark: what they did not read cannot be called lost with certainty.",
			incomplete, plural(incomplete, "read", "reads")))
	}
}

// viz lists porcupine's visualizations present in the run directory.
func (b *builder) viz() {
	dir := filepath.Join(b.run.dir, VisualizationDir)
	notLin := map[string]bool{}
	for _, e := range b.run.results.Anomalies[checkers.NotLinearizable] {
		if k := checkers.DescribeAnomaly(e).Key; k != "" {
			notLin[k] = true
		}
	}
	var keys []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return nil
		}
		rel, rerr := filepath.Rel(dir, p)
		if rerr != nil {
			return nil
		}
		key := strings.TrimSuffix(filepath.ToSlash(rel), ".html")
		if _, ok := b.vizHref(key); ok {
			keys = append(keys, key)
		}
		return nil
	})
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		href, _ := b.vizHref(k)
		note := "porcupine's visualization"
		if notLin[k] {
			note = "not linearizable: " + note
		}
		b.view.Viz = append(b.view.Viz, vizLink{Key: k, Href: href, Note: note})
		if c := b.parts[k]; c != nil {
			c.Viz = href
		}
	}
}

// vizHref returns the relative link to key's visualization, if the file is there.
func (b *builder) vizHref(key string) (string, bool) {
	p, err := VisualizationPath(b.run.dir, key)
	if err != nil {
		return "", false
	}
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	topic, part, _ := strings.Cut(key, "/")
	return path.Join(VisualizationDir, escapeSegment(topic), escapeSegment(part)+".html"), true
}

// nodeLogs lists the node logs under nodes/, linked relatively.
func nodeLogs(dir string) []logNode {
	nodes, err := os.ReadDir(filepath.Join(dir, NodesDir))
	if err != nil {
		return nil
	}
	var out []logNode
	for _, n := range nodes {
		if !n.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, NodesDir, n.Name()))
		if err != nil {
			continue
		}
		ln := logNode{Name: n.Name()}
		for _, f := range files {
			info, err := f.Info()
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			ln.Files = append(ln.Files, logFile{Name: f.Name(), Size: sizeText(info.Size()),
				Href: path.Join(NodesDir, escapeSegment(n.Name()), escapeSegment(f.Name()))})
		}
		out = append(out, ln)
	}
	slices.SortFunc(out, func(a, c logNode) int { return naturalCompare(a.Name, c.Name) })
	return out
}

// escapeSegment escapes one path segment of a relative link.
func escapeSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// naturalCompare orders "n2" before "n10".
func naturalCompare(a, c string) int {
	ta, na := splitNumber(a)
	tc, nc := splitNumber(c)
	if r := cmp.Compare(ta, tc); r != 0 {
		return r
	}
	if r := cmp.Compare(na, nc); r != 0 {
		return r
	}
	return cmp.Compare(a, c)
}

func splitNumber(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, _ := strconv.Atoi(s[i:])
	return s[:i], n
}

func sizeText(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
