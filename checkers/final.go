package checkers

import (
	"encoding/json"
	"fmt"

	"github.com/kchaos/kchaos/history"
)

// FinalReadF is the f of the observer line a kchaos run writes for each key after its final reads
// (harness.FinalRead): whether they read the whole log, where they stopped, and which processes
// did the reading.
const FinalReadF = "final-read"

// finalRead is one key's final reads, from its FinalReadF line and the polls of its readers.
type finalRead struct {
	Complete  bool           `json:"complete"`
	Position  int64          `json:"position"`
	Processes []int64        `json:"processes"`
	read      map[int32]bool // value ids the final readers read
}

// finalReads collects the final reads of each key, by key id. Keys without a final-read line are
// absent: a history written by hand, or by another harness, has none.
func (a *Analysis) finalReads() (map[int32]*finalRead, error) {
	out := map[int32]*finalRead{}
	readerKey := map[history.Process]int32{}
	for i := range a.Ops {
		op := &a.Ops[i]
		if op.Process != history.ObserverProcess || op.F != FinalReadF {
			continue
		}
		var v struct {
			finalRead
			Key string `json:"key"`
		}
		if err := json.Unmarshal(op.Raw, &v); err != nil {
			return nil, fmt.Errorf("line %d: final-read value: %w", op.Index, err)
		}
		k, ok := a.keyID[v.Key]
		if !ok {
			continue // a key no operation touched
		}
		fr := v.finalRead
		fr.read = map[int32]bool{}
		out[k] = &fr
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
