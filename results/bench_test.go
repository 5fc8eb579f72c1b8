package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/kchaos/kchaos/history"
	"github.com/stretchr/testify/require"
)

// bigRun writes a run directory of 100,000 client operations over five minutes, with a fault
// every 20 s, an unclean election and 200 anomaly entries, and returns its path.
func bigRun(tb testing.TB) string {
	tb.Helper()
	var faults []simFault
	kinds := []string{"kill", "pause", "partition", "lag"}
	for i := 0; i < 14; i++ {
		start := time.Duration(10+20*i) * time.Second
		faults = append(faults, simFault{kind: kinds[i%len(kinds)], start: start, stop: start + 8*time.Second,
			nodes: []string{fmt.Sprintf("n%d", i%5+1)}})
	}
	cfg := simConfig{name: "big", ops: 104_000, duration: 300 * time.Second, keys: 8, brokers: 5, workers: 40,
		faults: faults, unclean: true, seed: 42}
	n := simulate(cfg)
	clientOps := 0
	var oks []int
	for i, op := range n.ops {
		if op.Process.IsClient() && op.Type != history.Invoke {
			clientOps++
			if op.Type == history.OK && op.F == history.FSend {
				oks = append(oks, i)
			}
		}
	}
	require.GreaterOrEqual(tb, clientOps, 100_000, "100,000 operations or more")
	tb.Logf("generated %d client operations in %d history lines", clientOps, len(n.ops))
	var lost []any
	for i := 0; i < 200; i++ {
		pos := oks[i*len(oks)/200]
		op := n.ops[pos]
		lost = append(lost, map[string]any{"key": op.Mops[0].Key, "value": op.Mops[0].Value, "offset": op.Mops[0].Offset,
			"writer": opRef(n.ops, pos), "explanation": fmt.Sprintf("send of %s was acknowledged but never read", op.Mops[0].Value)})
	}
	results := map[string]any{"valid": false, "anomaly_types": []string{"lost-write", "unclean-leader-election"},
		"anomalies": map[string]any{"lost-write": lost, "unclean-leader-election": []any{map[string]any{"key": "kchaos/0",
			"state": stateRef(n.ops, n.unclean), "previous": stateRef(n.ops, n.uncleanPrev), "explanation": "unclean"}}},
		"checkers": map[string]any{"queue": map[string]any{"valid": false, "bad_anomaly_types": []string{"lost-write"}},
			"leader-election": map[string]any{"valid": false, "checked": true}}}
	dir := filepath.Join(tb.TempDir(), "big", "20260301T140000")
	require.NoError(tb, writeRun(dir, cfg, n, results, nil))
	return dir
}

// renderTimes is what the page reports of its loading, in ms since the navigation started.
type renderTimes struct {
	Load     float64 `json:"load"`     // the load event ended
	FCP      float64 `json:"fcp"`      // first contentful paint
	Rendered float64 `json:"rendered"` // two animation frames after load, the plots in the DOM
	Points   int     `json:"points"`
	Lanes    int     `json:"lanes"`
}

const renderTimesJS = `new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  resolve({
    load: nav.loadEventEnd,
    fcp: fcp ? fcp.startTime : 0,
    rendered: performance.now(),
    points: document.querySelectorAll("#chart-latency .pts .p").length,
    lanes: document.querySelectorAll("svg.lanes rect.seg").length,
  });
})))`

// BenchmarkReport100k writes the report of a 100,000-operation run (write) and loads it in
// Chromium (chromium), reporting the page's size and the milliseconds from the start of the
// navigation to the load event (load-ms), to the first contentful paint (fcp-ms) and to two
// animation frames after load with the plots in the DOM (render-ms). The target is render-ms
// under 5,000.
//
//	go test -run '^$' -bench Report100k -benchtime 3x ./results
func BenchmarkReport100k(b *testing.B) {
	dir := bigRun(b)
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			require.NoError(b, report(dir))
		}
		fi, err := os.Stat(filepath.Join(dir, ReportFile))
		require.NoError(b, err)
		b.ReportMetric(float64(fi.Size())/1e6, "report-MB")
	})
	b.Run("chromium", func(b *testing.B) {
		require.NoError(b, report(dir))
		br := startBrowser(b)
		url := "file://" + filepath.Join(dir, ReportFile)
		var sum renderTimes
		n := 0
		for b.Loop() {
			require.NoError(b, chromedp.Do(br.ctx, chromedp.Navigate(url)))
			raw, err := chromedp.Run(br.ctx, chromedp.Evaluate[[]byte](renderTimesJS, func(p *runtime.EvaluateParams) {
				p.AwaitPromise = new(true)
			}))
			require.NoError(b, err)
			var rt renderTimes
			require.NoError(b, json.Unmarshal(raw, &rt))
			require.Positive(b, rt.Points, "the latency plot has its points")
			require.Positive(b, rt.Lanes, "the leader/ISR timelines are drawn")
			sum.Load += rt.Load
			sum.FCP += rt.FCP
			sum.Rendered += rt.Rendered
			n++
		}
		b.ReportMetric(sum.Load/float64(n), "load-ms")
		b.ReportMetric(sum.FCP/float64(n), "fcp-ms")
		b.ReportMetric(sum.Rendered/float64(n), "render-ms")
		require.Empty(b, br.takeProblems(), "console errors, exceptions or requests")
	})
}
