package txn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/kchaos/kchaos/history"
)

// Check judges the transactions of a history: every send, poll and txn operation is one. It
// returns an error only for a history that breaks the discipline of HISTORY.md (see
// history.Pair) or for bad options.
//
// When ctx is done before the cycle search ends, the verdict is unknown (Result.Reason says so)
// unless an anomaly the options forbid was already found.
func Check(ctx context.Context, ops []history.Op, opts Options) (*Result, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	m, err := build(ops)
	if err != nil {
		return nil, fmt.Errorf("txn check: %w", err)
	}
	r := &Result{Isolation: opts.Isolation, Producer: opts.Producer, Errors: m.errors}
	m.stats(r)
	m.abortedReads(r)
	m.precommittedReads(r)
	m.duplicates(r)
	m.tornTransactions(r)
	m.intermediateReads(r)

	var stopped error
	g, edges, err := m.buildGraph(ctx)
	if err == nil {
		r.Stats.Edges = edges
		var comps [][]int32
		if _, comps, err = g.components(ctx, allKinds); err == nil {
			r.Stats.Components = len(comps)
			for _, c := range comps {
				r.Stats.Largest = max(r.Stats.Largest, len(c))
			}
			var found []cycle
			found, err = m.findCycles(ctx, g)
			for _, c := range found {
				r.Cycles = append(r.Cycles, m.explain(c))
			}
		}
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("txn check: %w", err)
		}
		stopped = err
	}
	slices.SortStableFunc(r.Cycles, func(a, b CycleCase) int {
		if c := cmp.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return cmp.Compare(a.Txns[0].Index, b.Txns[0].Index)
	})
	r.verdict(opts, stopped)
	return r, nil
}

// stats counts the transactions.
func (m *model) stats(r *Result) {
	s := &r.Stats
	s.Transactions = len(m.txns)
	for i := range m.txns {
		t := &m.txns[i]
		switch {
		case t.committed:
			s.Committed++
			for _, mop := range t.mops {
				if mop.Kind == history.MopSend {
					s.Sends++
				}
			}
		case t.typ == history.Fail:
			s.Aborted++
		default:
			s.Indeterminate++
		}
		for _, mop := range t.mops {
			for _, kr := range mop.Reads {
				s.Reads += len(kr.Records)
			}
		}
	}
}

// verdict fills in the anomaly types, counts and entries, and decides.
func (r *Result) verdict(opts Options, stopped error) {
	r.Counts = map[string]int{}
	r.Anomalies = map[string][]any{}
	bad := map[string]bool{}
	add := func(typ string, entry any, allowed bool) {
		r.Counts[typ]++
		if opts.MaxEntries < 0 || len(r.Anomalies[typ]) < opts.MaxEntries {
			r.Anomalies[typ] = append(r.Anomalies[typ], entry)
		}
		if !allowed {
			bad[typ] = true
		}
	}
	for i := range r.AbortedReads {
		add(AbortedRead, &r.AbortedReads[i], opts.Allowed(AbortedRead))
	}
	for i := range r.PrecommittedReads {
		add(PrecommittedRead, &r.PrecommittedReads[i], opts.Allowed(PrecommittedRead))
	}
	for i := range r.Duplicates {
		add(Duplicate, &r.Duplicates[i], opts.Allowed(Duplicate))
	}
	for i := range r.TornTransactions {
		add(TornTransaction, &r.TornTransactions[i], opts.Allowed(TornTransaction))
	}
	for i := range r.IntermediateReads {
		add(G1b, &r.IntermediateReads[i], opts.Allowed(G1b))
	}
	for i := range r.Cycles {
		c := &r.Cycles[i]
		add(c.Type, c, opts.Allowed(c.Type) || (cycleBase(c.Type) == G1c && c.WWEdges > 0))
	}
	r.AnomalyTypes = make([]string, 0, len(r.Counts))
	for typ := range r.Counts {
		r.AnomalyTypes = append(r.AnomalyTypes, typ)
	}
	sort.Strings(r.AnomalyTypes)
	r.BadAnomalyTypes = make([]string, 0, len(bad))
	for typ := range bad {
		r.BadAnomalyTypes = append(r.BadAnomalyTypes, typ)
	}
	sort.Strings(r.BadAnomalyTypes)

	switch {
	case len(r.BadAnomalyTypes) > 0:
		r.Valid = Invalid
		if stopped != nil {
			r.Reason = "cycle search stopped early (" + stopped.Error() + "); the anomalies found decide"
		}
	case stopped != nil:
		r.Valid = Unknown
		r.Reason = "cycle search stopped early: " + stopped.Error()
	case len(r.Errors) > 0:
		r.Valid = Unknown
		r.Reason = "the history could not be read whole"
	case r.Stats.Sends == 0 && r.Stats.Reads == 0:
		r.Valid = Unknown
		r.Reason = "nothing was tested: no committed send and no record read"
	}
}
