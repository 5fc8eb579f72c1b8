package suites

import (
	"strings"
	"time"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

// Exposure says when, in a run that found an anomaly, the fault that exposed it started: for a lost
// write, the first fault that started after the write was acknowledged; for an unclean election,
// the last fault that started before it. The earliest over every case of the expected types wins.
// Times are from the run's first client operation.
type Exposure struct {
	// Fault is the f of the nemesis start line (start-kill, start-jepsen-2013, ...).
	Fault string
	// After is when it started, from the first client operation.
	After time.Duration
}

// ExposedBy returns the exposure of the expected anomaly types in a checked history, and false
// when none of their cases can be tied to a fault.
func ExposedBy(ops []history.Op, res *checkers.Result, expect []string) (Exposure, bool) {
	var starts []history.Op // nemesis start lines, in order
	workloadStart := int64(-1)
	for _, op := range ops {
		if op.Process.IsClient() && workloadStart < 0 {
			workloadStart = op.Time
		}
		if op.Process == history.NemesisProcess && strings.HasPrefix(op.F, "start-") && op.Error == "" {
			starts = append(starts, op)
		}
	}
	best, found := history.Op{}, false
	consider := func(op history.Op) {
		if !found || op.Time < best.Time {
			best, found = op, true
		}
	}
	firstAfter := func(t int64) {
		for _, s := range starts {
			if s.Time >= t {
				consider(s)
				return
			}
		}
	}
	lastBefore := func(t int64) {
		for i := len(starts) - 1; i >= 0; i-- {
			if starts[i].Time <= t {
				consider(starts[i])
				return
			}
		}
	}
	for _, kind := range expect {
		switch kind {
		case checkers.LostWrite:
			if res.Queue != nil {
				for _, c := range res.Queue.LostWrites {
					firstAfter(c.Writer.Time)
				}
			}
		case checkers.UncleanLeaderElection:
			if res.LeaderElection != nil {
				for _, c := range res.LeaderElection.Cases {
					lastBefore(c.State.Time)
				}
			}
		}
	}
	if !found {
		return Exposure{}, false
	}
	return Exposure{Fault: best.F, After: time.Duration(best.Time - max(workloadStart, 0))}, true
}
