package campaign

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kchaos/kchaos/harness"
	"github.com/kchaos/kchaos/results"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/suites"
)

// NotFinished is the state of a run directory without results.json: a run still going, or one
// that could not be done. It counts against the bar.
const NotFinished = "not finished"

// Run is one run directory of a matrix row, read back.
type Run struct {
	Dir  string
	Seed int64
	// State is the verdict of results.json (valid, invalid, unknown), or NotFinished.
	State string
	// Detected is set when the run found every anomaly its scenario expects.
	Detected bool
	// Report is the path of the run's report.html; "" when it has none.
	Report string
}

// Row is one scenario on one Kafka version: every run directory whose spec names them.
type Row struct {
	// Version is "3.9.1/zookeeper".
	Version string
	// Scenario is the scenario's name, "/kafka-timeouts" added when the runs ran on Kafka's own
	// timeouts (bench detect --kafka-timeouts).
	Scenario string
	// Differs lists the spec fields, as test.json names them, in which the runs differ from the
	// scenario's definition ("time_limit=30s, ..."); "" when they match it. Runs that differ
	// differently are rows of their own.
	Differs string
	// Kind is "safe", "unsafe: " and the expected anomaly types, or "explore".
	Kind string
	// Tally counts the finished runs; its NotDone the run directories without results.
	Tally Tally
	// Met says whether the runs meet the scenario's bar (an explore scenario has none: always).
	Met bool
	// Runs are the row's run directories, by seed.
	Runs []Run

	scenario suites.Scenario
}

// Problem is a run directory left out of the table, or counted as not finished, and why.
type Problem struct {
	Dir, Problem string
}

// Table is a matrix of scenarios by Kafka version, tabulated from run directories.
type Table struct {
	// Rows are sorted by version, then scenario, then Differs.
	Rows []Row
	// Problems are sorted by directory.
	Problems []Problem
}

// MeetsBar reports whether every row meets its bar.
func (t Table) MeetsBar() bool {
	for _, r := range t.Rows {
		if !r.Met {
			return false
		}
	}
	return true
}

// FindRunDirs returns every run directory (a directory holding test.json) under the given
// directories, each of which may be a run directory itself, sorted and without repeats. It does
// not follow symbolic links (a results directory's latest link names a run listed already) nor
// look inside a run directory. A directory that cannot be read is an error.
func FindRunDirs(roots []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, root := range roots {
		fi, err := os.Stat(root)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s is not a directory", root)
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, results.SpecFile)); err != nil {
				return nil
			}
			key := p
			if abs, err := filepath.Abs(p); err == nil {
				key = abs
			}
			if !seen[key] {
				seen[key] = true
				out = append(out, p)
			}
			return filepath.SkipDir
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}

// Tabulate reads each run directory's test.json (the scenario is its test name, the version its
// Kafka release and metadata mode), results.json (its verdict and anomalies; a directory without
// one is not finished) and, for a run that detected what its scenario expects, history.jsonl
// (the time to the exposing fault), and adds them up by version and scenario. A run whose spec
// is not its scenario's definition on that version is keyed apart by what differs. A directory
// whose test.json cannot be read or names no scenario is a Problem, not a row. The same
// directories give the same table, in whatever order.
func Tabulate(dirs []string) Table {
	dirs = slices.Sorted(slices.Values(dirs))
	var t Table
	rows := map[string]*Row{}
	for _, dir := range dirs {
		sp, err := results.ReadSpec(filepath.Join(dir, results.SpecFile))
		if err != nil {
			t.Problems = append(t.Problems, Problem{dir, inDir(err, dir)})
			continue
		}
		sc, err := suites.Get(sp.Name)
		if err != nil {
			t.Problems = append(t.Problems, Problem{dir, fmt.Sprintf("test name %q names no scenario of kchaos bench detect --list", sp.Name)})
			continue
		}
		sc, differs := matchScenario(sc, *sp)
		version := sc.Version()
		key := version + "\x00" + sc.Name + "\x00" + differs
		row := rows[key]
		if row == nil {
			row = &Row{Version: version, Scenario: sc.Name, Differs: differs, Kind: kind(sc), scenario: sc}
			rows[key] = row
		}
		run := Run{Dir: dir, Seed: sp.Seed, State: NotFinished}
		if _, err := os.Stat(filepath.Join(dir, results.ReportFile)); err == nil {
			run.Report = filepath.Join(dir, results.ReportFile)
		}
		res, err := results.ReadResults(filepath.Join(dir, results.ResultsFile))
		switch {
		case errors.Is(err, os.ErrNotExist):
			row.Tally.NotDone++
		case err != nil:
			row.Tally.NotDone++
			t.Problems = append(t.Problems, Problem{dir, inDir(err, dir) + " (counted as not finished)"})
		default:
			run.State = res.Valid.String()
			run.Detected = sc.Detected(res.AnomalyTypes)
			row.Tally.Add(sc, harness.Outcome{RunDir: dir, Checked: true, Verdict: res.Valid, AnomalyTypes: res.AnomalyTypes, Result: res})
		}
		row.Runs = append(row.Runs, run)
	}
	for _, r := range rows {
		slices.SortFunc(r.Runs, func(a, b Run) int { return cmp.Or(cmp.Compare(a.Seed, b.Seed), strings.Compare(a.Dir, b.Dir)) })
		r.Met = r.Tally.MeetsBar(r.scenario)
		t.Rows = append(t.Rows, *r)
	}
	slices.SortFunc(t.Rows, func(a, b Row) int {
		return cmp.Or(compareVersions(a.Version, b.Version), strings.Compare(a.Scenario, b.Scenario), strings.Compare(a.Differs, b.Differs))
	})
	slices.SortStableFunc(t.Problems, func(a, b Problem) int { return strings.Compare(a.Dir, b.Dir) })
	return t
}

// inDir is err's text with the paths of dir's files written relative to dir, which the Problem
// names: a table of the same directories elsewhere says the same.
func inDir(err error, dir string) string {
	return strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
}

func kind(s suites.Scenario) string {
	switch {
	case s.Safe():
		return "safe"
	case s.Explore:
		return "explore"
	}
	return "unsafe: " + strings.Join(s.Expect, ", ")
}

// matchScenario returns the scenario a run of sc with spec run is, on the run's version: sc as
// defined, or on Kafka's own timeouts, whichever the spec is closer to; and the spec's fields
// that still differ from it (its seed and results directory aside), "" when none.
func matchScenario(sc suites.Scenario, run spec.Spec) (suites.Scenario, string) {
	got := flatSpec(run, run)
	best, bestDiff := sc, []string(nil)
	for i, cand := range []suites.Scenario{sc, sc.WithKafkaTimeouts()} {
		on, err := cand.On(run.Cluster.KafkaVersion, run.Cluster.Metadata)
		if err != nil {
			on = cand
		}
		diff := diffFlat(flatSpec(on.Spec, run), got)
		if i == 0 || len(diff) < len(bestDiff) {
			best, bestDiff = on, diff
		}
	}
	return best, strings.Join(bestDiff, ", ")
}

// flatSpec is s with its defaults, as test.json would hold it, flattened to "cluster.brokers"
// keys and their JSON values; seed and results_dir are taken from run, so that they never differ.
func flatSpec(s, run spec.Spec) map[string]string {
	s.Seed, s.ResultsDir = run.Seed, run.ResultsDir
	full := s.WithDefaults()
	full.Seed = run.Seed
	data, err := json.Marshal(full)
	if err != nil {
		return map[string]string{"": err.Error()}
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return map[string]string{"": err.Error()}
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if obj, ok := v.(map[string]any); ok && prefix != "cluster.server_properties." {
			for k, x := range obj {
				walk(prefix+k+".", x)
			}
			return
		}
		key := strings.TrimSuffix(prefix, ".")
		if s, ok := v.(string); ok {
			out[key] = s
			return
		}
		b, _ := json.Marshal(v) // a value json.Unmarshal made: always encodable
		out[key] = string(b)
	}
	walk("", m)
	return out
}

// diffFlat lists, sorted, "key=value" for each key whose value in got differs from want
// ("key=(unset)" for one got lacks).
func diffFlat(want, got map[string]string) []string {
	var out []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			out = append(out, k+"=(unset)")
		case g != w:
			out = append(out, k+"="+g)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			out = append(out, k+"="+g)
		}
	}
	slices.Sort(out)
	return out
}

// seedRanges writes seeds as ranges, "100-104, 107"; a seed that repeats is named after them,
// "(101 ×2)".
func seedRanges(runs []Run) string {
	counts := map[int64]int{}
	var seeds []int64
	for _, r := range runs {
		if counts[r.Seed] == 0 {
			seeds = append(seeds, r.Seed)
		}
		counts[r.Seed]++
	}
	slices.Sort(seeds)
	var parts, repeats []string
	for i := 0; i < len(seeds); {
		j := i
		for j+1 < len(seeds) && seeds[j+1] == seeds[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.FormatInt(seeds[i], 10))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", seeds[i], seeds[j]))
		}
		i = j + 1
	}
	for _, s := range seeds {
		if n := counts[s]; n > 1 {
			repeats = append(repeats, fmt.Sprintf("%d ×%d", s, n))
		}
	}
	out := strings.Join(parts, ", ")
	if len(repeats) > 0 {
		out += " (" + strings.Join(repeats, ", ") + ")"
	}
	return out
}
