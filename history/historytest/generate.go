// Package historytest generates valid synthetic histories, for benchmarks and tests of the
// checkers and of kchaos check.
//
// The generator simulates a correct Kafka: one append-only log per key. Each operation takes
// effect at a random instant between its invocation and its completion: a send appends at the
// next offset, a poll reads the consumer's next records. So every history it produces is valid:
// no anomaly, linearizable per key, and every acknowledged send is read by the end (consumers
// poll until they have caught up).
package historytest

import (
	"bufio"
	"container/heap"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/kchaos/kchaos/history"
)

// Config shapes a generated history. Zero fields take the defaults shown.
type Config struct {
	Ops       int           // client operations (invocation and completion), about; default 1000
	Keys      int           // partitions kchaos/0 ... kchaos/Keys-1; default 8
	Producers int           // processes that send; default 12
	Consumers int           // processes that poll, each assigned a share of the keys; default 4
	InfoRate  float64       // fraction of sends whose outcome is unknown; half of those take effect
	FailRate  float64       // fraction of sends that fail (no effect)
	Latency   time.Duration // mean latency of an operation; default 2ms
	Think     time.Duration // mean pause between two operations of a worker; default 0
	MaxPoll   int           // most records a poll returns per key; default 8
	Brokers   int           // brokers named in observer lines; default 3
	// LeaderChanges is the number of clean leader elections the observer reports, spread over
	// the history (0: the observer reports only the initial states).
	LeaderChanges int
	Seed          uint64
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Ops, 1000)
	def(&c.Keys, 8)
	def(&c.Producers, 12)
	def(&c.Consumers, 4)
	def(&c.MaxPoll, 8)
	def(&c.Brokers, 3)
	if c.Latency <= 0 {
		c.Latency = 2 * time.Millisecond
	}
}

// Generate returns a generated history.
func Generate(cfg Config) []history.Op {
	var ops []history.Op
	generate(cfg, func(op *history.Op) error {
		ops = append(ops, *op)
		return nil
	})
	return ops
}

// Write writes a generated history to w, one line at a time.
func Write(w io.Writer, cfg Config) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var buf []byte
	err := generate(cfg, func(op *history.Op) error {
		buf = history.AppendJSON(buf[:0], op)
		buf = append(buf, '\n')
		_, err := bw.Write(buf)
		return err
	})
	if err != nil {
		return fmt.Errorf("write generated history: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write generated history: %w", err)
	}
	return nil
}

type eventKind uint8

const (
	evInvoke eventKind = iota
	evEffect
	evComplete
)

type event struct {
	t      int64
	seq    int64
	kind   eventKind
	worker int
}

type events []event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	if e[i].t != e[j].t {
		return e[i].t < e[j].t
	}
	return e[i].seq < e[j].seq
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

type worker struct {
	process  history.Process
	consumer bool
	keys     []int // a consumer's keys
	assigned bool
	// the operation in flight
	inv     history.Op
	key     int
	value   int64
	outcome history.Type
	offset  int64
	reads   []history.KeyReads
}

type generator struct {
	cfg      Config
	rng      *rand.Rand
	emit     func(*history.Op) error
	index    int64
	now      int64
	seq      int64
	queue    events
	workers  []worker
	keys     []string
	logs     [][]int64 // per key, the value at each offset
	pos      [][]int   // per consumer worker, per key of keys[], the next offset
	nextVal  int64
	nextPID  history.Process
	started  int
	inFlight int // sends invoked and not completed
	draining bool
	leaders  []history.PartitionState
}

func generate(cfg Config, emit func(*history.Op) error) error {
	cfg.defaults()
	g := &generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), emit: emit}
	for k := 0; k < cfg.Keys; k++ {
		g.keys = append(g.keys, fmt.Sprintf("kchaos/%d", k))
	}
	g.logs = make([][]int64, cfg.Keys)
	n := cfg.Producers + cfg.Consumers
	g.workers = make([]worker, n)
	g.pos = make([][]int, n)
	for w := range g.workers {
		g.workers[w].process = history.Process(w)
		if w >= cfg.Producers {
			g.workers[w].consumer = true
			for k := w - cfg.Producers; k < cfg.Keys; k += cfg.Consumers {
				g.workers[w].keys = append(g.workers[w].keys, k)
			}
			g.pos[w] = make([]int, len(g.workers[w].keys))
		}
	}
	g.nextPID = history.Process(n)
	if err := g.observeInitial(); err != nil {
		return err
	}
	for w := range g.workers {
		g.schedule(g.think(), evInvoke, w)
	}
	var nextChange, changeEvery int64
	elections := 0
	if cfg.LeaderChanges > 0 {
		// Spread the elections over the expected duration of the run.
		perOp := int64(cfg.Latency+cfg.Think) / int64(n)
		changeEvery = int64(cfg.Ops) * perOp / int64(cfg.LeaderChanges+1)
		nextChange = changeEvery
	}
	for g.queue.Len() > 0 {
		ev := heap.Pop(&g.queue).(event)
		g.now = ev.t
		if elections < cfg.LeaderChanges && g.now >= nextChange {
			if err := g.electLeader(); err != nil {
				return err
			}
			elections++
			nextChange += changeEvery
		}
		var err error
		switch ev.kind {
		case evInvoke:
			err = g.invoke(ev.worker)
		case evEffect:
			g.effect(ev.worker)
		case evComplete:
			err = g.complete(ev.worker)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) schedule(delay int64, kind eventKind, w int) {
	g.seq++
	heap.Push(&g.queue, event{t: g.now + delay, seq: g.seq, kind: kind, worker: w})
}

func (g *generator) think() int64 {
	if g.cfg.Think <= 0 {
		return 1 + g.rng.Int64N(1000)
	}
	return 1 + int64(g.rng.ExpFloat64()*float64(g.cfg.Think))
}

func (g *generator) write(op *history.Op) error {
	op.Index, op.Time = g.index, g.now
	g.index++
	return g.emit(op)
}

func (g *generator) caughtUp(w int) bool {
	wk := &g.workers[w]
	for i, k := range wk.keys {
		if g.pos[w][i] < len(g.logs[k]) {
			return false
		}
	}
	return true
}

func (g *generator) invoke(w int) error {
	wk := &g.workers[w]
	if g.started >= g.cfg.Ops {
		g.draining = true
	}
	if g.draining && (!wk.consumer || (g.inFlight == 0 && g.caughtUp(w))) {
		return nil // this worker is done
	}
	g.started++
	switch {
	case wk.consumer && !wk.assigned:
		keys := make([]string, len(wk.keys))
		for i, k := range wk.keys {
			keys[i] = g.keys[k]
		}
		wk.inv = history.AssignInvoke(wk.process, keys)
	case wk.consumer:
		wk.inv = history.PollInvoke(wk.process)
	default:
		wk.key = g.rng.IntN(g.cfg.Keys)
		g.inFlight++
		g.nextVal++
		wk.value = g.nextVal
		wk.inv = history.SendInvoke(wk.process, g.keys[wk.key], history.IntValue(wk.value))
		r := g.rng.Float64()
		switch {
		case r < g.cfg.InfoRate:
			wk.outcome = history.Info
		case r < g.cfg.InfoRate+g.cfg.FailRate:
			wk.outcome = history.Fail
		default:
			wk.outcome = history.OK
		}
	}
	if err := g.write(&wk.inv); err != nil {
		return err
	}
	latency := 1 + int64((0.25+1.5*g.rng.Float64())*float64(g.cfg.Latency))
	g.schedule(g.rng.Int64N(latency), evEffect, w)
	g.schedule(latency, evComplete, w)
	return nil
}

func (g *generator) effect(w int) {
	wk := &g.workers[w]
	switch wk.inv.F {
	case history.FSend:
		wk.offset = history.NoOffset
		if wk.outcome == history.OK || (wk.outcome == history.Info && g.rng.IntN(2) == 0) {
			wk.offset = int64(len(g.logs[wk.key]))
			g.logs[wk.key] = append(g.logs[wk.key], wk.value)
		}
	case history.FPoll:
		wk.reads = []history.KeyReads{}
		for i, k := range wk.keys {
			from := g.pos[w][i]
			to := min(len(g.logs[k]), from+g.cfg.MaxPoll)
			if to == from {
				continue
			}
			recs := make([]history.Record, 0, to-from)
			for off := from; off < to; off++ {
				recs = append(recs, history.Record{Offset: int64(off), Value: history.IntValue(g.logs[k][off])})
			}
			wk.reads = append(wk.reads, history.KeyReads{Key: g.keys[k], Records: recs})
			g.pos[w][i] = to
		}
	}
}

func (g *generator) complete(w int) error {
	wk := &g.workers[w]
	var done history.Op
	switch wk.inv.F {
	case history.FAssign:
		done = wk.inv.Complete(history.OK, "")
		wk.assigned = true
	case history.FPoll:
		done = history.PollOK(wk.process, wk.reads)
	case history.FSend:
		g.inFlight--
		v := history.IntValue(wk.value)
		switch wk.outcome {
		case history.OK:
			done = history.SendOK(wk.process, g.keys[wk.key], wk.offset, v)
		case history.Fail:
			done = history.SendFail(wk.process, g.keys[wk.key], v, "NOT_ENOUGH_REPLICAS")
		default:
			done = history.SendInfo(wk.process, g.keys[wk.key], v, "request timed out")
		}
	}
	if err := g.write(&done); err != nil {
		return err
	}
	if done.Type == history.Info {
		wk.process = g.nextPID
		g.nextPID++
	}
	g.schedule(g.think(), evInvoke, w)
	return nil
}

func (g *generator) observeInitial() error {
	for k, key := range g.keys {
		isr := make([]int, g.cfg.Brokers)
		for b := range isr {
			isr[b] = (k+b)%g.cfg.Brokers + 1
		}
		s := history.PartitionState{Key: key, Leader: isr[0], LeaderEpoch: 0, ISR: isr, ZkVersion: 0}
		g.leaders = append(g.leaders, s)
		op := history.ObservePartitionState(s)
		if err := g.write(&op); err != nil {
			return err
		}
	}
	op := history.ObserveController(history.Controller{Broker: 1, Epoch: 1})
	return g.write(&op)
}

// electLeader reports a clean election on a random key: the leader moves to another ISR member.
func (g *generator) electLeader() error {
	k := g.rng.IntN(len(g.leaders))
	s := g.leaders[k]
	if len(s.ISR) < 2 {
		return nil
	}
	next := s.ISR[g.rng.IntN(len(s.ISR))]
	if next == s.Leader {
		next = s.ISR[(g.rng.IntN(len(s.ISR)-1)+1+indexOf(s.ISR, s.Leader))%len(s.ISR)]
	}
	s.Leader = next
	s.LeaderEpoch++
	s.ZkVersion++
	s.ISR = append([]int(nil), s.ISR...)
	g.leaders[k] = s
	op := history.ObservePartitionState(s)
	return g.write(&op)
}

func indexOf(xs []int, x int) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return 0
}
