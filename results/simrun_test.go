package results

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/kchaos/kchaos/history"
)

// A simulated run: a history shaped like a real one (client ops whose latencies and outcomes
// suffer during faults, nemesis windows, the observer's partition states with ISR shrinks,
// clean elections and optionally an unclean one, final reads), written with the history
// package's writer into a run directory with a test.json, a results.json and node logs.

type simFault struct {
	kind        string
	start, stop time.Duration
	nodes       []string
	value       any // the start line's value; {"nodes": nodes} when nil
}

type simConfig struct {
	name     string
	ops      int // client operations
	duration time.Duration
	keys     int
	brokers  int
	workers  int
	faults   []simFault
	unclean  bool // the first kill makes kchaos/0 elect a leader outside its ISR
	gap      bool // the observer misses states of kchaos/1
	markup   bool // errors and values holding markup
	// elr makes a KRaft run with eligible leader replicas: isr-drain empties kchaos/0's ISR into
	// its ELR, the ELR member returns first and is elected, and the metadata log read after the
	// run holds kchaos/0's states and the brokers' fencing.
	elr  bool
	seed uint64
}

// simNotes are lines of the generated history the hand-written results.json points at.
type simNotes struct {
	faultSend   int // an ok send on kchaos/0 acknowledged during the first fault
	faultSendKV [2]int64
	failSend    int // a failed send during the first fault
	lateSend    int // an ok send on kchaos/0 after the first fault
	uncleanPrev int // the state before the unclean election
	unclean     int // the unclean state
	markupSend  int // the ok send whose value holds markup
	markupFail  int // the failed send whose error holds markup
	gapPos      int
	elrElected  int64 // the metadata offset of the ELR election (elr)
	end         int64
	ops         []history.Op
}

const (
	markupValue = `<img src=x onerror=alert(1)><script>alert(1)</script>`
	markupError = `<script>alert(1)</script> broker said <img src=x onerror=alert(1)>`
)

type simLine struct {
	op  history.Op
	seq int
}

type simState struct {
	leader, epoch, zkv int
	isr                []int
}

// simulate generates the history of a run.
func simulate(cfg simConfig) simNotes {
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x5eed))
	var lines []simLine
	seq := 0
	add := func(t int64, op history.Op) int {
		op.Time = t
		lines = append(lines, simLine{op: op, seq: seq})
		seq++
		return seq - 1
	}
	notes := simNotes{faultSend: -1, failSend: -1, lateSend: -1, uncleanPrev: -1, unclean: -1, markupSend: -1, markupFail: -1, gapPos: -1}
	keys := make([]string, cfg.keys)
	for k := range keys {
		keys[k] = fmt.Sprintf("kchaos/%d", k)
	}
	dur := int64(cfg.duration)
	faultAt := func(t int64) int {
		for i, f := range cfg.faults {
			if t >= int64(f.start) && t < int64(f.stop) {
				return i
			}
		}
		return -1
	}

	// Observer: initial states and controller.
	states := make([]simState, cfg.keys)
	for k := range states {
		isr := make([]int, cfg.brokers)
		for b := range isr {
			isr[b] = (k+b)%cfg.brokers + 1
		}
		states[k] = simState{leader: isr[0], isr: isr}
	}
	observe := func(t int64, k int) int {
		s := &states[k]
		s.zkv++
		return add(t, history.ObservePartitionState(history.PartitionState{Key: keys[k], Leader: s.leader, LeaderEpoch: s.epoch,
			ISR: slices.Clone(s.isr), ZkVersion: s.zkv}))
	}
	for k := range states {
		states[k].zkv = -1
		observe(0, k)
	}
	controller := 1
	add(0, history.ObserveController(history.Controller{Broker: controller, Epoch: 1}))

	// Nemesis and what the observer saw of it.
	ctlEpoch := 1
	for fi, f := range cfg.faults {
		v := f.value
		if v == nil {
			v = map[string]any{"nodes": f.nodes}
		}
		start, err := history.Nemesis("start-"+f.kind, v)
		if err != nil {
			panic(err)
		}
		add(int64(f.start), start)
		stop, _ := history.Nemesis("stop-"+f.kind, nil)
		add(int64(f.stop), stop)
		var down []int
		for _, n := range f.nodes {
			id, _ := strconv.Atoi(n[1:])
			down = append(down, id)
		}
		if len(down) == 0 {
			continue
		}
		if cfg.unclean && fi == 0 {
			// kchaos/0's ISR shrinks to its leader, which then dies; another broker is elected.
			s := &states[0]
			s.isr = []int{s.leader}
			s.epoch++
			observe(int64(f.start)-int64(2*time.Second), 0)
			s.leader = history.NoLeader
			notes.uncleanPrev = observe(int64(f.start)+int64(300*time.Millisecond), 0)
			s.leader = s.isr[0]%cfg.brokers + 1
			s.isr = []int{s.leader}
			s.epoch++
			notes.unclean = observe(int64(f.start)+int64(900*time.Millisecond), 0)
		}
		for k := range states {
			if cfg.unclean && fi == 0 && k == 0 {
				continue
			}
			s := &states[k]
			changed := false
			for _, d := range down {
				if i := slices.Index(s.isr, d); i >= 0 {
					s.isr = slices.Delete(slices.Clone(s.isr), i, i+1)
					changed = true
				}
			}
			if slices.Contains(down, s.leader) {
				s.leader = history.NoLeader
				if len(s.isr) > 0 {
					s.leader = s.isr[0]
				}
				s.epoch++
			}
			if changed {
				observe(int64(f.start)+int64(300*time.Millisecond)+int64(k)*int64(7*time.Millisecond), k)
			}
		}
		if slices.Contains(down, controller) {
			controller = controller%cfg.brokers + 1
			ctlEpoch++
			add(int64(f.start)+int64(250*time.Millisecond), history.ObserveController(history.Controller{Broker: controller, Epoch: ctlEpoch}))
		}
		for k := range states {
			s := &states[k]
			grew := false
			for b := 1; b <= cfg.brokers; b++ {
				if !slices.Contains(s.isr, b) {
					s.isr = append(slices.Clone(s.isr), b)
					grew = true
				}
			}
			if s.leader == history.NoLeader {
				s.leader = s.isr[0]
				s.epoch++
			}
			if grew {
				observe(int64(f.stop)+int64(1500*time.Millisecond)+int64(k)*int64(11*time.Millisecond), k)
			}
		}
	}
	if cfg.gap && cfg.keys > 1 {
		t := dur / 2
		from := states[1].zkv
		states[1].zkv += 2
		notes.gapPos = add(t, history.ObserveGap(history.ObserverGap{Key: keys[1], FromVersion: from, ToVersion: from + 2}))
		states[1].leader = states[1].isr[len(states[1].isr)-1]
		states[1].epoch += 2
		observe(t+int64(time.Millisecond), 1)
	}

	// Clients.
	nextPID := history.Process(cfg.workers)
	perWorker := int(math.Ceil(float64(cfg.ops) / float64(cfg.workers)))
	meanGap := float64(dur) / float64(perWorker)
	value := int64(0)
	offsets := make([]int64, cfg.keys)
	var acked [][]int64 = make([][]int64, cfg.keys)
	total := 0
	for w := 0; w < cfg.workers; w++ {
		p := history.Process(w)
		t := int64(rng.Float64() * meanGap)
		for n := 0; n < perWorker && total < cfg.ops && t < dur; n++ {
			total++
			lat := int64(math.Exp(rng.NormFloat64()*0.6) * 2.5e6) // about 2.5 ms
			outcome := history.OK
			errText := ""
			fault := faultAt(t)
			if fault >= 0 {
				r := rng.Float64()
				switch {
				case r < 0.25:
					outcome, errText = history.Info, "request timed out after 5s"
					lat = int64(5e9) + rng.Int64N(int64(50e6))
				case r < 0.45:
					outcome, errText = history.Fail, "NOT_ENOUGH_REPLICAS"
					lat *= 20
				default:
					lat *= 1 + rng.Int64N(40)
				}
			} else if rng.Float64() < 0.003 {
				outcome, errText = history.Fail, "NOT_LEADER_OR_FOLLOWER"
			}
			done := t + lat
			if rng.Float64() < 0.7 {
				k := rng.IntN(cfg.keys)
				value++
				v := history.IntValue(value)
				markup := cfg.markup && notes.markupSend < 0 && outcome == history.OK && k == 0
				if markup {
					v = history.StringValue(markupValue)
				}
				inv := history.SendInvoke(p, keys[k], v)
				add(t, inv)
				var c history.Op
				switch outcome {
				case history.OK:
					c = history.SendOK(p, keys[k], offsets[k], v)
					acked[k] = append(acked[k], value)
					offsets[k]++
				case history.Fail:
					if cfg.markup && notes.markupFail < 0 {
						errText = markupError
					}
					c = history.SendFail(p, keys[k], v, errText)
				default:
					c = history.SendInfo(p, keys[k], v, errText)
				}
				pos := add(done, c)
				switch {
				case markup:
					notes.markupSend = pos
				case cfg.markup && outcome == history.Fail && errText == markupError:
					notes.markupFail = pos
				case k == 0 && outcome == history.OK && fault == 0 && notes.faultSend < 0:
					notes.faultSend = pos
					notes.faultSendKV = [2]int64{value, offsets[k] - 1}
				case k == 0 && outcome == history.OK && len(cfg.faults) > 0 && t > int64(cfg.faults[0].stop)+int64(3*time.Second) && notes.lateSend < 0:
					notes.lateSend = pos
				case outcome == history.Fail && fault == 0 && notes.failSend < 0:
					notes.failSend = pos
				}
			} else {
				add(t, history.PollInvoke(p))
				var c history.Op
				switch outcome {
				case history.OK:
					k := rng.IntN(cfg.keys)
					var recs []history.Record
					from := max(0, len(acked[k])-3)
					for i := from; i < len(acked[k]); i++ {
						recs = append(recs, history.Record{Offset: int64(i), Value: history.IntValue(acked[k][i])})
					}
					c = history.PollOK(p, []history.KeyReads{{Key: keys[k], Records: recs}})
				case history.Fail:
					c = history.PollFail(p, errText)
				default:
					c = history.PollInfo(p, errText)
				}
				add(done, c)
			}
			if outcome == history.Info {
				p = nextPID
				nextPID++
			}
			t = done + int64(rng.ExpFloat64()*meanGap*0.5)
		}
	}

	// Final reads, after the workload.
	end := dur + int64(2*time.Second)
	if cfg.elr {
		notes.elrElected = simulateELR(add, end+int64(time.Second))
	}
	for k, key := range keys {
		p := history.Process(1_000_000_000 + k)
		t := end + int64(k)*int64(3*time.Millisecond)
		assign := history.AssignInvoke(p, []string{key})
		add(t, assign)
		add(t+int64(time.Millisecond), assign.Complete(history.OK, ""))
		add(t+int64(2*time.Millisecond), history.PollInvoke(p))
		var recs []history.Record
		for i, v := range acked[k][max(0, len(acked[k])-5):] {
			recs = append(recs, history.Record{Offset: int64(max(0, len(acked[k])-5) + i), Value: history.IntValue(v)})
		}
		add(t+int64(6*time.Millisecond), history.PollOK(p, []history.KeyReads{{Key: key, Records: recs}}))
		raw, _ := json.Marshal(map[string]any{"key": key, "complete": !(cfg.gap && k == 1), "position": offsets[k],
			"high_watermark": offsets[k], "target": offsets[k]})
		add(t+int64(7*time.Millisecond), history.Op{Process: history.ObserverProcess, Type: history.Info, F: history.FFinalRead, Raw: raw})
	}

	slices.SortStableFunc(lines, func(a, b simLine) int {
		if c := cmp.Compare(a.op.Time, b.op.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	posOf := make([]int, len(lines))
	notes.ops = make([]history.Op, len(lines))
	for i, l := range lines {
		posOf[l.seq] = i
		notes.ops[i] = l.op
		notes.ops[i].Index = int64(i)
		notes.end = max(notes.end, l.op.Time)
	}
	for _, p := range []*int{&notes.faultSend, &notes.failSend, &notes.lateSend, &notes.uncleanPrev, &notes.unclean,
		&notes.markupSend, &notes.markupFail, &notes.gapPos} {
		if *p >= 0 {
			*p = posOf[*p]
		}
	}
	return notes
}

// writeHistory writes ops as history.jsonl in dir.
func writeHistory(dir string, ops []history.Op) error {
	f, err := os.Create(filepath.Join(dir, HistoryFile))
	if err != nil {
		return err
	}
	w := history.NewWriter(f)
	for i := range ops {
		if err := w.Write(&ops[i]); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// opRef is how the checkers name an op in an anomaly (checkers.OpRef).
func opRef(ops []history.Op, pos int) map[string]any {
	op := &ops[pos]
	ref := map[string]any{"index": op.Index, "invoke_index": op.Index, "process": op.Process, "f": op.F, "type": op.Type,
		"invoke_time": op.Time, "time": op.Time}
	// The invocation: the last line of the same process before pos.
	for j := pos - 1; j >= 0; j-- {
		if ops[j].Process == op.Process && ops[j].Type == history.Invoke {
			ref["invoke_index"], ref["invoke_time"] = ops[j].Index, ops[j].Time
			break
		}
	}
	return ref
}

// stateRef is how the checkers name an observed state (checkers.StateRef).
func stateRef(ops []history.Op, pos int) map[string]any {
	s, err := ops[pos].PartitionState()
	if err != nil {
		panic(err)
	}
	return map[string]any{"index": ops[pos].Index, "time": ops[pos].Time, "leader": s.Leader, "leader_epoch": s.LeaderEpoch,
		"isr": s.ISR, "zk_version": s.ZkVersion}
}

// simulateELR adds isr-drain's lines on kchaos/0 (leader 1, followers 2 then 3) and what the
// KRaft metadata log read at readAt holds of it; it returns the metadata offset of the election
// of broker 3 from the ELR.
func simulateELR(add func(int64, history.Op) int, readAt int64) int64 {
	sec := func(s float64) int64 { return int64(s * float64(time.Second)) }
	nem := func(t float64, f string, v map[string]any) {
		base := map[string]any{"key": "kchaos/0", "leader": "n1", "followers": []string{"n2", "n3"}}
		for k, x := range v {
			base[k] = x
		}
		op, err := history.Nemesis(f, base)
		if err != nil {
			panic(err)
		}
		add(sec(t), op)
	}
	nem(4, "start-isr-drain", map[string]any{"step": "kill-follower-1", "node": "n2", "role": "follower-1"})
	nem(10.4, "reached-isr-drain", map[string]any{"step": "follower-1-out-of-isr", "waited_ms": 6400})
	nem(10.5, "kill-isr-drain", map[string]any{"step": "kill-follower-2", "node": "n3", "role": "follower-2"})
	nem(16.9, "reached-isr-drain", map[string]any{"step": "isr-leader-alone", "waited_ms": 6400})
	nem(17, "kill-isr-drain", map[string]any{"step": "kill-leader", "node": "n1", "role": "leader"})
	nem(23.4, "reached-isr-drain", map[string]any{"step": "leaderless", "waited_ms": 6400})
	nem(27, "restart-isr-drain", map[string]any{"step": "restart", "node": "n3", "role": "follower-2", "elected": "n3"})
	nem(29, "restart-isr-drain", map[string]any{"step": "restart", "node": "n2", "role": "follower-1", "elected": "n3"})
	nem(31, "restart-isr-drain", map[string]any{"step": "restart", "node": "n1", "role": "leader", "elected": "n3"})
	stop, _ := history.Nemesis("stop-isr-drain", map[string]any{"nodes": []string{"n3", "n2", "n1"}, "key": "kchaos/0"})
	add(sec(31.1), stop)

	// The metadata log, read after the run.
	t := readAt
	state := func(off int64, at float64, leader, epoch int, isr, elr, lkelr []int) {
		t++
		add(t, history.ObservePartitionState(history.PartitionState{Key: "kchaos/0", Leader: leader, LeaderEpoch: epoch, ISR: isr,
			PartitionEpoch: int(off % 7), ELR: elr, LastKnownELR: lkelr, Source: history.SourceKRaftLog, MetadataOffset: off, LogTime: sec(at)}))
	}
	fence := func(off int64, at float64, b int, fenced bool) {
		t++
		add(t, history.ObserveBrokerState(history.BrokerState{Broker: b, Registered: true, Fenced: fenced, Epoch: off,
			Source: history.SourceKRaftLog, MetadataOffset: off, LogTime: sec(at)}))
	}
	state(10, 0.1, 1, 0, []int{1, 2, 3}, nil, nil)
	fence(20, 10.3, 2, true)
	state(21, 10.3, 1, 0, []int{1, 3}, nil, nil)
	fence(24, 16.8, 3, true)
	state(25, 16.8, 1, 0, []int{1}, []int{3}, nil)
	fence(28, 23.3, 1, true)
	state(29, 23.3, history.NoLeader, 1, []int{}, []int{1, 3}, []int{1})
	fence(33, 26.9, 3, false)
	state(34, 26.9, 3, 2, []int{3}, []int{1}, nil)
	fence(38, 28.9, 2, false)
	state(40, 29.5, 3, 2, []int{3, 2}, []int{1}, nil)
	fence(44, 30.9, 1, false)
	state(46, 31.5, 3, 2, []int{3, 2, 1}, nil, nil)
	t++
	add(t, history.ObserveMetadataLog(history.MetadataLog{Source: history.SourceKRaftLog, Complete: true, Nodes: []string{"c1"},
		First: 0, Last: 60, States: 7, Features: map[string]int{history.FeatureELR: 1, "metadata.version": 27}}))
	return 34
}
