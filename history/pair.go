package history

import (
	"fmt"
)

// Pair matches each client invocation in ops with its completion: the next line of the same
// process. It returns partner, where partner[i] is the position in ops of the other half of
// ops[i], or -1 for an invocation that never completed (the history ended first) and for
// nemesis and observer lines.
//
// Pair checks the discipline of HISTORY.md and names the offending line (position+1) in a
// *LineError: a completion needs an open invocation of the same process and f and may not be
// earlier than it; a process has at most one operation open; a process whose operation ended
// info never invokes again.
func Pair(ops []Op) ([]int, error) {
	partner := make([]int, len(ops))
	const (
		idle    = -1
		crashed = -2
	)
	// open[p] is the position of p's open invocation, idle or crashed; small process numbers
	// index a slice, others a map. Small is relative to the history, so that one line with a
	// large process number costs no memory in proportion to it.
	var open []int
	var openMap map[Process]int
	small := Process(min(1<<20, 2*len(ops)+64))
	get := func(p Process) int {
		if p < small {
			if int(p) < len(open) {
				return open[p]
			}
			return idle
		}
		if v, ok := openMap[p]; ok {
			return v
		}
		return idle
	}
	set := func(p Process, v int) {
		if p < small {
			for int(p) >= len(open) {
				open = append(open, idle)
			}
			open[p] = v
			return
		}
		if openMap == nil {
			openMap = make(map[Process]int)
		}
		openMap[p] = v
	}
	for i := range ops {
		op := &ops[i]
		partner[i] = -1
		if !op.Process.IsClient() {
			continue
		}
		state := get(op.Process)
		if op.Type == Invoke {
			switch state {
			case idle:
				set(op.Process, i)
			case crashed:
				return nil, lineErr(i, "process %d invokes %s after an operation of it ended info; a crashed process never invokes again", op.Process, op.F)
			default:
				return nil, lineErr(i, "process %d invokes %s while its %s of line %d is still open", op.Process, op.F, ops[state].F, state+1)
			}
			continue
		}
		if state < 0 {
			return nil, lineErr(i, "%s %s of process %d completes no open invocation", op.Type, op.F, op.Process)
		}
		inv := &ops[state]
		if inv.F != op.F {
			return nil, lineErr(i, "%s %s of process %d completes the invocation of %s at line %d", op.Type, op.F, op.Process, inv.F, state+1)
		}
		if op.Time < inv.Time {
			return nil, lineErr(i, "completion at time %d is earlier than its invocation at line %d, time %d", op.Time, state+1, inv.Time)
		}
		partner[i], partner[state] = state, i
		if op.Type == Info {
			set(op.Process, crashed)
		} else {
			set(op.Process, idle)
		}
	}
	return partner, nil
}

func lineErr(i int, format string, args ...any) error {
	return &LineError{Line: i + 1, Err: fmt.Errorf(format, args...)}
}
