// Package coverage tells, for each fault window of a history, how much the workload did while the
// fault was in place: a fault is only tested by the acknowledged writes and the reads that ran
// around it, and a window that no operation covered found nothing, whatever the verdict.
//
// It is a pure function of the history, for the report to show next to each fault window.
package coverage

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kchaos/kchaos/history"
)

// Window is one fault window (a start-X nemesis line to the next stop-X line of the same kind)
// and the client operations that overlapped it: an operation overlaps the window when the span
// from its invocation to its completion meets the span from the start line to the stop line.
type Window struct {
	// Fault is the fault's kind: the X of start-X (kill, pause, partition, ...).
	Fault string `json:"fault"`
	// Start and Stop are the times of the start and stop lines, in nanoseconds since the test
	// started; Stop is the time of the history's last line when the fault was never stopped.
	Start int64 `json:"start"`
	Stop  int64 `json:"stop"`
	// StartIndex and StopIndex are the lines' indexes; StopIndex is -1 when never stopped.
	StartIndex int64 `json:"start_index"`
	StopIndex  int64 `json:"stop_index"`
	// StartError is the start line's error: the fault did not happen.
	StartError string `json:"start_error,omitempty"`

	// Writes are the acknowledged sends (ok) that overlapped the window.
	Writes int `json:"writes"`
	// Reads are the ok polls that overlapped the window and returned at least one record, and
	// Records the records they returned.
	Reads   int `json:"reads"`
	Records int `json:"records"`
	// EmptyReads are the ok polls that overlapped the window and returned nothing.
	EmptyReads int `json:"empty_reads"`
	// Failed and Unknown are the operations that overlapped the window and ended fail or info
	// (an invocation that never completed counts as unknown, up to the history's end).
	Failed  int `json:"failed"`
	Unknown int `json:"unknown"`
}

// Covered reports whether the window saw at least one acknowledged write and one read that
// returned records: the least a fault needs to show a lost or reordered write.
func (w Window) Covered() bool { return w.Writes > 0 && w.Reads > 0 }

// String is one line about the window, e.g. "kill 12.0s–27.5s: 1840 acknowledged writes, 912
// reads (3301 records), 0 unknown".
func (w Window) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %.1fs–%.1fs", w.Fault, float64(w.Start)/1e9, float64(w.Stop)/1e9)
	if w.StopIndex < 0 {
		b.WriteString(" (never stopped)")
	}
	if w.StartError != "" {
		b.WriteString(" (start failed)")
	}
	fmt.Fprintf(&b, ": %d acknowledged writes, %d reads (%d records), %d failed, %d unknown",
		w.Writes, w.Reads, w.Records, w.Failed, w.Unknown)
	return b.String()
}

// Windows returns the fault windows of ops in the order of their start lines, each with the
// client operations that overlapped it. Windows pair a start-X line with the next stop-X line of
// the same kind, oldest start first, as the report draws them; other nemesis lines (escalations
// such as isolate-jepsen-2013) belong to the window open at the time. It returns an error when
// the client operations break the invoke/complete discipline (see history.Pair).
func Windows(ops []history.Op) ([]Window, error) {
	partner, err := history.Pair(ops)
	if err != nil {
		return nil, fmt.Errorf("fault window coverage: %w", err)
	}
	var end int64
	if len(ops) > 0 {
		end = ops[len(ops)-1].Time
	}
	var windows []Window
	open := map[string][]int{} // kind → indexes into windows of open windows, oldest first
	for i := range ops {
		op := &ops[i]
		if op.Process != history.NemesisProcess {
			continue
		}
		if kind, ok := strings.CutPrefix(op.F, "start-"); ok {
			windows = append(windows, Window{Fault: kind, Start: op.Time, Stop: end, StartIndex: op.Index,
				StopIndex: -1, StartError: op.Error})
			open[kind] = append(open[kind], len(windows)-1)
		} else if kind, ok := strings.CutPrefix(op.F, "stop-"); ok {
			if q := open[kind]; len(q) > 0 {
				windows[q[0]].Stop, windows[q[0]].StopIndex = op.Time, op.Index
				open[kind] = q[1:]
			}
		}
	}
	if len(windows) == 0 {
		return windows, nil
	}
	for i := range ops {
		op := &ops[i]
		if !op.Process.IsClient() {
			continue
		}
		var from, to int64
		var done *history.Op
		switch {
		case op.Type != history.Invoke:
			continue // counted with its invocation
		case partner[i] < 0:
			from, to = op.Time, end // never completed: unknown up to the end
		default:
			done = &ops[partner[i]]
			from, to = op.Time, done.Time
		}
		for w := range windows {
			win := &windows[w]
			if to < win.Start || from > win.Stop {
				continue
			}
			count(win, done)
		}
	}
	return windows, nil
}

// count adds one operation that overlapped win, completed by done (nil: never completed).
func count(win *Window, done *history.Op) {
	switch {
	case done == nil || done.Type == history.Info:
		win.Unknown++
	case done.Type == history.Fail:
		win.Failed++
	case done.Type == history.OK:
		writes, records := 0, 0
		polled := false
		for _, m := range done.Mops {
			switch m.Kind {
			case history.MopSend:
				writes++
			case history.MopPoll:
				polled = true
				for _, kr := range m.Reads {
					records += len(kr.Records)
				}
			}
		}
		win.Writes += writes
		switch {
		case records > 0:
			win.Reads++
			win.Records += records
		case polled:
			win.EmptyReads++
		}
	}
}

// Unknown is a group of client operations that ended info (or never completed) for one reason.
type Unknown struct {
	// F is the operations' f (send, poll, ...).
	F string `json:"f"`
	// Error is their error, with addresses and ports taken out so that one cause is one group;
	// "never completed" for invocations the history ends with.
	Error string `json:"error"`
	Count int    `json:"count"`
	// First and Last are the first and last completion times, in nanoseconds since the test
	// started.
	First int64 `json:"first"`
	Last  int64 `json:"last"`
}

// Unknowns groups the client operations of ops whose outcome is unknown by f and cause, most
// frequent first: on a run without faults each is a question about the harness or the cluster,
// which the report should answer rather than leave to the checkers' unknowns.
func Unknowns(ops []history.Op) ([]Unknown, error) {
	partner, err := history.Pair(ops)
	if err != nil {
		return nil, fmt.Errorf("unknown outcomes: %w", err)
	}
	type group struct{ f, err string }
	at := map[group]int{}
	var out []Unknown
	add := func(f, cause string, t int64) {
		g := group{f, cause}
		i, ok := at[g]
		if !ok {
			i = len(out)
			at[g] = i
			out = append(out, Unknown{F: f, Error: cause, First: t})
		}
		out[i].Count++
		out[i].Last = t
	}
	for i := range ops {
		op := &ops[i]
		switch {
		case !op.Process.IsClient():
		case op.Type == history.Info:
			add(op.F, normalizeError(op.Error), op.Time)
		case op.Type == history.Invoke && partner[i] < 0:
			add(op.F, "never completed", op.Time)
		}
	}
	slices.SortStableFunc(out, func(a, b Unknown) int { return b.Count - a.Count })
	return out, nil
}

// normalizeError replaces the host:port pairs of a client error (local ports differ on every
// connection) by "ADDR".
func normalizeError(s string) string {
	return addrPattern.ReplaceAllString(s, "ADDR")
}

var addrPattern = regexp.MustCompile(`\[?[0-9a-fA-F.:]+\]?:[0-9]+(->\[?[0-9a-fA-F.:]+\]?:[0-9]+)?`)
