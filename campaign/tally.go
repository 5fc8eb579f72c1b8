// Package campaign adds up a scenario's runs: the tally of their verdicts, detections and times
// to the exposing fault, each scenario's bar, and the matrix of scenarios by Kafka version,
// tabulated from run directories and written as Markdown or HTML. It computes no verdict: it
// reads the ones the checkers wrote.
package campaign

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/harness"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/results"
	"github.com/kchaos/kchaos/suites"
)

// Tally counts the outcomes of a scenario's runs.
type Tally struct {
	// Runs counts the runs that were checked; Detected those that found every expected anomaly.
	Runs, Detected int
	// Valid, Unknown and Invalid count the checked runs by verdict, always apart.
	Valid, Unknown, Invalid int
	// NotDone counts the runs that could not be done, or have no verdict yet; they are not in Runs
	// and count against the bar.
	NotDone int
	// Exposures are the times to the exposing fault of the detected runs that have one.
	Exposures []time.Duration
}

// Add counts a checked run of s and returns its verdict line: the verdict, its anomaly types and,
// when it detected what s expects, the fault that exposed it (read from the run's history).
func (t *Tally) Add(s suites.Scenario, out harness.Outcome) string {
	t.Runs++
	verdict := out.Verdict.String()
	if len(out.AnomalyTypes) > 0 {
		verdict += " [" + strings.Join(out.AnomalyTypes, ", ") + "]"
	}
	switch out.Verdict {
	case checkers.Valid:
		t.Valid++
	case checkers.Unknown:
		t.Unknown++
	default:
		t.Invalid++
	}
	if !s.Detected(out.AnomalyTypes) {
		return verdict
	}
	t.Detected++
	ops, err := history.ReadFile(filepath.Join(out.RunDir, results.HistoryFile))
	if err != nil || out.Result == nil {
		return verdict
	}
	if e, ok := suites.ExposedBy(ops, out.Result, s.Expect); ok {
		t.Exposures = append(t.Exposures, e.After)
		verdict += fmt.Sprintf(", exposed by %s at %s", e.Fault, e.After.Round(100*time.Millisecond))
	}
	return verdict
}

// MedianExposure is the median time to the exposing fault, rounded to 100 ms; false when no run
// has one.
func (t *Tally) MedianExposure() (time.Duration, bool) {
	if len(t.Exposures) == 0 {
		return 0, false
	}
	sorted := slices.Clone(t.Exposures)
	slices.Sort(sorted)
	return sorted[len(sorted)/2].Round(100 * time.Millisecond), true
}

// Summary sums the runs up; valid, unknown and invalid are always counted apart, so that no
// unknown hides behind "no false positive".
func (t *Tally) Summary(s suites.Scenario) string {
	counts := fmt.Sprintf("valid %d, unknown %d, invalid %d of %d runs", t.Valid, t.Unknown, t.Invalid, t.Runs)
	if t.NotDone > 0 {
		counts += fmt.Sprintf(" (%d more could not be done)", t.NotDone)
	}
	switch {
	case s.Safe():
		return fmt.Sprintf("%s: %s (false positives: the invalid ones)", s.Name, counts)
	case s.Explore:
		return fmt.Sprintf("%s: %s", s.Name, counts)
	}
	median := "n/a"
	if m, ok := t.MedianExposure(); ok {
		median = m.String()
	}
	return fmt.Sprintf("%s: detected %v in %d/%d runs; %s; median time to the exposing fault %s", s.Name, s.Expect, t.Detected, t.Runs, counts, median)
}

// MeetsBar reports whether the runs meet the scenario's bar: an unsafe scenario detected in at
// least 9 runs in 10; a safe one valid in at least 9 in 10 and never invalid (an unknown is no
// pass); an explore scenario always. A run not done counts against the bar.
func (t *Tally) MeetsBar(s suites.Scenario) bool {
	switch {
	case s.Safe():
		return t.Invalid == 0 && t.Valid*10 >= (t.Runs+t.NotDone)*9
	case s.Explore:
		return true
	}
	return t.Runs > 0 && t.Detected*10 >= (t.Runs+t.NotDone)*9
}
