package results

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromiumPath returns Debian's chromium, or "" when it is not installed.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is a headless Chromium driven over the DevTools protocol, with a record of every
// console error, uncaught exception, error log entry, dialog and request that left the file.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

// xssProbe runs before any script of a page: an alert (the payload of the markup in the test
// histories) counts instead of opening a dialog.
const xssProbe = `window.__alerts = 0; window.alert = function () { window.__alerts++; };`

// startBrowser starts Chromium for the test, and skips the test when Chromium is not installed.
func startBrowser(tb testing.TB) *browser {
	tb.Helper()
	path := chromiumPath()
	if path == "" {
		tb.Skip("chromium is not installed: apt-get install chromium (.ci/run installs it)")
	}
	dataDir, err := os.MkdirTemp("", "kchaos-chromium-")
	require.NoError(tb, err)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dataDir),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	tb.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		_ = os.RemoveAll(dataDir)
	})
	b := &browser{ctx: ctx}
	consoles := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	logs := chromedp.Events(ctx, log.EntryAdded)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range consoles {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.problem("console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			text := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				text += " " + ev.ExceptionDetails.Exception.Description
			}
			b.problem("exception: %s", text)
		}
	}()
	go func() {
		for ev, err := range logs {
			if err != nil {
				return
			}
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				b.problem("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
			}
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.problem("dialog %s: %s", ev.Type, ev.Message)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			if u := ev.Request.URL; !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
				b.problem("request off the file: %s", u)
			}
		}
	}()
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: xssProbe})
	require.NoError(tb, err, "start chromium")
	return b
}

func (b *browser) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

func (b *browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// open loads a file and waits until the report's script has run.
func (b *browser) open(tb testing.TB, file string) {
	tb.Helper()
	abs, err := filepath.Abs(file)
	require.NoError(tb, err)
	require.NoError(tb, chromedp.Do(b.ctx, chromedp.Navigate("file://"+abs)))
	// A poll that starts while the navigation still swaps the page's JavaScript context fails with
	// "Cannot find context with specified id" (seen under load): that is the browser's race, not the
	// report's, so poll again in the new context.
	for attempt := 0; ; attempt++ {
		_, err = chromedp.Run(b.ctx, chromedp.Poll[bool](`document.documentElement.getAttribute("data-ready") === "1"`,
			chromedp.WithPollingTimeout(30*time.Second)))
		if err == nil || attempt == 2 || !strings.Contains(err.Error(), "Cannot find context with specified id") {
			break
		}
	}
	require.NoError(tb, err, "the report's script did not run")
}

// pageFacts is what the test reads from the DOM of a report.
type pageFacts struct {
	Verdict        string `json:"verdict"`
	Banner         string `json:"banner"`
	BannerHeight   int    `json:"bannerHeight"`
	Charts         int    `json:"charts"`
	ChartHeight    int    `json:"chartHeight"`
	Points         int    `json:"points"`
	OKPoints       int    `json:"okPoints"`
	BadPoints      int    `json:"badPoints"`
	Bands          int    `json:"bands"`
	SeriesWithData int    `json:"seriesWithData"`
	Partitions     int    `json:"partitions"`
	LeaderSegs     int    `json:"leaderSegs"`
	ISRSegs        int    `json:"isrSegs"`
	Unclean        int    `json:"unclean"`
	AnomalyRows    int    `json:"anomalyRows"`
	AnomalyMarks   int    `json:"anomalyMarks"`
	OpRows         int    `json:"opRows"`
	Checkers       int    `json:"checkers"`
	ISRSection     bool   `json:"isrSection"`
	ISRHeight      int    `json:"isrHeight"`
	ISRAnswer      string `json:"isrAnswer"`
	FailoverRows   int    `json:"failoverRows"`
	ISRLeaveRows   int    `json:"isrLeaveRows"`
	ISRAbsent      bool   `json:"isrAbsent"`
	Scripts        int    `json:"scripts"`
	Images         int    `json:"images"`
	Alerts         int    `json:"alerts"`
	Text           string `json:"text"`
}

const factsJS = `(() => {
  const q = (s) => document.querySelectorAll(s).length;
  const lat = document.getElementById("chart-latency");
  return {
    verdict: document.querySelector("#verdict .word").textContent,
    banner: document.querySelector("header.banner").className,
    bannerHeight: Math.round(document.querySelector("header.banner").getBoundingClientRect().height),
    charts: q("svg.chart"),
    chartHeight: lat ? Math.round(lat.getBoundingClientRect().height) : 0,
    points: q("#chart-latency .pts .p"),
    okPoints: q("#chart-latency .pts .ok .p"),
    badPoints: q("#chart-latency .pts .fail .p") + q("#chart-latency .pts .info .p"),
    bands: q("#chart-latency rect.band"),
    seriesWithData: Array.from(document.querySelectorAll("#chart-throughput .series path")).filter(p => (p.getAttribute("d") || "").includes("L")).length,
    partitions: q("svg.lanes") - q("#chart-controller"),
    leaderSegs: q("svg.lanes rect.seg.lead"),
    isrSegs: q("svg.lanes rect.seg.isr"),
    unclean: q("svg.lanes g.election.e-unclean"),
    anomalyRows: q("table.anomaly-table tr.entry"),
    anomalyMarks: q("svg.chart .marks .mk"),
    opRows: q("#ops-table tbody tr"),
    checkers: q("#checkers-table tbody tr"),
    isrSection: !!document.querySelector("section#isr-dynamics h2"),
    isrHeight: document.getElementById("isr-dynamics") ? Math.round(document.getElementById("isr-dynamics").getBoundingClientRect().height) : 0,
    isrAnswer: (document.getElementById("isr-answer") || {textContent: ""}).textContent,
    failoverRows: q("#isr-dynamics #failovers-table tbody tr"),
    isrLeaveRows: q("#isr-dynamics #isr-leaves-table tbody tr"),
    isrAbsent: !!document.getElementById("isr-absent"),
    scripts: document.scripts.length,
    images: document.images.length,
    alerts: window.__alerts,
    text: document.body.textContent,
  };
})()`

func (b *browser) facts(tb testing.TB) pageFacts {
	tb.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](factsJS))
	require.NoError(tb, err)
	var f pageFacts
	require.NoError(tb, json.Unmarshal(raw, &f))
	return f
}

// screenshot saves a full-page screenshot as name in dir, and also in $KCHAOS_SCREENSHOT_DIR
// when set (to look at), and returns the decoded image's path.
func (b *browser) screenshot(tb testing.TB, dir, name string) string {
	tb.Helper()
	return b.saveScreenshot(tb, chromedp.FullScreenshot(100), dir, name)
}

// screenshotOf saves a screenshot of the element sel as name in dir, and also in
// $KCHAOS_SCREENSHOT_DIR when set, and returns its path.
func (b *browser) screenshotOf(tb testing.TB, sel, dir, name string) string {
	tb.Helper()
	return b.saveScreenshot(tb, chromedp.Screenshot(chromedp.CSS(sel)), dir, name)
}

func (b *browser) saveScreenshot(tb testing.TB, shot chromedp.Action[[]byte], dir, name string) string {
	tb.Helper()
	buf, err := chromedp.Run(b.ctx, shot)
	require.NoError(tb, err)
	p := filepath.Join(dir, name)
	require.NoError(tb, os.WriteFile(p, buf, 0o644))
	if extra := os.Getenv("KCHAOS_SCREENSHOT_DIR"); extra != "" {
		require.NoError(tb, os.WriteFile(filepath.Join(extra, name), buf, 0o644))
	}
	return p
}

// TestReportInBrowser opens stored runs' reports in Chromium: the page draws the banner, the
// plots with their points and fault windows, the leader/ISR timelines and the anomaly table,
// logs no error, fetches nothing, and shows the markup of a history as text without running it.
// The ISR-dynamics section lists the failovers and ISR departures (or says that results.json has
// none) and its times drop the cursor on the charts.
func TestReportInBrowser(t *testing.T) {
	b := startBrowser(t)
	shots := t.TempDir()
	tests := []struct {
		run        string
		verdict    string
		bannerRGB  [3]uint8 // the banner's colour, roughly
		partitions int
		unclean    int
		anomalies  int
		checkers   int
		failovers  int // rows of the ISR-dynamics tables; both 0: results.json has none
		isrLeaves  int
	}{
		{run: "invalid/20260301T110000", verdict: "invalid", bannerRGB: [3]uint8{190, 30, 40}, partitions: 4, unclean: 1, anomalies: 3, checkers: 4,
			failovers: 3, isrLeaves: 14},
		{run: "valid/20260301T100000", verdict: "valid", bannerRGB: [3]uint8{35, 140, 70}, partitions: 4, checkers: 4, failovers: 3, isrLeaves: 12},
		{run: "unknown/20260301T120000", verdict: "unknown", bannerRGB: [3]uint8{185, 135, 20}, partitions: 2, checkers: 4, failovers: 2, isrLeaves: 4},
		{run: "markup/20260301T130000", verdict: "invalid", bannerRGB: [3]uint8{190, 30, 40}, partitions: 2, anomalies: 2, checkers: 2},
	}
	for _, tt := range tests {
		t.Run(tt.verdict+"-"+filepath.Dir(tt.run), func(t *testing.T) {
			dir := copyRun(t, filepath.Join(testdataResults, tt.run))
			require.NoError(t, report(dir))
			b.takeProblems()
			b.open(t, filepath.Join(dir, ReportFile))
			time.Sleep(200 * time.Millisecond) // let a stray image fail to load, were there one

			f := b.facts(t)
			require.Zero(t, f.Alerts, "no script from the history ran")
			require.Equal(t, tt.verdict, f.Verdict)
			require.Contains(t, f.Banner, "v-"+tt.verdict)
			require.Greater(t, f.BannerHeight, 60, "the banner is drawn")
			require.Equal(t, 3+1+tt.partitions, f.Charts, "latency, quantiles, throughput, controller and one chart per partition")
			require.Greater(t, f.ChartHeight, 150, "the latency chart has a size")
			require.Greater(t, f.OKPoints, 100, "ok ops on the latency chart")
			require.Greater(t, f.BadPoints, 5, "fail and info ops on the latency chart")
			require.Positive(t, f.Bands, "fault windows on the latency chart")
			require.Equal(t, 3, f.SeriesWithData, "ok, info and fail throughput")
			require.Equal(t, tt.partitions, f.Partitions)
			require.Positive(t, f.LeaderSegs)
			require.Positive(t, f.ISRSegs)
			require.Equal(t, tt.unclean, f.Unclean, "unclean elections drawn in red")
			require.Equal(t, tt.anomalies, f.AnomalyRows)
			require.Equal(t, tt.checkers, f.Checkers)
			if tt.anomalies > 0 {
				require.Positive(t, f.AnomalyMarks, "anomalies marked on the charts")
				require.Positive(t, f.OpRows, "the ops the anomalies name")
			}
			require.True(t, f.ISRSection, "the ISR dynamics section")
			require.Equal(t, tt.failovers, f.FailoverRows, "failovers listed")
			require.Equal(t, tt.isrLeaves, f.ISRLeaveRows, "ISR departures listed")
			if tt.isrLeaves > 0 {
				require.False(t, f.ISRAbsent)
				require.Contains(t, f.ISRAnswer, "came back")
				require.Greater(t, f.ISRHeight, 300, "the section is drawn")
			} else {
				require.True(t, f.ISRAbsent, "the section says results.json has no ISR dynamics")
			}
			require.Equal(t, 1, f.Scripts, "only the report's own script")
			require.Zero(t, f.Images)
			if tt.run == "markup/20260301T130000" {
				requireHas(t, f.Text, "<script>alert(1)</script>")
				requireHas(t, f.Text, "<img src=x onerror=alert(1)>")
			}

			// An anomaly's moment link drops the cursor on every chart.
			if tt.anomalies > 0 {
				visible, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`(() => {
				  document.querySelector("table.anomaly-table a[data-x]").click();
				  return Array.from(document.querySelectorAll("svg.chart line.cursor")).filter(l => l.getAttribute("visibility") === "visible" && l.getAttribute("x1") !== "0").length;
				})()`))
				require.NoError(t, err)
				require.Equal(t, f.Charts, visible)
			}

			// A departure's time drops the cursor on every chart and opens the partition's timeline.
			if tt.isrLeaves > 0 {
				res, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]any](`(() => {
				  const a = document.querySelector("#isr-leaves-table a[data-x]");
				  a.click();
				  const visible = Array.from(document.querySelectorAll("svg.chart line.cursor")).filter(l => l.getAttribute("visibility") === "visible" && l.getAttribute("x1") === a.getAttribute("data-x")).length;
				  return [visible, location.hash, !!document.querySelector(location.hash + " svg.lanes")];
				})()`))
				require.NoError(t, err)
				require.Equal(t, []any{float64(f.Charts), res[1], true}, res, "cursor on every chart, the partition's timeline opened")
				require.Regexp(t, `^#part-p\d+$`, res[1])
			}
			shot := b.screenshotOf(t, "#isr-dynamics", shots, "isr-"+strings.ReplaceAll(tt.run, "/", "-")+".png")
			t.Logf("ISR dynamics: %s", shot)

			p := b.screenshot(t, shots, strings.ReplaceAll(tt.run, "/", "-")+".png")
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			img, err := png.Decode(bytes.NewReader(data))
			require.NoError(t, err)
			require.Greater(t, img.Bounds().Dy(), 2000, "the whole page")
			r, g, bl, _ := img.At(30, 30).RGBA()
			got := [3]int{int(r >> 8), int(g >> 8), int(bl >> 8)}
			for i := range got {
				require.InDelta(t, int(tt.bannerRGB[i]), got[i], 45, "banner colour %v", got)
			}
			t.Logf("screenshot: %s", p)
			require.Empty(t, b.takeProblems(), "console errors, exceptions or requests")
		})
	}
}
