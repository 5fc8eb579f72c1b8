package harness

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/workloads/queue"
)

func TestQuantiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, Quantiles{N: 100, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond}, quantiles(ds))
	require.Equal(t, Quantiles{}, quantiles(nil))
}

func TestThroughputTable(t *testing.T) {
	samples := []queue.Sample{
		{F: history.FSend, OK: true, Latency: 2 * time.Millisecond},
		{F: history.FPoll, OK: true, Latency: 4 * time.Millisecond},
		{F: history.FSend, OK: false, Latency: time.Second},
	}
	kchaos := throughputRow(4, ClientKchaos, samples, time.Second)
	require.Equal(t, 2, kchaos.OK)
	require.Equal(t, 1, kchaos.NotOK)
	require.Equal(t, 2*time.Millisecond, kchaos.Send.P50, "latencies of ok operations only")
	bare := throughputRow(4, ClientBare, append(samples, samples...), time.Second)
	table := ThroughputTable{Rows: []ThroughputRow{kchaos, bare}}
	require.Equal(t, `| concurrency | client | ok ops/s | of bare | send p50 | send p99 | poll p50 | poll p99 | not ok |
|---:|---|---:|---:|---:|---:|---:|---:|---:|
| 4 | kchaos | 2 | 50 % | 2.0 ms | 2.0 ms | 4.0 ms | 4.0 ms | 1 |
| 4 | kafka-go | 4 | 100 % | 2.0 ms | 2.0 ms | 4.0 ms | 4.0 ms | 2 |
`, table.Markdown())
}
