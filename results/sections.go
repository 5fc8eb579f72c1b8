package results

import (
	"cmp"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/history"
)

// checkers lists each checker of results.json with its verdict, its scalar details and the
// rest as JSON.
func (b *builder) checkers() {
	cs := b.run.results.get("checkers")
	if cs == nil {
		return
	}
	for i, name := range cs.keys {
		c := cs.vals[i]
		row := checkerRow{Name: name}
		verdict, err := validity(c.get("valid"), `"valid"`)
		if err != nil {
			verdict, row.Note = "unknown", "malformed: "+err.Error()
		}
		row.Verdict = verdict
		if checked := c.get("checked"); checked != nil && checked.kind == jBool && !checked.b {
			row.Note = "nothing to check: does not decide the verdict"
		}
		row.Reasons = reasonsOf(c, 5)
		if c != nil && c.kind == jObject {
			for j, k := range c.keys {
				if k == "valid" || k == "checked" {
					continue
				}
				if text, ok := shortText(c.vals[j]); ok {
					row.Summary = append(row.Summary, specRow{Name: k, Value: text})
				}
			}
		}
		row.Detail = c.pretty(10, 20000)
		b.view.Checkers = append(b.view.Checkers, row)
	}
}

// shortText writes a scalar, a short list of scalars or a small object of scalars on one line;
// anything bigger is left to the full details.
func shortText(v *jvalue) (string, bool) {
	const maxItems = 8
	switch {
	case v.isScalar():
		return cutUTF8(v.plain(), 200), true
	case len(v.vals) == 0 || len(v.vals) > maxItems:
		return "", false
	}
	var parts []string
	for i, item := range v.vals {
		if !item.isScalar() {
			return "", false
		}
		if v.kind == jObject {
			parts = append(parts, v.keys[i]+"="+item.plain())
		} else {
			parts = append(parts, item.plain())
		}
	}
	return cutUTF8(strings.Join(parts, ", "), 200), true
}

// reasonsOf returns up to max "reason" texts found in a checker's details, each after the path
// of fields that leads to it ("keys.kchaos/1: timed out").
func reasonsOf(v *jvalue, max int) []string {
	var out []string
	var walk func(v *jvalue, path string)
	walk = func(v *jvalue, path string) {
		if v == nil || len(out) >= max {
			return
		}
		switch v.kind {
		case jObject:
			if r := v.get("reason").str(); r != "" {
				where := path
				if k := v.get("key").str(); k != "" {
					where = k
				}
				if where != "" {
					r = where + ": " + r
				}
				out = append(out, cutUTF8(r, 300))
			}
			for i, k := range v.keys {
				if k != "reason" {
					walk(v.vals[i], strings.TrimPrefix(path+"."+k, "."))
				}
			}
		case jArray:
			for _, item := range v.vals {
				walk(item, path)
			}
		}
	}
	walk(v, "")
	return out
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

// finalReadF is the f of the observer line that reports a key's final read.
const finalReadF = "final-read"

// finalReads lists what the final reads reached, per key.
func (b *builder) finalReads() {
	incomplete := 0
	for i := range b.ops {
		op := &b.ops[i]
		if op.Process != history.ObserverProcess || op.F != finalReadF {
			continue
		}
		v, err := parseJSON(op.Raw)
		if err != nil || v.kind != jObject {
			continue
		}
		row := finalReadRow{Key: v.get("key").plain(), Position: v.get("position").plain(), HighWatermark: v.get("high_watermark").plain(),
			Target: v.get("target").plain(), Complete: "yes", Class: "ok"}
		if c := v.get("complete"); c == nil || c.kind != jBool || !c.b {
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
	for _, e := range b.run.results.path("anomalies.not-linearizable").items() {
		if k := e.get("key").str(); k != "" {
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

// spec shows test.json and the command that runs the same test again.
func (b *builder) spec() {
	s := b.run.spec
	if s == nil {
		return
	}
	b.view.Spec = flatten(s, "")
	b.view.Rerun = wrapCommand(rerunCommand(s), 78)
	if img := s.path("cluster.image").str(); img != "" {
		b.view.Kafka = img
		if _, tag, ok := strings.Cut(img[strings.LastIndex(img, "/")+1:], ":"); ok && versionRe.MatchString(tag) {
			b.view.Kafka = "Kafka " + tag + " (" + img + ")"
		}
	}
	b.view.SpecSummary = specSummary(s)
}

// specSummary says in one line what the test was: the cluster, its settings, the workload, the
// faults and the seed.
func specSummary(s *jvalue) string {
	var parts []string
	num := func(p string) (int64, bool) { return s.path(p).int() }
	if n, ok := num("cluster.brokers"); ok {
		part := fmt.Sprintf("%d %s", n, plural(int(n), "broker", "brokers"))
		if z, ok := num("cluster.zk_nodes"); ok {
			part += fmt.Sprintf(", %d ZooKeeper", z)
		}
		parts = append(parts, part)
	}
	if n, ok := num("partitions"); ok {
		part := fmt.Sprintf("%d %s", n, plural(int(n), "partition", "partitions"))
		if rf, ok := num("cluster.replication_factor"); ok {
			part += fmt.Sprintf(", replication %d", rf)
		}
		if m, ok := num("cluster.min_insync_replicas"); ok {
			part += fmt.Sprintf(", min ISR %d", m)
		}
		if a := s.get("acks").plain(); s.get("acks") != nil {
			part += ", acks " + a
		}
		parts = append(parts, part)
	}
	if u := s.path("cluster.unclean_leader_election"); u != nil && u.kind == jBool {
		if u.b {
			parts = append(parts, "unclean election on")
		} else {
			parts = append(parts, "unclean election off")
		}
	}
	if nem := s.get("nemesis"); nem != nil {
		if text := flatText(nem); text != "" && text != "none" {
			part := "faults: " + strings.ReplaceAll(text, ",", ", ")
			if iv := s.get("nemesis_interval").str(); iv != "" {
				part += " every " + iv
			}
			parts = append(parts, part)
		} else {
			parts = append(parts, "no faults")
		}
	}
	if tl := s.get("time_limit").str(); tl != "" {
		part := tl
		if r, ok := s.get("rate").float(); ok && r > 0 {
			part += " at " + s.get("rate").plain() + " ops/s"
		}
		if c, ok := num("concurrency"); ok {
			part += fmt.Sprintf(", %d workers", c)
		}
		parts = append(parts, part)
	}
	if seed := s.get("seed"); seed != nil {
		parts = append(parts, "seed "+seed.plain())
	}
	return strings.Join(parts, " · ")
}

// wrapCommand writes a command's words on lines of about width characters, continued with
// backslashes (outside any quotes, since each word is whole).
func wrapCommand(words []string, width int) string {
	var lines []string
	line := ""
	for _, w := range words {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) > width:
			lines = append(lines, line)
			line = "  " + w
		default:
			line += " " + w
		}
	}
	lines = append(lines, line)
	return strings.Join(lines, " \\\n")
}

var versionRe = regexp.MustCompile(`^\d+\.\d+(\.\d+)?`)

// flatten lists an object's scalar fields, nested objects' fields named with dots.
func flatten(v *jvalue, prefix string) []specRow {
	var out []specRow
	for i, k := range v.keys {
		val := v.vals[i]
		name := prefix + k
		if val.kind == jObject && len(val.keys) > 0 {
			out = append(out, flatten(val, name+".")...)
			continue
		}
		text := val.plain()
		if val.kind == jArray {
			text = strings.ReplaceAll(flatText(val), ",", ", ")
			if len(val.vals) == 0 {
				text = "none"
			}
		}
		out = append(out, specRow{Name: name, Value: cutUTF8(text, 400)})
	}
	return out
}

// rerunFlags maps test.json fields to the flags of kchaos run, in the order they are written.
var rerunFlags = []struct{ field, flag string }{
	{"name", "name"},
	{"time_limit", "time-limit"},
	{"nemesis", "nemesis"},
	{"nemesis_interval", "nemesis-interval"},
	{"cluster.brokers", "brokers"},
	{"cluster.zk_nodes", "zk-nodes"},
	{"partitions", "partitions"},
	{"cluster.replication_factor", "replication-factor"},
	{"cluster.min_insync_replicas", "min-insync-replicas"},
	{"acks", "acks"},
	{"cluster.unclean_leader_election", "unclean-leader-election"},
	{"concurrency", "concurrency"},
	{"rate", "rate"},
	{"seed", "seed"},
	{"cluster.image", "image"},
	{"workload", "workload"},
	{"topic", "topic"},
	{"op_timeout", "op-timeout"},
	{"recovery_timeout", "recovery-timeout"},
	{"final_read_timeout", "final-read-timeout"},
	{"cluster.replica_lag_time_max_ms", "replica-lag-time-max-ms"},
	{"cluster.zookeeper_session_timeout_ms", "zookeeper-session-timeout-ms"},
	{"cluster.broker_heap_mb", "broker-heap-mb"},
	{"cluster.zk_heap_mb", "zk-heap-mb"},
	{"results_dir", "results-dir"},
}

// rerunCommand writes the kchaos run command line that runs the spec again, every value
// shell-quoted, as words: "kchaos", "run", then each flag with its value.
func rerunCommand(s *jvalue) []string {
	words := []string{"kchaos", "run"}
	for _, rf := range rerunFlags {
		v := s.path(rf.field)
		if v == nil || v.kind == jNull {
			continue
		}
		switch {
		case v.kind == jBool && v.b:
			words = append(words, "--"+rf.flag)
		case v.kind == jBool:
			words = append(words, "--"+rf.flag+"=false")
		case v.kind == jArray:
			val := flatText(v)
			if val == "" {
				val = "none"
			}
			words = append(words, "--"+rf.flag+" "+shellQuote(val))
		case v.isScalar():
			words = append(words, "--"+rf.flag+" "+shellQuote(v.plain()))
		}
	}
	if props := s.path("cluster.server_properties"); props != nil && props.kind == jObject {
		for i, k := range props.keys {
			words = append(words, "--server-property "+shellQuote(k+"="+props.vals[i].plain()))
		}
	}
	return words
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=,@%+-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
