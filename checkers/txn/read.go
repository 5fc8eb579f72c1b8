package txn

import (
	"encoding/json"
	"maps"
	"slices"
)

// NewEntry returns a new, empty entry of anomaly type typ, of the type Result.Anomalies holds
// for it (*AbortedReadCase, *PrecommittedReadCase, *DuplicateCase, *TornTransactionCase,
// *G1bCase, *CycleCase for the cycle types and their variants), or nil for a type this package
// does not report. Decoding an entry of results.json into it reads it back typed.
func NewEntry(typ string) any {
	switch typ {
	case AbortedRead:
		return &AbortedReadCase{}
	case PrecommittedRead:
		return &PrecommittedReadCase{}
	case Duplicate:
		return &DuplicateCase{}
	case TornTransaction:
		return &TornTransactionCase{}
	case G1b:
		return &G1bCase{}
	}
	if isCycleType(typ) {
		return &CycleCase{}
	}
	return nil
}

// UnmarshalJSON reads a Result as Result.JSON writes it: each entry of Anomalies as its typed
// case (see NewEntry; an entry of a type this package does not know stays its JSON text), and
// the case lists (AbortedReads, ..., Cycles) filled from those entries, so at most
// Options.MaxEntries of each type. Writing it again gives the bytes read.
func (r *Result) UnmarshalJSON(b []byte) error {
	type plain Result // without this method
	aux := struct {
		*plain
		Anomalies map[string][]json.RawMessage `json:"anomalies"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.Anomalies = nil
	r.AbortedReads, r.PrecommittedReads, r.Duplicates = nil, nil, nil
	r.TornTransactions, r.IntermediateReads, r.Cycles = nil, nil, nil
	if aux.Anomalies == nil {
		return nil
	}
	r.Anomalies = make(map[string][]any, len(aux.Anomalies))
	// In type order, so that the case lists come out in the order Check made them.
	for _, typ := range slices.Sorted(maps.Keys(aux.Anomalies)) {
		list := make([]any, 0, len(aux.Anomalies[typ]))
		for _, raw := range aux.Anomalies[typ] {
			e := NewEntry(typ)
			if e == nil {
				list = append(list, raw)
				continue
			}
			if err := json.Unmarshal(raw, e); err != nil {
				return err
			}
			list = append(list, e)
			switch c := e.(type) {
			case *AbortedReadCase:
				r.AbortedReads = append(r.AbortedReads, *c)
			case *PrecommittedReadCase:
				r.PrecommittedReads = append(r.PrecommittedReads, *c)
			case *DuplicateCase:
				r.Duplicates = append(r.Duplicates, *c)
			case *TornTransactionCase:
				r.TornTransactions = append(r.TornTransactions, *c)
			case *G1bCase:
				r.IntermediateReads = append(r.IntermediateReads, *c)
			case *CycleCase:
				r.Cycles = append(r.Cycles, *c)
			}
		}
		r.Anomalies[typ] = list
	}
	return nil
}
