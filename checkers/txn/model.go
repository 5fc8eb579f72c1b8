package txn

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/kchaos/kchaos/checkers/verdict"
	"github.com/kchaos/kchaos/history"
)

// finalReadF is the f of the observer line a kchaos run writes for each key after its final reads
// (checkers.FinalReadF, which this package cannot import).
const finalReadF = "final-read"

// txnInfo is one send, poll or txn operation: a transaction of micro-operations.
type txnInfo struct {
	pos, inv  int32        // positions of its completion (its invocation if none) and invocation
	typ       history.Type // its outcome; Invoke when it never completed
	committed bool         // ok, or info (or never completed) with a send some ok poll read
	vertex    int32        // its vertex in the dependency graph, -1 when not committed
	mops      []history.Mop
	ids       []int32 // the value id of each send and of each record read, in order
}

// valInfo is what the history says of one value of one key.
type valInfo struct {
	key       int32
	value     history.Value
	writer    int32 // the transaction that sent it (the first, if several did), -1 if none
	writerMop int32 // the micro-operation of writer that sent it
	pos       int32 // its first entry in the key's log, -1 if it has none
	reads     int32 // polls (of any outcome) that read it
	okReads   int32 // ok polls that read it
	reader    int32 // the first transaction that read it, -1 if none
	// otherReader is the first transaction other than writer that read it, -1 if none.
	otherReader int32
}

// entry is one place in a key's log: an offset and the value seen there.
type entry struct {
	offset int64
	val    int32
}

// model is a history indexed for the checks: its transactions, its values, and each key's log
// (what the sends and polls say each offset holds, in offset order).
type model struct {
	ops     []history.Op
	partner []int

	txns  []txnInfo
	keys  []string
	keyID map[string]int32
	vals  []valInfo
	// Value ids by key: integers (what the harness writes) in intIDs, others in otherIDs.
	intIDs   []map[int64]int32
	otherIDs []map[history.Value]int32

	logs       [][]entry         // key → entries, by offset
	morePos    map[int32][]int32 // a value at more than one entry → all its entries
	prevW      [][]int32         // key → entry → the previous entry a committed transaction wrote
	nextW      [][]int32         // key → entry → the next entry a committed transaction wrote
	maxRead    []int64           // key → the highest offset any poll read, -1 if none
	finalReads map[int32]bool    // keys whose final reads read the whole log
	errors     []string

	vertices []int32 // vertex → transaction
}

// build pairs and indexes ops.
func build(ops []history.Op) (*model, error) {
	partner, err := history.Pair(ops)
	if err != nil {
		return nil, fmt.Errorf("pair operations: %w", err)
	}
	m := &model{ops: ops, partner: partner, keyID: map[string]int32{},
		finalReads: map[int32]bool{}, morePos: map[int32][]int32{}}
	for i := range ops {
		op := &ops[i]
		if op.Process == history.ObserverProcess && op.F == finalReadF {
			m.finalRead(op)
			continue
		}
		if !op.Process.IsClient() || !history.HasMops(op.F) || (op.Type == history.Invoke && partner[i] >= 0) {
			continue
		}
		t := txnInfo{pos: int32(i), inv: int32(i), typ: op.Type, vertex: -1, mops: op.Mops}
		if op.Type != history.Invoke {
			t.inv = int32(partner[i])
			if t.mops == nil {
				t.mops = ops[partner[i]].Mops
			}
		}
		m.txns = append(m.txns, t)
	}
	var ids []int32
	bounds := make([]int32, 0, len(m.txns)+1)
	for ti := range m.txns {
		t := &m.txns[ti]
		bounds = append(bounds, int32(len(ids)))
		for mi := range t.mops {
			mop := &t.mops[mi]
			switch mop.Kind {
			case history.MopSend:
				v := m.vid(m.key(mop.Key), mop.Value)
				ids = append(ids, v)
				if vi := &m.vals[v]; vi.writer < 0 {
					vi.writer, vi.writerMop = int32(ti), int32(mi)
				}
			case history.MopPoll:
				for r := range mop.Reads {
					k := m.key(mop.Reads[r].Key)
					for _, rec := range mop.Reads[r].Records {
						v := m.vid(k, rec.Value)
						ids = append(ids, v)
						vi := &m.vals[v]
						vi.reads++
						if t.typ == history.OK {
							vi.okReads++
						}
						if vi.reader < 0 {
							vi.reader = int32(ti)
						}
					}
				}
			}
		}
	}
	bounds = append(bounds, int32(len(ids)))
	for ti := range m.txns {
		t := &m.txns[ti]
		t.ids = ids[bounds[ti]:bounds[ti+1]:bounds[ti+1]]
		m.each(t, nil, func(_ string, _ history.Record, v int32) {
			if vi := &m.vals[v]; vi.otherReader < 0 && vi.writer != int32(ti) {
				vi.otherReader = int32(ti)
			}
		})
	}
	for ti := range m.txns {
		t := &m.txns[ti]
		switch t.typ {
		case history.OK:
			t.committed = true
		case history.Info, history.Invoke:
			// Jepsen's must-have-committed: an ok poll read one of its sends.
			m.each(t, func(_ int, _ *history.Mop, v int32) {
				if m.vals[v].okReads > 0 {
					t.committed = true
				}
			}, nil)
		}
		if t.committed {
			t.vertex = int32(len(m.vertices))
			m.vertices = append(m.vertices, int32(ti))
		}
	}
	m.buildLogs()
	return m, nil
}

func (m *model) finalRead(op *history.Op) {
	var v struct {
		Key      string `json:"key"`
		Complete bool   `json:"complete"`
	}
	if err := json.Unmarshal(op.Raw, &v); err != nil {
		m.errors = append(m.errors, fmt.Sprintf("line %d: final-read value: %v", op.Index+1, err))
		return
	}
	if v.Complete {
		m.finalReads[m.key(v.Key)] = true
	}
}

func (m *model) key(k string) int32 {
	id, ok := m.keyID[k]
	if !ok {
		id = int32(len(m.keys))
		m.keyID[k] = id
		m.keys = append(m.keys, k)
		m.maxRead = append(m.maxRead, -1)
		m.intIDs = append(m.intIDs, map[int64]int32{})
		m.otherIDs = append(m.otherIDs, nil)
	}
	return id
}

func (m *model) vid(k int32, v history.Value) int32 {
	if n, ok := v.Int(); ok {
		if id, ok := m.intIDs[k][n]; ok {
			return id
		}
		id := m.newVal(k, v)
		m.intIDs[k][n] = id
		return id
	}
	if m.otherIDs[k] == nil {
		m.otherIDs[k] = map[history.Value]int32{}
	}
	if id, ok := m.otherIDs[k][v]; ok {
		return id
	}
	id := m.newVal(k, v)
	m.otherIDs[k][v] = id
	return id
}

func (m *model) newVal(k int32, v history.Value) int32 {
	m.vals = append(m.vals, valInfo{key: k, value: v, writer: -1, writerMop: -1, pos: -1, reader: -1, otherReader: -1})
	return int32(len(m.vals) - 1)
}

// sent returns the value ids of t's sends, in order.
func (m *model) sent(ti int32) []int32 {
	var out []int32
	m.each(&m.txns[ti], func(_ int, _ *history.Mop, v int32) { out = append(out, v) }, nil)
	return out
}

// buildLogs lays out each key's log. Sends tell their offsets when their transaction committed;
// polls tell what offsets hold whatever their outcome, since a consumer only receives stored
// records (Jepsen's version-orders).
func (m *model) buildLogs() {
	m.logs = make([][]entry, len(m.keys))
	for ti := range m.txns {
		t := &m.txns[ti]
		m.each(t, func(_ int, mop *history.Mop, v int32) {
			if t.committed && mop.Offset != history.NoOffset {
				k := m.vals[v].key
				m.logs[k] = append(m.logs[k], entry{mop.Offset, v})
			}
		}, func(_ string, rec history.Record, v int32) {
			if rec.Offset != history.NoOffset {
				k := m.vals[v].key
				m.logs[k] = append(m.logs[k], entry{rec.Offset, v})
				m.maxRead[k] = max(m.maxRead[k], rec.Offset)
			}
		})
	}
	for k, log := range m.logs {
		// By offset; one offset holding several values (inconsistent offsets, the queue checker's
		// concern) keeps them in the order their values first appear in the history.
		slices.SortFunc(log, func(a, b entry) int {
			if c := cmp.Compare(a.offset, b.offset); c != 0 {
				return c
			}
			return cmp.Compare(a.val, b.val)
		})
		out := slices.Compact(log)
		m.logs[k] = slices.Clip(out)
		for p, e := range out {
			vi := &m.vals[e.val]
			if vi.pos < 0 {
				vi.pos = int32(p)
				continue
			}
			if m.morePos[e.val] == nil {
				m.morePos[e.val] = []int32{vi.pos}
			}
			m.morePos[e.val] = append(m.morePos[e.val], int32(p))
		}
	}
}

// each calls send for each send micro-operation of t (with its index in t.mops and its value id)
// and read for each record t read (with its key and value id), in order. Either may be nil.
func (m *model) each(t *txnInfo, send func(mi int, mop *history.Mop, v int32), read func(key string, rec history.Record, v int32)) {
	i := 0
	for mi := range t.mops {
		mop := &t.mops[mi]
		switch mop.Kind {
		case history.MopSend:
			if send != nil {
				send(mi, mop, t.ids[i])
			}
			i++
		case history.MopPoll:
			for r := range mop.Reads {
				kr := &mop.Reads[r]
				if read == nil {
					i += len(kr.Records)
					continue
				}
				for _, rec := range kr.Records {
					read(kr.Key, rec, t.ids[i])
					i++
				}
			}
		}
	}
}

// positions returns the entries of value v in its key's log.
func (m *model) positions(v int32) []int32 {
	if more, ok := m.morePos[v]; ok {
		return more
	}
	if p := m.vals[v].pos; p >= 0 {
		return []int32{p}
	}
	return nil
}

// writerVertex returns the vertex of the transaction that sent value v, or -1.
func (m *model) writerVertex(v int32) int32 {
	if w := m.vals[v].writer; w >= 0 {
		return m.txns[w].vertex
	}
	return -1
}

// ref names transaction ti.
func (m *model) ref(ti int32) OpRef {
	t := &m.txns[ti]
	return verdict.Ref(&m.ops[t.inv], &m.ops[t.pos])
}

// sortedKeys returns the key ids in key order.
func (m *model) sortedKeys() []int32 {
	ids := make([]int32, len(m.keys))
	for i := range ids {
		ids[i] = int32(i)
	}
	sort.Slice(ids, func(i, j int) bool { return m.keys[ids[i]] < m.keys[ids[j]] })
	return ids
}
