package checkers

import (
	"fmt"

	"github.com/kchaos/kchaos/history"
)

// finalRead is one key's final reads, from its final-read line and the polls of its readers.
type finalRead struct {
	history.FinalRead
	read map[int32]bool // value ids the final readers read
}

// finalReads collects the final reads of each key, by key id. Keys without a final-read line are
// absent: a history written by hand, or by another harness, has none.
func (a *Analysis) finalReads() (map[int32]*finalRead, error) {
	out := map[int32]*finalRead{}
	readerKey := map[history.Process]int32{}
	for i := range a.Ops {
		op := &a.Ops[i]
		if op.Process != history.ObserverProcess || op.F != history.FFinalRead {
			continue
		}
		v, err := op.FinalRead()
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		k, ok := a.keyID[v.Key]
		if !ok {
			continue // a key no operation touched
		}
		fr := &finalRead{FinalRead: v, read: map[int32]bool{}}
		out[k] = fr
		for _, p := range fr.Processes {
			readerKey[history.Process(p)] = k
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	for i := range a.Ops {
		op := &a.Ops[i]
		if op.Type != history.OK || op.F != history.FPoll {
			continue
		}
		k, ok := readerKey[op.Process]
		if !ok {
			continue
		}
		for _, m := range op.Mops {
			for _, kr := range m.Reads {
				if kr.Key != a.keys[k] {
					continue
				}
				for _, rec := range kr.Records {
					if v := a.lookup(k, rec.Value); v >= 0 {
						out[k].read[v] = true
					}
				}
			}
		}
	}
	return out, nil
}
