package workloads_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/workloads"
)

func TestOffsets(t *testing.T) {
	var o workloads.Offsets
	require.Equal(t, int64(-1), o.Max("t/0"), "nothing seen yet")

	o.See(new(history.SendOK(1, "t/0", 7, history.IntValue(1))))
	o.See(new(history.SendOK(1, "t/0", 3, history.IntValue(2))))
	require.Equal(t, int64(7), o.Max("t/0"), "the highest offset, not the last")

	// A poll counts the last record it read of each key.
	o.See(new(history.PollOK(2, []history.KeyReads{
		{Key: "t/1", Records: []history.Record{{Offset: 4}, {Offset: 9}}},
		{Key: "t/2", Records: nil},
	})))
	require.Equal(t, int64(9), o.Max("t/1"))
	require.Equal(t, int64(-1), o.Max("t/2"), "an empty read sees no offset")

	// Sends that failed or whose outcome is unknown, and sends without an offset, say nothing.
	o.See(new(history.SendFail(3, "t/3", history.IntValue(3), "no leader")))
	o.See(new(history.SendInfo(3, "t/3", history.IntValue(4), "timeout")))
	o.See(new(history.SendOK(3, "t/3", history.NoOffset, history.IntValue(5))))
	require.Equal(t, int64(-1), o.Max("t/3"))
}
