package queue

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
)

// TestOffsetTracking: the highest offset per key comes from ok sends and ok polls, never from
// failed or unknown ones; final reads aim past it.
func TestOffsetTracking(t *testing.T) {
	var o offsets
	for _, op := range []history.Op{
		history.SendOK(1, "k/0", 7, history.IntValue(1)),
		history.SendOK(1, "k/0", 3, history.IntValue(2)),
		history.SendInvoke(2, "k/1", history.IntValue(3)).Complete(history.Info, "timeout"),
		history.PollInvoke(3).Complete(history.OK, ""),
	} {
		o.see(&op)
	}
	poll := history.PollInvoke(4)
	poll.Mops[0].Reads = []history.KeyReads{{Key: "k/2", Records: []history.Record{{Offset: 4, Value: history.IntValue(9)}, {Offset: 11, Value: history.IntValue(10)}}}}
	done := poll.Complete(history.OK, "")
	o.see(&done)
	require.Equal(t, int64(7), o.max("k/0"))
	require.Equal(t, int64(-1), o.max("k/1"), "an info send says nothing of its offset")
	require.Equal(t, int64(11), o.max("k/2"))
}
