package history_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
)

func TestPairValid(t *testing.T) {
	partner, err := history.Pair(readValid(t))
	require.NoError(t, err)
	// -1: observer and nemesis lines, and the invocation on the last line that never completed.
	require.Equal(t, []int{-1, -1, 4, 6, 2, 10, 3, -1, 9, 8, 5, 12, 11, -1, -1, -1, 17, 16, 19, 18, 21, 20, -1}, partner)
}

func TestPairErrors(t *testing.T) {
	inv := func(p history.Process, f string, time int64) history.Op {
		return history.Op{Process: p, Type: history.Invoke, F: f, Time: time}
	}
	done := func(p history.Process, typ history.Type, f string, time int64) history.Op {
		return history.Op{Process: p, Type: typ, F: f, Time: time}
	}
	tests := []struct {
		name string
		ops  []history.Op
		line int
		msg  string
	}{
		{"completion without invocation", []history.Op{done(1, history.OK, "send", 1)}, 1, "completes no open invocation"},
		{"two open", []history.Op{inv(1, "send", 1), inv(1, "poll", 2)}, 2, "still open"},
		{"f mismatch", []history.Op{inv(1, "send", 1), done(1, history.OK, "poll", 2)}, 2, "completes the invocation of send at line 1"},
		{"time backwards", []history.Op{inv(1, "send", 5), done(1, history.OK, "send", 4)}, 2, "earlier than its invocation"},
		{"invoke after info", []history.Op{inv(1, "send", 1), done(1, history.Info, "send", 2), inv(1, "send", 3)}, 3, "never invokes again"},
		{"large process ids", []history.Op{inv(1<<40, "send", 1), done(1<<40, history.Fail, "send", 2), done(1<<40, history.Fail, "send", 3)}, 3, "completes no open invocation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := history.Pair(tt.ops)
			var le *history.LineError
			require.True(t, errors.As(err, &le), "%v", err)
			require.Equal(t, tt.line, le.Line)
			require.True(t, strings.Contains(err.Error(), tt.msg), "%v", err)
		})
	}
	// The same shapes, done right, pair.
	partner, err := history.Pair([]history.Op{inv(1<<40, "send", 1), done(1<<40, history.Fail, "send", 2), inv(1<<40, "send", 3), inv(2, "poll", 3), done(2, history.OK, "poll", 3)})
	require.NoError(t, err)
	require.Equal(t, []int{1, 0, -1, 4, 3}, partner)
}
