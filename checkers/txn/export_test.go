package txn

import (
	"context"

	"github.com/kchaos/kchaos/history"
)

// CycleSearch indexes ops and draws their graph once, and returns a function that runs the cycle
// search alone and counts the cycles found, for the benchmarks.
func CycleSearch(ops []history.Op) (func() (int, error), error) {
	m, err := build(ops)
	if err != nil {
		return nil, err
	}
	g, _, err := m.buildGraph(context.Background())
	if err != nil {
		return nil, err
	}
	return func() (int, error) {
		found, err := m.findCycles(context.Background(), g)
		return len(found), err
	}, nil
}
