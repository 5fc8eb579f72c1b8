package txn_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers/txn"
	"github.com/kchaos/kchaos/history"
)

// FuzzCheck checks arbitrary histories: whatever history.Read accepts, Check never panics,
// either refuses it (a broken invoke/complete discipline) or judges it, and judges it the same
// way twice, to the byte, under every option.
func FuzzCheck(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	require.NoError(f, err)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := history.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, opts := range []txn.Options{plain, idempotent, txnRU, txnRC} {
			r, err := txn.Check(context.Background(), ops, opts)
			if err != nil {
				return
			}
			first, err := r.JSON()
			require.NoError(t, err)
			r, err = txn.Check(context.Background(), ops, opts)
			require.NoError(t, err)
			again, err := r.JSON()
			require.NoError(t, err)
			require.Equal(t, string(first), string(again))
			require.Equal(t, r.Valid == txn.Invalid, len(r.BadAnomalyTypes) > 0)
		}
	})
}

// FuzzCheckOps builds well-formed histories from the fuzzer's bytes, over few processes, keys,
// values and offsets so that everything collides (duplicates, shared offsets, cycles of every
// kind), and checks that Check judges them without error, deterministically.
func FuzzCheckOps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add(bytes.Repeat([]byte{0x5a, 0xa5, 0x3c}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		ops := opsFrom(data)
		for _, opts := range []txn.Options{plain, txnRU, txnRC} {
			r, err := txn.Check(context.Background(), ops, opts)
			require.NoError(t, err)
			first, err := r.JSON()
			require.NoError(t, err)
			r, err = txn.Check(context.Background(), ops, opts)
			require.NoError(t, err)
			again, err := r.JSON()
			require.NoError(t, err)
			require.Equal(t, string(first), string(again))
			for _, c := range r.Cycles {
				checkCycle(t, c)
			}
		}
	})
}

// checkCycle checks that every step of a cycle has its reason, and that the type fits its steps.
func checkCycle(t *testing.T, c txn.CycleCase) {
	t.Helper()
	n := map[string]int{}
	for i, st := range c.Steps {
		require.Equal(t, i, st.From)
		require.Equal(t, (i+1)%len(c.Steps), st.To)
		require.True(t, strings.HasSuffix(st.Explanation, "("+st.Type+")"), "%s", st.Explanation)
		switch st.Type {
		case "ww", "wr", "rw":
			require.NotEmpty(t, st.Key, "%+v", st)
		case "process":
			require.NotNil(t, st.Process)
		}
		n[st.Type]++
	}
	require.Len(t, c.Txns, len(c.Steps))
	require.Equal(t, n["ww"], c.WWEdges)
	switch base, _, _ := strings.Cut(c.Type, "-process"); {
	case n["rw"] == 1:
		require.True(t, strings.HasPrefix(c.Type, "G-single"), c.Type)
	case n["rw"] > 1:
		require.True(t, strings.HasPrefix(c.Type, "G2"), c.Type)
	case n["wr"] > 0:
		require.True(t, strings.HasPrefix(base, "G1c"), c.Type)
	default:
		require.True(t, strings.HasPrefix(base, "G0"), c.Type)
	}
	require.Equal(t, n["realtime"] > 0, strings.HasSuffix(c.Type, "-realtime"), c.Type)
	require.Equal(t, n["process"] > 0 && n["realtime"] == 0, strings.HasSuffix(c.Type, "-process"), c.Type)
}

// opsFrom reads a history out of data: each byte opens an operation of one of 4 processes or
// completes its open one (ok, fail or info, with sends at small offsets and polls of small
// offsets and values).
func opsFrom(data []byte) []history.Op {
	var ops []history.Op
	emit := func(op history.Op) {
		op.Index, op.Time = int64(len(ops)), int64(len(ops))
		ops = append(ops, op)
	}
	const procs = 4
	open := [procs]*history.Op{}
	next := [procs]history.Process{0, 1, 2, 3}
	key := func(b byte) string { return []string{"a/0", "b/0", "c/0"}[int(b)%3] }
	for i := 0; i < len(data); i++ {
		b := data[i]
		p := int(b) % procs
		rnd := func() byte {
			i++
			if i < len(data) {
				return data[i]
			}
			return 0
		}
		if open[p] == nil {
			var mops []history.Mop
			for n := 1 + int(b>>2)%4; n > 0; n-- {
				if c := rnd(); c%2 == 0 {
					mops = append(mops, history.Send(key(c>>1), history.IntValue(int64(c>>3)%8)))
				} else {
					mops = append(mops, history.Poll())
				}
			}
			f := []string{history.FTxn, history.FSend, history.FPoll}[int(b>>6)%3]
			inv := history.Op{Process: next[p], Type: history.Invoke, F: f, Mops: mops}
			emit(inv)
			open[p] = &inv
			continue
		}
		inv := open[p]
		open[p] = nil
		typ := []history.Type{history.OK, history.OK, history.Fail, history.Info}[int(b>>2)%4]
		done := history.Op{Process: inv.Process, Type: typ, F: inv.F, Error: "x"}
		if typ == history.OK {
			done.Error = ""
			for _, mop := range inv.Mops {
				if mop.Kind == history.MopSend {
					done.Mops = append(done.Mops, history.SendAt(mop.Key, int64(rnd()%6), mop.Value))
					continue
				}
				var recs []history.Record
				for n := int(rnd() % 3); n > 0; n-- {
					c := rnd()
					recs = append(recs, history.Record{Offset: int64(c % 6), Value: history.IntValue(int64(c>>3) % 8)})
				}
				done.Mops = append(done.Mops, history.PollResult([]history.KeyReads{{Key: key(rnd()), Records: recs}}))
			}
		} else {
			done.Mops = inv.Mops
		}
		emit(done)
		if typ == history.Info {
			next[p] += procs
		}
	}
	return ops
}

// TestRandomHistories runs FuzzCheckOps's checks over seeded random histories, and checks they
// reach every kind of cycle.
func TestRandomHistories(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	types := map[string]int{}
	for i := 0; i < 400; i++ {
		data := make([]byte, 40+rng.IntN(200))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		ops := opsFrom(data)
		for _, opts := range []txn.Options{txnRU, txnRC} {
			r := check(t, ops, opts)
			for _, c := range r.Cycles {
				checkCycle(t, c)
			}
			for typ, n := range r.Counts {
				types[typ] += n
			}
		}
	}
	for _, typ := range []string{
		"G0", "G0-process", "G0-realtime", "G1c", "G1c-process", "G1c-realtime",
		"G-single", "G-single-process", "G-single-realtime", "G2", "G2-process", "G2-realtime",
		"G1b", "aborted-read", "duplicate", "precommitted-read", "torn-transaction",
	} {
		require.Positive(t, types[typ], "%s never found: %v", typ, types)
	}
}
