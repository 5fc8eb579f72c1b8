package txn_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers/txn"
)

// TestGenerated checks generated histories: the valid one is valid under read_committed, and the
// planted future read is found as a G1c cycle without ww edges.
func TestGenerated(t *testing.T) {
	o := genOptions{txns: 2000, processes: 8, keys: 6, maxPoll: 4, seed: 1}
	r := check(t, generate(o), txnRC)
	require.Equal(t, txn.Valid, r.Valid, "%v %v", r.BadAnomalyTypes, r.Counts)
	require.Equal(t, 2000, r.Stats.Committed)

	o.plant = true
	r = check(t, generate(o), txnRC)
	require.Equal(t, txn.Invalid, r.Valid)
	require.Len(t, r.BadAnomalyTypes, 1, "%v", r.Counts)
	require.Contains(t, []string{"G1c", "G1c-process", "G1c-realtime"}, r.BadAnomalyTypes[0])
}

// BenchmarkCheck100k checks 10^5 transactions of 4 micro-operations (two sends, two polls),
// 10 processes over 8 keys: a valid history, and the same with a planted cycle. It reports the
// CPU seconds per check (all threads, the garbage collector's too) beside the wall time.
//
//	go test ./checkers/txn -run '^$' -bench Check100k -benchtime 3x
func BenchmarkCheck100k(b *testing.B) {
	for _, bc := range []struct {
		name  string
		plant bool
		valid txn.Validity
	}{
		{"valid", false, txn.Valid},
		{"planted", true, txn.Invalid},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ops := generate(genOptions{txns: 100_000, processes: 10, keys: 8, maxPoll: 4, seed: 42, plant: bc.plant})
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				r, err := txn.Check(context.Background(), ops, txn.Options{})
				require.NoError(b, err)
				require.Equal(b, bc.valid, r.Valid, "%v %v", r.BadAnomalyTypes, r.Counts)
				if i == 0 {
					b.ReportMetric(float64(r.Stats.Largest), "largest-scc")
					b.ReportMetric(float64(len(r.Cycles)), "cycles")
				}
			}
			// CPU seconds, which a loaded machine does not inflate as it does wall time.
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkCycleSearch100k times the cycle search alone (components and searches of every
// cycle type) on the histories of BenchmarkCheck100k.
//
//	go test ./checkers/txn -run '^$' -bench CycleSearch100k -benchtime 3x
func BenchmarkCycleSearch100k(b *testing.B) {
	for _, bc := range []struct {
		name  string
		plant bool
	}{{"valid", false}, {"planted", true}} {
		b.Run(bc.name, func(b *testing.B) {
			search, err := txn.CycleSearch(generate(genOptions{txns: 100_000, processes: 10, keys: 8, maxPoll: 4, seed: 42, plant: bc.plant}))
			require.NoError(b, err)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				n, err := search()
				require.NoError(b, err)
				if i == 0 {
					b.ReportMetric(float64(n), "cycles")
				}
			}
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
