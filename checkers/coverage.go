package checkers

import (
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
	type opSpan struct {
		invoke, done int64 // done: the completion's time, or the end of the history if none
		acked, reads int
	}
	var end int64
	if n := len(a.Ops); n > 0 {
		end = a.Ops[n-1].Time
	}
	var spans []opSpan
	for i := range a.Ops {
		op := &a.Ops[i]
		if !op.Process.IsClient() || op.Type != history.Invoke {
			continue
		}
		s := opSpan{invoke: op.Time, done: end}
		if j := a.Partner[i]; j >= 0 {
			done := &a.Ops[j]
			s.done = done.Time
			if done.Type == history.OK {
				for _, m := range done.Mops {
					if m.Kind == history.MopSend {
						s.acked++
					}
					for _, kr := range m.Reads {
						s.reads += len(kr.Records)
					}
				}
			}
		}
		r.AckedSends += s.acked
		r.Reads += s.reads
		spans = append(spans, s)
	}
	r.Elections = len(elections)

	// activity counts what happened within [from, to]: operations in flight, and acknowledgements,
	// reads and elections completed then.
	activity := func(from, to int64) Activity {
		var act Activity
		for _, s := range spans {
			if s.invoke <= to && s.done >= from {
				act.Operations++
			}
			if s.done >= from && s.done <= to {
				act.AckedSends += s.acked
				act.Reads += s.reads
			}
		}
		for _, t := range elections {
			if t >= from && t <= to {
				act.Elections++
			}
		}
		return act
	}
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
		fc := FaultCoverage{Kind: w.Kind, Start: a.Ops[w.Start].Index, StartTime: w.StartTime, Activity: activity(w.StartTime, stop)}
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
		pc.Before = activity(0, ws[0].StartTime-1)
		for i, w := range ws {
			stop := w.StopTime
			if !w.Stopped {
				stop = end
			}
			add(&pc.During, activity(w.StartTime, stop))
			next := end
			if i+1 < len(ws) {
				next = ws[i+1].StartTime - 1
			}
			if stop < next {
				add(&pc.After, activity(stop+1, next))
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
