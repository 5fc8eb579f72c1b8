package history

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Nemesis function prefixes: a fault X is recorded as a start-X line and ends at a stop-X line.
const (
	StartPrefix = "start-"
	StopPrefix  = "stop-"
)

// NemesisValue is what a nemesis line's value says of the nodes it hit, in the shapes the kchaos
// nemesis writes (see package nemesis): {"nodes":[...]} for kill, pause and zk-isolate,
// {"grudge":{...}} for partitions, {"follower":...,"leader":...} for lag, {"leader":...,"grudge":...}
// for jepsen-2013. Fields the value lacks, or holds in another shape, are zero: a value written by
// another tool still reads.
type NemesisValue struct {
	Nodes    []string `json:"nodes,omitempty"`
	Leader   string   `json:"leader,omitempty"`
	Follower string   `json:"follower,omitempty"`
	Key      string   `json:"key,omitempty"`
	Shape    string   `json:"shape,omitempty"`
	// Grudge maps a node to the nodes whose packets it drops.
	Grudge map[string][]string `json:"grudge,omitempty"`
}

// DecodeNemesisValue reads the fields of NemesisValue from raw, each on its own: a field of
// another type is left zero rather than failing the rest. A raw that is not an object gives the
// zero NemesisValue.
func DecodeNemesisValue(raw json.RawMessage) NemesisValue {
	var v NemesisValue
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return v
	}
	field := func(name string, dst any) {
		if b, ok := fields[name]; ok && json.Unmarshal(b, dst) != nil {
			// Leave it zero: e.g. a Jepsen value with "nodes" as a map.
			switch d := dst.(type) {
			case *[]string:
				*d = nil
			case *string:
				*d = ""
			case *map[string][]string:
				*d = nil
			}
		}
	}
	field("nodes", &v.Nodes)
	field("leader", &v.Leader)
	field("follower", &v.Follower)
	field("key", &v.Key)
	field("shape", &v.Shape)
	field("grudge", &v.Grudge)
	return v
}

// Hit returns the nodes the fault hit, each once, in node order (n2 before n10): its Nodes, its
// Follower, the holders of its Grudge (a node that drops packets is cut off), and its Leader
// unless a Follower is named (a lag hits the follower; its leader only says what the follower
// was chosen for).
func (v NemesisValue) Hit() []string {
	names := slices.Clone(v.Nodes)
	if v.Follower != "" {
		names = append(names, v.Follower)
	} else if v.Leader != "" {
		names = append(names, v.Leader)
	}
	for n := range v.Grudge {
		names = append(names, n)
	}
	slices.SortFunc(names, CompareNodes)
	return slices.Compact(names)
}

// CompareNodes orders node names by their letters, then by their number: n2 before n10.
func CompareNodes(a, b string) int {
	pa, na := splitNode(a)
	pb, nb := splitNode(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	if c := compareDigits(na, nb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func splitNode(s string) (prefix, digits string) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	return s[:i], s[i:]
}

func compareDigits(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// BrokerID returns the broker id of a node named n1, n2, ..., and whether name is one.
func BrokerID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "n")
	if !ok || rest == "" || len(rest) > 9 {
		return 0, false
	}
	id, err := strconv.Atoi(rest)
	if err != nil || id < 0 || rest[0] == '+' || rest[0] == '-' {
		return 0, false
	}
	return id, true
}

// FaultWindow is one fault as the nemesis recorded it: from the line that started it to the line
// that stopped it. See FaultWindows.
type FaultWindow struct {
	// Kind is X of the start-X line: kill, pause, partition, zk-isolate, lag, jepsen-2013, ...
	Kind string
	// F is the f of the line that started the window: start-X, or the step's f (such as
	// isolate-jepsen-2013) for a step.
	F string
	// Step is the name of the step (the f's part before -X, e.g. "isolate") when the window is a
	// step within another fault, which Parent gives; "" and -1 otherwise.
	Step   string
	Parent int
	// Start is the position in the history of the line that started it, StartTime its time.
	Start     int
	StartTime int64
	// Value is that line's value, as written.
	Value json.RawMessage
	// Error is the error of that line: the fault did not happen (nothing was left to stop), and
	// the window never opened (Stopped false, Stop -1).
	Error string
	// Stopped says whether a stop line ended the fault; Stop is its position (-1 if none) and
	// StopTime its time (0 if none: the fault lasted to the end of the history).
	Stopped  bool
	Stop     int
	StopTime int64
	// StopErrors are the errors of stop-X lines that failed to heal the fault while it was open;
	// the fault stayed until a stop line without error, if any.
	StopErrors []string
}

// Open reports whether the window was in place at time t: it started no later than t, did not
// fail to start, and had not stopped before t.
func (w *FaultWindow) Open(t int64) bool {
	return w.Error == "" && w.StartTime <= t && (!w.Stopped || t <= w.StopTime)
}

// FaultWindows pairs the nemesis lines of ops into fault windows, in the order their first lines
// appear. It is the one reading of nemesis lines into faults; every consumer (the checkers, the
// report) uses it.
//
//   - A start-X line opens a window of kind X. With an error it opens nothing (the fault did not
//     happen) but is still listed, with Error set.
//   - A stop-X line without an error stops an open window of kind X: the one whose Hit nodes
//     the stop line's value names exactly, else the most recent one (the nemesis heals newest
//     first). A stop-X line with an error leaves the window open and is noted in its StopErrors:
//     a later heal tries again.
//   - Any other nemesis line S-X, while a window of kind X is open (the most recent one), is a
//     step of it: a window of kind X with Step S, which stops when its parent does. jepsen-2013
//     records its second step so: isolate-jepsen-2013 isolates the leader fully after its
//     replication was cut. A step line with an error is listed with Error set, as a failed start.
//   - Other nemesis lines (a Jepsen kill, say) are not fault windows: they are left out.
func FaultWindows(ops []Op) []FaultWindow {
	var out []FaultWindow
	var open []int // indexes in out of the open windows, in start order
	for i := range ops {
		op := &ops[i]
		if op.Process != NemesisProcess {
			continue
		}
		if kind, ok := strings.CutPrefix(op.F, StartPrefix); ok && kind != "" {
			out = append(out, FaultWindow{Kind: kind, F: op.F, Parent: -1, Start: i, StartTime: op.Time,
				Value: op.Raw, Error: op.Error, Stop: -1})
			if op.Error == "" {
				open = append(open, len(out)-1)
			}
			continue
		}
		if kind, ok := strings.CutPrefix(op.F, StopPrefix); ok && kind != "" {
			at := stopTarget(out, open, kind, op.Raw)
			if at < 0 {
				continue
			}
			w := &out[open[at]]
			if op.Error != "" {
				w.StopErrors = append(w.StopErrors, op.Error)
				continue
			}
			parent := open[at]
			kept := open[:0]
			for _, o := range open {
				if o == parent || out[o].Parent == parent {
					out[o].Stopped, out[o].Stop, out[o].StopTime = true, i, op.Time
					continue
				}
				kept = append(kept, o)
			}
			open = kept
			continue
		}
		// A step of an open fault: S-X with X the kind of an open window.
		for j := len(open) - 1; j >= 0; j-- {
			w := &out[open[j]]
			if w.Parent >= 0 {
				continue
			}
			step, ok := strings.CutSuffix(op.F, "-"+w.Kind)
			if !ok || step == "" {
				continue
			}
			parent := open[j]
			out = append(out, FaultWindow{Kind: w.Kind, F: op.F, Step: step, Parent: parent, Start: i, StartTime: op.Time,
				Value: op.Raw, Error: op.Error, Stop: -1})
			if op.Error == "" {
				open = append(open, len(out)-1)
			}
			break
		}
	}
	return out
}

// stopTarget returns the position in open of the window a stop line of kind with value raw stops,
// or -1 if none is open: the most recent one of that kind whose nodes the value names exactly,
// else the most recent one of that kind. Steps are stopped with their parent, never on their own.
func stopTarget(out []FaultWindow, open []int, kind string, raw json.RawMessage) int {
	var nodes []string
	if len(raw) > 0 {
		nodes = DecodeNemesisValue(raw).Hit()
	}
	latest := -1
	for j := len(open) - 1; j >= 0; j-- {
		w := &out[open[j]]
		if w.Kind != kind || w.Parent >= 0 {
			continue
		}
		if latest < 0 {
			latest = j
			if len(nodes) == 0 {
				break
			}
		}
		if slices.Equal(DecodeNemesisValue(w.Value).Hit(), nodes) {
			return j
		}
	}
	return latest
}

// BrokerName is the node name of broker id in nemesis lines and node logs: n1, n2, ...
func BrokerName(id int) string { return "n" + strconv.Itoa(id) }

// Dropped is what the crash of one broker's filesystem lost, per node in the "dropped" field of
// the crash and power-loss lines: data Kafka wrote and never fsynced, and file creations, removals
// and renames whose directory was never fsynced.
type Dropped struct {
	// Bytes counts the data bytes lost (whole 4 KiB pages).
	Bytes int64 `json:"bytes"`
	// Files counts the files that lost data; Paths names them, relative to the log dir.
	Files int      `json:"files"`
	Paths []string `json:"paths,omitempty"`
	// Ops counts the namespace operations undone (a segment created, a file renamed).
	Ops int `json:"ops"`
	// Error says the crash could not undo everything; what was counted was still lost.
	Error string `json:"error,omitempty"`
}

// DecodeDropped reads the "dropped" field of a crash or power-loss line's value: per node, what
// it lost. It returns nil when the value has no such field or it is not of that shape.
func DecodeDropped(raw json.RawMessage) map[string]Dropped {
	var v struct {
		Dropped map[string]Dropped `json:"dropped"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v.Dropped
}
