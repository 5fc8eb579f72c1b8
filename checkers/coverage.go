package checkers

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/kchaos/kchaos/history"
)

// CheckerCoverage is the coverage checker's key in results.json.
const CheckerCoverage = "coverage"

// CoverageResult says whether the history tested anything, and how much of it each fault
// exercised. A history that acknowledged no send, read no record, or held a fault during which no
// client operation ran has not tested what it claims: the verdict is unknown, with the reasons.
type CoverageResult struct {
	Valid Validity `json:"valid"`
	// Reasons say why the history tested too little to pass; empty when it tested enough.
	Reasons []string `json:"reasons"`
	// AckedSends counts sends acknowledged (ok), Reads the records read by ok polls (final reads
	// included), Elections the leader changes (from the log's exact states when present).
	AckedSends int `json:"acked_sends"`
	Reads      int `json:"reads"`
	Elections  int `json:"elections"`
	// Faults is each fault window that opened, with what happened while it was in place.
	Faults []FaultCoverage `json:"faults"`
	// ByKind sums, per fault kind, what happened before its first window, during its windows,
	// and after them (until the next window of the kind, or the end).
	ByKind map[string]PhaseCoverage `json:"by_kind"`
}

// FaultCoverage is what the clients did while one fault was in place.
type FaultCoverage struct {
	Kind      string `json:"kind"`
	Start     int64  `json:"start_index"`
	StartTime int64  `json:"start_time"`
	StopTime  int64  `json:"stop_time"` // 0: it lasted to the end of the history
	Activity
}

// PhaseCoverage is Activity before, during and after one kind of fault.
type PhaseCoverage struct {
	Before Activity `json:"before"`
	During Activity `json:"during"`
	After  Activity `json:"after"`
}

// Activity counts client operations and elections over a stretch of time.
type Activity struct {
	// Operations counts client operations in flight at some moment of the stretch.
	Operations int `json:"operations"`
	AckedSends int `json:"acked_sends"`
	Reads      int `json:"reads"`
	Elections  int `json:"elections"`
}

// checkCoverage measures what the history tested.
func checkCoverage(a *Analysis, elections []int64) *CoverageResult {
	r := &CoverageResult{Reasons: []string{}, Faults: []FaultCoverage{}, ByKind: map[string]PhaseCoverage{}}
	windows := history.FaultWindows(a.Ops)
	x := newActivityIndex(a, elections)
	r.AckedSends = x.acked[len(x.acked)-1]
	r.Reads = x.reads[len(x.reads)-1]
	r.Elections = len(elections)
	end := x.end

	add := func(x *Activity, y Activity) {
		x.Operations += y.Operations
		x.AckedSends += y.AckedSends
		x.Reads += y.Reads
		x.Elections += y.Elections
	}

	byKind := map[string][]history.FaultWindow{}
	for _, w := range windows {
		if w.Error != "" || w.Parent >= 0 {
			continue // a fault that never started, or a step of one counted with its parent
		}
		stop := w.StopTime
		if !w.Stopped {
			stop = end
		}
		fc := FaultCoverage{Kind: w.Kind, Start: a.Ops[w.Start].Index, StartTime: w.StartTime, Activity: x.activity(w.StartTime, stop)}
		if w.Stopped {
			fc.StopTime = w.StopTime
		}
		r.Faults = append(r.Faults, fc)
		byKind[w.Kind] = append(byKind[w.Kind], w)
		if fc.Operations == 0 {
			r.Reasons = append(r.Reasons, fmt.Sprintf("no client operation ran while the %s fault started at line %d (%s) was in place: the run did not exercise it",
				w.Kind, fc.Start, seconds(w.StartTime)))
		}
	}
	for _, kind := range sortedKeys(byKind) {
		ws := byKind[kind]
		var pc PhaseCoverage
		pc.Before = x.activity(0, ws[0].StartTime-1)
		for i, w := range ws {
			stop := w.StopTime
			if !w.Stopped {
				stop = end
			}
			add(&pc.During, x.activity(w.StartTime, stop))
			next := end
			if i+1 < len(ws) {
				next = ws[i+1].StartTime - 1
			}
			if stop < next {
				add(&pc.After, x.activity(stop+1, next))
			}
		}
		r.ByKind[kind] = pc
	}

	if r.AckedSends == 0 {
		r.Reasons = append(r.Reasons, "no send was acknowledged: nothing was written that could be lost")
	}
	if r.Reads == 0 {
		r.Reasons = append(r.Reasons, "no poll or final read returned a record: nothing written was read back")
	}
	if len(r.Reasons) > 0 {
		r.Valid = Unknown
	}
	return r
}

// activityIndex answers activity over any stretch of time in O(log n), from the client
// operations' invocation and completion times sorted once, instead of a pass over every
// operation per stretch.
type activityIndex struct {
	a   *Analysis
	end int64 // the time of the history's last line: when an operation that never completed ends
	// invokes are the client operations' invocation times, ascending; dones their completion
	// times (end for one that never completed), ascending, with acked[i] and reads[i] the
	// acknowledged sends and records read of the operations completed at dones[:i].
	invokes, dones []int64
	acked, reads   []int
	elections      []int64 // ascending
	// clockBack says an operation that never completed was invoked after the history's last
	// line (a history whose clock went back): it ends before it starts, which the index's
	// counting does not allow for, so activity scans.
	clockBack bool
}

// newActivityIndex indexes the client operations of a, in one pass, and the election times.
func newActivityIndex(a *Analysis, elections []int64) *activityIndex {
	if !slices.IsSorted(elections) {
		elections = slices.Sorted(slices.Values(elections))
	}
	x := &activityIndex{a: a, elections: elections}
	if n := len(a.Ops); n > 0 {
		x.end = a.Ops[n-1].Time
	}
	n := 0
	for i := range a.Ops {
		if a.Ops[i].Process.IsClient() && a.Ops[i].Type == history.Invoke {
			n++
		}
	}
	x.invokes = make([]int64, 0, n)
	x.dones = make([]int64, 0, n)
	x.acked = make([]int, 1, n+1)
	x.reads = make([]int, 1, n+1)
	complete := func(t int64, acked, reads int) {
		x.dones = append(x.dones, t)
		x.acked = append(x.acked, x.acked[len(x.acked)-1]+acked)
		x.reads = append(x.reads, x.reads[len(x.reads)-1]+reads)
	}
	pending := 0 // operations that never completed
	for i := range a.Ops {
		op := &a.Ops[i]
		if !op.Process.IsClient() {
			continue
		}
		if op.Type != history.Invoke {
			// history.Pair pairs every client completion with an invocation before it.
			acked, reads := opCounts(op)
			complete(op.Time, acked, reads)
			continue
		}
		x.invokes = append(x.invokes, op.Time)
		if a.Partner[i] < 0 {
			pending++
			x.clockBack = x.clockBack || op.Time > x.end
		}
	}
	for range pending {
		complete(x.end, 0, 0)
	}
	// Lines are in time order in a history kchaos writes; another's may not be.
	if !slices.IsSorted(x.invokes) {
		slices.Sort(x.invokes)
	}
	if !slices.IsSorted(x.dones) {
		x.sortDones()
	}
	return x
}

// sortDones puts the completions in time order, with their sums.
func (x *activityIndex) sortDones() {
	order := make([]int, len(x.dones))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(x.dones[i], x.dones[j]) })
	dones := make([]int64, len(x.dones))
	acked := make([]int, len(x.acked))
	reads := make([]int, len(x.reads))
	for k, i := range order {
		dones[k] = x.dones[i]
		acked[k+1] = acked[k] + x.acked[i+1] - x.acked[i]
		reads[k+1] = reads[k] + x.reads[i+1] - x.reads[i]
	}
	x.dones, x.acked, x.reads = dones, acked, reads
}

// opCounts returns the sends a completion acknowledged and the records it read: none unless ok.
func opCounts(done *history.Op) (acked, reads int) {
	if done.Type != history.OK {
		return 0, 0
	}
	for _, m := range done.Mops {
		if m.Kind == history.MopSend {
			acked++
		}
		for _, kr := range m.Reads {
			reads += len(kr.Records)
		}
	}
	return acked, reads
}

// activity counts what happened within [from, to]: operations in flight, and acknowledgements,
// reads and elections completed then.
func (x *activityIndex) activity(from, to int64) Activity {
	if from > to+1 || x.clockBack {
		return x.scan(from, to)
	}
	lo := before(x.dones, from)
	hi := atOrBefore(x.dones, to)
	return Activity{
		// In flight at some moment of [from, to]: invoked by to, less those completed before
		// from (each of which was invoked by then, so by to, as from <= to+1). With from = to+1,
		// the empty stretch between to and from: in flight across it.
		Operations: atOrBefore(x.invokes, to) - lo,
		AckedSends: x.acked[hi] - x.acked[lo],
		Reads:      x.reads[hi] - x.reads[lo],
		Elections:  atOrBefore(x.elections, to) - before(x.elections, from),
	}
}

// scan is activity by a pass over every operation: the definition, for the stretches and
// histories the index does not answer.
func (x *activityIndex) scan(from, to int64) Activity {
	var act Activity
	for i := range x.a.Ops {
		op := &x.a.Ops[i]
		if !op.Process.IsClient() || op.Type != history.Invoke {
			continue
		}
		done, acked, reads := x.end, 0, 0
		if j := x.a.Partner[i]; j >= 0 {
			done = x.a.Ops[j].Time
			acked, reads = opCounts(&x.a.Ops[j])
		}
		if op.Time <= to && done >= from {
			act.Operations++
		}
		if done >= from && done <= to {
			act.AckedSends += acked
			act.Reads += reads
		}
	}
	for _, t := range x.elections {
		if t >= from && t <= to {
			act.Elections++
		}
	}
	return act
}

// before returns how many of the ascending times are before t.
func before(times []int64, t int64) int {
	i, _ := slices.BinarySearch(times, t) // the first at or after t
	return i
}

// atOrBefore returns how many of the ascending times are at or before t.
func atOrBefore(times []int64, t int64) int {
	i, _ := slices.BinarySearchFunc(times, t, func(e, t int64) int {
		if e <= t {
			return -1
		}
		return 1
	})
	return i
}

// electionTimes are the times of the leader changes: from the log's exact states when the history
// has them, else from the live observer's.
func (a *Analysis) electionTimes() []int64 {
	var times []int64
	for _, key := range sortedKeys(a.timeline.partitions) {
		p := a.timeline.partitions[key]
		states := p.states
		if len(p.exact) > 0 {
			states = p.exact
		}
		for j := 1; j < len(states); j++ {
			if electionRule(states[j-1].PartitionState, states[j].PartitionState) != "" {
				times = append(times, states[j].time)
			}
		}
	}
	slices.Sort(times)
	return times
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
