package results

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/stretchr/testify/require"
)

// fuzzSeedLines is how many lines of each stored history seed FuzzReport.
const fuzzSeedLines = 120

// FuzzReport renders the report of arbitrary histories: any history the history package reads
// and the checkers check has a report.html and a junit.xml, from the checkers' Result and again
// from the files alone, as kchaos report makes them. Seeded with the stored runs' histories and a few small ones.
func FuzzReport(f *testing.F) {
	for _, sc := range scenarios() {
		data, err := os.ReadFile(filepath.Join(sc.dir(), HistoryFile))
		require.NoError(f, err)
		// The first lines of each: their faults, observer states and operations, and few
		// enough of them for the fuzzer to run many a second.
		lines := bytes.SplitAfter(data, []byte("\n"))
		f.Add(bytes.Join(lines[:min(len(lines), fuzzSeedLines)], nil))
	}
	for _, seed := range []string{
		"",
		`{"index":0,"time":0,"process":0,"type":"invoke","f":"send","value":[["send","k/0",1]]}` + "\n",
		`{"index":0,"time":0,"process":0,"type":"invoke","f":"send","value":[["send","k/0",1]]}` + "\n" +
			`{"index":1,"time":5,"process":0,"type":"ok","f":"send","value":[["send","k/0",[0,1]]]}` + "\n" +
			`{"index":2,"time":6,"process":1,"type":"invoke","f":"poll","value":[["poll"]]}` + "\n" +
			`{"index":3,"time":9,"process":1,"type":"ok","f":"poll","value":[["poll",{"k/0":[[0,1]]}]]}` + "\n",
		// Transactions in a G1c cycle, an aborted one read.
		`{"index":0,"time":1,"process":0,"type":"invoke","f":"txn","value":[["send","x/0",1],["poll"]]}` + "\n" +
			`{"index":1,"time":2,"process":1,"type":"invoke","f":"txn","value":[["send","y/0",2],["poll"]]}` + "\n" +
			`{"index":2,"time":3,"process":0,"type":"ok","f":"txn","value":[["send","x/0",[0,1]],["poll",{"y/0":[[0,2]]}]]}` + "\n" +
			`{"index":3,"time":4,"process":1,"type":"ok","f":"txn","value":[["send","y/0",[0,2]],["poll",{"x/0":[[0,1]]}]]}` + "\n" +
			`{"index":4,"time":5,"process":2,"type":"invoke","f":"txn","value":[["send","x/0",3]]}` + "\n" +
			`{"index":5,"time":6,"process":2,"type":"fail","f":"txn","value":[["send","x/0",3]],"error":"aborted"}` + "\n" +
			`{"index":6,"time":7,"process":3,"type":"invoke","f":"poll","value":[["poll"]]}` + "\n" +
			`{"index":7,"time":8,"process":3,"type":"ok","f":"poll","value":[["poll",{"x/0":[[0,1],[1,3]]}]]}` + "\n",
		// Times in epoch nanoseconds, as a hand-written history may have them.
		`{"index":0,"time":1732900000000000000,"process":0,"type":"invoke","f":"send","value":[["send","k/0",1]]}` + "\n" +
			`{"index":1,"time":1732900000000000005,"process":0,"type":"ok","f":"send","value":[["send","k/0",[0,1]]]}` + "\n",
		`{"index":0,"time":0,"process":"nemesis","type":"info","f":"start-kill","value":{"nodes":["n1"]}}` + "\n" +
			`{"index":1,"time":0,"process":"observer","type":"info","f":"partition-state","value":{"key":"k/0","leader":-1,"leader_epoch":0,"isr":[],"zk_version":0}}` + "\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := history.Read(bytes.NewReader(data))
		if err != nil {
			return // not a history: kchaos report says which line and stops
		}
		res, err := checkers.Check(ops, checkers.Options{Workers: 1, LinearizabilityTimeout: time.Second})
		if err != nil {
			return // a history the checkers cannot make sense of has no results.json
		}
		// The run directory as kchaos check leaves it; the report is rendered as WriteRun
		// renders it, from the Result and again from the files, without the fsyncs of writing
		// it, which would make the fuzzer wait on the disk.
		dir := filepath.Join(t.TempDir(), "fuzz", "20260301T100000")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, HistoryFile), data, 0o644))
		text, err := res.JSON()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, ResultsFile), text, 0o644))
		for _, given := range []*checkers.Result{res, nil} {
			r, err := loadRun(dir, given, nil)
			require.NoError(t, err)
			_, err = renderReport(r)
			require.NoError(t, err)
			_, err = junitXML(r)
			require.NoError(t, err)
		}
	})
}

// FuzzInterpretedReport renders the report of histories built from the bytes by a small
// interpreter that keeps the invoke/complete discipline and writes every kind of line the report
// draws: client operations, faults of every shape (failed, never stopped, with steps), partition
// states, gaps, controllers and final reads, at times from none to hours apart, on keys that hold
// markup and control characters. Random bytes read as JSON rarely get that far. (Its name does
// not start with FuzzReport, so that -fuzz FuzzReport picks one target.)
func FuzzInterpretedReport(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 7, 1, 3, 1})
	f.Add([]byte{7, 2, 0, 0, 0, 0, 1, 2, 7, 0, 6, 5, 0, 1, 1, 9, 7, 2, 1, 1, 7, 3, 2, 4, 7, 4, 1, 3, 1, 1, 1, 1})
	f.Add([]byte{7, 0, 14, 5, 7, 0, 2, 6, 7, 2, 0, 8, 2, 2, 0, 0, 2, 0, 1, 3, 7, 1, 0, 0, 7, 5, 0, 0, 7, 6, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		ops := interpretReport(data)
		if ops == nil {
			ops = []history.Op{} // WriteRun reads the history for nil
		}
		res, err := checkers.Check(ops, checkers.Options{Workers: 1, LinearizabilityTimeout: 100 * time.Millisecond,
			ExpectFinalReads: len(data)%2 == 0, ObservedFromCreation: len(data)%3 == 0})
		if err != nil {
			return
		}
		text, err := res.JSON()
		require.NoError(t, err)
		read, err := checkers.ReadResult(text)
		require.NoError(t, err)
		dir := filepath.Join(t.TempDir(), "fuzz", "20260301T100000")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for _, given := range []*checkers.Result{res, read} {
			r, err := loadRun(dir, given, ops)
			require.NoError(t, err)
			page, err := renderReport(r)
			require.NoError(t, err)
			require.NotContains(t, string(page), "NaN")
			_, err = junitXML(r)
			require.NoError(t, err)
		}
	})
}

// interpretReport turns bytes into a valid history, four bytes per step.
func interpretReport(data []byte) []history.Op {
	const procs = 4
	keys := []string{"k/0", "k/1", "<b>k\x1b\u202e</b>/2"}
	var ops []history.Op
	var now int64
	add := func(op history.Op) {
		op.Index, op.Time = int64(len(ops)), now
		ops = append(ops, op)
	}
	open := make([]int, procs) // position of each worker's open invocation, -1 if none
	gen := make([]int, procs)  // how often each worker's process crashed
	for i := range open {
		open[i] = -1
	}
	version := map[string]int{}
	for ; len(data) >= 4; data = data[4:] {
		a, b, c, d := data[0], data[1], data[2], data[3]
		// Mostly nanoseconds apart, sometimes seconds, now and then an hour.
		switch d % 16 {
		case 15:
			now += int64(time.Hour)
		case 14, 13:
			now += int64(d) * int64(time.Second)
		default:
			now += int64(d % 4)
		}
		key := keys[int(c)%len(keys)]
		node := "n" + string(rune('1'+c%3))
		if a%8 == 7 {
			switch b % 8 {
			case 0:
				isr := []int{}
				for n := 1; n <= 3; n++ {
					if c&(1<<n) != 0 {
						isr = append(isr, n)
					}
				}
				version[key] += int(d%2) + 1
				add(history.ObservePartitionState(history.PartitionState{Key: key, Leader: int(d%4) - 1, LeaderEpoch: int(d / 4 % 4),
					ISR: isr, ZkVersion: version[key]}))
			case 1:
				add(history.ObserveFinalRead(history.FinalRead{Key: key, Complete: d%2 == 0, Position: int64(d % 8),
					HighWatermark: int64(d % 9), Target: int64(d % 7), Processes: []int64{int64(c % procs)}}))
			case 2:
				add(history.ObserveGap(history.ObserverGap{Key: key, FromVersion: version[key], ToVersion: version[key] + 2}))
				version[key] += 2
			case 3:
				add(history.ObserveController(history.Controller{Broker: int(d%4) - 1, Epoch: int(c)}))
			default:
				values := []any{
					map[string]any{"nodes": []string{node}},
					map[string]any{"shape": "majorities-ring", "grudge": map[string][]string{node: {"n1"}}},
					map[string]any{"follower": node, "leader": "n1"},
					map[string]any{"leader": node, "key": key},
					nil,
				}
				fs := []string{"start-kill", "stop-kill", "start-partition", "stop-partition", "start-lag", "stop-lag",
					"start-jepsen-2013", "isolate-jepsen-2013", "stop-jepsen-2013", "start-pause", "stop-pause", "start-zk-isolate"}
				op, err := history.Nemesis(fs[int(d)%len(fs)], values[int(c)%len(values)])
				if err != nil {
					continue
				}
				if c%5 == 4 {
					op.Error = "could not <b>\x1b[31m"
				}
				add(op)
			}
			continue
		}
		w := int(a % procs)
		p := history.Process(w + procs*gen[w])
		if open[w] < 0 {
			open[w] = len(ops)
			switch b % 4 {
			case 0, 1:
				add(history.SendInvoke(p, key, history.IntValue(int64(d%8))))
			case 2:
				add(history.PollInvoke(p))
			case 3:
				add(history.AssignInvoke(p, keys[:1+int(c)%len(keys)]))
			}
			continue
		}
		inv := ops[open[w]]
		open[w] = -1
		typ := []history.Type{history.OK, history.OK, history.Fail, history.Info}[b%4]
		var done history.Op
		switch {
		case inv.F == history.FSend && typ == history.OK:
			m := inv.Mops[0]
			off := int64(c % 8)
			if c&0x80 != 0 {
				off = history.NoOffset
			}
			done = history.SendOK(p, m.Key, off, m.Value)
		case inv.F == history.FPoll && typ == history.OK:
			var recs []history.Record
			for j := 0; j < int(c%4); j++ {
				recs = append(recs, history.Record{Offset: int64((d + byte(j)) % 8), Value: history.IntValue(int64((d/2 + byte(j)) % 8))})
			}
			done = history.PollOK(p, []history.KeyReads{{Key: key, Records: recs}})
		default:
			done = inv.Complete(typ, "")
			if typ != history.OK {
				done.Error = "e\x1b]0;t\x07"
			}
		}
		add(done)
		if typ == history.Info {
			gen[w]++
		}
	}
	return ops
}
