package checkers

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/kchaos/kchaos/checkers/verdict"
	"github.com/kchaos/kchaos/history"
)

// Analysis is a history paired and indexed once for all checkers: keys and values numbered, who
// wrote and who read each value, each key's version order (what the sends and polls say each
// offset holds), and the observer's timeline of each partition. Build it with Analyze; it is
// read-only afterwards and safe for concurrent use.
type Analysis struct {
	// Ops is the history; Partner pairs its invocations and completions (see history.Pair).
	Ops     []history.Op
	Partner []int
	// AbortedVisible says failed sends may be in the log: read_uncommitted consumers of
	// transactional producers read aborted transactions' records. CheckAnalysis sets it from
	// its options.
	AbortedVisible bool
	// NonAtomic says an operation's sends take effect one by one (plain and idempotent
	// producers): an info operation one of whose values was read says nothing of its others.
	// CheckAnalysis sets it from its options.
	NonAtomic bool

	keys  []string // key id → key
	keyID map[string]int32

	vals []valInfo // value id → what is known of it
	// Integer values, which the harness numbers from a counter, are found by their place in a
	// dense table when they fit one (dense[n-denseBase] is the id of n for some key); others,
	// and an integer sent to a second key, in the maps.
	denseBase int64
	dense     []int32
	intVals   []map[int64]int32
	otherVals []map[history.Value]int32

	logs []keyLog // key id → version order

	timeline timeline

	// crashWindows are the history's crash and power-loss faults, found on first use.
	crashWindows []crashWindow
}

// valInfo is what the history says of one value sent to or read from one key.
type valInfo struct {
	value history.Value
	key   int32
	// writer is the position of the op that sent the value (its completion, or its invocation
	// when it never completed), -1 if no op sent it; writerType is that op's outcome, Invoke when
	// it never completed.
	writer     int32
	writerType history.Type
	// firstIdx and lastIdx are the first and last dense index at which the key's version order
	// holds the value (-1: nowhere); byIdx is its index for order comparisons, -1 when unknown
	// (Jepsen's by-value: the last index at which it is the first value of its offset).
	firstIdx, lastIdx, byIdx int32
	okReads                  int32 // ok polls that read it
	firstRead                int32 // position of the first ok poll that read it, -1 if none
	ackOffset                int64 // offset an ok send reported, history.NoOffset if none
}

// keyLog is one key's version order: the offsets the history shows holding a value, in order
// (dense index i is offsets[i]), and the values there.
type keyLog struct {
	offsets []int64
	first   []int32           // the value first seen at each dense index
	extra   map[int32][]int32 // further values at an inconsistent offset, by dense index
}

// valuesAt returns the value ids at dense index i.
func (l *keyLog) valuesAt(i int32) []int32 {
	if more, ok := l.extra[i]; ok {
		return append([]int32{l.first[i]}, more...)
	}
	return l.first[i : i+1]
}

// indexOf returns the dense index of offset, or -1.
func (l *keyLog) indexOf(offset int64) int32 {
	i, ok := slices.BinarySearch(l.offsets, offset)
	if !ok {
		return -1
	}
	return int32(i)
}

type observation struct {
	offset int64
	vid    int32
}

// Analyze pairs ops and builds the indexes. It fails on a history that breaks the discipline of
// HISTORY.md (see history.Pair), holds a line no checker understands (see history.Op.Validate)
// or whose observer lines do not decode, naming the line.
func Analyze(ops []history.Op) (*Analysis, error) {
	// Lines Read returns are valid already; ops built in memory are checked here, so that a line
	// no checker understands is an error rather than skipped.
	for i := range ops {
		if err := ops[i].Validate(); err != nil {
			return nil, &history.LineError{Line: i + 1, Err: err}
		}
	}
	partner, err := history.Pair(ops)
	if err != nil {
		return nil, fmt.Errorf("pair operations: %w", err)
	}
	a := &Analysis{Ops: ops, Partner: partner, keyID: map[string]int32{}}
	a.sizeValues()
	if err := a.timeline.build(a); err != nil {
		return nil, err
	}
	var obs [][]observation // per key
	var infoSends []int     // info completions whose sends carry offsets
	lastKey, lastID := "", int32(-1)
	key := func(k string) int32 {
		if k == lastKey && lastID >= 0 {
			return lastID
		}
		id, ok := a.keyID[k]
		if !ok {
			id = int32(len(a.keys))
			a.keyID[k] = id
			a.keys = append(a.keys, k)
			a.intVals = append(a.intVals, map[int64]int32{})
			a.otherVals = append(a.otherVals, nil)
			obs = append(obs, nil)
		}
		lastKey, lastID = k, id
		return id
	}
	for i := range ops {
		op := &ops[i]
		if !op.Process.IsClient() {
			continue
		}
		if history.HasKeys(op.F) {
			for _, k := range op.Keys {
				key(k)
			}
			continue
		}
		if !history.HasMops(op.F) || (op.Type == history.Invoke && partner[i] >= 0) {
			continue // the completion speaks for the operation
		}
		mops := a.mops(i)
		for m := range mops {
			mop := &mops[m]
			switch mop.Kind {
			case history.MopSend:
				k := key(mop.Key)
				v := a.vid(k, mop.Value)
				vi := &a.vals[v]
				if vi.writer < 0 {
					vi.writer, vi.writerType = int32(i), op.Type
				}
				if mop.Offset == history.NoOffset {
					continue
				}
				switch op.Type {
				case history.OK:
					vi.ackOffset = mop.Offset
					obs[k] = append(obs[k], observation{mop.Offset, v})
				case history.Info:
					if len(infoSends) == 0 || infoSends[len(infoSends)-1] != i {
						infoSends = append(infoSends, i)
					}
				}
			case history.MopPoll:
				for r := range mop.Reads {
					kr := &mop.Reads[r]
					k := key(kr.Key)
					for _, rec := range kr.Records {
						v := a.vid(k, rec.Value)
						if op.Type == history.OK {
							vi := &a.vals[v]
							vi.okReads++
							if vi.firstRead < 0 {
								vi.firstRead = int32(i)
							}
						}
						// Polls say what offsets hold whatever their outcome: a consumer only
						// ever receives stored records.
						if rec.Offset != history.NoOffset {
							obs[k] = append(obs[k], observation{rec.Offset, v})
						}
					}
				}
			}
		}
	}
	// An info send tells us its offset only if we can show it took effect: one of its values
	// was read (Jepsen's must-have-committed).
	for _, i := range infoSends {
		if !a.committed(i) {
			continue
		}
		for _, mop := range a.mops(i) {
			if mop.Kind == history.MopSend && mop.Offset != history.NoOffset {
				k := a.keyID[mop.Key]
				obs[k] = append(obs[k], observation{mop.Offset, a.vid(k, mop.Value)})
			}
		}
	}
	a.logs = make([]keyLog, len(a.keys))
	for k := range a.keys {
		a.buildLog(int32(k), obs[k])
		obs[k] = nil
	}
	return a, nil
}

// sizeValues looks at the values sent, to size the value table and, when the integer values
// are dense enough, to index them by value.
func (a *Analysis) sizeValues() {
	count, lo, hi := 0, int64(math.MaxInt64), int64(math.MinInt64)
	for i := range a.Ops {
		op := &a.Ops[i]
		if op.Type != history.Invoke || !op.Process.IsClient() {
			continue
		}
		for m := range op.Mops {
			if n, ok := op.Mops[m].Value.Int(); ok && op.Mops[m].Kind == history.MopSend {
				count++
				lo, hi = min(lo, n), max(hi, n)
			}
		}
	}
	a.vals = make([]valInfo, 0, count+count/8+16)
	// The span in unsigned arithmetic: hi-lo overflows an int64 for values far apart.
	if count > 0 && uint64(hi)-uint64(lo) < 4*uint64(count)+1024 {
		a.denseBase = lo
		a.dense = make([]int32, hi-lo+1)
		for i := range a.dense {
			a.dense[i] = -1
		}
	}
}

// vid returns the id of value v of key k, numbering it if new.
func (a *Analysis) vid(k int32, v history.Value) int32 {
	if n, ok := v.Int(); ok {
		slot := n - a.denseBase
		if slot >= 0 && slot < int64(len(a.dense)) {
			switch id := a.dense[slot]; {
			case id < 0:
				id = a.newVal(k, v)
				a.dense[slot] = id
				return id
			case a.vals[id].key == k:
				return id
			}
		}
		m := a.intVals[k]
		if id, ok := m[n]; ok {
			return id
		}
		id := a.newVal(k, v)
		m[n] = id
		return id
	}
	m := a.otherVals[k]
	if m == nil {
		m = map[history.Value]int32{}
		a.otherVals[k] = m
	}
	if id, ok := m[v]; ok {
		return id
	}
	id := a.newVal(k, v)
	m[v] = id
	return id
}

func (a *Analysis) newVal(k int32, v history.Value) int32 {
	a.vals = append(a.vals, valInfo{value: v, key: k, writer: -1, firstIdx: -1, lastIdx: -1, byIdx: -1,
		firstRead: -1, ackOffset: history.NoOffset})
	return int32(len(a.vals) - 1)
}

// lookup returns the id of value v of key k, or -1.
func (a *Analysis) lookup(k int32, v history.Value) int32 {
	if n, ok := v.Int(); ok {
		slot := n - a.denseBase
		if slot >= 0 && slot < int64(len(a.dense)) {
			if id := a.dense[slot]; id >= 0 && a.vals[id].key == k {
				return id
			}
		}
		if id, ok := a.intVals[k][n]; ok {
			return id
		}
		return -1
	}
	if id, ok := a.otherVals[k][v]; ok {
		return id
	}
	return -1
}

// mops returns the micro-operations of the op at position i: a completion's own, or its
// invocation's when the completion carries none.
func (a *Analysis) mops(i int) []history.Mop {
	op := &a.Ops[i]
	if op.Mops == nil && op.Type != history.Invoke && a.Partner[i] >= 0 {
		return a.Ops[a.Partner[i]].Mops
	}
	return op.Mops
}

// committed reports whether the op at position i must have taken effect: it is ok, or it is
// info and one of its sent values was read by an ok poll (unless its sends are not atomic).
func (a *Analysis) committed(i int) bool {
	op := &a.Ops[i]
	switch op.Type {
	case history.OK:
		return true
	case history.Info:
		if a.NonAtomic {
			return false
		}
		for _, mop := range a.mops(i) {
			if mop.Kind != history.MopSend {
				continue
			}
			k, ok := a.keyID[mop.Key]
			if !ok {
				continue
			}
			if v := a.lookup(k, mop.Value); v >= 0 && a.vals[v].okReads > 0 {
				return true
			}
		}
	}
	return false
}

// buildLog turns a key's observations into its version order.
func (a *Analysis) buildLog(k int32, obs []observation) {
	l := &a.logs[k]
	if len(obs) == 0 {
		return
	}
	lo, hi := obs[0].offset, obs[0].offset
	for _, o := range obs {
		lo, hi = min(lo, o.offset), max(hi, o.offset)
	}
	extraAt := map[int64][]int32{}
	addExtra := func(off int64, v int32) {
		if !slices.Contains(extraAt[off], v) {
			extraAt[off] = append(extraAt[off], v)
		}
	}
	// The span in unsigned arithmetic: hi-lo+1 overflows an int64 when hi is the largest offset.
	if span := uint64(hi) - uint64(lo) + 1; span <= 4*uint64(len(obs))+1024 {
		// Dense offsets, as Kafka's are: one slot per offset.
		head := make([]int32, span)
		for i := range head {
			head[i] = -1
		}
		for _, o := range obs {
			switch h := &head[o.offset-lo]; {
			case *h < 0:
				*h = o.vid
			case *h != o.vid:
				addExtra(o.offset, o.vid)
			}
		}
		for i, v := range head {
			if v >= 0 {
				l.offsets = append(l.offsets, lo+int64(i))
				l.first = append(l.first, v)
			}
		}
	} else {
		// Sparse offsets: sort, keeping the order seen within an offset.
		sort.SliceStable(obs, func(i, j int) bool { return obs[i].offset < obs[j].offset })
		for _, o := range obs {
			n := len(l.offsets)
			switch {
			case n == 0 || l.offsets[n-1] != o.offset:
				l.offsets = append(l.offsets, o.offset)
				l.first = append(l.first, o.vid)
			case l.first[n-1] != o.vid:
				addExtra(o.offset, o.vid)
			}
		}
	}
	if len(extraAt) > 0 {
		l.extra = map[int32][]int32{}
		for off, vs := range extraAt {
			l.extra[l.indexOf(off)] = vs
		}
	}
	for i := range l.offsets {
		idx := int32(i)
		for _, v := range l.valuesAt(idx) {
			vi := &a.vals[v]
			if vi.firstIdx < 0 {
				vi.firstIdx = idx
			}
			vi.lastIdx = idx
		}
		a.vals[l.first[i]].byIdx = idx
	}
}

// ref names the operation whose invocation or completion is at position i.
func (a *Analysis) ref(i int) OpRef {
	inv, done := i, i
	if a.Ops[i].Type == history.Invoke {
		if p := a.Partner[i]; p >= 0 {
			done = p
		}
	} else if p := a.Partner[i]; p >= 0 {
		inv = p
	}
	return verdict.Ref(&a.Ops[inv], &a.Ops[done])
}

// invokeTime returns the invocation time of the operation at position i.
func (a *Analysis) invokeTime(i int) int64 {
	if a.Ops[i].Type != history.Invoke && a.Partner[i] >= 0 {
		return a.Ops[a.Partner[i]].Time
	}
	return a.Ops[i].Time
}

// sortedKeys returns the key ids in key order.
func (a *Analysis) sortedKeys() []int32 {
	ids := make([]int32, len(a.keys))
	for i := range ids {
		ids[i] = int32(i)
	}
	sort.Slice(ids, func(i, j int) bool { return a.keys[ids[i]] < a.keys[ids[j]] })
	return ids
}

// Keys returns the keys the history names, sorted.
func (a *Analysis) Keys() []string {
	keys := make([]string, 0, len(a.keys))
	for _, k := range a.sortedKeys() {
		keys = append(keys, a.keys[k])
	}
	return keys
}
