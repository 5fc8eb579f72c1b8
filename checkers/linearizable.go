package checkers

import (
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/kchaos/kchaos/history"
)

// DefaultLinearizabilityTimeout is how long the linearizability checker may spend on one key.
const DefaultLinearizabilityTimeout = 30 * time.Second

// The model, per key: a partition is an append-only log. An acknowledged send took the next
// offset at some instant between its invocation and its completion; a poll returned records that
// were in the log at those offsets at some instant within the poll; a send whose outcome is
// unknown may or may not have taken effect, whenever after its invocation.
//
// Checking it with porcupine as it stands (the log as the state, info sends open forever) would
// blow up on real histories, so the history is first rewritten into one that is linearizable
// exactly when the original is, and cheap to check:
//
//   - What each offset holds is known from the history itself (the Analysis's version order:
//     acknowledgements and polls). A send whose value was seen at offset r must take exactly
//     offset r; a send whose value was never seen takes the next offset, which must be one
//     that nothing was seen at. The log is then fully described by its next offset, and polls
//     need only that: records up to offset o were in the log once the next offset passed o.
//     The state is that offset and a hash chain of the records appended (two states are equal
//     when both are), not a copied log.
//   - Offsets may have holes (an unseen unknown send took them, or transaction markers did): a
//     send seen at r may take r when every offset seen below r is taken.
//   - A send with unknown outcome whose value was never seen changes nothing a later operation
//     can observe beyond such a hole, so it is left out; one whose value was seen took effect,
//     and must have done so before any operation that needed its offset completed, which bounds
//     its completion time.
//   - A poll whose highest record's send was acknowledged before the poll completed is satisfied
//     whatever the order of the rest (place it just after that send, or at its own invocation),
//     and is left out.
//   - Where no operation spans an instant, the history is cut: each piece is checked from the
//     state the one before ends in, where that state is certain (see piece.certain).
//
// A value seen at two offsets, or an offset seen with two values, cannot be placed: the key is
// then not linearizable, as it should be.

const (
	linSend uint8 = iota + 1
	linPoll
)

// linOp is one operation of one key as porcupine sees it.
type linOp struct {
	kind      uint8
	typ       history.Type // outcome (Invoke: never completed)
	pos       int32        // position of the op in the history
	line      int64        // its line's index
	process   history.Process
	call, ret int64
	// send
	value   history.Value
	forced  bool  // its value was seen at offset r
	bad     bool  // its value was seen at several offsets, or its offset held several values
	r       int64 // the offset it took
	prevExp int64 // the highest offset seen below r, -1 if none
	// poll
	minOff, maxOff int64
	records        int
}

// linState is the model's state: the next offset, and a hash chain of the records appended.
type linState struct {
	next  int64
	chain uint64
}

// keyModel holds what the model needs of one key.
type keyModel struct {
	key     string
	offsets []int64 // offsets seen holding a value, ascending
}

func (m *keyModel) seen(offset int64) bool {
	_, ok := slices.BinarySearch(m.offsets, offset)
	return ok
}

func chainHash(h uint64, offset int64, v history.Value) uint64 {
	const prime = 0x100000001b3
	h = (h ^ uint64(offset)) * prime
	if n, ok := v.Int(); ok {
		return (h ^ uint64(n)) * prime
	}
	for _, c := range []byte(v.String()) {
		h = (h ^ uint64(c)) * prime
	}
	return h
}

func (m *keyModel) step(state, input, _ any) (bool, any) {
	s := state.(linState)
	op := input.(*linOp)
	switch {
	case op.kind == linPoll:
		return op.maxOff < s.next, s
	case op.bad:
		return false, nil
	case op.forced:
		if op.r < s.next || op.prevExp >= s.next {
			return false, nil
		}
		return true, linState{next: op.r + 1, chain: chainHash(s.chain, op.r, op.value)}
	default:
		if m.seen(s.next) {
			return false, nil
		}
		return true, linState{next: s.next + 1, chain: chainHash(s.chain, s.next, op.value)}
	}
}

func (m *keyModel) porcupineModel(init linState) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return init },
		Step: m.step,
		Hash: func(state any) uint64 {
			s := state.(linState)
			return uint64(s.next)*0x9e3779b97f4a7c15 ^ s.chain
		},
		DescribeOperation: func(input, _ any) string { return html.EscapeString(describeLinOp(input.(*linOp))) },
		DescribeState: func(state any) string {
			s := state.(linState)
			return html.EscapeString(fmt.Sprintf("next offset %d, log hash %016x", s.next, s.chain))
		},
	}
}

func describeLinOp(op *linOp) string {
	return fmt.Sprintf("line %d, process %s: %s", op.line+1, op.process, describeLinEffect(op))
}

func describeLinEffect(op *linOp) string {
	if op.kind == linPoll {
		return fmt.Sprintf("poll: %d record(s) at offsets %d..%d", op.records, op.minOff, op.maxOff)
	}
	outcome := op.typ.String()
	if op.typ == history.Invoke {
		outcome = "no completion"
	}
	switch {
	case op.bad:
		return fmt.Sprintf("send %s (%s) -> offset %d, but another value was seen there too, or %s elsewhere too", pval(op.value), outcome, op.r, pval(op.value))
	case op.forced:
		return fmt.Sprintf("send %s (%s) -> offset %d", pval(op.value), outcome, op.r)
	}
	return fmt.Sprintf("send %s (%s), offset never seen", pval(op.value), outcome)
}

// LinearizableResult is the verdict of the per-key linearizability checker.
type LinearizableResult struct {
	Valid   Validity                     `json:"valid"`
	Timeout string                       `json:"timeout"`
	Keys    map[string]*KeyLinearizable  `json:"keys"`
	Cases   []NotLinearizableCase        `json:"-"`
	viz     map[string]*linVisualization // keys that were not linearizable or timed out
}

// KeyLinearizable is the check of one key: its verdict, the operations porcupine checked and
// those left out as certainly fine, the pieces the history was cut into, and the time taken.
type KeyLinearizable struct {
	Valid          Validity `json:"valid"`
	Ops            int      `json:"ops"`
	DroppedPolls   int      `json:"dropped_polls"`
	DroppedSends   int      `json:"dropped_sends"`
	Segments       int      `json:"segments"`
	LargestSegment int      `json:"largest_segment"`
	// ElapsedMS is the time the check took. It is not written to results.json, which must be
	// the same bytes for the same history.
	ElapsedMS int64  `json:"-"`
	Reason    string `json:"reason,omitempty"`
}

// NotLinearizableCase is a not-linearizable key: the stretch of its history (From to To, in ns)
// that no order of operations explains, how many of its operations porcupine could order at
// best, and the ones it could not place after that, earliest completion first.
type NotLinearizableCase struct {
	Key         string  `json:"key"`
	From        int64   `json:"from"`
	To          int64   `json:"to"`
	SegmentOps  int     `json:"segment_ops"`
	Linearized  int     `json:"linearized"`
	Ops         []OpRef `json:"ops"`
	Explanation string  `json:"explanation"`
}

type linVisualization struct {
	model porcupine.Model
	info  porcupine.LinearizationInfo
}

// Visualize writes porcupine's HTML visualization of the piece of key's history that was not
// linearizable (or on which the check timed out).
func (r *LinearizableResult) Visualize(w io.Writer, key string) error {
	v, ok := r.viz[key]
	if !ok {
		return fmt.Errorf("visualize %s: no visualization kept: the key was linearizable", pkey(key))
	}
	if err := porcupine.Visualize(v.model, v.info, w); err != nil {
		return fmt.Errorf("visualize %s: %w", pkey(key), err)
	}
	return nil
}

// VisualizedKeys returns the keys Visualize can draw, sorted.
func (r *LinearizableResult) VisualizedKeys() []string {
	keys := make([]string, 0, len(r.viz))
	for k := range r.viz {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CheckLinearizable checks each key's log for linearizability with porcupine, keys in
// parallel, giving up on a key (unknown) after timeout (DefaultLinearizabilityTimeout if 0).
func CheckLinearizable(a *Analysis, timeout time.Duration, workers int) *LinearizableResult {
	if timeout <= 0 {
		timeout = DefaultLinearizabilityTimeout
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	perKey, dropped := a.buildLinOps(true)
	r := &LinearizableResult{Timeout: timeout.String(), Keys: map[string]*KeyLinearizable{}, viz: map[string]*linVisualization{}}
	keys := a.sortedKeys()
	results := make([]*KeyLinearizable, len(a.keys))
	cases := make([]*NotLinearizableCase, len(a.keys))
	vizs := make([]*linVisualization, len(a.keys))
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(keys)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next == len(keys) {
					mu.Unlock()
					return
				}
				k := keys[next]
				next++
				mu.Unlock()
				results[k], cases[k], vizs[k] = a.checkKey(k, perKey[k], timeout)
				results[k].DroppedPolls, results[k].DroppedSends = dropped[k].polls, dropped[k].sends
			}
		}()
	}
	wg.Wait()
	verdicts := make([]Validity, 0, len(keys))
	for _, k := range keys {
		r.Keys[a.keys[k]] = results[k]
		verdicts = append(verdicts, results[k].Valid)
		if cases[k] != nil {
			r.Cases = append(r.Cases, *cases[k])
		}
		if vizs[k] != nil {
			r.viz[a.keys[k]] = vizs[k]
		}
	}
	r.Valid = worst(verdicts...)
	return r
}

type droppedCount struct{ polls, sends int }

// buildLinOps turns the history into each key's porcupine operations. With drop, it leaves out
// the polls that are satisfied whatever the order of the rest.
func (a *Analysis) buildLinOps(drop bool) ([][]linOp, []droppedCount) {
	perKey := make([][]linOp, len(a.keys))
	dropped := make([]droppedCount, len(a.keys))
	const open = math.MaxInt64
	// Count first: the slices are large, and growing them costs more than counting.
	counts := make([]int, len(a.keys))
	for i := range a.Ops {
		op := &a.Ops[i]
		if !op.Process.IsClient() || !history.HasMops(op.F) || (op.Type == history.Invoke && a.Partner[i] >= 0) {
			continue
		}
		for _, mop := range a.mops(i) {
			if mop.Kind == history.MopSend {
				counts[a.keyID[mop.Key]]++
			}
			for _, kr := range mop.Reads {
				counts[a.keyID[kr.Key]]++
			}
		}
	}
	for k, n := range counts {
		perKey[k] = make([]linOp, 0, n)
	}
	for i := range a.Ops {
		op := &a.Ops[i]
		if !op.Process.IsClient() || !history.HasMops(op.F) || (op.Type == history.Invoke && a.Partner[i] >= 0) {
			continue
		}
		call, ret := a.invokeTime(i), op.Time
		if op.Type == history.Invoke || op.Type == history.Info {
			ret = open
		}
		for _, mop := range a.mops(i) {
			switch mop.Kind {
			case history.MopSend:
				if op.Type == history.Fail && !a.AbortedVisible {
					continue // certainly no effect
				}
				k := a.keyID[mop.Key]
				v := a.lookup(k, mop.Value)
				vi := &a.vals[v]
				lo := linOp{kind: linSend, typ: op.Type, pos: int32(i), line: op.Index, process: op.Process, call: call, ret: ret, value: mop.Value}
				if vi.firstIdx >= 0 {
					l := &a.logs[k]
					_, conflict := l.extra[vi.firstIdx]
					lo.forced, lo.bad = true, conflict || vi.firstIdx != vi.lastIdx
					lo.r, lo.prevExp = l.offsets[vi.firstIdx], -1
					if vi.firstIdx > 0 {
						lo.prevExp = l.offsets[vi.firstIdx-1]
					}
				} else if op.Type != history.OK {
					dropped[k].sends++ // outcome unknown and never seen
					continue
				}
				perKey[k] = append(perKey[k], lo)
			case history.MopPoll:
				for _, kr := range mop.Reads {
					k := a.keyID[kr.Key]
					lo := linOp{kind: linPoll, typ: op.Type, pos: int32(i), line: op.Index, process: op.Process, call: call, ret: op.Time,
						minOff: math.MaxInt64, maxOff: -1}
					for _, rec := range kr.Records {
						if rec.Offset != history.NoOffset {
							lo.minOff, lo.maxOff = min(lo.minOff, rec.Offset), max(lo.maxOff, rec.Offset)
							lo.records++
						}
					}
					if lo.records == 0 {
						continue
					}
					if drop && a.pollCertain(k, lo.maxOff, lo.ret) {
						dropped[k].polls++
						continue
					}
					perKey[k] = append(perKey[k], lo)
				}
			}
		}
	}
	for k := range perKey {
		boundUnknownSends(perKey[k])
	}
	return perKey, dropped
}

// pollCertain reports whether a poll completed at ret that read up to maxOff of key k is
// satisfied in any order of the other operations: the value at maxOff is the only one seen
// there, seen nowhere else, and its send was acknowledged no later than ret.
func (a *Analysis) pollCertain(k int32, maxOff, ret int64) bool {
	l := &a.logs[k]
	idx := l.indexOf(maxOff)
	if idx < 0 {
		return false
	}
	if _, conflict := l.extra[idx]; conflict {
		return false
	}
	vi := &a.vals[l.first[idx]]
	if vi.firstIdx != vi.lastIdx || vi.writer < 0 || a.Ops[vi.writer].Type != history.OK {
		return false
	}
	return a.Ops[vi.writer].Time <= ret
}

// boundUnknownSends gives each seen send of unknown outcome the latest completion time it can
// have: before any operation that needed its offset completed (a poll at or past it, a send
// seen beyond it). Sends seen nowhere keep the open end of their interval.
func boundUnknownSends(ops []linOp) {
	type need struct {
		threshold int64 // the op needs every seen offset up to threshold taken
		ret       int64
	}
	var needs []need
	var unknown []int
	for i := range ops {
		op := &ops[i]
		switch {
		case op.kind == linPoll:
			needs = append(needs, need{op.maxOff, op.ret})
		case op.forced && op.ret != math.MaxInt64:
			needs = append(needs, need{op.r - 1, op.ret})
		case op.forced:
			unknown = append(unknown, i)
		}
	}
	if len(unknown) == 0 {
		return
	}
	sort.Slice(needs, func(i, j int) bool { return needs[i].threshold < needs[j].threshold })
	suffixMin := make([]int64, len(needs)+1)
	suffixMin[len(needs)] = math.MaxInt64
	for i := len(needs) - 1; i >= 0; i-- {
		suffixMin[i] = min(suffixMin[i+1], needs[i].ret)
	}
	// Latest first: an unknown send is also needed by the unknown sends seen beyond it.
	sort.Slice(unknown, func(i, j int) bool { return ops[unknown[i]].r > ops[unknown[j]].r })
	beyond := int64(math.MaxInt64)
	for _, i := range unknown {
		op := &ops[i]
		j := sort.Search(len(needs), func(j int) bool { return needs[j].threshold >= op.r })
		bound := min(suffixMin[j], beyond)
		if bound != math.MaxInt64 {
			op.ret = max(bound, op.call)
		}
		beyond = min(beyond, op.ret)
	}
}

// segments cuts a key's operations, sorted by invocation, where no operation spans the cut and
// the state at the cut is certain (see endState), into pieces of at least minSegment operations.
func segments(ops []linOp, minSegment int) [][]linOp {
	var segs [][]linOp
	start := 0
	var p piece
	p.reset()
	for j := range ops {
		op := &ops[j]
		if j-start >= minSegment && p.maxRet < op.call && p.certain() {
			segs = append(segs, ops[start:j])
			start = j
			p.reset()
		}
		p.add(op)
	}
	if start < len(ops) {
		segs = append(segs, ops[start:])
	}
	return segs
}

// piece tracks what decides whether the state at the end of a piece of history is certain.
type piece struct {
	maxRet      int64 // latest completion
	maxR        int64 // highest offset a seen send took, -1 if none
	maxRCall    int64 // invocation of that send
	unseenRet   int64 // latest completion of a send never seen, MinInt64 if none
	unseenSends bool
}

func (p *piece) reset() {
	*p = piece{maxRet: math.MinInt64, maxR: -1, unseenRet: math.MinInt64}
}

func (p *piece) add(op *linOp) {
	p.maxRet = max(p.maxRet, op.ret)
	switch {
	case op.kind != linSend:
	case op.forced:
		if op.r > p.maxR {
			p.maxR, p.maxRCall = op.r, op.call
		}
	default:
		p.unseenSends = true
		p.unseenRet = max(p.unseenRet, op.ret)
	}
}

// certain reports whether every linearization of the piece ends in the same next offset: when
// no send in it was never seen, or when all such sends completed before the send that took the
// highest offset began (they took lower offsets), or when none was seen (each took the next).
func (p *piece) certain() bool {
	return !p.unseenSends || p.maxR < 0 || p.unseenRet < p.maxRCall
}

// endState is the state after a piece whose end state is certain, from init.
func endState(init linState, seg []linOp) linState {
	var p piece
	p.reset()
	unseen := int64(0)
	for i := range seg {
		p.add(&seg[i])
		if seg[i].kind == linSend && !seg[i].forced {
			unseen++
		}
	}
	// The chain restarts with each piece; the offset carries over.
	if p.maxR >= 0 {
		return linState{next: max(init.next, p.maxR+1)}
	}
	return linState{next: init.next + unseen}
}

const (
	// minSegment is the fewest operations in a piece, unless the key has fewer: checking a
	// piece with porcupine has a fixed cost.
	minSegment = 1024
	// maxExplained is the longest piece a failure is explained on, by a verbose re-check.
	maxExplained = 20000
)

func (a *Analysis) checkKey(k int32, ops []linOp, timeout time.Duration) (*KeyLinearizable, *NotLinearizableCase, *linVisualization) {
	began := time.Now()
	deadline := began.Add(timeout)
	kr := &KeyLinearizable{Ops: len(ops)}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].call < ops[j].call })
	m := &keyModel{key: a.keys[k], offsets: a.logs[k].offsets}
	state := linState{}
	segs := segments(ops, minSegment)
	kr.Segments = len(segs)
	defer func() { kr.ElapsedMS = time.Since(began).Milliseconds() }()
	for _, seg := range segs {
		kr.LargestSegment = max(kr.LargestSegment, len(seg))
		model := m.porcupineModel(state)
		pops := toPorcupine(seg)
		remaining := time.Until(deadline)
		if remaining <= 0 {
			kr.Valid, kr.Reason = Unknown, fmt.Sprintf("timed out after %s", timeout)
			return kr, nil, nil
		}
		switch porcupine.CheckOperationsTimeout(model, pops, remaining) {
		case porcupine.Ok:
		case porcupine.Unknown:
			kr.Valid, kr.Reason = Unknown, fmt.Sprintf("timed out after %s, on a piece of %d operations", timeout, len(seg))
			return kr, nil, nil
		case porcupine.Illegal:
			kr.Valid = Invalid
			c, viz := a.explainNotLinearizable(m, state, seg, pops, timeout)
			return kr, c, viz
		}
		state = endState(state, seg)
	}
	return kr, nil, nil
}

func toPorcupine(seg []linOp) []porcupine.Operation {
	clients := map[history.Process]int{}
	pops := make([]porcupine.Operation, len(seg))
	for i := range seg {
		op := &seg[i]
		c, ok := clients[op.process]
		if !ok {
			c = len(clients)
			clients[op.process] = c
		}
		pops[i] = porcupine.Operation{ClientId: c, Input: op, Call: op.call, Return: op.ret}
	}
	return pops
}

// explainNotLinearizable runs porcupine again on the failing piece, verbosely, to name the
// operations it could not place and to keep the visualization.
func (a *Analysis) explainNotLinearizable(m *keyModel, init linState, seg []linOp, pops []porcupine.Operation, timeout time.Duration) (*NotLinearizableCase, *linVisualization) {
	model := m.porcupineModel(init)
	from, to := seg[0].call, int64(0)
	for i := range seg {
		if seg[i].ret != math.MaxInt64 {
			to = max(to, seg[i].ret)
		}
		from = min(from, seg[i].call)
	}
	c := &NotLinearizableCase{Key: m.key, From: from, To: to, SegmentOps: len(seg)}
	if len(seg) > maxExplained {
		// The verbose check costs several times the plain one on a long piece, and its drawing
		// would be unreadable: name only the sends that can have no place at all.
		for i := range seg {
			if seg[i].bad && len(c.Ops) < maxListed {
				c.Ops = append(c.Ops, a.ref(int(seg[i].pos)))
			}
		}
		c.Explanation = fmt.Sprintf("%s: no order of the %d operations between %s and %s explains what they saw and were told (starting from next offset %d); "+
			"the piece is too long to name the operations porcupine could not place (more than %d).",
			pkey(m.key), len(seg), seconds(from), seconds(to), init.next, maxExplained)
		if len(c.Ops) > 0 {
			c.Explanation += fmt.Sprintf(" %d send(s) in it have a value seen at several offsets or an offset seen with several values, and can have no place: see ops.", len(c.Ops))
		}
		return c, nil
	}
	res, info := porcupine.CheckOperationsVerbose(model, pops, timeout)
	var longest []int
	if res == porcupine.Illegal {
		for _, p := range info.PartialLinearizations() {
			for _, l := range p {
				if len(l) > len(longest) {
					longest = l
				}
			}
		}
	}
	c.Linearized = len(longest)
	placed := make([]bool, len(seg))
	for _, id := range longest {
		placed[id] = true
	}
	var rest []int
	for i := range seg {
		if !placed[i] {
			rest = append(rest, i)
		}
	}
	sort.SliceStable(rest, func(i, j int) bool { return seg[rest[i]].ret < seg[rest[j]].ret })
	var descs []string
	for _, i := range rest {
		if len(c.Ops) == maxListed {
			break
		}
		c.Ops = append(c.Ops, a.ref(int(seg[i].pos)))
		if len(descs) < 3 {
			descs = append(descs, fmt.Sprintf("op %d (%s)", seg[i].line, describeLinEffect(&seg[i])))
		}
	}
	c.Explanation = fmt.Sprintf("%s: no order of the %d operations between %s and %s explains what they saw and were told (starting from next offset %d); "+
		"porcupine could order at most %d of them, and not these: %s.",
		pkey(m.key), len(seg), seconds(from), seconds(to), init.next, c.Linearized, strings.Join(descs, ", "))
	if res != porcupine.Illegal {
		c.Explanation += " (The verbose re-check did not finish in time, so the operations are not named.)"
		return c, nil
	}
	info.AddAnnotations(a.annotations(m.key, from, to))
	return c, &linVisualization{model: model, info: info}
}

// annotations marks, for the visualization, the faults and the observer's states of key between
// from and to.
func (a *Analysis) annotations(key string, from, to int64) []porcupine.Annotation {
	var out []porcupine.Annotation
	for i := range a.Ops {
		op := &a.Ops[i]
		if op.Time < from || op.Time > to {
			continue
		}
		switch {
		case op.Process == history.NemesisProcess:
			out = append(out, porcupine.Annotation{Tag: "nemesis", Start: op.Time,
				Description: html.EscapeString(op.F), Details: html.EscapeString(string(op.Raw))})
		case op.Process == history.ObserverProcess && op.F == history.FPartitionState:
			s, err := op.PartitionState()
			if err != nil || s.Key != key {
				continue
			}
			out = append(out, porcupine.Annotation{Tag: "leader", Start: op.Time,
				Description: html.EscapeString(fmt.Sprintf("%s, epoch %d", leaderName(s.Leader), s.LeaderEpoch)),
				Details:     html.EscapeString(fmt.Sprintf("ISR %s, zk_version %d", brokers(s.ISR), s.ZkVersion))})
		}
	}
	return out
}

// ErrTooLarge is returned by VisualizeKey for a key with more operations than it draws.
var ErrTooLarge = errors.New("too many operations to visualize")

// VisualizeKey checks key's whole history verbosely, every poll included, and writes porcupine's
// HTML visualization of it to w. It is meant for short histories (at most maxOps operations);
// for a key that failed, LinearizableResult.Visualize draws just the failing piece.
func VisualizeKey(w io.Writer, a *Analysis, key string, maxOps int, timeout time.Duration) error {
	k, ok := a.keyID[key]
	if !ok {
		return fmt.Errorf("visualize %s: no such key in the history", pkey(key))
	}
	perKey, _ := a.buildLinOps(false)
	ops := perKey[k]
	if len(ops) > maxOps {
		return fmt.Errorf("visualize %s: %d operations: %w", pkey(key), len(ops), ErrTooLarge)
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].call < ops[j].call })
	m := &keyModel{key: key, offsets: a.logs[k].offsets}
	model := m.porcupineModel(linState{})
	_, info := porcupine.CheckOperationsVerbose(model, toPorcupine(ops), timeout)
	to := int64(0)
	for i := range ops {
		if ops[i].ret != math.MaxInt64 {
			to = max(to, ops[i].ret)
		}
	}
	info.AddAnnotations(a.annotations(key, 0, to))
	if err := porcupine.Visualize(model, info, w); err != nil {
		return fmt.Errorf("visualize %s: %w", pkey(key), err)
	}
	return nil
}
