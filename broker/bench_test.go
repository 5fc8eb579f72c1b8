package broker

import (
	"context"
	"testing"
	"time"
)

// BenchmarkClusterUp measures the time from Start to ready (every broker registered, a controller
// elected) for ZooKeeper and three brokers with warm images, and reports it as s/up. Run it with
// go test -run '^$' -bench ClusterUp -benchtime 5x ./broker
func BenchmarkClusterUp(b *testing.B) {
	ctx := context.Background()
	var total time.Duration
	for b.Loop() {
		started := time.Now()
		c, err := Start(ctx, ClusterSpec{}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(started)
		b.StopTimer()
		if err := c.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/up")
}
