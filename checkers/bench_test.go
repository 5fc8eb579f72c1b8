package checkers_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/history/historytest"
)

var generatedCache = map[string][]history.Op{}

func generate(b *testing.B, cfg historytest.Config) []history.Op {
	b.Helper()
	key := fmt.Sprintf("%+v", cfg)
	if ops, ok := generatedCache[key]; ok {
		return ops
	}
	ops := historytest.Generate(cfg)
	generatedCache[key] = ops
	return ops
}

// reportPerOp reports time and allocation per history operation (an invocation and its
// completion) and operations per second.
func reportPerOp(b *testing.B, histOps int, elapsed time.Duration, alloc uint64) {
	n := float64(b.N) * float64(histOps)
	b.ReportMetric(float64(elapsed.Nanoseconds())/n, "ns/histop")
	b.ReportMetric(n/elapsed.Seconds(), "histops/s")
	b.ReportMetric(float64(alloc)/n, "B/histop")
}

// BenchmarkQueue measures the set and order checkers (Analyze and CheckQueue) on generated
// valid histories of 10^4, 10^5 and 10^6 operations. Run with -cpu 1 for one core.
func BenchmarkQueue(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			ops := generate(b, historytest.Config{Ops: n, Keys: 8, Producers: 12, Consumers: 4, InfoRate: 0.02, FailRate: 0.02, Seed: 1})
			histOps := len(ops) / 2
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				a, err := checkers.Analyze(ops)
				if err != nil {
					b.Fatal(err)
				}
				if r := checkers.CheckQueue(a); r.Valid != checkers.Valid {
					b.Fatalf("generated history is %s: %v", r.Valid, r.BadAnomalyTypes)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			runtime.ReadMemStats(&after)
			reportPerOp(b, histOps, elapsed, after.TotalAlloc-before.TotalAlloc)
		})
	}
}

// BenchmarkLinearizable100k checks a generated 100,000-operation history of one key written by
// 10 concurrent producers, 5% of whose sends end info, with porcupine: valid as generated
// (without and with pauses between operations: without, no instant is free of operations, and
// the history is one piece), and with one send moved near the end (illegal).
func BenchmarkLinearizable100k(b *testing.B) {
	for _, bc := range []struct {
		name    string
		think   time.Duration
		illegal bool
	}{{"saturated", 0, false}, {"saturated-illegal", 0, true}, {"think=20ms", 20 * time.Millisecond, false}} {
		b.Run(bc.name, func(b *testing.B) {
			ops := generate(b, historytest.Config{Ops: 100_000, Keys: 1, Producers: 10, Consumers: 2, InfoRate: 0.05, Think: bc.think, Seed: 2})
			want := checkers.Valid
			if bc.illegal {
				ops, want = misplaceLateSend(ops), checkers.Invalid
			}
			a, err := checkers.Analyze(ops)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := checkers.CheckLinearizable(a, time.Minute, 1)
				if r.Valid != want {
					b.Fatalf("%s, want %s: %+v", r.Valid, want, r.Keys)
				}
				if i == 0 {
					k := r.Keys["kchaos/0"]
					b.ReportMetric(float64(k.Ops), "porcupine-ops")
					b.ReportMetric(float64(k.LargestSegment), "largest-piece")
				}
			}
		})
	}
}

// BenchmarkCheck runs every checker on a generated 10^6-operation history of 8 keys and 16
// processes, as kchaos check does after reading it.
func BenchmarkCheck(b *testing.B) {
	ops := generate(b, historytest.Config{Ops: 1_000_000, Keys: 8, Producers: 12, Consumers: 4, InfoRate: 0.02, FailRate: 0.02, LeaderChanges: 20, Seed: 1})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := checkers.Check(ops, checkers.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if r.Valid != checkers.Valid {
			b.Fatalf("%s: %v", r.Valid, r.AnomalyTypes)
		}
	}
}

// withFaults returns ops with n fault windows laid over it, as a nemesis records them: the
// windows take turns among five kinds, each starts at an even share of the history and holds for
// 40% of its share. The lines are numbered anew.
func withFaults(ops []history.Op, n int) []history.Op {
	kinds := []string{"kill", "pause", "partition", "clock-skew", "disk-full"}
	out := make([]history.Op, 0, len(ops)+2*n)
	share := len(ops) / n
	stopAt := -1
	var stop history.Op
	for i := range ops {
		if i == stopAt {
			stop.Time = ops[i].Time
			out = append(out, stop)
		}
		if w := i / share; i%share == 0 && w < n {
			value := map[string]any{"nodes": []string{fmt.Sprintf("n%d", w%3+1)}}
			kind := kinds[w%len(kinds)]
			start, err := history.Nemesis("start-"+kind, value)
			if err != nil {
				panic(err)
			}
			if stop, err = history.Nemesis("stop-"+kind, value); err != nil {
				panic(err)
			}
			start.Time = ops[i].Time
			out = append(out, start)
			stopAt = i + share*2/5
		}
		out = append(out, ops[i])
	}
	for i := range out {
		out[i].Index = int64(i)
	}
	return out
}

// BenchmarkCoverage runs the coverage checker on a generated 10^6-operation history of 8 keys
// with 50 fault windows of five kinds and 20 leader changes. cpu-ms/op includes the garbage
// collector's.
func BenchmarkCoverage(b *testing.B) {
	ops := withFaults(generate(b, historytest.Config{Ops: 1_000_000, Keys: 8, Producers: 12, Consumers: 4, InfoRate: 0.02, FailRate: 0.02, LeaderChanges: 20, Seed: 1}), 50)
	a, err := checkers.Analyze(ops)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		r := checkers.CheckCoverage(a)
		if r.Valid != checkers.Valid || len(r.Faults) != 50 {
			b.Fatalf("%s with %d faults: %v", r.Valid, len(r.Faults), r.Reasons)
		}
	}
	// CPU time as well as ns/op: on a busy machine it says what the checker costs.
	b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
}
