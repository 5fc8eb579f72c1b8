package checkers

import (
	"fmt"
	"math"
	"slices"

	"github.com/kchaos/kchaos/checkers/dynamics"
	"github.com/kchaos/kchaos/history"
)

// Stats describes the run for the report; it decides nothing (Valid is always valid).
type Stats struct {
	Valid Validity `json:"valid"`
	// Start is where the PerSecond series begin, in nanoseconds since the start of the test: the
	// earliest time in the history, rounded down to a whole second (0 for a kchaos run).
	Start int64 `json:"start"`
	// Seconds is the length of the PerSecond series: second s covers [Start+s, Start+s+1)
	// seconds.
	Seconds int `json:"seconds"`
	// PerSecond counts the client operations completed in each second, by f and then by outcome
	// ("ok", "fail", "info"). It is empty, and PerSecondOmitted says why, when the history spans
	// more than MaxStatsSeconds.
	PerSecond        map[string]map[string][]int `json:"per_second"`
	PerSecondOmitted string                      `json:"per_second_omitted,omitempty"`
	// Totals counts the completed client operations by f and outcome; "invoke" counts those that
	// never completed.
	Totals map[string]map[string]int `json:"totals"`
	// Latency gives the quantiles of completed operations' latencies by f and outcome.
	Latency map[string]map[string]Quantiles `json:"latency"`
	// NoLeader gives, per key, the windows when the observer reported no leader.
	NoLeader map[string][]Window `json:"no_leader"`
	// RefusedWrites gives, per key, the windows of consecutive sends that failed or ended info,
	// from the first one's invocation to the last one's completion.
	RefusedWrites map[string][]Window `json:"refused_writes"`
	// ISRDynamics measures failovers after faults and followers leaving and rejoining the ISR.
	ISRDynamics *dynamics.Summary `json:"isr_dynamics"`
}

// Quantiles of latencies, in milliseconds.
type Quantiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

// Window is a stretch of time, in nanoseconds since the start. Open means it had not ended when
// the history did. Fail and Info count the refused sends of a refused-writes window.
type Window struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Open  bool  `json:"open,omitempty"`
	Fail  int   `json:"fail,omitempty"`
	Info  int   `json:"info,omitempty"`
}

// MaxStatsSeconds bounds the per-second series of Stats: about a day and a half, far beyond a
// kchaos run. A history whose times span more (a user's, with Unix times and a stray zero, say)
// gets no series rather than memory in proportion to its time values.
const MaxStatsSeconds = 1 << 17

// ComputeStats counts and times the history's operations and finds the windows without a leader
// or with writes refused.
func ComputeStats(a *Analysis) *Stats {
	s := &Stats{
		PerSecond: map[string]map[string][]int{}, Totals: map[string]map[string]int{},
		Latency: map[string]map[string]Quantiles{}, NoLeader: map[string][]Window{}, RefusedWrites: map[string][]Window{},
	}
	var end int64
	start := int64(math.MaxInt64)
	for i := range a.Ops {
		end = max(end, a.Ops[i].Time)
		start = min(start, a.Ops[i].Time)
	}
	if len(a.Ops) > 0 {
		// Times are never negative (history.Read refuses them), so neither is the span.
		s.Start = start - start%1e9
		if span := (end - s.Start) / 1e9; span < MaxStatsSeconds {
			s.Seconds = int(span) + 1
		} else {
			s.PerSecondOmitted = fmt.Sprintf("the history spans %s, more than the %d seconds counted per second", seconds(end-start), MaxStatsSeconds)
		}
	}
	type fType struct {
		f string
		t history.Type
	}
	latencies := map[fType][]int64{}
	refused := map[string]*Window{}
	for i := range a.Ops {
		op := &a.Ops[i]
		if !op.Process.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			if a.Partner[i] < 0 {
				s.count(op.F, "invoke")
			}
			continue
		}
		outcome := op.Type.String()
		s.count(op.F, outcome)
		if s.Seconds > 0 {
			perF, ok := s.PerSecond[op.F]
			if !ok {
				perF = map[string][]int{}
				s.PerSecond[op.F] = perF
			}
			series, ok := perF[outcome]
			if !ok {
				series = make([]int, s.Seconds)
				perF[outcome] = series
			}
			series[(op.Time-s.Start)/1e9]++
		}
		latencies[fType{op.F, op.Type}] = append(latencies[fType{op.F, op.Type}], op.Time-a.invokeTime(i))
		if op.F != history.FSend {
			continue
		}
		for _, mop := range a.mops(i) {
			if mop.Kind != history.MopSend {
				continue
			}
			w := refused[mop.Key]
			if op.Type == history.OK {
				if w != nil {
					s.RefusedWrites[mop.Key] = append(s.RefusedWrites[mop.Key], *w)
					refused[mop.Key] = nil
				}
				continue
			}
			if w == nil {
				w = &Window{Start: a.invokeTime(i)}
				refused[mop.Key] = w
			}
			w.End = op.Time
			if op.Type == history.Fail {
				w.Fail++
			} else {
				w.Info++
			}
		}
	}
	for key, w := range refused {
		if w != nil {
			w.Open = true
			s.RefusedWrites[key] = append(s.RefusedWrites[key], *w)
		}
	}
	for ft, ls := range latencies {
		slices.Sort(ls)
		perF, ok := s.Latency[ft.f]
		if !ok {
			perF = map[string]Quantiles{}
			s.Latency[ft.f] = perF
		}
		perF[ft.t.String()] = Quantiles{Count: len(ls), P50: quantile(ls, 0.5), P90: quantile(ls, 0.9),
			P99: quantile(ls, 0.99), P999: quantile(ls, 0.999), Max: float64(ls[len(ls)-1]) / 1e6}
	}
	for key, p := range a.timeline.partitions {
		var open *Window
		for _, st := range p.states {
			switch {
			case st.Leader == history.NoLeader && open == nil:
				open = &Window{Start: st.time}
			case st.Leader != history.NoLeader && open != nil:
				open.End = st.time
				s.NoLeader[key] = append(s.NoLeader[key], *open)
				open = nil
			}
		}
		if open != nil {
			open.End, open.Open = end, true
			s.NoLeader[key] = append(s.NoLeader[key], *open)
		}
	}
	return s
}

func (s *Stats) count(f, outcome string) {
	m, ok := s.Totals[f]
	if !ok {
		m = map[string]int{}
		s.Totals[f] = m
	}
	m[outcome]++
}

// quantile returns the q-quantile of sorted nanosecond latencies, in milliseconds (nearest rank).
func quantile(sorted []int64, q float64) float64 {
	i := int(q*float64(len(sorted))+0.5) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i]) / 1e6
}
