package results

import (
	"encoding"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/spec"
)

// specName returns the test name of a spec; "" when s is nil or has none.
func specName(s *spec.Spec) string {
	if s == nil {
		return ""
	}
	return s.Name
}

// withDefaults returns the spec a run of s ran with: its unset fields given their defaults, as
// kchaos run gives them (test.json has them all but for an older or hand-written one), and its
// seed as test.json has it, since a seed drawn now would be no run's.
func withDefaults(s *spec.Spec) spec.Spec {
	full := s.WithDefaults()
	full.Seed = s.Seed
	return full
}

// spec shows test.json and the command that runs the same test again.
func (b *builder) spec() {
	if b.run.spec == nil {
		return
	}
	s := withDefaults(b.run.spec)
	b.view.Spec = specRows(b.run.spec)
	b.view.Rerun = wrapCommand(commandWords(spec.RerunCommand(s)), 78)
	if img := s.Cluster.Image; img != "" {
		b.view.Kafka = img
		if _, tag, ok := strings.Cut(img[strings.LastIndex(img, "/")+1:], ":"); ok && versionRe.MatchString(tag) {
			b.view.Kafka = "Kafka " + tag + " (" + img + ")"
		}
	}
	b.view.SpecSummary = specSummary(&s)
}

// specSummary says in one line what the test was: the cluster, its settings, the workload, the
// faults and the seed.
func specSummary(s *spec.Spec) string {
	c := &s.Cluster
	parts := []string{
		fmt.Sprintf("%d %s, %d ZooKeeper", c.Brokers, plural(c.Brokers, "broker", "brokers"), c.ZooKeeperNodes),
		fmt.Sprintf("%d %s, replication %d, min ISR %d, acks %s", s.Partitions, plural(s.Partitions, "partition", "partitions"),
			c.ReplicationFactor, c.MinInsyncReplicas, s.Acks),
	}
	if c.UncleanLeaderElection {
		parts = append(parts, "unclean election on")
	} else {
		parts = append(parts, "unclean election off")
	}
	if faults := strings.Join(s.Nemesis, ", "); faults != "" && faults != "none" {
		parts = append(parts, "faults: "+faults+" every "+s.NemesisInterval.D().String())
	} else {
		parts = append(parts, "no faults")
	}
	load := s.TimeLimit.D().String()
	if s.Rate > 0 {
		load += " at " + strconv.FormatFloat(s.Rate, 'f', -1, 64) + " ops/s"
	}
	load += fmt.Sprintf(", %d workers", s.Concurrency)
	parts = append(parts, load, "seed "+strconv.FormatInt(s.Seed, 10))
	return strings.Join(parts, " · ")
}

// commandWords splits a shell command line as spec.RerunCommand writes it into words, a flag
// and its value together ("--brokers 5"), so that wrapping never parts them. Spaces inside
// single quotes, or escaped, do not split.
func commandWords(line string) []string {
	var args []string
	var cur strings.Builder
	quoted, escaped := false, false
	for _, r := range line {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && !quoted:
			escaped = true
		case r == '\'':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				args = append(args, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		args = append(args, cur.String())
	}
	var words []string
	for i := 0; i < len(args); i++ {
		w := args[i]
		if strings.HasPrefix(w, "--") && !strings.Contains(w, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			w += " " + args[i+1]
			i++
		}
		words = append(words, w)
	}
	return words
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

// specRows lists the fields of a spec by their JSON names, those of nested structs named with
// dots, in declaration order, as test.json has them; a field test.json would leave out
// (omitempty) is left out when it is empty.
func specRows(s *spec.Spec) []specRow {
	var out []specRow
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fv := v.Field(i)
			if fv.Kind() == reflect.Struct && !fv.Type().Implements(textMarshaler) {
				walk(fv, prefix+name+".")
				continue
			}
			if strings.Contains(opts, "omitempty") && fv.IsZero() {
				continue
			}
			out = append(out, specRow{Name: prefix + name, Value: cutUTF8(specText(fv), 400)})
		}
	}
	walk(reflect.ValueOf(s).Elem(), "")
	return out
}

var textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()

// specText writes a spec value for a person: durations as Go writes them, lists comma-separated
// ("none" when empty), maps as key=value in key order.
func specText(v reflect.Value) string {
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		if text, err := m.MarshalText(); err == nil {
			return string(text)
		}
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 {
			return "none"
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(parts, ", ")
	case reflect.Map:
		var parts []string
		for _, k := range v.MapKeys() {
			parts = append(parts, fmt.Sprint(k.Interface())+"="+fmt.Sprint(v.MapIndex(k).Interface()))
		}
		slices.Sort(parts)
		return strings.Join(parts, ", ")
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}
