package campaign

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/harness"
	"github.com/kchaos/kchaos/suites"
)

func TestTallyBars(t *testing.T) {
	unsafe, err := suites.Get("acks1-kill")
	require.NoError(t, err)
	var tally Tally
	for i := range 10 {
		out := harness.Outcome{Checked: true, Verdict: checkers.Invalid, AnomalyTypes: []string{"lost-write"}}
		if i == 0 {
			out = harness.Outcome{Checked: true, Verdict: checkers.Valid}
		}
		tally.Add(unsafe, out)
	}
	require.Equal(t, 9, tally.Detected)
	require.True(t, tally.MeetsBar(unsafe), "9 of 10 meets the bar")
	tally.Add(unsafe, harness.Outcome{Checked: true, Verdict: checkers.Valid})
	require.False(t, tally.MeetsBar(unsafe), "9 of 11 does not")
	require.Contains(t, tally.Summary(unsafe), "detected [lost-write] in 9/11 runs")

	safe, err := suites.Get("safe-kill")
	require.NoError(t, err)
	var safeTally Tally
	safeTally.Add(safe, harness.Outcome{Checked: true, Verdict: checkers.Valid})
	require.True(t, safeTally.MeetsBar(safe))
	safeTally.Add(safe, harness.Outcome{Checked: true, Verdict: checkers.Unknown})
	require.False(t, safeTally.MeetsBar(safe), "an unknown verdict is no pass for a safe scenario")
	require.Equal(t, "safe-kill: valid 1, unknown 1, invalid 0 of 2 runs (false positives: the invalid ones)", safeTally.Summary(safe))
	for range 8 {
		safeTally.Add(safe, harness.Outcome{Checked: true, Verdict: checkers.Valid})
	}
	require.True(t, safeTally.MeetsBar(safe), "9 valid of 10 with no invalid meets the bar")
	safeTally.Add(safe, harness.Outcome{Checked: true, Verdict: checkers.Invalid})
	require.False(t, safeTally.MeetsBar(safe), "an invalid run of a safe scenario never meets the bar")
	require.Contains(t, safeTally.Summary(safe), "valid 9, unknown 1, invalid 1 of 11 runs")
}

func TestTallyCountsRunsNotDoneApart(t *testing.T) {
	safe, err := suites.Get("safe-pause")
	require.NoError(t, err)
	var tally Tally
	for range 9 {
		tally.Add(safe, harness.Outcome{Checked: true, Verdict: checkers.Valid})
	}
	tally.NotDone++
	require.True(t, tally.MeetsBar(safe), "9 valid of 10 attempted")
	require.Equal(t, "safe-pause: valid 9, unknown 0, invalid 0 of 9 runs (1 more could not be done) (false positives: the invalid ones)", tally.Summary(safe))
	tally.NotDone++
	require.False(t, tally.MeetsBar(safe), "9 valid of 11 attempted: a run not done is no pass")
}
