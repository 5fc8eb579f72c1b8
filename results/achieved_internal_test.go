package results

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAchievedText(t *testing.T) {
	for _, tc := range []struct {
		name, line, text string
		nothing          bool
	}{
		{"a leader moved", `{"achieved":{"held_ms":8000,"elections":2,"leaderless":0,"isr_shrunk":true,"new_leader":"n2"}}`,
			"held 8.0 s, 2 elections, new leader n2, ISR shrank", false},
		{"nothing changed", `{"achieved":{"held_ms":8000,"elections":0,"leaderless":0,"isr_shrunk":false}}`,
			"held 8.0 s, 0 elections", true},
		{"a controller kill moves the controller, no leader", `{"achieved":{"held_ms":8000,"elections":0,"leaderless":0,"isr_shrunk":false,"new_controller":"c2"}}`,
			"held 8.0 s, 0 elections, new controller c2", false},
		{"a broker fenced, no leader moved", `{"achieved":{"held_ms":8000,"elections":0,"leaderless":0,"isr_shrunk":false,"unregistered":["n3"]}}`,
			"held 8.0 s, 0 elections, unregistered n3", false},
		{"not measured", `{"achieved":{"held_ms":0,"elections":0,"leaderless":0,"isr_shrunk":false,"error":"no broker answered"}}`,
			"not measured: no broker answered", false},
		{"no achieved field", `{}`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, nothing := achievedText([]byte(tc.line))
			require.Equal(t, tc.text, text)
			require.Equal(t, tc.nothing, nothing)
		})
	}
}
