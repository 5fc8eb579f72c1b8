package coverage

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
)

// at stamps ops with consecutive indexes and the given times, in seconds.
func at(ops []history.Op, seconds ...float64) []history.Op {
	for i := range ops {
		ops[i].Index, ops[i].Time = int64(i), int64(seconds[i]*1e9)
	}
	return ops
}

func nemesis(t *testing.T, f string) history.Op {
	op, err := history.Nemesis(f, nil)
	require.NoError(t, err)
	return op
}

func TestWindows(t *testing.T) {
	read := history.PollOK(1, []history.KeyReads{{Key: "k/0", Records: []history.Record{
		{Offset: 0, Value: history.IntValue(1)}, {Offset: 1, Value: history.IntValue(2)}}}})
	failedStart := nemesis(t, "start-pause")
	failedStart.Error = "no such node"
	ops := at([]history.Op{
		history.SendInvoke(0, "k/0", history.IntValue(1)), // 0: before the kill, done inside it
		nemesis(t, "start-kill"),
		history.SendOK(0, "k/0", 0, history.IntValue(1)),
		history.PollInvoke(1),
		read,                   // inside the kill
		history.PollInvoke(1),  // 5
		history.PollOK(1, nil), // empty read, inside the kill
		history.SendInvoke(2, "k/0", history.IntValue(2)),
		history.SendInfo(2, "k/0", history.IntValue(2), "timeout"),
		nemesis(t, "stop-kill"),
		history.SendInvoke(0, "k/0", history.IntValue(3)), // 10: after the kill, inside the partition
		nemesis(t, "start-partition"),
		history.SendFail(0, "k/0", history.IntValue(3), "no leader"),
		failedStart,
		history.SendInvoke(3, "k/0", history.IntValue(4)), // never completes
	}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

	got, err := Windows(ops)
	require.NoError(t, err)
	require.Equal(t, []Window{
		{Fault: "kill", Start: 2e9, Stop: 10e9, StartIndex: 1, StopIndex: 9,
			Writes: 1, Reads: 1, Records: 2, EmptyReads: 1, Unknown: 1},
		{Fault: "partition", Start: 12e9, Stop: 15e9, StartIndex: 11, StopIndex: -1, Failed: 1, Unknown: 1},
		{Fault: "pause", Start: 14e9, Stop: 15e9, StartIndex: 13, StopIndex: -1, StartError: "no such node", Unknown: 1},
	}, got)
	require.True(t, got[0].Covered())
	require.False(t, got[1].Covered())
	require.Equal(t, "kill 2.0s–10.0s: 1 acknowledged writes, 1 reads (2 records), 0 failed, 1 unknown", got[0].String())
	require.Equal(t, "partition 12.0s–15.0s (never stopped): 0 acknowledged writes, 0 reads (0 records), 1 failed, 1 unknown", got[1].String())
}

// Starts and stops of one kind pair oldest first; a stop with no open window is ignored.
func TestWindowsPairOldestFirst(t *testing.T) {
	ops := at([]history.Op{
		nemesis(t, "stop-lag"),
		nemesis(t, "start-lag"),
		nemesis(t, "start-lag"),
		nemesis(t, "stop-lag"),
		nemesis(t, "stop-lag"),
	}, 1, 2, 3, 4, 5)
	got, err := Windows(ops)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, [2]int64{2e9, 4e9}, [2]int64{got[0].Start, got[0].Stop})
	require.Equal(t, [2]int64{3e9, 5e9}, [2]int64{got[1].Start, got[1].Stop})
}

func TestWindowsNoFaults(t *testing.T) {
	got, err := Windows(at([]history.Op{history.PollInvoke(0), history.PollOK(0, nil)}, 1, 2))
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestWindowsBadHistory(t *testing.T) {
	_, err := Windows(at([]history.Op{history.PollOK(0, nil)}, 1))
	require.Error(t, err)
}

func TestUnknowns(t *testing.T) {
	ops := at([]history.Op{
		history.SendInvoke(0, "k/0", history.IntValue(1)),
		history.SendInfo(0, "k/0", history.IntValue(1), "read tcp 127.0.0.1:38424->127.0.0.1:45407: i/o timeout"),
		history.SendInvoke(1, "k/0", history.IntValue(2)),
		history.SendInfo(1, "k/0", history.IntValue(2), "read tcp 127.0.0.1:38860->127.0.0.1:45407: i/o timeout"),
		history.PollInvoke(2),
		history.PollInfo(2, "[7] Request Timed Out"),
		history.PollInvoke(3),
		history.PollOK(3, nil),
		history.SendInvoke(4, "k/0", history.IntValue(3)),
	}, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	got, err := Unknowns(ops)
	require.NoError(t, err)
	require.Equal(t, []Unknown{
		{F: "send", Error: "read tcp ADDR: i/o timeout", Count: 2, First: 2e9, Last: 4e9},
		{F: "poll", Error: "[7] Request Timed Out", Count: 1, First: 6e9, Last: 6e9},
		{F: "send", Error: "never completed", Count: 1, First: 9e9, Last: 9e9},
	}, got)
}
