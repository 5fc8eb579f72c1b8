package checkers_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
)

func readString(t *testing.T, text string) []history.Op {
	t.Helper()
	ops, err := history.Read(strings.NewReader(text))
	require.NoError(t, err)
	return ops
}

// Stats allocate in proportion to the history, never to its time values: a history written with
// Unix-epoch nanoseconds checks in a few kilobytes, and one spanning absurdly long gets no
// per-second series.
func TestStatsTimeValues(t *testing.T) {
	const epoch int64 = 1764440000123456789
	tests := []struct {
		name    string
		times   [4]int64
		start   int64
		seconds int
		omitted bool
	}{
		{"from zero", [4]int64{0, 1e9, 2.5e9, 3e9}, 0, 4, false},
		{"epoch times", [4]int64{epoch, epoch + 1e6, epoch + 2e9, epoch + 2.1e9}, epoch - epoch%1e9, 3, false},
		{"zero then epoch", [4]int64{0, 1e6, epoch, epoch + 1}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &builder{}
			b.send(tt.times[0], tt.times[1], 1, "kchaos/0", 0, 1)
			b.at(tt.times[2], history.PollInvoke(2))
			b.at(tt.times[3], history.PollOK(2, []history.KeyReads{{Key: "kchaos/0", Records: []history.Record{{Offset: 0, Value: history.IntValue(1)}}}}))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := checkers.Check(b.ops, checkers.Options{})
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "allocated in proportion to the times")
			require.Equal(t, checkers.Valid, r.Valid)
			s := r.Stats
			require.Equal(t, tt.start, s.Start)
			require.Equal(t, tt.seconds, s.Seconds)
			require.Equal(t, 1, s.Totals["send"]["ok"])
			if tt.omitted {
				require.Empty(t, s.PerSecond)
				require.Contains(t, s.PerSecondOmitted, "more than")
				return
			}
			require.Empty(t, s.PerSecondOmitted)
			require.Len(t, s.PerSecond["send"]["ok"], tt.seconds)
			require.Equal(t, 1, s.PerSecond["poll"]["ok"][tt.seconds-1])
		})
	}
}

// A key with control characters (a terminal escape, a bidirectional override) is shown escaped
// in every explanation and reason, whatever the anomaly.
func TestExplanationsArePrintable(t *testing.T) {
	files, err := filepath.Glob("testdata/*.jsonl")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	const evil = `"kchaos\u001b[2J\u202e/0"`
	escaped := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		ops := readString(t, strings.ReplaceAll(string(data), `"kchaos/0"`, evil))
		r, err := checkers.Check(ops, checkers.Options{ExpectFinalReads: true, ObservedFromCreation: true})
		require.NoError(t, err, file)
		out, err := r.JSON()
		require.NoError(t, err)
		var doc any
		require.NoError(t, json.Unmarshal(out, &doc))
		walkStrings(doc, "", func(field, s string) {
			if field != "explanation" && field != "reason" && field != "answer" {
				return
			}
			for _, c := range s {
				require.True(t, c == ' ' || unicode.IsPrint(c), "%s: %s %q", file, field, s)
			}
			if strings.Contains(s, `\x1b[2J\u202e`) {
				escaped++
			}
		})
	}
	require.Positive(t, escaped, "no explanation named the key")
}

// walkStrings calls fn with every string in a decoded JSON document and the field holding it.
func walkStrings(v any, field string, fn func(field, s string)) {
	switch v := v.(type) {
	case string:
		fn(field, v)
	case []any:
		for _, x := range v {
			walkStrings(x, field, fn)
		}
	case map[string]any:
		for k, x := range v {
			walkStrings(x, k, fn)
		}
	}
}

// Ops built in memory are held to the rules Read applies: a line no checker understands fails
// the check, naming the line and its f.
func TestCheckRejectsUnknownLines(t *testing.T) {
	kill, err := history.Nemesis("start-kill", map[string]any{"nodes": []string{"n1"}})
	require.NoError(t, err)
	killInvoke := kill
	killInvoke.Type = history.Invoke
	tests := []struct {
		name string
		op   history.Op
		msg  string
	}{
		{"client f", history.Op{Process: 2, Type: history.Invoke, F: "append"}, `unknown client f "append"`},
		{"observer f", history.Op{Process: history.ObserverProcess, Type: history.Info, F: "leader"}, `unknown observer f "leader"`},
		{"nemesis invoke", killInvoke, `nemesis line "start-kill" of type invoke`},
		{"no type", history.Op{Process: 2, F: "send"}, "invalid type 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &builder{}
			b.send(0, 1, 1, "kchaos/0", 0, 1)
			b.at(2, tt.op)
			_, err := checkers.Check(b.ops, checkers.Options{})
			require.ErrorContains(t, err, "line 3: "+tt.msg)
		})
	}
	b := &builder{}
	b.send(0, 1, 1, "kchaos/0", 0, 1)
	b.at(2, kill)
	b.at(3, history.Op{Process: 2, Type: history.Invoke, F: history.FTxn})
	_, err = checkers.Check(b.ops, checkers.Options{})
	require.NoError(t, err, "txn is a client f")
}

// A large process number costs no memory in proportion to it.
func TestLargeProcessNumbers(t *testing.T) {
	b := &builder{}
	b.send(0, 1, 1<<20-1, "kchaos/0", 0, 1)
	b.at(2, history.PollInvoke(1<<20-2))
	b.at(3, history.PollOK(1<<20-2, []history.KeyReads{{Key: "kchaos/0", Records: []history.Record{{Offset: 0, Value: history.IntValue(1)}}}}))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, err := checkers.Check(b.ops, checkers.Options{})
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.Equal(t, checkers.Valid, r.Valid)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20))
}

// Extreme numbers, which the history format allows, check without overflowing an index.
func TestExtremeNumbers(t *testing.T) {
	line := func(i int, rest string) string {
		return `{"index":` + strconv.Itoa(i) + `,` + rest + "}\n"
	}
	tests := []struct {
		name  string
		lines []string
	}{
		{"values far apart", []string{
			`"time":0,"process":1,"type":"invoke","f":"send","value":[["send","k",-5000000000000000000]]`,
			`"time":1,"process":1,"type":"ok","f":"send","value":[["send","k",[0,-5000000000000000000]]]`,
			`"time":2,"process":1,"type":"invoke","f":"send","value":[["send","k",5000000000000000000]]`,
			`"time":3,"process":1,"type":"ok","f":"send","value":[["send","k",[1,5000000000000000000]]]`,
		}},
		{"values at the ends of int64", []string{
			`"time":0,"process":1,"type":"invoke","f":"send","value":[["send","k",-9223372036854775808],["send","k",9223372036854775807]]`,
			`"time":1,"process":1,"type":"ok","f":"send","value":[["send","k",[0,-9223372036854775808]],["send","k",[1,9223372036854775807]]]`,
		}},
		{"largest offset", []string{
			`"time":0,"process":1,"type":"invoke","f":"send","value":[["send","k",1]]`,
			`"time":1,"process":1,"type":"ok","f":"send","value":[["send","k",[0,1]]]`,
			`"time":2,"process":1,"type":"invoke","f":"send","value":[["send","k",2]]`,
			`"time":3,"process":1,"type":"ok","f":"send","value":[["send","k",[9223372036854775807,2]]]`,
			`"time":4,"process":2,"type":"invoke","f":"poll","value":[["poll"]]`,
			`"time":5,"process":2,"type":"ok","f":"poll","value":[["poll",{"k":[[0,1],[9223372036854775807,2]]}]]`,
		}},
		{"latest time", []string{
			`"time":9223372036854775806,"process":1,"type":"invoke","f":"send","value":[["send","k",1]]`,
			`"time":9223372036854775807,"process":1,"type":"ok","f":"send","value":[["send","k",[0,1]]]`,
			`"time":9223372036854775807,"process":"observer","type":"info","f":"partition-state","value":{"key":"k","leader":1,"leader_epoch":2147483647,"isr":[1],"zk_version":9223372036854775807}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var text strings.Builder
			for i, l := range tt.lines {
				text.WriteString(line(i, l))
			}
			r, err := checkers.Check(readString(t, text.String()), checkers.Options{LinearizabilityTimeout: time.Second})
			require.NoError(t, err)
			_, err = r.JSON()
			require.NoError(t, err)
		})
	}
}
