package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/harness"
	"github.com/kchaos/kchaos/suites"
)

func TestDetectTallyBars(t *testing.T) {
	unsafe, err := suites.Get("acks1-kill")
	require.NoError(t, err)
	var tally detectTally
	for i := range 10 {
		out := harness.Outcome{Checked: true, Verdict: checkers.Invalid, AnomalyTypes: []string{"lost-write"}}
		if i == 0 {
			out = harness.Outcome{Checked: true, Verdict: checkers.Valid}
		}
		tally.add(unsafe, out)
	}
	require.Equal(t, 9, tally.detected)
	require.True(t, tally.meetsBar(unsafe), "9 of 10 meets the bar")
	tally.add(unsafe, harness.Outcome{Checked: true, Verdict: checkers.Valid})
	require.False(t, tally.meetsBar(unsafe), "9 of 11 does not")
	require.Contains(t, tally.summary(unsafe), "detected [lost-write] in 9/11 runs")

	safe, err := suites.Get("safe-kill")
	require.NoError(t, err)
	var safeTally detectTally
	safeTally.add(safe, harness.Outcome{Checked: true, Verdict: checkers.Valid})
	require.True(t, safeTally.meetsBar(safe))
	safeTally.add(safe, harness.Outcome{Checked: true, Verdict: checkers.Unknown})
	require.False(t, safeTally.meetsBar(safe), "an unknown verdict is no pass for a safe scenario")
	require.Equal(t, "safe-kill: valid 1, unknown 1, invalid 0 of 2 runs (false positives: the invalid ones)", safeTally.summary(safe))
	for range 8 {
		safeTally.add(safe, harness.Outcome{Checked: true, Verdict: checkers.Valid})
	}
	require.True(t, safeTally.meetsBar(safe), "9 valid of 10 with no invalid meets the bar")
	safeTally.add(safe, harness.Outcome{Checked: true, Verdict: checkers.Invalid})
	require.False(t, safeTally.meetsBar(safe), "an invalid run of a safe scenario never meets the bar")
	require.Contains(t, safeTally.summary(safe), "valid 9, unknown 1, invalid 1 of 11 runs")
}

func TestDetectTallyCountsRunsNotDoneApart(t *testing.T) {
	safe, err := suites.Get("safe-pause")
	require.NoError(t, err)
	var tally detectTally
	for range 9 {
		tally.add(safe, harness.Outcome{Checked: true, Verdict: checkers.Valid})
	}
	tally.notDone++
	require.True(t, tally.meetsBar(safe), "9 valid of 10 attempted")
	require.Equal(t, "safe-pause: valid 9, unknown 0, invalid 0 of 9 runs (1 more could not be done) (false positives: the invalid ones)", tally.summary(safe))
	tally.notDone++
	require.False(t, tally.meetsBar(safe), "9 valid of 11 attempted: a run not done is no pass")
}
