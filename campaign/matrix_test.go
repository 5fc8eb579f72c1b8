package campaign

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/results"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/suites"
)

var update = flag.Bool("update", false, "rewrite testdata/matrix.md and testdata/matrix.html")

func TestParseVersions(t *testing.T) {
	tests := []struct {
		in      string
		want    []Version
		wantErr string
	}{
		{in: "3.9.1", want: []Version{{"3.9.1", "zookeeper"}}},
		{in: "4.1.1", want: []Version{{"4.1.1", "kraft"}}},
		{in: "3.9.1/zookeeper, 3.9.1/kraft,4.1.1", want: []Version{{"3.9.1", "zookeeper"}, {"3.9.1", "kraft"}, {"4.1.1", "kraft"}}},
		{in: "3.9.1,,4.1.1", wantErr: "an empty item"},
		{in: "/kraft", wantErr: `version "/kraft": want V or V/zookeeper or V/kraft`},
		{in: "3.9.1/kraft/x", wantErr: `version "3.9.1/kraft/x": want V`},
		{in: "3.9.1/zk", wantErr: `version "3.9.1/zk"`},
		{in: "latest", wantErr: `version "latest": cluster spec: kafka-version`},
		{in: "4.1.1/zookeeper", wantErr: `version "4.1.1/zookeeper"`},
		{in: "2.8.0", wantErr: `version "2.8.0"`},
		{in: "3.9.1,3.9.1/zookeeper", wantErr: `version "3.9.1/zookeeper": 3.9.1/zookeeper already given as "3.9.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseVersions(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		sign int
	}{
		{"3.9.1/kraft", "3.9.1/zookeeper", -1},
		{"3.9.1/zookeeper", "4.1.1/kraft", -1},
		{"10.0.0/kraft", "4.1.1/kraft", 1},
		{"3.9/kraft", "3.9.1/kraft", -1},
		{"4.1.1/kraft", "4.1.1/kraft", 0},
	}
	for _, tt := range tests {
		c := compareVersions(tt.a, tt.b)
		require.Equal(t, tt.sign, max(-1, min(1, c)), "%s vs %s", tt.a, tt.b)
	}
}

// runKind is what a hand-made run directory holds.
type runKind int

const (
	validRun      runKind = iota // a checked valid history
	lostRun                      // a checked history with a lost write, exposed by a kill
	unfinishedRun                // test.json and a history, no results.json
)

// epoch is the start of every hand-made run, so that run directories have the same names.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// makeRun makes a run directory of scenario on v with seed under root, as harness.Run leaves it:
// test.json with results.NewRunDir and WriteJSON, history.jsonl with history's writer, and for a
// finished run results.json and report.html through results.WriteRun from the checkers' result.
// A lost run's write is lost after a kill that starts exposure after the first operation.
func makeRun(t *testing.T, root, scenario string, v Version, seed int64, k runKind, exposure time.Duration, edit func(*suites.Scenario)) string {
	t.Helper()
	sc, err := suites.Get(scenario)
	require.NoError(t, err)
	if edit != nil {
		edit(&sc)
	}
	sc, err = sc.On(v.Kafka, v.Metadata)
	require.NoError(t, err)
	s := sc.Spec
	s.Seed, s.ResultsDir = seed, root
	s = s.WithDefaults()
	dir, err := results.NewRunDir(root, s.Name, epoch.Add(time.Duration(seed)*time.Second))
	require.NoError(t, err)
	require.NoError(t, dir.WriteJSON(results.SpecFile, s))

	src := "lost-after-read-ok.jsonl"
	if k == lostRun {
		src = "lost-after-read.jsonl"
	}
	read, err := history.ReadFile(filepath.Join("..", "checkers", "testdata", src))
	require.NoError(t, err)
	// The client operations, the kill and its heal between the first write's acknowledgement and
	// the rest: the kill starts exposure after the first operation.
	first := read[0].Time
	kill := first + int64(exposure)
	var ops []history.Op
	for i, op := range read {
		if i == 2 {
			ops = append(ops,
				history.Op{Time: kill, Process: history.NemesisProcess, Type: history.Info, F: "start-kill", Raw: json.RawMessage(`{"nodes":["n1"]}`)},
				history.Op{Time: kill + int64(time.Millisecond), Process: history.NemesisProcess, Type: history.Info, F: "stop-kill", Raw: json.RawMessage(`{"nodes":["n1"]}`)})
		}
		if i >= 2 {
			op.Time += int64(exposure) + int64(2*time.Millisecond)
		}
		ops = append(ops, op)
	}
	var buf []byte
	for i := range ops {
		ops[i].Index = int64(i)
		buf = append(history.AppendJSON(buf, &ops[i]), '\n')
	}
	require.NoError(t, os.WriteFile(dir.File(results.HistoryFile), buf, 0o644))
	if k == unfinishedRun {
		return dir.Path
	}
	res, err := checkers.Check(ops, checkers.Options{})
	require.NoError(t, err)
	_, err = results.WriteRun(dir.Path, res, ops)
	require.NoError(t, err)
	return dir.Path
}

// campaignDirs makes the run directories of a small campaign under root: safe-kill and
// acks1-kill on 3.9.1/zookeeper and 4.1.1/kraft, a --kafka-timeouts campaign, a run whose time
// limit was overridden, an unfinished run, a run of no scenario and one with a broken test.json.
func campaignDirs(t *testing.T, root string) {
	t.Helper()
	zk, kraft := Version{"3.9.1", "zookeeper"}, Version{"4.1.1", "kraft"}
	cell := func(v Version, name string) string { return filepath.Join(root, v.Kafka, v.Metadata, name) }
	for i := range int64(3) {
		makeRun(t, cell(zk, "safe-kill"), "safe-kill", zk, 100+i, validRun, 0, nil)
		makeRun(t, cell(kraft, "safe-kill"), "safe-kill", kraft, 100+i, validRun, 0, nil)
		makeRun(t, cell(zk, "acks1-kill"), "acks1-kill", zk, 100+i, lostRun, time.Duration(i+1)*time.Second, nil)
	}
	// 4.1.1: two runs detected, one valid (not detected), one still running: 2/4 misses the bar.
	makeRun(t, cell(kraft, "acks1-kill"), "acks1-kill", kraft, 100, lostRun, 3*time.Second, nil)
	makeRun(t, cell(kraft, "acks1-kill"), "acks1-kill", kraft, 101, lostRun, 5*time.Second, nil)
	makeRun(t, cell(kraft, "acks1-kill"), "acks1-kill", kraft, 102, validRun, 0, nil)
	makeRun(t, cell(kraft, "acks1-kill"), "acks1-kill", kraft, 103, unfinishedRun, 0, nil)
	// Kafka's own timeouts, and a time limit of 30 s: rows of their own.
	timeouts := func(s *suites.Scenario) { *s = s.WithKafkaTimeouts() }
	makeRun(t, filepath.Join(root, "timeouts"), "safe-kill", zk, 7, validRun, 0, timeouts)
	makeRun(t, filepath.Join(root, "short"), "safe-kill", zk, 9, validRun, 0, func(s *suites.Scenario) {
		s.Spec.TimeLimit = spec.Duration(30 * time.Second)
	})
	// The same seed twice: both count, the seeds say so.
	makeRun(t, filepath.Join(root, "short"), "safe-kill", zk, 9, validRun, 0, func(s *suites.Scenario) {
		s.Spec.TimeLimit = spec.Duration(30 * time.Second)
	})
	// A kchaos run of no scenario, and a broken test.json: problems, not rows.
	other, err := results.NewRunDir(filepath.Join(root, "other"), "my-test", epoch)
	require.NoError(t, err)
	s := spec.Defaults()
	s.Name, s.Seed = "my-test", 1
	require.NoError(t, other.WriteJSON(results.SpecFile, s))
	broken, err := results.NewRunDir(filepath.Join(root, "other"), "broken", epoch)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(broken.File(results.SpecFile), []byte("{\n\"name\": 3\n}\n"), 0o644))
}

func tabulate(t *testing.T, root string) Table {
	t.Helper()
	dirs, err := FindRunDirs([]string{root})
	require.NoError(t, err)
	return Tabulate(dirs)
}

func TestTabulateFromRunDirectories(t *testing.T) {
	root := t.TempDir()
	campaignDirs(t, root)
	table := tabulate(t, root)

	type rowWant struct {
		version, scenario, differs, kind string
		runs, valid, unknown, invalid    int
		notDone, detected                int
		median                           time.Duration
		met                              bool
		seeds                            string
	}
	var got []rowWant
	for _, r := range table.Rows {
		m, _ := r.Tally.MedianExposure()
		got = append(got, rowWant{r.Version, r.Scenario, r.Differs, r.Kind, r.Tally.Runs, r.Tally.Valid, r.Tally.Unknown,
			r.Tally.Invalid, r.Tally.NotDone, r.Tally.Detected, m, r.Met, seedRanges(r.Runs)})
	}
	require.Equal(t, []rowWant{
		{"3.9.1/zookeeper", "acks1-kill", "", "unsafe: lost-write", 3, 0, 0, 3, 0, 3, 2 * time.Second, true, "100-102"},
		{"3.9.1/zookeeper", "safe-kill", "", "safe", 3, 3, 0, 0, 0, 0, 0, true, "100-102"},
		{"3.9.1/zookeeper", "safe-kill", "time_limit=30s", "safe", 2, 2, 0, 0, 0, 0, 0, true, "9 (9 ×2)"},
		{"3.9.1/zookeeper", "safe-kill/kafka-timeouts", "", "safe", 1, 1, 0, 0, 0, 0, 0, true, "7"},
		{"4.1.1/kraft", "acks1-kill", "", "unsafe: lost-write", 3, 1, 0, 2, 1, 2, 5 * time.Second, false, "100-103"},
		{"4.1.1/kraft", "safe-kill", "", "safe", 3, 3, 0, 0, 0, 0, 0, true, "100-102"},
	}, got)
	require.False(t, table.MeetsBar(), "4.1.1 acks1-kill detects in 2 of 4")
	require.Len(t, table.Problems, 2)
	require.Contains(t, table.Problems[0].Problem, "test.json: line 2: json: cannot unmarshal number")
	require.Equal(t, `test name "my-test" names no scenario of kchaos bench detect --list`, table.Problems[1].Problem)
	for _, r := range table.Rows[4].Runs {
		if r.Seed == 103 {
			require.Equal(t, NotFinished, r.State)
			require.Empty(t, r.Report)
		} else {
			require.FileExists(t, r.Report)
		}
	}
}

// A results.json that cannot be read is counted as not finished and named.
func TestTabulateUnreadableResults(t *testing.T) {
	root := t.TempDir()
	v := Version{"3.9.1", "zookeeper"}
	dir := makeRun(t, root, "safe-kill", v, 1, validRun, 0, nil)
	makeRun(t, root, "safe-kill", v, 2, validRun, 0, nil)
	require.NoError(t, os.WriteFile(filepath.Join(dir, results.ResultsFile), []byte("{\"valid\": \n"), 0o644))
	table := tabulate(t, root)
	require.Len(t, table.Rows, 1)
	require.Equal(t, 1, table.Rows[0].Tally.Runs)
	require.Equal(t, 1, table.Rows[0].Tally.NotDone)
	require.False(t, table.Rows[0].Met, "1 valid of 2: no bar")
	require.Len(t, table.Problems, 1)
	require.Contains(t, table.Problems[0].Problem, "counted as not finished")
}

func TestFindRunDirs(t *testing.T) {
	root := t.TempDir()
	v := Version{"4.1.1", "kraft"}
	a := makeRun(t, root, "safe-kill", v, 1, validRun, 0, nil) // also linked as root/latest
	require.NoError(t, results.RunDir{Path: a}.MarkLatest(root))
	b := makeRun(t, filepath.Join(root, "sub"), "safe-pause", v, 2, unfinishedRun, 0, nil)
	dirs, err := FindRunDirs([]string{root, a})
	require.NoError(t, err)
	require.Equal(t, []string{a, b}, dirs, "each once, latest not followed")
	_, err = FindRunDirs([]string{filepath.Join(root, "nope")})
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = FindRunDirs([]string{filepath.Join(a, results.SpecFile)})
	require.ErrorContains(t, err, "is not a directory")
}

// The Markdown and the HTML of a small campaign are those of testdata (go test ./campaign -run
// TestRenderGolden -args -update rewrites them), and rendering the same run directories again,
// found in another order, gives the same bytes.
func TestRenderGolden(t *testing.T) {
	root := t.TempDir()
	campaignDirs(t, root)
	table := tabulate(t, root)
	md := table.Markdown(root)
	page, err := table.HTML(root)
	require.NoError(t, err)

	dirs, err := FindRunDirs([]string{filepath.Join(root, "short"), filepath.Join(root, "4.1.1"), root})
	require.NoError(t, err)
	again := Tabulate(append(dirs[len(dirs)/2:], dirs[:len(dirs)/2]...))
	require.Equal(t, md, again.Markdown(root), "same run directories, same Markdown")
	page2, err := again.HTML(root)
	require.NoError(t, err)
	require.Equal(t, page, page2, "same run directories, same HTML")

	for name, got := range map[string][]byte{"matrix.md": md, "matrix.html": page} {
		path := filepath.Join("testdata", name)
		if *update {
			require.NoError(t, os.MkdirAll("testdata", 0o755))
			require.NoError(t, os.WriteFile(path, got, 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test ./campaign -run TestRenderGolden -args -update")
		require.True(t, bytes.Equal(want, got), "%s differs; run go test ./campaign -run TestRenderGolden -args -update\n%s", name, got)
	}
	require.NotContains(t, string(page), root, "links are relative")
	require.NotContains(t, string(page), "http", "nothing fetched")
	require.Contains(t, string(page), `href="3.9.1/zookeeper/acks1-kill/acks1-kill/20260102T030545/report.html"`)
	require.Contains(t, string(page), `href="4.1.1/kraft/acks1-kill/acks1-kill/20260102T030548/"`, "an unfinished run links to its directory")
}
