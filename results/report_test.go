package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/spec"
	"github.com/stretchr/testify/require"
)

func TestWriteReport(t *testing.T) {
	tests := []struct {
		run      string
		verdict  string
		chips    map[string]int // anomaly type → count in the banner
		lanes    int            // partition charts and the controller's
		unclean  int
		contains []string
		lacks    []string
	}{
		{run: "valid/20260301T100000", verdict: "valid", lanes: 5,
			contains: append([]string{"Every checker passed", `href="nodes/n1/server.log"`, "--nemesis-interval 4s", "partition isolate-leader",
				"those whose broker was killed came back through its restart", `<a href="#part-p1" data-x="216.4">5.000 s</a>`,
				`<td class="mono">2 → 3</td>`, `<a href="#fault-0" data-x="216.4" title="kill n2 from 5.000 s to 10.000 s">kill n2</a>`}, isrSection...)},
		{run: "invalid/20260301T110000", verdict: "invalid", lanes: 5, unclean: 1,
			chips: map[string]int{"lost-write": 1, "not-linearizable": 1, "unclean-leader-election": 1},
			contains: append([]string{`href="linearizability/kchaos/0.html"`, "--unclean-leader-election=true", "3 anomalies of 3 types",
				`id="op-`, `href="#m-a0-0"`, `id="m-a0-0"`}, isrSection...)},
		{run: "unknown/20260301T120000", verdict: "unknown", lanes: 3,
			contains: append([]string{"timed out after 10s", "kchaos/1: versions were not seen", "observer missed zk versions", "1 final read did not reach"},
				isrSection...)},
		// KRaft with eligible leader replicas: kchaos/0 is drawn from the metadata log, with its
		// ELR, the brokers' fencing and the election of broker 3 by rule ELR.
		{run: "elr/20260301T140000", verdict: "valid", lanes: 3,
			contains: []string{`<span><i class="sw elr"></i>in ELR</span>`, "Drawn from the KRaft metadata log",
				"eligible.leader.replicas.version 1: eligible leader replicas (KIP-966) on", "1 election by rule: 1 ELR.",
				`<li class="ok">every one of the 412 acknowledged writes survived (no lost write).</li>`,
				"kchaos/0 <span class=\"note\">7 states · 1 election · elected by 1 ELR · at the end: leader 3, ISR [3,2,1] · states from the KRaft metadata log</span>",
				`<text class="el-label e-clean" x=`, ">ELR</text>",
				"metadata offset 34: elected by rule ELR: the ISR was empty and 3 was in the ELR [1,3]",
				"no leader from 23.300 s to 26.900 s (ISR [], ELR [1,3], last known ELR [1])",
				`<rect class="fenced"`, "broker 2 fenced from 10.300 s to 28.900 s (the metadata log)",
				"broker 3 in the ELR (eligible leader replica: out of the ISR with the whole log) from 16.800 s to 26.900 s",
				"restart-isr-drain at 27.000 s"}},
		{run: "markup/20260301T130000", verdict: "invalid", lanes: 3,
			chips:    map[string]int{"G1a": 1, "lost-write": 1},
			contains: []string{`<section class="card" id="isr-dynamics">`, `id="isr-absent"`, "This results.json has no ISR dynamics"},
			lacks:    []string{`id="failovers-table"`, `href="#isr-dynamics"`, `<ul class="exact">`, `class="sw elr"`}},
	}
	external := regexp.MustCompile(`(?i)(src|href|action|xlink:href)\s*=\s*["']?\s*(https?:|//|ftp:)|@import|url\(\s*["']?(https?:|//)`)
	for _, tt := range tests {
		t.Run(tt.run, func(t *testing.T) {
			dir := copyRun(t, filepath.Join(testdataResults, tt.run))
			require.NoError(t, report(dir))
			data, err := os.ReadFile(filepath.Join(dir, ReportFile))
			require.NoError(t, err)
			page := string(data)
			_, err = os.Stat(filepath.Join(dir, JUnitFile))
			require.NoError(t, err)

			requireHas(t, page, `class="banner v-`+tt.verdict+`"`)
			require.Empty(t, external.FindAllString(page, -1), "the page fetches nothing")
			for typ, n := range tt.chips {
				requireHas(t, page, fmt.Sprintf(`<a class="chip" href="#anomaly-%s">%s <b>%d</b></a>`, typ, typ, n))
			}
			require.Equal(t, len(tt.chips), strings.Count(page, `<a class="chip"`))
			for _, id := range []string{"chart-latency", "chart-quantiles", "chart-throughput"} {
				requireHas(t, page, `id="`+id+`"`)
			}
			require.Equal(t, tt.lanes, strings.Count(page, `class="chart lanes"`))
			require.Equal(t, tt.unclean, strings.Count(page, `class="election e-unclean"`))
			spec, err := readSpec(filepath.Join(dir, SpecFile))
			require.NoError(t, err)
			requireHas(t, page, fmt.Sprintf("--seed %d", spec.Seed))
			for _, s := range tt.contains {
				requireHas(t, page, s)
			}
			for _, s := range tt.lacks {
				require.NotContains(t, page, s)
			}
		})
	}
}

// isrSection is what the report of a run whose results.json has ISR dynamics shows of them.
var isrSection = []string{
	`<a href="#isr-dynamics">ISR dynamics</a>`, `<section class="card" id="isr-dynamics">`, `id="isr-answer"`,
	"Median failover 307 ms after a fault hit a leader: 1.7 % of zookeeper.session.timeout.ms (18,000 ms).",
	`id="failovers-table"`, `id="isr-leaves-table"`, `<a href="#fault-0" data-x=`,
}

// TestWriteReportEscapesMarkup checks that markup in the history, results.json and test.json
// is written as text: the page has its own script and nothing else that runs.
func TestWriteReportEscapesMarkup(t *testing.T) {
	dir := copyRun(t, filepath.Join(testdataResults, "markup/20260301T130000"))
	require.NoError(t, report(dir))
	data, err := os.ReadFile(filepath.Join(dir, ReportFile))
	require.NoError(t, err)
	page := string(data)
	require.Equal(t, 1, strings.Count(strings.ToLower(page), "<script"), "only the report's own script")
	require.False(t, strings.Contains(strings.ToLower(page), "<img"), "an img element in the page")
	require.NotRegexp(t, `(?i)<[a-z]+[^>]*\son[a-z]+\s*=`, page, "no event handler attribute")
	for _, escaped := range []string{
		`&lt;script&gt;alert(1)&lt;/script&gt; broker said &lt;img src=x onerror=alert(1)&gt;`, // an error string
		`&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(1)&lt;/script&gt;`,              // a value
	} {
		requireHas(t, page, escaped)
	}
	junit, err := os.ReadFile(filepath.Join(dir, JUnitFile))
	require.NoError(t, err)
	require.NotContains(t, string(junit), "<script")
	require.Contains(t, string(junit), "&lt;script&gt;alert(1)&lt;/script&gt;")
}

// requireHas fails when page lacks s, without printing the whole page.
func requireHas(t *testing.T, page, s string) {
	t.Helper()
	if !strings.Contains(page, s) {
		t.Fatalf("the page lacks %q", s)
	}
}

func TestWriteReportErrors(t *testing.T) {
	const stored = "valid/20260301T100000"
	tests := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		want   string
	}{
		{name: "no directory", break_: func(t *testing.T, dir string) { require.NoError(t, os.RemoveAll(dir)) }, want: "run directory"},
		{name: "no history", break_: func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, HistoryFile))) },
			want: "has no history.jsonl"},
		{name: "malformed history line", break_: func(t *testing.T, dir string) {
			p := filepath.Join(dir, HistoryFile)
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			lines := strings.SplitAfter(string(data), "\n")
			lines[6] = `{"index":6,"time":12,"process":3,"type":"okay","f":"send","value":[]}` + "\n"
			require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644))
		}, want: "line 7"},
		{name: "no results", break_: func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, ResultsFile))) },
			want: "has no results.json"},
		{name: "malformed results", break_: func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, ResultsFile), []byte("{\"valid\": true,\n\"checkers\": }\n"), 0o644))
		}, want: "line 2"},
		{name: "verdict neither true, false nor unknown", break_: func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, ResultsFile), []byte(`{"valid": "maybe"}`), 0o644))
		}, want: `line 1: "valid": validity "maybe"`},
		{name: "results of the wrong type", break_: func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, ResultsFile), []byte("{\"valid\": true,\n\"checkers\": {\"queue\":\n {\"valid\": true, \"counts\": [1]}}}"), 0o644))
		}, want: "results.json: line 3: checker queue"},
		{name: "results nested too deep", break_: func(t *testing.T, dir string) {
			deep := `{"valid": true, "anomalies": {"x": [` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `]}}`
			require.NoError(t, os.WriteFile(filepath.Join(dir, ResultsFile), []byte(deep), 0o644))
		}, want: "exceeded max depth"},
		{name: "spec nested too deep", break_: func(t *testing.T, dir string) {
			deep := `{"name": ` + strings.Repeat(`{"a":`, 100_000) + `1` + strings.Repeat("}", 100_000) + `}`
			require.NoError(t, os.WriteFile(filepath.Join(dir, SpecFile), []byte(deep), 0o644))
		}, want: "test.json: line 1"},
		{name: "malformed spec", break_: func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, SpecFile), []byte(`{"name": `), 0o644))
		}, want: "test.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyRun(t, filepath.Join(testdataResults, stored))
			tt.break_(t, dir)
			err := report(dir)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			for _, f := range []string{ReportFile, JUnitFile} {
				_, err := os.Stat(filepath.Join(dir, f))
				require.ErrorIs(t, err, os.ErrNotExist, "nothing written on error")
			}
		})
	}
}

func TestWriteReportWithoutSpec(t *testing.T) {
	dir := copyRun(t, filepath.Join(testdataResults, "valid/20260301T100000"))
	require.NoError(t, os.Remove(filepath.Join(dir, SpecFile)))
	require.NoError(t, report(dir))
	data, err := os.ReadFile(filepath.Join(dir, ReportFile))
	require.NoError(t, err)
	requireHas(t, string(data), "This run directory has no test.json")
	requireHas(t, string(data), "<h1>valid</h1>")
}

// TestRerunCommand checks the command the report shows: spec.RerunCommand of test.json with its
// defaults, wrapped without parting a flag from its value or a quoted word.
func TestRerunCommand(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []string // words that must be whole on a line
	}{
		{name: "jepsen flags", spec: `{"name":"t1","cluster":{"image":"kchaos/kafka:3.9.1","zk_nodes":1,"brokers":5,"replication_factor":3,"min_insync_replicas":2,"unclean_leader_election":true},
			"partitions":4,"acks":"all","nemesis":["kill","partition"],"nemesis_interval":"15s","time_limit":"1m0s","concurrency":10,"rate":200,"seed":9007199254740993}`,
			want: []string{"kchaos", "run", "--name t1", "--nemesis kill,partition", "--brokers 5", "--unclean-leader-election=true", "--seed 9007199254740993"}},
		{name: "what test.json lacks takes its default", spec: `{"name":"t2","nemesis":["none"],"rate":0.5,"seed":3}`,
			want: []string{"--name t2", "--nemesis none", "--rate 0.5", "--seed 3"}},
		{name: "quoting", spec: `{"name":"t3","cluster":{"server_properties":{"log.dirs":"/data/it's a --dir here"}},"results_dir":"my results","seed":4}`,
			want: []string{"--results-dir 'my results'", `--server-property 'log.dirs=/data/it'\''s a --dir here'`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s spec.Spec
			require.NoError(t, json.Unmarshal([]byte(tt.spec), &s))
			line := spec.RerunCommand(withDefaults(&s))
			words := commandWords(line)
			require.Equal(t, line, strings.Join(words, " "), "the words are the command")
			for _, w := range tt.want {
				require.Contains(t, words, w)
			}
			wrapped := wrapCommand(words, 40)
			require.Equal(t, line, strings.ReplaceAll(wrapped, " \\\n  ", " "), "wrapping keeps the words")
		})
	}
}

func TestSamplePoints(t *testing.T) {
	const end = int64(100 * time.Second)
	many := func(n int) []opInfo {
		out := make([]opInfo, n)
		for i := range out {
			out[i] = opInfo{pos: i, t: int64(i) * end / int64(n), lat: int64(1e6 + (i*7919)%100000)}
		}
		return out
	}
	tests := []struct {
		name   string
		pts    []opInfo
		budget int
	}{
		{name: "under budget", pts: many(100), budget: 200},
		{name: "over budget", pts: many(50000), budget: 3000},
		{name: "budget below the slices", pts: many(5000), budget: 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := samplePoints(append([]opInfo(nil), tt.pts...), tt.budget, end)
			if len(tt.pts) <= tt.budget {
				require.Len(t, got, len(tt.pts))
				return
			}
			require.LessOrEqual(t, len(got), tt.budget)
			require.Greater(t, len(got), tt.budget*8/10, "the budget is used")
			var maxLat, keptMax int64
			for _, p := range tt.pts {
				maxLat = max(maxLat, p.lat)
			}
			slicesHit := map[int]bool{}
			for _, p := range got {
				keptMax = max(keptMax, p.lat)
				slicesHit[int(float64(p.t)/float64(end+1)*sampleBuckets)] = true
			}
			require.Equal(t, maxLat, keptMax, "the slowest op is kept")
			require.Greater(t, len(slicesHit), min(tt.budget, sampleBuckets)*8/10, "spread over the run")
		})
	}
}

func TestEntryRefs(t *testing.T) {
	op := func(i int64) checkers.OpRef { return checkers.OpRef{Index: i, InvokeIndex: i - 1} }
	tests := []struct {
		name  string
		entry any
		want  []int
	}{
		{name: "writer and max read", entry: &checkers.LostWriteCase{Key: "k/0", Index: 3, Writer: op(12), MaxRead: &checkers.OpRef{Index: 4}}, want: []int{4, 12}},
		{name: "version index is not a line", entry: &checkers.LostWriteCase{Key: "k/0", Offset: 4, Index: 3, MaxReadIndex: 2, Writer: op(1)}, want: []int{1}},
		{name: "lines", entry: &checkers.DuplicateCase{Writer: &checkers.OpRef{Index: 7}, Reads: []checkers.OffsetReads{{Offset: 1, Ops: []int64{9, 5}}}}, want: []int{5, 7, 9}},
		{name: "states", entry: &checkers.UncleanElectionCase{State: checkers.StateRef{Index: 40}, Previous: checkers.StateRef{Index: 30}}, want: []int{30, 40}},
		{name: "unseen writers", entry: &checkers.UnseenCase{Values: []checkers.UnseenValue{{Writer: 3}, {Writer: 3}, {Writer: 8}}}, want: []int{3, 8}},
		{name: "out of the history", entry: &checkers.OrderCase{Ops: []checkers.OpRef{op(-1), op(1000), op(2)}}, want: []int{2}},
		{name: "other", entry: &checkers.OtherAnomaly{Key: "k/0", Explanation: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &builder{ops: make([]history.Op, 50)}
			d := checkers.DescribeAnomaly(tt.entry)
			require.Equal(t, tt.want, b.entryRefs(&d))
		})
	}
}

// testOps numbers ops and sets their times, in seconds.
func testOps(t *testing.T, ops []history.Op, secs ...float64) *storedRun {
	t.Helper()
	require.Len(t, secs, len(ops))
	for i := range ops {
		ops[i].Index, ops[i].Time = int64(i), int64(secs[i]*1e9)
	}
	partner, err := history.Pair(ops)
	require.NoError(t, err)
	res, err := checkers.ReadResult([]byte(`{"valid":true,"anomaly_types":[],"anomalies":{},"checkers":{}}`))
	require.NoError(t, err)
	return &storedRun{dir: t.TempDir(), results: res, verdict: "valid", ops: ops, partner: partner}
}

func nemesisLine(t *testing.T, f string, v any) history.Op {
	op, err := history.Nemesis(f, v)
	require.NoError(t, err)
	return op
}

func TestFaultWindows(t *testing.T) {
	ops := []history.Op{
		nemesisLine(t, "start-kill", map[string]any{"nodes": []string{"n1"}}),
		nemesisLine(t, "start-pause", map[string]any{"nodes": []string{"n2", "n3"}}),
		nemesisLine(t, "stop-kill", nil),
		nemesisLine(t, "start-kill", map[string]any{"nodes": []string{"n3"}}),
		nemesisLine(t, "isolate-jepsen-2013", map[string]any{"key": "k/0"}),
		nemesisLine(t, "stop-pause", nil),
		nemesisLine(t, "start-lag", map[string]any{"follower": "n2", "leader": "n1", "loss": 0.3}),
		nemesisLine(t, "stop-lag", nil),
		nemesisLine(t, "start-partition", map[string]any{"shape": "majorities-ring"}),
		nemesisLine(t, "stop-partition", nil),
		{Process: history.ObserverProcess, Type: history.Info, F: "controller", Raw: []byte(`{"broker":1,"epoch":1}`)},
	}
	r := testOps(t, ops, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20)
	v := buildReport(r)
	type window struct{ kind, start, stop string }
	var got []window
	for _, f := range v.Faults {
		got = append(got, window{f.Kind, f.Start, f.Stop})
	}
	require.Equal(t, []window{
		{"kill", "1.000 s", "3.000 s"}, {"pause", "2.000 s", "6.000 s"}, {"kill", "4.000 s", "never"},
		{"lag", "7.000 s", "8.000 s"}, {"partition", "9.000 s", "10.000 s"},
	}, got)
	var labels []string
	for _, b := range v.Latency.Bands {
		labels = append(labels, b.Label)
	}
	require.Equal(t, []string{"kill n1", "pause n2,n3", "kill n3", "lag n2→n1", "partition majorities-ring"}, labels)
	require.Len(t, v.Latency.Events, 1, "the isolate line is an event")
	require.Contains(t, v.Latency.Events[0].Title, "isolate-jepsen-2013")
}

func state(key string, leader, epoch int, isr []int, zkv int) history.Op {
	return history.ObservePartitionState(history.PartitionState{Key: key, Leader: leader, LeaderEpoch: epoch, ISR: isr, ZkVersion: zkv})
}

func TestPartitionTimeline(t *testing.T) {
	ops := []history.Op{
		state("k/0", 1, 0, []int{1, 2, 3}, 0),
		state("k/0", 1, 0, []int{1, 2}, 1), // ISR shrinks
		state("k/0", 2, 1, []int{2}, 2),    // clean: 2 was in [1,2]
		state("k/0", -1, 2, []int{2}, 3),   // no leader
		state("k/0", 3, 3, []int{3}, 4),    // unclean: 3 was not in [2]
		history.ObserveGap(history.ObserverGap{Key: "k/0", FromVersion: 4, ToVersion: 7}),
		state("k/0", 1, 5, []int{1, 2, 3}, 7), // states missed: undecided
		state("k/1", 2, 0, []int{2, 3}, 0),
	}
	r := testOps(t, ops, 0, 1, 2, 3, 4, 5, 6, 0.5)
	v := buildReport(r)
	require.Len(t, v.Partitions, 2)
	p := v.Partitions[0]
	require.Equal(t, "k/0", p.Key)
	require.Equal(t, 1, p.Clean)
	require.Equal(t, 1, p.Unclean)
	require.Equal(t, 1, p.Undecided)
	require.Len(t, p.Offline, 1)
	require.Contains(t, p.Offline[0].Title, "no leader from 3.000 s to 4.000 s")
	require.Len(t, p.Gaps, 1)
	var classes []string
	for _, e := range p.Elections {
		classes = append(classes, e.Class)
	}
	require.Equal(t, []string{"e-clean", "e-unclean", "e-undecided"}, classes)
	require.Contains(t, p.Elections[1].Title, "UNCLEAN: 3 was not in the ISR [2]")
	require.Len(t, p.Lanes, 3, "brokers 1 to 3")
	leads := map[string][]string{}
	for _, l := range p.Lanes {
		for _, s := range l.Segs {
			leads[l.Label] = append(leads[l.Label], s.Class)
		}
	}
	require.Equal(t, map[string][]string{
		"broker 1": {"lead", "lead"},
		"broker 2": {"isr", "lead", "isr", "isr"},
		"broker 3": {"isr", "lead", "isr"},
	}, leads)
}

// TestISRDynamicsSection checks the ISR-dynamics section of a results.json written by hand:
// failovers with and without a new leader, departures that rejoined by themselves, through a
// restart and never, their faults and moments, and markup in keys and the answer shown as text.
func TestISRDynamicsSection(t *testing.T) {
	ops := []history.Op{
		state("k/0", 1, 0, []int{1, 2, 3}, 0),
		nemesisLine(t, "start-kill", map[string]any{"nodes": []string{"n1"}}),
		state("k/0", 2, 1, []int{2, 3}, 1),
		nemesisLine(t, "stop-kill", nil),
		nemesisLine(t, "start-pause", map[string]any{"nodes": []string{"n2"}}),
	}
	r := testOps(t, ops, 0, 10, 16.5, 20, 30)
	const dyn = `{"settings":{"zookeeper_session_timeout":6000000000,"replica_lag_time_max":10000000000},
	"failovers":[
	  {"key":"k/0","fault":"start-kill","fault_time":10000000000,"old_leader":1,"new_leader":2,"elected_time":16500000000,"failover_ms":6500},
	  {"key":"k/0","fault":"start-pause","fault_time":30000000000,"old_leader":2,"new_leader":-1,"failover_ms":-1}],
	"isr_leaves":[
	  {"key":"k/0","broker":1,"left_time":16500000000,"rejoined_time":24000000000,"out_ms":7500,"fault":"start-kill","fault_end_time":20000000000,"rejoin_after_heal_ms":4000,"restarted":true},
	  {"key":"k/0","broker":3,"left_time":12000000000,"rejoined_time":13000000000,"out_ms":1000,"rejoin_after_heal_ms":-1,"restarted":false},
	  {"key":"<b>k</b>/9","broker":2,"left_time":31000000000,"out_ms":-1,"fault":"start-pause","rejoin_after_heal_ms":-1,"restarted":false}],
	"conclusions":{"median_failover_ms":6500,"leaves":3,"rejoined_by_itself":1,"never_rejoined":1,
	  "answer":"Some followers that left an ISR never came back <script>alert(1)</script>"}}`
	res, err := checkers.ReadResult([]byte(`{"valid":true,"anomaly_types":[],"anomalies":{},"checkers":{"stats":{"valid":true,"isr_dynamics":` + dyn + `}}}`))
	require.NoError(t, err)
	r.results = res
	v := buildReport(r).ISR
	require.True(t, v.Present)
	require.Equal(t, "info", v.AnswerClass, "a follower never came back")
	require.Equal(t, "Median failover 6,500 ms after a fault hit a leader: 108 % of zookeeper.session.timeout.ms (6,000 ms). "+
		"1 of the 2 faults that hit a leader were followed by another leader.", v.Failover)

	require.Len(t, v.Failovers, 2)
	f := v.Failovers[0]
	require.Equal(t, []string{"k/0", "kill n1", "#fault-0", "10.000 s", "#part-p0", "1", "2", "6,500 ms", "#part-p0", "108 %"},
		[]string{f.Key, f.Fault, f.FaultHref, f.At, f.AtHref, f.Old, f.New, f.Ms, f.ElectedHref, f.VsSession})
	require.Equal(t, "over", f.Meter.Class, "longer than the session timeout")
	require.Equal(t, num(meterW*6000/6500), f.Meter.Limit)
	none := v.Failovers[1]
	require.Equal(t, []string{"none", "none", "no other broker led", ""}, []string{none.New, none.Ms, none.VsSession, none.ElectedHref})
	require.Nil(t, none.Meter)

	require.Len(t, v.Leaves, 3)
	type leave struct{ key, broker, out, fault, afterHeal, how, href string }
	var got []leave
	for _, l := range v.Leaves {
		got = append(got, leave{l.Key, l.Broker, l.Out, l.Fault, l.AfterHeal, l.How, l.LeftHref})
	}
	require.Equal(t, []leave{
		{"k/0", "1", "7,500 ms", "kill n1", "4,000 ms", "restarted", "#part-p0"},
		{"k/0", "3", "1,000 ms", "none", "—", "by itself", "#part-p0"},
		{"<b>k</b>/9", "2", "never", "pause n2", "—", "never", "#timeline"},
	}, got)

	page, err := renderReport(r)
	require.NoError(t, err)
	text := string(page)
	requireHas(t, text, "Some followers that left an ISR never came back &lt;script&gt;alert(1)&lt;/script&gt;")
	requireHas(t, text, `<td class="mono">&lt;b&gt;k&lt;/b&gt;/9</td>`)
	requireHas(t, text, `<span class="pill fail">never</span>`)
	requireHas(t, text, `<td class="mono">2 → none</td>`)
	require.Equal(t, 1, strings.Count(strings.ToLower(text), "<script"), "only the report's own script")

	// A stats checker that wrote null leaves a note and no tables; a malformed value is an error.
	_, err = checkers.ReadResult([]byte(`{"valid":true,"checkers":{"stats":{"valid":true,"isr_dynamics":[1,2]}}}`))
	require.ErrorContains(t, err, "checker stats")
	for _, raw := range []string{`null`} {
		res, err := checkers.ReadResult([]byte(`{"valid":true,"anomaly_types":[],"anomalies":{},"checkers":{"stats":{"valid":true,"isr_dynamics":` + raw + `}}}`))
		require.NoError(t, err)
		r.results = res
		v := buildReport(r).ISR
		require.False(t, v.Present)
		require.NotEmpty(t, v.Note)
		_, err = renderReport(r)
		require.NoError(t, err)
	}
}

// report writes the report files of a stored run directory, as kchaos report does.
func report(dir string) error {
	_, err := WriteRun(dir, nil, nil)
	return err
}

// TestReportAnyTimeSpan checks that a history of any length and time span has a report: empty,
// one line, and spans from none to under the throughput buckets' finest width.
func TestReportAnyTimeSpan(t *testing.T) {
	send := func(span int64) []history.Op {
		return []history.Op{
			history.SendInvoke(0, "k/0", history.IntValue(1)),
			history.SendOK(0, "k/0", 0, history.IntValue(1)),
			history.PollInvoke(1),
			history.PollOK(1, []history.KeyReads{{Key: "k/0", Records: []history.Record{{Offset: 0, Value: history.IntValue(1)}}}}),
		}
	}
	tests := []struct {
		name  string
		ops   []history.Op
		times []int64
	}{
		{name: "empty"},
		{name: "one line", ops: send(0)[:1], times: []int64{0}},
		{name: "no time at all", ops: send(0), times: []int64{0, 0, 0, 0}},
		{name: "1 ns", ops: send(0), times: []int64{0, 1, 1, 1}},
		{name: "150 ns", ops: send(0), times: []int64{0, 50, 100, 150}},
		{name: "199 ns", ops: send(0), times: []int64{0, 1, 2, 199}},
		{name: "200 ns", ops: send(0), times: []int64{0, 1, 2, 200}},
		{name: "a second", ops: send(0), times: []int64{0, 1, 2, 1e9}},
		{name: "epoch nanoseconds", ops: send(0), times: []int64{1732900000000000000, 1732900000000000005, 1732900000000000006, 1732900000000000009}},
		{name: "a fault in no time", ops: []history.Op{nemesisLine(t, "start-kill", map[string]any{"nodes": []string{"n1"}}), nemesisLine(t, "stop-kill", nil)},
			times: []int64{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.ops {
				tt.ops[i].Index, tt.ops[i].Time = int64(i), tt.times[i]
			}
			dir := filepath.Join(t.TempDir(), "t", "20260301T100000")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, writeHistory(dir, tt.ops))
			ops, err := history.ReadFile(filepath.Join(dir, HistoryFile))
			require.NoError(t, err)
			res, err := checkers.Check(ops, checkers.Options{Workers: 1})
			require.NoError(t, err)
			_, err = WriteRun(dir, res, nil)
			require.NoError(t, err)
			page, err := os.ReadFile(filepath.Join(dir, ReportFile))
			require.NoError(t, err)
			requireHas(t, string(page), `class="banner v-`+res.Valid.String()+`"`)
			require.NotContains(t, string(page), "NaN")
			require.NotContains(t, string(page), "Inf")
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"kchaos/0", "kchaos/0"},
		{"a\nb\tc", "a\nb\tc"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"nul\x00 del\x7f c1\u0085 nbsp\u00a0 zwsp\u200b", `nul\x00 del\x7f c1\u0085 nbsp\u00a0 zwsp\u200b`},
		{"abc\u202edcba", `abc\u202edcba`},
		{"isolate\u2066x\u2069", `isolate\u2066x\u2069`},
		{"bad \xff utf-8", `bad \xff utf-8`},
		{"é ✓ \ufffd", "é ✓ \ufffd"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Printable(tt.in), "%q", tt.in)
		require.Equal(t, tt.want, Printable(Printable(tt.in)), "idempotent")
	}
}

// TestReportEscapesControlCharacters checks that control and bidirectional characters from a
// history show as escapes in every part of the report (text, attributes, SVG titles), in
// junit.xml and in the index, and never as themselves.
func TestReportEscapesControlCharacters(t *testing.T) {
	const key = "k\x1b[2J\u202e/0"
	const errText = "boom\x07\x1b]0;owned\x07 \u2066x"
	ops := []history.Op{
		history.ObservePartitionState(history.PartitionState{Key: key, Leader: 1, ISR: []int{1, 2}}),
		nemesisLine(t, "start-kill", map[string]any{"nodes": []string{"n\x1b1"}}),
		history.SendInvoke(0, key, history.StringValue("v\x00\u202e")),
		history.SendInfo(0, key, history.StringValue("v\x00\u202e"), errText),
		history.SendInvoke(1, key, history.IntValue(2)),
		history.SendOK(1, key, 0, history.IntValue(2)),
		nemesisLine(t, "stop-kill", nil),
	}
	root := t.TempDir()
	rd, err := NewRunDir(root, "esc", time.Date(2026, 3, 1, 10, 0, 0, 0, time.Local))
	require.NoError(t, err)
	for i := range ops {
		ops[i].Index, ops[i].Time = int64(i), int64(i)*int64(time.Second)
	}
	require.NoError(t, writeHistory(rd.Path, ops))
	require.NoError(t, os.WriteFile(rd.File(SpecFile), []byte(`{"name":"esc\u001b[1m","topic":"t\u202e"}`), 0o644))
	res, err := checkers.Check(ops, checkers.Options{Workers: 1})
	require.NoError(t, err)
	require.NotEmpty(t, res.AnomalyTypes, "the key is named in anomalies too")
	w, err := WriteRun(rd.Path, res, nil)
	require.NoError(t, err)
	require.NotEmpty(t, w.Index)
	for _, f := range []string{w.Report, w.JUnit, w.Index} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		text := string(data)
		for i, r := range text {
			if hidden(r) {
				t.Fatalf("%s: %q at byte %d: %q", filepath.Base(f), r, i, text[max(i-80, 0):min(i+80, len(text))])
			}
		}
		require.True(t, utf8.ValidString(text), filepath.Base(f))
	}
	page, err := os.ReadFile(w.Report)
	require.NoError(t, err)
	requireHas(t, string(page), `k\x1b[2J\u202e/0`)
	requireHas(t, string(page), `<title>kill n\x1b1 from 1.000 s to 6.000 s</title>`)
	requireHas(t, string(page), `boom\x07\x1b]0;owned\x07 \u2066x`)
}

// TestFaultTableShowsWhatEachFaultDid: the fault table shows the achievements of a fault's stop
// line and what the clients did while it was in place, and flags a fault that did nothing.
func TestFaultTableShowsWhatEachFaultDid(t *testing.T) {
	ops := []history.Op{
		nemesisLine(t, "start-kill", map[string]any{"nodes": []string{"n1"}}),
		nemesisLine(t, "stop-kill", map[string]any{"nodes": []string{"n1"}, "achieved": map[string]any{"held_ms": 20000, "elections": 2, "leaderless": 0, "isr_shrunk": true, "new_leader": "n2"}}),
		nemesisLine(t, "start-pause", map[string]any{"nodes": []string{"n3"}}),
		nemesisLine(t, "stop-pause", map[string]any{"nodes": []string{"n3"}, "achieved": map[string]any{"held_ms": 1000, "elections": 0, "leaderless": 0, "isr_shrunk": false}}),
	}
	v := buildReport(testOps(t, ops, 1, 2, 3, 4))
	require.Len(t, v.Faults, 2)
	require.Contains(t, v.Faults[0].Achieved, "2 elections")
	require.Contains(t, v.Faults[0].Achieved, "new leader n2")
	require.Contains(t, v.Faults[0].Achieved, "ISR shrank")
	require.False(t, v.Faults[0].NotExercised)
	require.True(t, v.Faults[1].NotExercised, "a pause that changed nothing")
}
