package checkers_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

// FuzzCheck feeds arbitrary bytes to what kchaos check does: read a history, check it, write
// results.json. Any input must give a result or an error, never a panic or a hang.
func FuzzCheck(f *testing.F) {
	files, err := filepath.Glob("testdata/*.jsonl")
	require.NoError(f, err)
	more, err := filepath.Glob("../history/testdata/*.jsonl")
	require.NoError(f, err)
	for _, file := range append(files, more...) {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data, false)
		f.Add(data, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, kchaosRun bool) {
		began := time.Now()
		ops, err := history.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		r, err := checkers.Check(ops, checkers.Options{LinearizabilityTimeout: 100 * time.Millisecond, Workers: 1,
			ExpectFinalReads: kchaosRun, ObservedFromCreation: kchaosRun})
		// A history of a few lines checks in milliseconds; seconds mean work out of proportion
		// to the input.
		require.Less(t, time.Since(began), 5*time.Second, "%d ops", len(ops))
		if err != nil {
			return
		}
		_, err = r.JSON()
		require.NoError(t, err)
	})
}

// FuzzCheckOps checks histories built from the bytes by a small interpreter that keeps the
// invoke/complete discipline, over few processes, keys, values and offsets: most inputs make a
// history that reaches deep into the checkers (anomalies, explanations, linearizability), which
// random bytes read as JSON rarely do.
func FuzzCheckOps(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 7, 1, 3, 1})
	f.Add([]byte{0, 0, 1, 2, 1, 0, 1, 3, 0, 0, 0, 2, 1, 0, 1, 3, 2, 1, 0, 255, 7, 0, 6, 2, 7, 2, 1, 0, 15, 1, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		ops := interpret(data)
		began := time.Now()
		r, err := checkers.Check(ops, checkers.Options{LinearizabilityTimeout: 100 * time.Millisecond, Workers: 1,
			ExpectFinalReads: len(data)%2 == 0, ObservedFromCreation: len(data)%3 == 0})
		require.NoError(t, err, "the interpreter writes valid histories")
		require.Less(t, time.Since(began), 5*time.Second, "%d ops", len(ops))
		_, err = r.JSON()
		require.NoError(t, err)
	})
}

// interpret turns bytes into a valid history, four bytes per step.
func interpret(data []byte) []history.Op {
	const procs = 4
	keys := []string{"k/0", "k/1"}
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
		now += int64(d % 3)
		key := keys[c%2]
		if a%8 == 7 {
			switch b % 3 {
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
					Processes: []int64{int64(c % procs)}}))
			case 2:
				f := []string{"start-kill", "stop-kill", "isolate-kill", "start-pause"}[d%4]
				op, _ := history.Nemesis(f, map[string]any{"nodes": []string{"n" + string(rune('1'+c%3))}})
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
				add(history.AssignInvoke(p, keys[:1+int(c%2)]))
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
				done.Error = "e"
			}
		}
		add(done)
		if typ == history.Info {
			gen[w]++
		}
	}
	return ops
}
