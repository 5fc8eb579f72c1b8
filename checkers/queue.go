package checkers

import (
	"sort"

	"github.com/kchaos/kchaos/history"
)

// maxListed bounds the values or operations an anomaly entry lists one by one (skipped values,
// readers of a value); the entry then gives the full count.
const maxListed = 32

// QueueResult is the verdict of the queue checker: the anomalies of Jepsen's Kafka queue
// workload (jepsen.tests.kafka), with the same names and meanings.
type QueueResult struct {
	Valid Validity `json:"valid"`
	// Counts gives the number of entries of each anomaly type found.
	Counts map[string]int `json:"counts"`
	// BadAnomalyTypes are the types found with entries that are not allowed, sorted.
	BadAnomalyTypes []string `json:"bad_anomaly_types"`
	// Errors say what the checker could not read (a malformed final-read line); they make it unknown.
	Errors []string `json:"errors,omitempty"`
	// FinalReadsIncomplete lists the keys whose final-read line says the final reads did not read
	// the whole log (or did not happen); they make the checker unknown at best.
	FinalReadsIncomplete []string `json:"final_reads_incomplete,omitempty"`

	LostWrites          []LostWriteCase          `json:"-"`
	Unseen              []UnseenCase             `json:"-"`
	Duplicates          []DuplicateCase          `json:"-"`
	InconsistentOffsets []InconsistentOffsetCase `json:"-"`
	G1a                 []G1aCase                `json:"-"`
	PollSkips           []OrderCase              `json:"-"` // between two polls of a process
	NonmonotonicPolls   []OrderCase              `json:"-"`
	NonmonotonicSends   []OrderCase              `json:"-"` // between two sends of a process
	IntPollSkips        []OrderCase              `json:"-"` // within one poll
	IntNonmonotonicPoll []OrderCase              `json:"-"`
	IntSendSkips        []OrderCase              `json:"-"` // within one send
	IntNonmonotonicSend []OrderCase              `json:"-"`
}

// LostWriteCase is a lost-write: a write that must have taken effect (acknowledged, or info and
// seen) at an offset below the highest one some ok poll read, that no ok poll read.
type LostWriteCase struct {
	Key           string         `json:"key"`
	Value         history.Value  `json:"value"`
	Offset        int64          `json:"offset"`
	Index         int32          `json:"index"`          // dense index in the key's version order
	MaxReadIndex  int32          `json:"max_read_index"` // the highest index an ok poll read
	MaxReadOffset int64          `json:"max_read_offset"`
	Writer        OpRef          `json:"writer"`
	MaxRead       *OpRef         `json:"max_read,omitempty"` // an ok poll that read the highest index
	Leader        *LeaderContext `json:"leader,omitempty"`
	// AbsentFromFinalReads is true for a write found lost because final reads that read the key's
	// whole log do not hold it (MaxReadOffset is then where they ended); ReadBefore counts the ok
	// polls that read it before it vanished.
	AbsentFromFinalReads bool  `json:"absent_from_final_reads,omitempty"`
	ReadBefore           int32 `json:"read_before,omitempty"`
	// Crash is the crash or power loss that hit every replica of the ISR the write was
	// acknowledged in, after the acknowledgement: the data none of them had fsynced was dropped.
	Crash       *CrashRef `json:"crash,omitempty"`
	Explanation string    `json:"explanation"`
}

// CrashRef names a crash or power-loss fault (on brokers whose log dirs were faultfs mounts) and
// what the replicas it hit dropped.
type CrashRef struct {
	// Fault is the fault's kind (crash, power-loss); Index and Time are its start line's.
	Fault string `json:"fault"`
	Index int64  `json:"index"`
	Time  int64  `json:"time"`
	// Replicas are the write's replicas (the ISR when it was acknowledged), by node name, each
	// with the bytes of data its filesystem dropped, Kafka never having fsynced them.
	Replicas []DroppedReplica `json:"replicas"`
}

// DroppedReplica is one replica a crash hit and the bytes it dropped.
type DroppedReplica struct {
	Node         string `json:"node"`
	DroppedBytes int64  `json:"dropped_bytes"`
}

// UnseenCase counts, for one key, the acknowledged sends that no ok poll ever read.
type UnseenCase struct {
	Key string `json:"key"`
	// FinalReadsIncomplete is true when the key's final reads did not read its whole log: its
	// unseen values may still be there, so they make the verdict unknown, not invalid.
	FinalReadsIncomplete bool          `json:"final_reads_incomplete,omitempty"`
	Count                int           `json:"count"`
	Values               []UnseenValue `json:"values"`
	Explanation          string        `json:"explanation"`
}

// UnseenValue is one value in an UnseenCase: its acknowledged offset (-1 unknown) and its
// writer's completion line.
type UnseenValue struct {
	Value  history.Value `json:"value"`
	Offset int64         `json:"offset"`
	Writer int64         `json:"writer"`
}

// DuplicateCase is a duplicate: one value at more than one offset of a key.
type DuplicateCase struct {
	Key         string         `json:"key"`
	Value       history.Value  `json:"value"`
	Count       int            `json:"count"`
	Offsets     []int64        `json:"offsets"`
	Writer      *OpRef         `json:"writer,omitempty"`
	Reads       []OffsetReads  `json:"reads"`
	Leader      *LeaderContext `json:"leader,omitempty"`
	Explanation string         `json:"explanation"`
}

// OffsetReads lists the operations that saw a value at an offset (a send's acknowledgement or
// a poll): their completion lines, at most maxListed, and how many there were.
type OffsetReads struct {
	Offset int64   `json:"offset"`
	Ops    []int64 `json:"ops"`
	Count  int     `json:"count"`
}

// InconsistentOffsetCase is an inconsistent-offsets: one offset of a key holding more than one
// value.
type InconsistentOffsetCase struct {
	Key         string        `json:"key"`
	Offset      int64         `json:"offset"`
	Index       int32         `json:"index"`
	Values      []OffsetValue `json:"values"`
	Explanation string        `json:"explanation"`
}

// OffsetValue is one of the values an inconsistent offset held: who sent it, which operations
// saw it there, and the partition's leadership when its send was acknowledged.
type OffsetValue struct {
	Value  history.Value  `json:"value"`
	Writer *OpRef         `json:"writer,omitempty"`
	SeenBy OffsetReads    `json:"seen_by"`
	Leader *LeaderContext `json:"leader,omitempty"`
}

// G1aCase is an aborted read: an ok poll read a value whose send failed.
type G1aCase struct {
	Key         string        `json:"key"`
	Value       history.Value `json:"value"`
	Offset      int64         `json:"offset"`
	Writer      OpRef         `json:"writer"`
	Reader      OpRef         `json:"reader"`
	Explanation string        `json:"explanation"`
}

// OrderCase is one of the order anomalies: two values of a key, consecutive in what one
// process (poll-skip, nonmonotonic-poll, nonmonotonic-send: across two of its operations) or
// one operation (int-*: within it) saw or sent, whose indices in the key's version order are
// Delta apart. Delta > 1 is a skip over the Skipped values; Delta < 1 goes backwards or stays.
type OrderCase struct {
	Key          string           `json:"key"`
	Values       [2]history.Value `json:"values"`
	Delta        int32            `json:"delta"`
	Skipped      []history.Value  `json:"skipped,omitempty"`
	SkippedCount int32            `json:"skipped_count,omitempty"`
	Ops          []OpRef          `json:"ops"`
	// Subscribed is set when the consumer was subscribed rather than assigned: Kafka may then
	// rebalance it at any time, and poll-skip and nonmonotonic-poll are allowed.
	Subscribed  bool   `json:"subscribed,omitempty"`
	Explanation string `json:"explanation"`
}

// CheckQueue looks for the anomalies of Jepsen's Kafka queue checker. The run is invalid if
// any is found, except int-send-skip (sends of one op interleave with others), and poll-skip and
// nonmonotonic-poll of a subscribed consumer.
func CheckQueue(a *Analysis) *QueueResult { return checkQueue(a, false, false) }

// checkQueue is CheckQueue; with expectFinalReads (the history of a kchaos run), a key without a
// final-read line had no final reads, as when the run was killed. With allowAbortedReads
// (read_uncommitted consumers of transactional producers), G1a is allowed.
func checkQueue(a *Analysis, expectFinalReads, allowAbortedReads bool) *QueueResult {
	r := &QueueResult{Counts: map[string]int{}}
	a.lostAndUnseen(r, expectFinalReads)
	a.duplicatesAndInconsistent(r)
	a.orders(r)
	bad := map[string]bool{}
	count := func(name string, n int, allowed func(i int) bool) {
		if n == 0 {
			return
		}
		r.Counts[name] = n
		for i := 0; i < n; i++ {
			if !allowed(i) {
				bad[name] = true
				return
			}
		}
	}
	never := func(int) bool { return false }
	count(LostWrite, len(r.LostWrites), never)
	count(Unseen, len(r.Unseen), func(i int) bool { return r.Unseen[i].FinalReadsIncomplete })
	count(Duplicate, len(r.Duplicates), never)
	count(InconsistentOffsets, len(r.InconsistentOffsets), never)
	count(G1a, len(r.G1a), func(int) bool { return allowAbortedReads })
	count(PollSkip, len(r.PollSkips), func(i int) bool { return r.PollSkips[i].Subscribed })
	count(NonmonotonicPoll, len(r.NonmonotonicPolls), func(i int) bool { return r.NonmonotonicPolls[i].Subscribed })
	count(NonmonotonicSend, len(r.NonmonotonicSends), never)
	count(IntPollSkip, len(r.IntPollSkips), never)
	count(IntNonmonotonicPoll, len(r.IntNonmonotonicPoll), never)
	count(IntSendSkip, len(r.IntSendSkips), func(int) bool { return true })
	count(IntNonmonotonicSend, len(r.IntNonmonotonicSend), never)
	r.BadAnomalyTypes = sortedSet(bad)
	switch {
	case len(r.BadAnomalyTypes) > 0:
		r.Valid = Invalid
	case len(r.FinalReadsIncomplete) > 0 || len(r.Errors) > 0:
		// Without the whole final log, a write read once and truncated later cannot be told from
		// one that stayed: no loss found is not no loss.
		r.Valid = Unknown
	}
	return r
}

// anomalies returns the entries by anomaly type, for results.json.
func (r *QueueResult) anomalies() map[string][]any {
	m := map[string][]any{}
	add := func(name string, n int, get func(i int) any) {
		for i := 0; i < n; i++ {
			m[name] = append(m[name], get(i))
		}
	}
	add(LostWrite, len(r.LostWrites), func(i int) any { return &r.LostWrites[i] })
	add(Unseen, len(r.Unseen), func(i int) any { return &r.Unseen[i] })
	add(Duplicate, len(r.Duplicates), func(i int) any { return &r.Duplicates[i] })
	add(InconsistentOffsets, len(r.InconsistentOffsets), func(i int) any { return &r.InconsistentOffsets[i] })
	add(G1a, len(r.G1a), func(i int) any { return &r.G1a[i] })
	for _, c := range []struct {
		name  string
		cases []OrderCase
	}{
		{PollSkip, r.PollSkips}, {NonmonotonicPoll, r.NonmonotonicPolls}, {NonmonotonicSend, r.NonmonotonicSends},
		{IntPollSkip, r.IntPollSkips}, {IntNonmonotonicPoll, r.IntNonmonotonicPoll},
		{IntSendSkip, r.IntSendSkips}, {IntNonmonotonicSend, r.IntNonmonotonicSend},
	} {
		add(c.name, len(c.cases), func(i int) any { return &c.cases[i] })
	}
	return m
}

func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// lostAndUnseen finds lost writes (Jepsen's lost-write-cases) and the acknowledged values never
// read (Jepsen's unseen).
func (a *Analysis) lostAndUnseen(r *QueueResult, expectFinalReads bool) {
	for _, k := range a.sortedKeys() {
		l := &a.logs[k]
		// The highest index an ok poll read: every value whose last index is at or below it
		// should have been read too.
		bound, boundVal := int32(-1), int32(-1)
		for i := range l.offsets {
			for _, v := range l.valuesAt(int32(i)) {
				if vi := &a.vals[v]; vi.okReads > 0 && vi.firstIdx > bound {
					bound, boundVal = vi.firstIdx, v
				}
			}
		}
		for i := int32(0); i <= bound; i++ {
			for _, v := range l.valuesAt(i) {
				vi := &a.vals[v]
				if vi.lastIdx != i || vi.okReads > 0 || vi.writer < 0 || !a.committed(int(vi.writer)) {
					continue
				}
				c := LostWriteCase{
					Key: a.keys[k], Value: vi.value, Offset: l.offsets[vi.firstIdx], Index: vi.firstIdx,
					MaxReadIndex: bound, MaxReadOffset: l.offsets[bound], Writer: a.ref(int(vi.writer)),
				}
				if rd := a.vals[boundVal].firstRead; rd >= 0 {
					ref := a.ref(int(rd))
					c.MaxRead = &ref
				}
				c.Leader = a.leaderContext(a.keys[k], int(vi.writer))
				c.Crash = a.crashAfter(&c)
				c.Explanation = a.explainLostWrite(&c)
				r.LostWrites = append(r.LostWrites, c)
			}
		}
	}
	// Final reads that read a key's whole log know what it holds: a write that must have taken
	// effect and is not there was lost, even if a poll read it before an election truncated it.
	finals, err := a.finalReads()
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
	}
	if expectFinalReads {
		for k := range a.keys {
			if finals[int32(k)] == nil {
				finals[int32(k)] = &finalRead{read: map[int32]bool{}}
			}
		}
	}
	for _, k := range a.sortedKeys() {
		if fr := finals[k]; fr != nil && !fr.Complete {
			r.FinalReadsIncomplete = append(r.FinalReadsIncomplete, a.keys[k])
		}
	}
	reported := map[int32]bool{}    // values already found lost
	lostFromLog := map[int32]bool{} // of those, the ones only the final reads show lost
	for _, c := range r.LostWrites {
		if k, ok := a.keyID[c.Key]; ok {
			reported[a.lookup(k, c.Value)] = true
		}
	}
	for v := range a.vals {
		vi := &a.vals[v]
		fr := finals[vi.key]
		if fr == nil || !fr.Complete || fr.read[int32(v)] || reported[int32(v)] || vi.writer < 0 || !a.committed(int(vi.writer)) {
			continue
		}
		c := LostWriteCase{Key: a.keys[vi.key], Value: vi.value, Offset: vi.ackOffset, Index: vi.firstIdx,
			MaxReadIndex: -1, MaxReadOffset: fr.Position - 1, Writer: a.ref(int(vi.writer)), AbsentFromFinalReads: true,
			ReadBefore: vi.okReads}
		if c.Offset == history.NoOffset && vi.firstIdx >= 0 {
			c.Offset = a.logs[vi.key].offsets[vi.firstIdx]
		}
		c.Leader = a.leaderContext(c.Key, int(vi.writer))
		c.Crash = a.crashAfter(&c)
		c.Explanation = a.explainLostWrite(&c)
		r.LostWrites = append(r.LostWrites, c)
		reported[int32(v)] = true
		lostFromLog[int32(v)] = true
	}
	sort.SliceStable(r.LostWrites, func(i, j int) bool { return r.LostWrites[i].Key < r.LostWrites[j].Key })

	unseen := map[int32]*UnseenCase{}
	for v := range a.vals {
		vi := &a.vals[v]
		// Jepsen reports a lost write that was never read as unseen too; one the final reads
		// show lost is that and not unseen, since the whole log was read.
		if vi.writerType != history.OK || vi.okReads > 0 || lostFromLog[int32(v)] {
			continue
		}
		c, ok := unseen[vi.key]
		if !ok {
			c = &UnseenCase{Key: a.keys[vi.key]}
			if fr := finals[vi.key]; fr != nil && !fr.Complete {
				c.FinalReadsIncomplete = true
			}
			unseen[vi.key] = c
		}
		c.Count++
		c.Values = append(c.Values, UnseenValue{Value: vi.value, Offset: vi.ackOffset, Writer: a.Ops[vi.writer].Index})
	}
	for _, k := range a.sortedKeys() {
		if c, ok := unseen[k]; ok {
			c.Explanation = explainUnseen(c)
			r.Unseen = append(r.Unseen, *c)
		}
	}
}

// duplicatesAndInconsistent finds values at several offsets and offsets with several values.
func (a *Analysis) duplicatesAndInconsistent(r *QueueResult) {
	type seenKey struct {
		vid    int32
		offset int64
	}
	seen := map[seenKey]*OffsetReads{} // who saw each value of interest at each offset
	var dups []*DuplicateCase
	var incons []*InconsistentOffsetCase
	dupOf := map[int32]*DuplicateCase{}
	for _, k := range a.sortedKeys() {
		l := &a.logs[k]
		for i := range l.offsets {
			idx := int32(i)
			for _, v := range l.valuesAt(idx) {
				vi := &a.vals[v]
				if vi.firstIdx == vi.lastIdx {
					continue
				}
				c, ok := dupOf[v]
				if !ok {
					c = &DuplicateCase{Key: a.keys[k], Value: vi.value}
					if vi.writer >= 0 {
						ref := a.ref(int(vi.writer))
						c.Writer = &ref
					}
					dupOf[v] = c
					dups = append(dups, c)
				}
				c.Count++
				c.Offsets = append(c.Offsets, l.offsets[i])
				reads := &OffsetReads{Offset: l.offsets[i], Ops: []int64{}}
				seen[seenKey{v, l.offsets[i]}] = reads
			}
			if _, ok := l.extra[idx]; !ok {
				continue
			}
			c := &InconsistentOffsetCase{Key: a.keys[k], Offset: l.offsets[i], Index: idx}
			for _, v := range l.valuesAt(idx) {
				vi := &a.vals[v]
				ov := OffsetValue{Value: vi.value}
				if vi.writer >= 0 {
					ref := a.ref(int(vi.writer))
					ov.Writer = &ref
					ov.Leader = a.leaderContext(a.keys[k], int(vi.writer))
				}
				c.Values = append(c.Values, ov)
				sk := seenKey{v, l.offsets[i]}
				if _, ok := seen[sk]; !ok {
					seen[sk] = &OffsetReads{Offset: l.offsets[i], Ops: []int64{}}
				}
			}
			incons = append(incons, c)
		}
	}
	if len(seen) == 0 {
		return
	}
	// One more pass over the history to name who saw each of these values where.
	note := func(k int32, val history.Value, offset int64, pos int) {
		v := a.lookup(k, val)
		if v < 0 {
			return
		}
		if reads, ok := seen[seenKey{v, offset}]; ok {
			reads.Count++
			if len(reads.Ops) < maxListed {
				reads.Ops = append(reads.Ops, a.Ops[pos].Index)
			}
		}
	}
	for i := range a.Ops {
		op := &a.Ops[i]
		if !op.Process.IsClient() || op.Type == history.Invoke || !history.HasMops(op.F) {
			continue
		}
		for _, mop := range a.mops(i) {
			switch mop.Kind {
			case history.MopSend:
				if mop.Offset != history.NoOffset && op.Type != history.Fail {
					note(a.keyID[mop.Key], mop.Value, mop.Offset, i)
				}
			case history.MopPoll:
				for _, kr := range mop.Reads {
					for _, rec := range kr.Records {
						if rec.Offset != history.NoOffset {
							note(a.keyID[kr.Key], rec.Value, rec.Offset, i)
						}
					}
				}
			}
		}
	}
	for _, c := range dups {
		k := a.keyID[c.Key]
		v := a.lookup(k, c.Value)
		for _, off := range c.Offsets {
			c.Reads = append(c.Reads, *seen[seenKey{v, off}])
		}
		if w := a.vals[v].writer; w >= 0 {
			c.Leader = a.leaderContext(c.Key, int(w))
		}
		c.Explanation = a.explainDuplicate(c)
		r.Duplicates = append(r.Duplicates, *c)
	}
	for _, c := range incons {
		k := a.keyID[c.Key]
		for i := range c.Values {
			c.Values[i].SeenBy = *seen[seenKey{a.lookup(k, c.Values[i].Value), c.Offset}]
		}
		c.Explanation = a.explainInconsistent(c)
		r.InconsistentOffsets = append(r.InconsistentOffsets, *c)
	}
}

// keyVids is what one op read from (or sent to) one key, in order.
type keyVids struct {
	key  int32
	vids []int32
}

// opValues collects, per key in order of first appearance, the value ids the op at position i
// read (polls) or sent (sends), reusing buf. Unknown values get id -1.
func (a *Analysis) opValues(i int, kind history.MopKind, buf []keyVids) []keyVids {
	buf = buf[:0]
	add := func(k int32, v int32) {
		for j := range buf {
			if buf[j].key == k {
				buf[j].vids = append(buf[j].vids, v)
				return
			}
		}
		if len(buf) < cap(buf) {
			buf = buf[:len(buf)+1]
			buf[len(buf)-1].key = k
			buf[len(buf)-1].vids = append(buf[len(buf)-1].vids[:0], v)
			return
		}
		buf = append(buf, keyVids{key: k, vids: []int32{v}})
	}
	for _, mop := range a.mops(i) {
		if mop.Kind != kind {
			continue
		}
		if kind == history.MopSend {
			k := a.keyID[mop.Key]
			add(k, a.lookup(k, mop.Value))
			continue
		}
		for _, kr := range mop.Reads {
			k := a.keyID[kr.Key]
			for _, rec := range kr.Records {
				add(k, a.lookup(k, rec.Value))
			}
		}
	}
	return buf
}

// delta returns the distance in the version order from value v1 to value v2 of a key, and
// whether both have an index; Jepsen takes an unknown distance as 1.
func (a *Analysis) delta(v1, v2 int32) int32 {
	if v1 < 0 || v2 < 0 {
		return 1
	}
	i1, i2 := a.vals[v1].byIdx, a.vals[v2].byIdx
	if i1 < 0 || i2 < 0 {
		return 1
	}
	return i2 - i1
}

// skipped returns the values strictly between v1 and v2 in their key's version order, at most
// maxListed of them.
func (a *Analysis) skipped(v1, v2 int32) []history.Value {
	i1, i2 := a.vals[v1].byIdx, a.vals[v2].byIdx
	l := &a.logs[a.vals[v1].key]
	var out []history.Value
	for i := i1 + 1; i < i2 && len(out) < maxListed; i++ {
		out = append(out, a.vals[l.first[i]].value)
	}
	return out
}

// internalOrder records, among the values one op (at pos) read or sent to key in order, each
// step past the next value in version order (a skip) or back (nonmonotonic).
func (a *Analysis) internalOrder(key int32, vids []int32, pos int, skip string, skips *[]OrderCase, back string, backs *[]OrderCase) {
	for j := 1; j < len(vids); j++ {
		d := a.delta(vids[j-1], vids[j])
		if d == 1 {
			continue
		}
		c := a.orderCase(key, vids[j-1], vids[j], d, pos)
		if d > 1 {
			c.Explanation = a.explainOrder(skip, &c)
			*skips = append(*skips, c)
		} else {
			c.Explanation = a.explainOrder(back, &c)
			*backs = append(*backs, c)
		}
	}
}

// orderCase builds an OrderCase for values v1 then v2 of key k, Delta apart.
func (a *Analysis) orderCase(k int32, v1, v2, d int32, ops ...int) OrderCase {
	c := OrderCase{Key: a.keys[k], Delta: d}
	for j, v := range []int32{v1, v2} {
		if v >= 0 {
			c.Values[j] = a.vals[v].value
		}
	}
	if d > 1 {
		c.Skipped = a.skipped(v1, v2)
		c.SkippedCount = d - 1
	}
	for _, p := range ops {
		c.Ops = append(c.Ops, a.ref(p))
	}
	return c
}

// lastAccess is the last value one process read from, or sent to, a key, and the op.
type lastAccess struct {
	key, vid int32
	pos      int32
}

type procState struct {
	subscribed bool
	reads      []lastAccess
	sends      []lastAccess
}

func findAccess(s []lastAccess, k int32) int {
	for i := range s {
		if s[i].key == k {
			return i
		}
	}
	return -1
}

func setAccess(s []lastAccess, acc lastAccess) []lastAccess {
	if i := findAccess(s, acc.key); i >= 0 {
		s[i] = acc
		return s
	}
	return append(s, acc)
}

// keepKeys keeps only the accesses to keys, as an assign or subscribe does.
func (a *Analysis) keepKeys(s []lastAccess, keys []string) []lastAccess {
	out := s[:0]
	for _, acc := range s {
		for _, k := range keys {
			if a.keys[acc.key] == k {
				out = append(out, acc)
				break
			}
		}
	}
	return out
}

// orders finds the order anomalies: within each op (int-*), and across the ops of each process
// (poll-skip, nonmonotonic-poll, nonmonotonic-send), and G1a.
//
// Across ops, a process's position on a key counts only while the key stays assigned: an assign
// or subscribe (ok or info) forgets the keys it does not name, so a consumer that was reassigned
// a key may skip or go back on it. A key it keeps is expected to continue where it was, as the
// Kafka consumer does. A process whose op ended info never acts again, so its successor starts
// afresh.
func (a *Analysis) orders(r *QueueResult) {
	var procs []procState
	procMap := map[history.Process]*procState{}
	// Small process numbers index a slice, others a map; small relative to the history, so
	// that a line with a large process number costs no memory in proportion to it.
	small := history.Process(min(1<<20, 2*len(a.Ops)+64))
	proc := func(p history.Process) *procState {
		if p < small {
			for int(p) >= len(procs) {
				procs = append(procs, procState{})
			}
			return &procs[p]
		}
		s, ok := procMap[p]
		if !ok {
			s = &procState{}
			procMap[p] = s
		}
		return s
	}
	var buf []keyVids
	for i := range a.Ops {
		op := &a.Ops[i]
		if !op.Process.IsClient() || op.Type == history.Invoke {
			continue
		}
		ps := proc(op.Process)
		if history.HasKeys(op.F) {
			if op.Type == history.OK || op.Type == history.Info {
				ps.reads = a.keepKeys(ps.reads, op.Keys)
				ps.sends = a.keepKeys(ps.sends, op.Keys)
				ps.subscribed = op.F == history.FSubscribe
			}
			continue
		}
		if !history.HasMops(op.F) {
			continue
		}
		// What it read.
		buf = a.opValues(i, history.MopPoll, buf)
		for _, kv := range buf {
			vids := kv.vids
			a.internalOrder(kv.key, vids, i, IntPollSkip, &r.IntPollSkips, IntNonmonotonicPoll, &r.IntNonmonotonicPoll)
			if op.Type == history.OK {
				for _, v := range vids {
					if v >= 0 && a.vals[v].writerType == history.Fail {
						r.G1a = append(r.G1a, a.g1a(kv.key, v, i))
					}
				}
			}
			if j := findAccess(ps.reads, kv.key); j >= 0 {
				last := ps.reads[j]
				if d := a.delta(last.vid, vids[0]); d > 1 {
					c := a.orderCase(kv.key, last.vid, vids[0], d, int(last.pos), i)
					c.Subscribed = ps.subscribed
					c.Explanation = a.explainOrder(PollSkip, &c)
					r.PollSkips = append(r.PollSkips, c)
				} else if d < 1 {
					c := a.orderCase(kv.key, last.vid, vids[0], d, int(last.pos), i)
					c.Subscribed = ps.subscribed
					c.Explanation = a.explainOrder(NonmonotonicPoll, &c)
					r.NonmonotonicPolls = append(r.NonmonotonicPolls, c)
				}
			}
		}
		if op.Type == history.OK {
			for _, kv := range buf {
				ps.reads = setAccess(ps.reads, lastAccess{key: kv.key, vid: kv.vids[len(kv.vids)-1], pos: int32(i)})
			}
		}
		// What it sent.
		buf = a.opValues(i, history.MopSend, buf)
		for _, kv := range buf {
			vids := kv.vids
			a.internalOrder(kv.key, vids, i, IntSendSkip, &r.IntSendSkips, IntNonmonotonicSend, &r.IntNonmonotonicSend)
			if op.Type != history.OK && op.Type != history.Info {
				continue
			}
			if j := findAccess(ps.sends, kv.key); j >= 0 {
				last := ps.sends[j]
				if d := a.delta(last.vid, vids[0]); d < 1 {
					c := a.orderCase(kv.key, last.vid, vids[0], d, int(last.pos), i)
					c.Explanation = a.explainOrder(NonmonotonicSend, &c)
					r.NonmonotonicSends = append(r.NonmonotonicSends, c)
				}
			}
			ps.sends = setAccess(ps.sends, lastAccess{key: kv.key, vid: vids[len(vids)-1], pos: int32(i)})
		}
	}
}

func (a *Analysis) g1a(k, v int32, reader int) G1aCase {
	vi := &a.vals[v]
	c := G1aCase{Key: a.keys[k], Value: vi.value, Offset: history.NoOffset, Writer: a.ref(int(vi.writer)), Reader: a.ref(reader)}
	for _, mop := range a.mops(reader) {
		for _, kr := range mop.Reads {
			if kr.Key != c.Key {
				continue
			}
			for _, rec := range kr.Records {
				if rec.Value == c.Value {
					c.Offset = rec.Offset
				}
			}
		}
	}
	c.Explanation = explainG1a(&c)
	return c
}
