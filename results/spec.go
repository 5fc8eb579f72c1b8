package results

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// runSpec is test.json as the harness writes it (harness.Spec), read for the report. Its fields
// are pointers so that a field test.json lacks is told from a zero one: the re-run command
// leaves it out, and kchaos run then takes its default.
//
// TODO(spec): read test.json as spec.Spec, and write the re-run command with spec.RerunArgs,
// once the spec package is on main; runSpec, rerunFlags and rerunCommand go then.
type runSpec struct {
	Name             *string        `json:"name"`
	Cluster          runClusterSpec `json:"cluster"`
	Workload         *string        `json:"workload"`
	Topic            *string        `json:"topic"`
	Partitions       *int64         `json:"partitions"`
	Acks             *string        `json:"acks"`
	Subscribe        *bool          `json:"subscribe"`
	Nemesis          []string       `json:"nemesis"`
	NemesisInterval  *string        `json:"nemesis_interval"`
	NemesisTargets   []string       `json:"nemesis_targets"`
	NemesisShapes    []string       `json:"nemesis_shapes"`
	NemesisTraffic   *string        `json:"nemesis_traffic"`
	TimeLimit        *string        `json:"time_limit"`
	Concurrency      *int64         `json:"concurrency"`
	Rate             *float64       `json:"rate"`
	Seed             *int64         `json:"seed"`
	ResultsDir       *string        `json:"results_dir"`
	OpTimeout        *string        `json:"op_timeout"`
	RecoveryTimeout  *string        `json:"recovery_timeout"`
	FinalReadTimeout *string        `json:"final_read_timeout"`
}

// runClusterSpec is test.json's "cluster" (broker.ClusterSpec).
type runClusterSpec struct {
	Image                     *string           `json:"image"`
	ZooKeeperNodes            *int64            `json:"zk_nodes"`
	Brokers                   *int64            `json:"brokers"`
	BrokerHeapMB              *int64            `json:"broker_heap_mb"`
	ZooKeeperHeapMB           *int64            `json:"zk_heap_mb"`
	ReplicationFactor         *int64            `json:"replication_factor"`
	MinInsyncReplicas         *int64            `json:"min_insync_replicas"`
	UncleanLeaderElection     *bool             `json:"unclean_leader_election"`
	ReplicaLagTimeMaxMs       *int64            `json:"replica_lag_time_max_ms"`
	ZooKeeperSessionTimeoutMs *int64            `json:"zookeeper_session_timeout_ms"`
	ServerProperties          map[string]string `json:"server_properties"`
}

// name returns the spec's test name; "" when s is nil or has none.
func (s *runSpec) name() string {
	if s == nil || s.Name == nil {
		return ""
	}
	return *s.Name
}

// spec shows test.json and the command that runs the same test again.
func (b *builder) spec() {
	s := b.run.spec
	if s == nil {
		return
	}
	b.view.Spec = specRows(s)
	b.view.Rerun = wrapCommand(rerunCommand(s), 78)
	if img := deref(s.Cluster.Image); img != "" {
		b.view.Kafka = img
		if _, tag, ok := strings.Cut(img[strings.LastIndex(img, "/")+1:], ":"); ok && versionRe.MatchString(tag) {
			b.view.Kafka = "Kafka " + tag + " (" + img + ")"
		}
	}
	b.view.SpecSummary = specSummary(s)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// specSummary says in one line what the test was: the cluster, its settings, the workload, the
// faults and the seed.
func specSummary(s *runSpec) string {
	var parts []string
	c := &s.Cluster
	if n := c.Brokers; n != nil {
		part := fmt.Sprintf("%d %s", *n, plural(int(*n), "broker", "brokers"))
		if z := c.ZooKeeperNodes; z != nil {
			part += fmt.Sprintf(", %d ZooKeeper", *z)
		}
		parts = append(parts, part)
	}
	if n := s.Partitions; n != nil {
		part := fmt.Sprintf("%d %s", *n, plural(int(*n), "partition", "partitions"))
		if rf := c.ReplicationFactor; rf != nil {
			part += fmt.Sprintf(", replication %d", *rf)
		}
		if m := c.MinInsyncReplicas; m != nil {
			part += fmt.Sprintf(", min ISR %d", *m)
		}
		if a := s.Acks; a != nil {
			part += ", acks " + *a
		}
		parts = append(parts, part)
	}
	if u := c.UncleanLeaderElection; u != nil {
		if *u {
			parts = append(parts, "unclean election on")
		} else {
			parts = append(parts, "unclean election off")
		}
	}
	if s.Nemesis != nil {
		if text := strings.Join(s.Nemesis, ", "); text != "" && text != "none" {
			part := "faults: " + text
			if iv := deref(s.NemesisInterval); iv != "" {
				part += " every " + iv
			}
			parts = append(parts, part)
		} else {
			parts = append(parts, "no faults")
		}
	}
	if tl := deref(s.TimeLimit); tl != "" {
		part := tl
		if r := deref(s.Rate); r > 0 {
			part += " at " + strconv.FormatFloat(r, 'f', -1, 64) + " ops/s"
		}
		if c := s.Concurrency; c != nil {
			part += fmt.Sprintf(", %d workers", *c)
		}
		parts = append(parts, part)
	}
	if seed := s.Seed; seed != nil {
		parts = append(parts, "seed "+strconv.FormatInt(*seed, 10))
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

// specRows lists the fields of a spec struct by their JSON names, those of nested structs named
// with dots, in declaration order; fields that are nil are left out.
func specRows(spec any) []specRow {
	var out []specRow
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fv := v.Field(i)
			for fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					break
				}
				fv = fv.Elem()
			}
			switch {
			case fv.Kind() == reflect.Pointer:
				continue
			case fv.Kind() == reflect.Struct:
				walk(fv, prefix+name+".")
				continue
			case fv.Kind() == reflect.Map && fv.IsNil():
				continue
			}
			out = append(out, specRow{Name: prefix + name, Value: cutUTF8(specText(fv), 400)})
		}
	}
	v := reflect.ValueOf(spec)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	walk(v, "")
	return out
}

// specText writes a spec value for a person: lists comma-separated ("none" when empty), maps
// as key=value in key order.
func specText(v reflect.Value) string {
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

// rerunFlags maps test.json fields to the flags of kchaos run, in the order they are written.
var rerunFlags = []struct {
	flag  string
	value func(s *runSpec) any // a pointer or a slice; nil when test.json lacks the field
}{
	{"name", func(s *runSpec) any { return s.Name }},
	{"time-limit", func(s *runSpec) any { return s.TimeLimit }},
	{"nemesis", func(s *runSpec) any { return s.Nemesis }},
	{"nemesis-interval", func(s *runSpec) any { return s.NemesisInterval }},
	{"brokers", func(s *runSpec) any { return s.Cluster.Brokers }},
	{"zk-nodes", func(s *runSpec) any { return s.Cluster.ZooKeeperNodes }},
	{"partitions", func(s *runSpec) any { return s.Partitions }},
	{"replication-factor", func(s *runSpec) any { return s.Cluster.ReplicationFactor }},
	{"min-insync-replicas", func(s *runSpec) any { return s.Cluster.MinInsyncReplicas }},
	{"acks", func(s *runSpec) any { return s.Acks }},
	{"unclean-leader-election", func(s *runSpec) any { return s.Cluster.UncleanLeaderElection }},
	{"concurrency", func(s *runSpec) any { return s.Concurrency }},
	{"rate", func(s *runSpec) any { return s.Rate }},
	{"seed", func(s *runSpec) any { return s.Seed }},
	{"image", func(s *runSpec) any { return s.Cluster.Image }},
	{"workload", func(s *runSpec) any { return s.Workload }},
	{"topic", func(s *runSpec) any { return s.Topic }},
	{"op-timeout", func(s *runSpec) any { return s.OpTimeout }},
	{"recovery-timeout", func(s *runSpec) any { return s.RecoveryTimeout }},
	{"final-read-timeout", func(s *runSpec) any { return s.FinalReadTimeout }},
	{"replica-lag-time-max-ms", func(s *runSpec) any { return s.Cluster.ReplicaLagTimeMaxMs }},
	{"zookeeper-session-timeout-ms", func(s *runSpec) any { return s.Cluster.ZooKeeperSessionTimeoutMs }},
	{"broker-heap-mb", func(s *runSpec) any { return s.Cluster.BrokerHeapMB }},
	{"zk-heap-mb", func(s *runSpec) any { return s.Cluster.ZooKeeperHeapMB }},
	{"results-dir", func(s *runSpec) any { return s.ResultsDir }},
}

// rerunCommand writes the kchaos run command line that runs the spec again, every value
// shell-quoted, as words: "kchaos", "run", then each flag with its value.
func rerunCommand(s *runSpec) []string {
	words := []string{"kchaos", "run"}
	for _, rf := range rerunFlags {
		var val string
		switch v := rf.value(s).(type) {
		case *bool:
			if v != nil && *v {
				words = append(words, "--"+rf.flag)
			} else if v != nil {
				words = append(words, "--"+rf.flag+"=false")
			}
			continue
		case *string:
			if v == nil {
				continue
			}
			val = *v
		case *int64:
			if v == nil {
				continue
			}
			val = strconv.FormatInt(*v, 10)
		case *float64:
			if v == nil {
				continue
			}
			val = strconv.FormatFloat(*v, 'f', -1, 64)
		case []string:
			if v == nil {
				continue
			}
			val = strings.Join(v, ",")
			if val == "" {
				val = "none"
			}
		}
		words = append(words, "--"+rf.flag+" "+shellQuote(val))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Cluster.ServerProperties)) {
		words = append(words, "--server-property "+shellQuote(k+"="+s.Cluster.ServerProperties[k]))
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
