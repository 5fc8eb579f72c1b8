package workloads_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/workloads"
)

// step is one scripted operation of the final reads: what they must invoke, how it ends, the
// offset an ok marker write took (history.NoOffset under acks=0), and the progress an ok poll
// leaves.
type step struct {
	f        string
	typ      history.Type
	offset   int64
	pos, end int64
	delay    time.Duration // how long the operation takes
}

func send(typ history.Type, offset int64) step {
	return step{f: history.FSend, typ: typ, offset: offset}
}
func assign(typ history.Type) step { return step{f: history.FAssign, typ: typ} }
func poll(typ history.Type, pos, end int64) step {
	return step{f: history.FPoll, typ: typ, pos: pos, end: end}
}

// fakeKafka plays a script to the final readers' clients, whichever client invokes. When the
// script runs out it cancels the reads' context and fails the operation.
type fakeKafka struct {
	t        *testing.T
	steps    []step
	openErrs []error // the first opens fail with these
	cancel   context.CancelFunc

	opens   int                    // calls of Open, failed ones included
	opened  int                    // clients opened
	clients []int                  // per invocation, the client that ran it (numbered from 0 as opened)
	closed  map[int]bool           // clients closed
	values  map[history.Value]bool // marker values written
}

func (k *fakeKafka) open() (workloads.FinalReader, error) {
	k.opens++
	if len(k.openErrs) > 0 {
		err := k.openErrs[0]
		k.openErrs = k.openErrs[1:]
		return nil, err
	}
	c := &fakeClient{k: k, id: k.opened}
	k.opened++
	return c, nil
}

type fakeClient struct {
	k        *fakeKafka
	id       int
	pos, end int64
}

func (c *fakeClient) Invoke(ctx context.Context, inv history.Op) history.Op {
	k := c.k
	require.NoError(k.t, ctx.Err(), "an invoked operation runs to its completion")
	require.False(k.t, k.closed[c.id], "client %d invoked after Close", c.id)
	k.clients = append(k.clients, c.id)
	if inv.F == history.FSend {
		v := inv.Mops[0].Value
		require.False(k.t, k.values[v], "marker value %v written twice", v)
		k.values[v] = true
	}
	if len(k.steps) == 0 {
		k.cancel()
		return inv.Complete(history.Fail, "the script ran out")
	}
	s := k.steps[0]
	k.steps = k.steps[1:]
	require.Equal(k.t, s.f, inv.F, "operation %d", len(k.clients))
	time.Sleep(s.delay)
	switch {
	case s.typ != history.OK:
		return inv.Complete(s.typ, "scripted")
	case s.f == history.FSend:
		return history.SendOK(inv.Process, inv.Mops[0].Key, s.offset, inv.Mops[0].Value)
	case s.f == history.FPoll:
		c.pos, c.end = s.pos, s.end
		return history.PollOK(inv.Process, nil)
	}
	return inv.Complete(history.OK, "")
}

func (c *fakeClient) Progress(string) (position, end int64) { return c.pos, c.end }

func (c *fakeClient) Close() {
	require.False(c.k.t, c.k.closed[c.id], "client %d closed twice", c.id)
	c.k.closed[c.id] = true
}

// ops records what the final reads append.
type ops struct {
	mu  sync.Mutex
	ops []history.Op
}

func (o *ops) Append(op *history.Op) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ops = append(o.ops, *op)
}

func TestReadKey(t *testing.T) {
	const key = "t/0"
	// process 10, stride 3: a retired reader's successor is 13.
	tests := []struct {
		name      string
		steps     []step
		openErrs  []error
		maxOffset int64
		cancelled bool // ctx ends before the reads start
		wantOps   []string
		clients   []int // per invocation, the client that ran it
		wantLogs  []string
		want      history.FinalRead
	}{{
		name:      "marker offset: complete once the position passes it, below the end",
		steps:     []step{send(history.OK, 7), assign(history.OK), poll(history.OK, 5, 9), poll(history.OK, 8, 9)},
		maxOffset: 6,
		wantOps:   []string{"10 invoke send", "10 ok send", "10 invoke assign", "10 ok assign", "10 invoke poll", "10 ok poll", "10 invoke poll", "10 ok poll"},
		clients:   []int{0, 0, 0, 0},
		want:      history.FinalRead{Complete: true, ReachedTarget: true, Marker: 7, Position: 8, HighWatermark: 9, Target: 7, Processes: []int64{10}},
	}, {
		name:      "marker info: the process retires, the next one writes on a fresh client",
		steps:     []step{send(history.Info, 0), send(history.OK, 3), assign(history.OK), poll(history.OK, 4, 4)},
		maxOffset: 2,
		wantOps:   []string{"10 invoke send", "10 info send", "13 invoke send", "13 ok send", "13 invoke assign", "13 ok assign", "13 invoke poll", "13 ok poll"},
		clients:   []int{0, 1, 1, 1},
		want:      history.FinalRead{Complete: true, ReachedTarget: true, Marker: 3, Position: 4, HighWatermark: 4, Target: 3, Processes: []int64{10, 13}},
	}, {
		name:      "marker fail: the same process writes again",
		steps:     []step{send(history.Fail, 0), send(history.OK, 0), assign(history.OK), poll(history.OK, 1, 1)},
		maxOffset: -1,
		wantOps:   []string{"10 invoke send", "10 fail send", "10 invoke send", "10 ok send", "10 invoke assign", "10 ok assign", "10 invoke poll", "10 ok poll"},
		clients:   []int{0, 0, 0, 0},
		want:      history.FinalRead{Complete: true, ReachedTarget: true, Marker: 0, Position: 1, HighWatermark: 1, Target: 0, Processes: []int64{10}},
	}, {
		name:      "assign failure: retried",
		steps:     []step{send(history.OK, 2), assign(history.Fail), assign(history.OK), poll(history.OK, 3, 3)},
		maxOffset: 1,
		wantOps:   []string{"10 invoke send", "10 ok send", "10 invoke assign", "10 fail assign", "10 invoke assign", "10 ok assign", "10 invoke poll", "10 ok poll"},
		clients:   []int{0, 0, 0, 0},
		want:      history.FinalRead{Complete: true, ReachedTarget: true, Marker: 2, Position: 3, HighWatermark: 3, Target: 2, Processes: []int64{10}},
	}, {
		name:      "poll fail: the same process polls again, still assigned",
		steps:     []step{send(history.OK, 2), assign(history.OK), poll(history.Fail, 0, 0), poll(history.OK, 3, 3)},
		maxOffset: 1,
		wantOps:   []string{"10 invoke send", "10 ok send", "10 invoke assign", "10 ok assign", "10 invoke poll", "10 fail poll", "10 invoke poll", "10 ok poll"},
		clients:   []int{0, 0, 0, 0},
		want:      history.FinalRead{Complete: true, ReachedTarget: true, Marker: 2, Position: 3, HighWatermark: 3, Target: 2, Processes: []int64{10}},
	}, {
		name:      "poll info: the next process assigns again on a fresh client",
		steps:     []step{send(history.OK, 2), assign(history.OK), poll(history.Info, 0, 0), assign(history.OK), poll(history.OK, 3, 3)},
		maxOffset: 1,
		wantOps:   []string{"10 invoke send", "10 ok send", "10 invoke assign", "10 ok assign", "10 invoke poll", "10 info poll", "13 invoke assign", "13 ok assign", "13 invoke poll", "13 ok poll"},
		clients:   []int{0, 0, 0, 1, 1},
		want:      history.FinalRead{Complete: true, ReachedTarget: true, Marker: 2, Position: 3, HighWatermark: 3, Target: 2, Processes: []int64{10, 13}},
	}, {
		name:      "a client that fails to open: opened again",
		steps:     []step{send(history.OK, 0), assign(history.OK), poll(history.OK, 1, 1)},
		openErrs:  []error{errors.New("no brokers"), errors.New("no brokers")},
		wantLogs:  []string{"final read of t/0: no brokers"},
		maxOffset: 0,
		wantOps:   []string{"10 invoke send", "10 ok send", "10 invoke assign", "10 ok assign", "10 invoke poll", "10 ok poll"},
		clients:   []int{0, 0, 0},
		want:      history.FinalRead{Complete: true, ReachedTarget: true, Marker: 0, Position: 1, HighWatermark: 1, Target: 1, Processes: []int64{10}},
	}, {
		name:      "acks=0: complete at the end of the log once past the target",
		steps:     []step{send(history.OK, history.NoOffset), assign(history.OK), poll(history.OK, 10, 12), poll(history.OK, 12, 12)},
		maxOffset: 9,
		wantOps:   []string{"10 invoke send", "10 ok send", "10 invoke assign", "10 ok assign", "10 invoke poll", "10 ok poll", "10 invoke poll", "10 ok poll"},
		clients:   []int{0, 0, 0, 0},
		want:      history.FinalRead{Complete: true, ReachedTarget: true, Marker: -1, Position: 12, HighWatermark: 12, Target: 10, Processes: []int64{10}},
	}, {
		// EndStableFor is 300 ms: the second poll's end moved, the third's stood still 400 ms.
		name: "acks=0: complete below the target once the end stood still",
		steps: []step{send(history.OK, history.NoOffset), assign(history.OK), poll(history.OK, 3, 3),
			{f: history.FPoll, typ: history.OK, pos: 4, end: 4, delay: 400 * time.Millisecond},
			{f: history.FPoll, typ: history.OK, pos: 4, end: 4, delay: 400 * time.Millisecond}},
		maxOffset: 19,
		wantOps:   []string{"10 invoke send", "10 ok send", "10 invoke assign", "10 ok assign", "10 invoke poll", "10 ok poll", "10 invoke poll", "10 ok poll", "10 invoke poll", "10 ok poll"},
		clients:   []int{0, 0, 0, 0, 0},
		want:      history.FinalRead{Complete: true, ReachedTarget: false, Marker: -1, Position: 4, HighWatermark: 4, Target: 20, Processes: []int64{10}},
		wantLogs:  []string{"final read of t/0: the log ends at 4, below offset 19 that operations saw"},
	}, {
		name:      "ctx ends: the operation under way completes, the line says incomplete",
		steps:     []step{send(history.OK, 5), assign(history.OK), poll(history.OK, 2, 6)},
		maxOffset: 4,
		wantOps:   []string{"10 invoke send", "10 ok send", "10 invoke assign", "10 ok assign", "10 invoke poll", "10 ok poll", "10 invoke poll", "10 fail poll"},
		clients:   []int{0, 0, 0, 0},
		want:      history.FinalRead{Complete: false, ReachedTarget: false, Marker: 5, Position: 2, HighWatermark: 6, Target: 5, Processes: []int64{10}},
		wantLogs:  []string{"final read of t/0 incomplete: at offset 2 of 5 (end of log seen 6)"},
	}, {
		name:      "ctx ended before the reads: an incomplete line and no reader",
		cancelled: true,
		maxOffset: 4,
		want:      history.FinalRead{Marker: -1, Target: 5, Processes: []int64{}},
		wantLogs:  []string{"final read of t/0 incomplete: at offset 0 of 5 (end of log seen 0)"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelled {
				cancel()
			}
			k := &fakeKafka{t: t, steps: tt.steps, openErrs: tt.openErrs, cancel: cancel,
				closed: map[int]bool{}, values: map[history.Value]bool{}}
			next := int64(100)
			var logs []string
			cfg := workloads.FinalReadConfig{
				Open:      k.open,
				NextValue: func() int64 { next++; return next },
				MaxOffset: func(k string) int64 {
					require.Equal(t, key, k)
					return tt.maxOffset
				},
				EndStableFor: 300 * time.Millisecond,
				Pause:        5 * time.Millisecond,
				Logf:         func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) },
			}
			var rec ops
			got := workloads.ReadKey(ctx, &rec, key, 10, 3, cfg)

			want := tt.want
			want.Key = key
			require.Equal(t, want, got)
			require.NotEmpty(t, rec.ops)
			line := rec.ops[len(rec.ops)-1]
			require.Equal(t, history.ObserverProcess, line.Process)
			fr, err := line.FinalRead()
			require.NoError(t, err)
			require.Equal(t, want, fr, "the recorded line")

			var gotOps []string
			for _, op := range rec.ops[:len(rec.ops)-1] {
				gotOps = append(gotOps, fmt.Sprintf("%d %s %s", op.Process, op.Type, op.F))
			}
			require.Equal(t, tt.wantOps, gotOps)
			require.Equal(t, tt.clients, k.clients)
			require.Empty(t, k.steps, "the script played to its end")
			require.Equal(t, len(tt.openErrs)+k.opened, k.opens, "a client is opened only when none is open")
			require.Len(t, k.closed, k.opened, "every client closed")
			require.Equal(t, tt.wantLogs, logs)
		})
	}
}

// instantClient answers every final read at once: the marker at offset 0, the log one record
// long.
type instantClient struct{}

func (instantClient) Invoke(_ context.Context, inv history.Op) history.Op {
	if inv.F == history.FSend {
		return history.SendOK(inv.Process, inv.Mops[0].Key, 0, inv.Mops[0].Value)
	}
	return inv.Complete(history.OK, "")
}
func (instantClient) Progress(string) (position, end int64) { return 1, 1 }
func (instantClient) Close()                                {}

// ReadKeys reads every key, key i by process FinalReadProcess+i.
func TestReadKeys(t *testing.T) {
	keys := []string{"t/0", "t/1", "t/2"}
	var next sync.Mutex
	value := int64(0)
	cfg := workloads.FinalReadConfig{
		Open: func() (workloads.FinalReader, error) { return instantClient{}, nil },
		NextValue: func() int64 {
			next.Lock()
			defer next.Unlock()
			value++
			return value
		},
		MaxOffset: func(string) int64 { return -1 },
	}
	var rec ops
	workloads.ReadKeys(context.Background(), &rec, keys, cfg)
	got := map[string][]int64{}
	for _, op := range rec.ops {
		if op.F == history.FFinalRead {
			fr, err := op.FinalRead()
			require.NoError(t, err)
			require.True(t, fr.Complete, "%s", fr.Key)
			got[fr.Key] = fr.Processes
		}
	}
	p := int64(workloads.FinalReadProcess)
	require.Equal(t, map[string][]int64{"t/0": {p}, "t/1": {p + 1}, "t/2": {p + 2}}, got)
}
