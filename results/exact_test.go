package results

import (
	"testing"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/stretchr/testify/require"
)

func TestRuleMark(t *testing.T) {
	prev := history.PartitionState{Leader: history.NoLeader, ISR: []int{}, ELR: []int{5}, LastKnownELR: []int{1}}
	tests := []struct {
		rule, class, label, verdict string
	}{
		{checkers.RuleISR, "e-clean", "", "elected by rule ISR: 3 was in the ISR []"},
		{checkers.RuleELR, "e-clean", "ELR", "elected by rule ELR: the ISR was empty and 3 was in the ELR [5]"},
		{checkers.RuleLastKnownLeader, "e-clean", "last known", "elected by rule last known leader: the ISR and the ELR were empty and 3 was in the last known ELR [1]"},
		{checkers.RuleUnclean, "e-unclean", "unclean", "UNCLEAN: 3 was not in the ISR [], ELR [5], last known ELR [1]"},
		{"", "e-undecided", "?", "the election checker named no rule for this election"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			class, label, verdict := ruleMark(tt.rule, prev, 3)
			require.Equal(t, []string{tt.class, tt.label, tt.verdict}, []string{class, label, verdict})
		})
	}
}

func TestRulesText(t *testing.T) {
	require.Equal(t, "3 ISR, 1 ELR, 2 last known leader, 1 unclean, 1 quorum",
		rulesText(map[string]int{"unclean": 1, "elr": 1, "isr": 3, "last-known-leader": 2, "quorum": 1, "none": 0}))
	require.Empty(t, rulesText(nil))
}
