package txn_test

import (
	"math/rand/v2"

	"github.com/kchaos/kchaos/history"
)

// genOptions shape a generated history.
type genOptions struct {
	txns      int    // transactions
	processes int    // concurrent processes
	keys      int    // partitions
	maxPoll   int    // records a poll returns per key, at most
	seed      uint64 // of the random choices
	plant     bool   // plant a G1c-realtime cycle: an early poll reads a late send
}

// record is one offset of a generated partition.
type record struct {
	value  int64
	writer int  // transaction number
	open   bool // its transaction has not committed yet
}

// generate simulates transactional producers and read_committed consumers on a Kafka-like log:
// each transaction sends two values to two keys when invoked, and when it completes polls two
// keys (up to the first open transaction's record, the last stable offset) and commits. Every
// transaction commits, so the history is valid under read_committed; with plant, one early poll
// also reads a value sent much later, a future read that closes a G1c cycle of wr and process or realtime edges.
func generate(o genOptions) []history.Op {
	rng := rand.New(rand.NewPCG(o.seed, 1))
	var ops []history.Op
	emit := func(op history.Op) {
		op.Index, op.Time = int64(len(ops)), int64(len(ops))*1000
		ops = append(ops, op)
	}
	key := func(k int) string { return "kchaos/" + string(rune('a'+k%26)) + string(rune('0'+k/26)) }
	logs := make([][]record, o.keys)
	type active struct {
		p        int
		id       int
		invoke   []history.Mop
		sent     [][2]int // key, offset
		pollKeys [2]int
	}
	pos := make([][]int, o.processes) // process → key → next offset to read
	for p := range pos {
		pos[p] = make([]int, o.keys)
	}
	var running []*active
	idle := make([]bool, o.processes)
	for p := range idle {
		idle[p] = true
	}
	next, value := 0, int64(0)
	planted := -1 // the early transaction to plant a read into
	plantAt := o.txns / 100
	maxRead := make([]int, o.keys) // key → the highest offset read, -1 if none
	for k := range maxRead {
		maxRead[k] = -1
	}
	for next < o.txns || len(running) > 0 {
		if next < o.txns && (len(running) == 0 || (len(running) < o.processes && rng.IntN(2) == 0)) {
			p := rng.IntN(o.processes)
			for !idle[p] {
				p = (p + 1) % o.processes
			}
			idle[p] = false
			a := &active{p: p, id: next}
			next++
			k1 := rng.IntN(o.keys)
			k2 := (k1 + 1 + rng.IntN(o.keys-1)) % o.keys
			for _, k := range []int{k1, k2} {
				value++
				a.invoke = append(a.invoke, history.Send(key(k), history.IntValue(value)))
				logs[k] = append(logs[k], record{value: value, writer: a.id, open: true})
				a.sent = append(a.sent, [2]int{k, len(logs[k]) - 1})
			}
			a.pollKeys = [2]int{rng.IntN(o.keys), rng.IntN(o.keys)}
			a.invoke = append(a.invoke, history.Poll(), history.Poll())
			emit(history.Op{Process: history.Process(p), Type: history.Invoke, F: history.FTxn, Mops: a.invoke})
			running = append(running, a)
			continue
		}
		i := rng.IntN(len(running))
		a := running[i]
		running = append(running[:i], running[i+1:]...)
		var done []history.Mop
		for _, s := range a.sent {
			r := logs[s[0]][s[1]]
			done = append(done, history.SendAt(key(s[0]), int64(s[1]), history.IntValue(r.value)))
		}
		for _, k := range a.pollKeys {
			var recs []history.Record
			for n := rng.IntN(o.maxPoll + 1); n > 0; n-- {
				at := pos[a.p][k]
				if at >= len(logs[k]) || logs[k][at].open {
					break // the last stable offset
				}
				recs = append(recs, history.Record{Offset: int64(at), Value: history.IntValue(logs[k][at].value)})
				pos[a.p][k]++
				maxRead[k] = max(maxRead[k], at)
			}
			done = append(done, history.PollResult([]history.KeyReads{{Key: key(k), Records: recs}}))
		}
		for _, s := range a.sent {
			logs[s[0]][s[1]].open = false
		}
		emit(history.Op{Process: history.Process(a.p), Type: history.OK, F: history.FTxn, Mops: done})
		if o.plant && planted < 0 && a.id >= plantAt {
			planted = len(ops) - 1
		}
		idle[a.p] = true
	}
	if planted >= 0 {
		// Read, in one more poll of the early transaction, the value at the highest offset any
		// poll read: sent much later, and read anyway, so that no other check sees a change.
		k := 0
		for kk := range maxRead {
			if maxRead[kk] > maxRead[k] {
				k = kk
			}
		}
		at := maxRead[k]
		rec := history.Record{Offset: int64(at), Value: history.IntValue(logs[k][at].value)}
		ops[planted].Mops = append(ops[planted].Mops, history.PollResult([]history.KeyReads{{Key: key(k), Records: []history.Record{rec}}}))
	}
	return ops
}
