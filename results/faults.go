package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/nemesis"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kchaos/kchaos/history"
)

// faultWindow is a fault as the report draws it: a history.FaultWindow, its stop the end of the
// history when it never stopped, with its label, title and lane.
type faultWindow struct {
	kind, class       string
	start, stop       int64
	startPos, stopPos int    // positions of the lines; stopPos -1 when never stopped
	value             []byte // the start line's value, as written; nil when none
	err, stopErr      string
	label, title      string
	lane              int
}

// maxBandLanes is how many rows of labels overlapping fault windows get above a chart.
const maxBandLanes = 3

// knownFaults are the fault kinds with a colour of their own; others are drawn as "other".
// controller-isolate, the KRaft counterpart of zk-isolate, shares its colour: one run has one
// or the other.
var knownFaults = map[string]bool{"kill": true, "pause": true, "partition": true, "zk-isolate": true, "controller-isolate": true, "lag": true, "jepsen-2013": true}

func faultClass(kind string) string {
	if knownFaults[kind] {
		return "f-" + kind
	}
	return "f-other"
}

// buildFaults reads the fault windows of the history (history.FaultWindows, the one pairing of
// nemesis lines into faults). A step within a fault (isolate-jepsen-2013) is drawn as an event of
// its fault, not as a window of its own; a fault that failed to start is a window of no length.
func (b *builder) buildFaults() {
	for _, w := range history.FaultWindows(b.ops) {
		if w.Parent >= 0 {
			continue
		}
		f := faultWindow{kind: w.Kind, class: faultClass(w.Kind), start: w.StartTime, stop: b.end, startPos: w.Start, stopPos: w.Stop,
			value: w.Value, err: w.Error, stopErr: strings.Join(w.StopErrors, "; ")}
		switch {
		case w.Error != "":
			f.stop = w.StartTime
		case w.Stopped:
			f.stop = w.StopTime
		}
		b.faults = append(b.faults, f)
	}
	starts := make([]float64, len(b.faults))
	ends := make([]float64, len(b.faults))
	for i := range b.faults {
		f := &b.faults[i]
		f.label = faultLabel(f.kind, f.value)
		// Reserve room for the label so that labels of nearby windows do not overlap.
		starts[i] = b.ts.x(f.start)
		ends[i] = max(b.ts.x(f.stop), starts[i]+labelWidth(f.label))
		f.title = fmt.Sprintf("%s from %s to %s", f.label, seconds(f.start), seconds(f.stop))
		if f.stopPos < 0 {
			f.title = fmt.Sprintf("%s from %s, never stopped", f.label, seconds(f.start))
		}
		if f.err != "" {
			f.title += " · start failed: " + cutUTF8(f.err, 200)
		}
		if f.stopErr != "" {
			f.title += " · heal failed: " + cutUTF8(f.stopErr, 200)
		}
	}
	lanes := laneAssign(starts, ends, maxBandLanes)
	kinds := map[string]bool{}
	for i := range b.faults {
		f := &b.faults[i]
		f.lane = lanes[i]
		row := faultRow{
			ID: fmt.Sprintf("fault-%d", i), Kind: f.kind, Class: f.class,
			Start: seconds(f.start), Stop: "never", Duration: durationText(f.stop - f.start),
			Value: compactJSON(f.value, 400), Error: strings.TrimSpace(f.err + " " + f.stopErr),
			X: num(b.ts.x(f.start)), StartIndex: fmt.Sprint(b.ops[f.startPos].Index),
		}
		if f.stopPos >= 0 {
			row.Stop = seconds(f.stop)
			row.StopIndex = fmt.Sprint(b.ops[f.stopPos].Index)
			row.Achieved, row.NotExercised = achievedText(b.ops[f.stopPos].Raw)
		}
		if c := b.coverageOf(b.ops[f.startPos].Index); c != nil {
			row.Covered = fmt.Sprintf("%d ops, %d acked sends, %d reads, %d elections", c.Operations, c.AckedSends, c.Reads, c.Elections)
			row.NotExercised = row.NotExercised || c.Operations == 0
		}
		b.view.Faults = append(b.view.Faults, row)
		if !kinds[f.kind] {
			kinds[f.kind] = true
			b.view.FaultKinds = append(b.view.FaultKinds, faultKind{Kind: f.kind, Class: f.class})
		}
	}
}

// labelWidth is about the width of a fault's label in the charts' units, padding included.
func labelWidth(label string) float64 { return float64(utf8.RuneCountInString(label))*5.4 + 8 }

// bandLanes is the number of label rows the fault windows need.
func (b *builder) bandLanes() int {
	n := 0
	for _, f := range b.faults {
		n = max(n, f.lane+1)
	}
	return n
}

// nemesisEvents are the nemesis lines that are neither a start nor a stop (e.g. the isolate
// step of jepsen-2013), drawn as dashed lines.
func (b *builder) nemesisEvents() []eventMark {
	var out []eventMark
	for i := range b.ops {
		op := &b.ops[i]
		if op.Process != history.NemesisProcess || strings.HasPrefix(op.F, "start-") || strings.HasPrefix(op.F, "stop-") {
			continue
		}
		title := fmt.Sprintf("%s at %s", op.F, seconds(op.Time))
		if len(op.Raw) > 0 {
			title += ": " + cutUTF8(string(op.Raw), 300)
		}
		if op.Error != "" {
			title += " · " + cutUTF8(op.Error, 200)
		}
		out = append(out, eventMark{X: num(b.ts.x(op.Time)), Title: title})
	}
	return out
}

// faultLabel names a fault shortly: "kill n2", "partition majorities-ring", "lag n3→n1".
func faultLabel(kind string, raw []byte) string {
	v := history.DecodeNemesisValue(raw)
	var parts []string
	if len(v.Nodes) > 0 {
		parts = append(parts, strings.Join(v.Nodes, ","))
	}
	if v.Shape != "" {
		parts = append(parts, v.Shape)
	}
	switch {
	case v.Follower != "" && v.Leader != "":
		parts = append(parts, v.Follower+"→"+v.Leader)
	case v.Leader != "":
		parts = append(parts, "leader "+v.Leader)
	}
	if len(parts) == 0 && v.Key != "" {
		parts = append(parts, v.Key)
	}
	label := kind
	if len(parts) > 0 {
		label += " " + strings.Join(parts, " ")
	}
	return cutUTF8(label, 60)
}

// compactJSON returns the JSON text raw without its spaces, cut after about limit bytes with
// "…"; "" when raw is empty.
func compactJSON(raw []byte, limit int) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		b.Reset()
		b.Write(raw)
	}
	if b.Len() > limit {
		return cutUTF8(b.String(), limit) + "…"
	}
	return b.String()
}

// cutUTF8 returns s cut to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// achievedText reads the achievements a nemesis stop line records (nemesis.Achieved) and says
// whether the fault changed nothing at all.
func achievedText(raw []byte) (text string, nothing bool) {
	var v struct {
		Achieved *nemesis.Achieved `json:"achieved"`
	}
	if json.Unmarshal(raw, &v) != nil || v.Achieved == nil {
		return "", false
	}
	a := v.Achieved
	if a.Error != "" {
		return "not measured: " + Printable(a.Error), false
	}
	parts := []string{fmt.Sprintf("held %s", durationText(a.HeldMs*int64(time.Millisecond))),
		fmt.Sprintf("%d %s", a.Elections, plural(a.Elections, "election", "elections"))}
	if a.NewLeader != "" {
		parts = append(parts, "new leader "+Printable(a.NewLeader))
	}
	if a.Leaderless > 0 {
		parts = append(parts, fmt.Sprintf("%d leaderless", a.Leaderless))
	}
	if a.ISRShrunk {
		parts = append(parts, "ISR shrank")
	}
	if a.NewController != "" {
		parts = append(parts, "new controller "+Printable(a.NewController))
	}
	if len(a.Unregistered) > 0 {
		parts = append(parts, "unregistered "+Printable(strings.Join(a.Unregistered, ",")))
	}
	// A fault on the controllers moves no partition leader, but a new controller is its effect.
	nothing = a.Elections == 0 && a.Leaderless == 0 && !a.ISRShrunk && a.NewController == "" && len(a.Unregistered) == 0
	return strings.Join(parts, ", "), nothing
}

// coverageOf returns the checkers' coverage of the fault that started at history index start.
func (b *builder) coverageOf(start int64) *checkers.Activity {
	if b.run.results == nil || b.run.results.Coverage == nil {
		return nil
	}
	for i := range b.run.results.Coverage.Faults {
		if f := &b.run.results.Coverage.Faults[i]; f.Start == start {
			return &f.Activity
		}
	}
	return nil
}
