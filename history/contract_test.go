package history_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
)

func TestFinalRead(t *testing.T) {
	fr := history.FinalRead{Key: "kchaos/0", Complete: true, Marker: 7, ReachedTarget: true, Position: 8, HighWatermark: 8, Target: 6,
		Processes: []int64{1000000000}}
	op := history.ObserveFinalRead(fr)
	line := string(history.AppendJSON(nil, &op))
	require.Equal(t, `{"index":0,"time":0,"process":"observer","type":"info","f":"final-read","value":{"key":"kchaos/0","complete":true,"marker":7,"reached_target":true,"position":8,"high_watermark":8,"target":6,"processes":[1000000000]}}`, line)
	back, err := history.ParseLine([]byte(line))
	require.NoError(t, err)
	got, err := back.FinalRead()
	require.NoError(t, err)
	require.Equal(t, fr, got)

	tests := []struct {
		name, line, msg string
	}{
		{"no key", `{"index":3,"time":0,"process":"observer","type":"info","f":"final-read","value":{"complete":true}}`, `lacks "key"`},
		{"no complete", `{"index":3,"time":0,"process":"observer","type":"info","f":"final-read","value":{"key":"k"}}`, `lacks "complete"`},
		{"wrong type", `{"index":3,"time":0,"process":"observer","type":"info","f":"final-read","value":{"key":"k","complete":"yes"}}`, "final-read value"},
		{"not final-read", `{"index":3,"time":0,"process":"observer","type":"info","f":"controller","value":{"broker":1,"epoch":1}}`, "not an observer final-read line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, err := history.ParseLine([]byte(tt.line))
			require.NoError(t, err)
			_, err = op.FinalRead()
			require.ErrorContains(t, err, "index 3")
			require.ErrorContains(t, err, tt.msg)
		})
	}
}

// Every line's f is one its writer may write, and nemesis and observer lines are info: a line no
// checker understands is an error naming the line and the f, never skipped.
func TestReadRejectsUnknownLines(t *testing.T) {
	first := `{"index":0,"time":0,"process":1,"type":"invoke","f":"poll","value":[["poll"]]}`
	tests := []struct {
		name, line, msg string
	}{
		{"client f", `{"index":1,"time":1,"process":1,"type":"ok","f":"append","value":[["poll"]]}`, `unknown client f "append"`},
		{"client f, no value", `{"index":1,"time":1,"process":1,"type":"ok","f":"read"}`, `unknown client f "read"`},
		{"client f, nemesis name", `{"index":1,"time":1,"process":1,"type":"info","f":"start-kill","value":null}`, `unknown client f "start-kill"`},
		{"observer f", `{"index":1,"time":1,"process":"observer","type":"info","f":"partition-states","value":{}}`, `unknown observer f "partition-states"`},
		{"observer invoke", `{"index":1,"time":1,"process":"observer","type":"invoke","f":"controller","value":{"broker":1,"epoch":1}}`, `observer line "controller" of type invoke`},
		{"nemesis invoke", `{"index":1,"time":1,"process":"nemesis","type":"invoke","f":"start-kill","value":{"nodes":["n1"]}}`, `nemesis line "start-kill" of type invoke`},
		{"nemesis ok", `{"index":1,"time":1,"process":"nemesis","type":"ok","f":"stop-kill","value":null}`, `of type ok: nemesis lines are info`},
		{"nemesis empty f", `{"index":1,"time":1,"process":"nemesis","type":"info","f":"","value":null}`, `nemesis f ""`},
		{"nemesis f with escape", `{"index":1,"time":1,"process":"nemesis","type":"info","f":"kill\u001b[2J","value":null}`, `nemesis f "kill\x1b[2J"`},
		{"nemesis f of a client", `{"index":1,"time":1,"process":"nemesis","type":"info","f":"send","value":null}`, `nemesis f "send"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := first + "\n" + tt.line + "\n"
			_, err := history.Read(strings.NewReader(data))
			var le *history.LineError
			require.True(t, errors.As(err, &le), "%v", err)
			require.Equal(t, 2, le.Line)
			require.ErrorContains(t, err, tt.msg)
			dec := history.NewDecoder(strings.NewReader(data))
			var op history.Op
			require.NoError(t, dec.Decode(&op))
			err = dec.Decode(&op)
			require.True(t, errors.As(err, &le), "%v", err)
			require.Equal(t, 2, le.Line)
		})
	}
	// The open-ended nemesis names, the client fs and the observer list are accepted.
	for _, line := range []string{
		`{"index":0,"time":1,"process":"nemesis","type":"info","f":"isolate-jepsen-2013","value":{"leader":"n1"}}`,
		`{"index":0,"time":1,"process":"nemesis","type":"info","f":"bump-clock","value":null}`,
		`{"index":0,"time":1,"process":"nemesis","type":"info","f":"jepsen.nemesis.combined/start-partition","value":null}`,
		`{"index":0,"time":1,"process":"nemesis","type":"info","f":"kill","value":{"n1":"killed"}}`,
		`{"index":0,"time":1,"process":"observer","type":"info","f":"final-read","value":{"key":"k","complete":true}}`,
		`{"index":0,"time":1,"process":2,"type":"invoke","f":"txn","value":[["poll"]]}`,
		`{"index":0,"time":1,"process":2,"type":"invoke","f":"subscribe","value":["k"]}`,
	} {
		_, err := history.ParseLine([]byte(line))
		require.NoError(t, err, line)
	}
}

// Jepsen writes errors as vectors; HISTORY.md allows any JSON. It is kept as written and reads
// as its JSON text.
func TestErrorAnyJSON(t *testing.T) {
	tests := []struct {
		errJSON  string
		text     string
		raw      string
		rewrites string
	}{
		{`"timeout"`, "timeout", "", `"timeout"`},
		{`["network","Disconnected"]`, `["network","Disconnected"]`, `["network","Disconnected"]`, `["network","Disconnected"]`},
		{`[ "network" , "Disconnected" ]`, `["network","Disconnected"]`, `["network","Disconnected"]`, `["network","Disconnected"]`},
		{`{"type":"unknown-topic","n":3}`, `{"type":"unknown-topic","n":3}`, `{"type":"unknown-topic","n":3}`, `{"type":"unknown-topic","n":3}`},
		{`42`, `42`, `42`, `42`},
		{`false`, `false`, `false`, `false`},
	}
	for _, tt := range tests {
		line := `{"index":0,"time":1,"process":2,"type":"info","f":"send","value":[["send","k",1]],"error":` + tt.errJSON + `}`
		op, err := history.ParseLine([]byte(line))
		require.NoError(t, err, line)
		require.Equal(t, tt.text, op.Error)
		if tt.raw == "" {
			require.Nil(t, op.ErrorRaw)
		} else {
			require.JSONEq(t, tt.raw, string(op.ErrorRaw))
		}
		out := string(history.AppendJSON(nil, &op))
		require.True(t, strings.HasSuffix(out, `,"error":`+tt.rewrites+`}`), out)
		back, err := history.ParseLine([]byte(out))
		require.NoError(t, err)
		require.Equal(t, op, back)
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"kchaos/0", "kchaos/0"},
		{"a key with spaces", "a key with spaces"},
		{"clé", "clé"},
		{"", ""},
		{"k\x1b[31mred", `"k\x1b[31mred"`},
		{"line\nbreak", `"line\nbreak"`},
		{"del\x7f", `"del\x7f"`},
		{"bidi\u202eevil", `"bidi\u202eevil"`},
		{"c1\u009b", `"c1\u009b"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, history.Printable(tt.in), "%q", tt.in)
	}
}

// Deeply nested JSON in a value or an error is an error of its line, not a stack overflow.
func TestDeepNesting(t *testing.T) {
	const depth = 100000
	deep := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	lines := []string{
		`{"index":0,"time":1,"process":"nemesis","type":"info","f":"start-kill","value":` + deep + `}`,
		`{"index":0,"time":1,"process":2,"type":"invoke","f":"send","value":` + deep + `}`,
		`{"index":0,"time":1,"process":2,"type":"invoke","f":"send","value":[["send","k",` + deep + `]]}`,
		`{"index":0,"time":1,"process":2,"type":"ok","f":"poll","value":[["poll",{"k":` + deep + `}]]}`,
		`{"index":0,"time":1,"process":2,"type":"info","f":"poll","value":[["poll"]],"error":` + deep + `}`,
		`{"index":0,"time":1,"process":"observer","type":"info","f":"partition-state","value":` + deep + `}`,
		strings.Repeat(`{"a":`, depth) + strings.Repeat("}", depth),
	}
	for i, line := range lines {
		op, err := history.ParseLine([]byte(line))
		if err == nil {
			// Accepted lines must decode safely too.
			_, _ = op.PartitionState()
			_ = history.DecodeNemesisValue(op.Raw)
			continue
		}
		_, err = history.Read(strings.NewReader(line))
		require.Error(t, err, "line %d", i)
		var le *history.LineError
		require.True(t, errors.As(err, &le))
	}
	// Nesting encoding/json allows reads, as a raw nemesis value.
	ok := strings.Repeat("[", 1000) + strings.Repeat("]", 1000)
	op, err := history.ParseLine([]byte(`{"index":0,"time":1,"process":"nemesis","type":"info","f":"start-x","value":` + ok + `}`))
	require.NoError(t, err)
	require.Equal(t, ok, string(op.Raw))
	require.Empty(t, history.FaultWindows([]history.Op{op})[0].Error)
}

func TestNemesisValue(t *testing.T) {
	tests := []struct {
		raw string
		hit []string
	}{
		{`{"nodes":["n10","n2"],"target":"primaries","key":"kchaos/0"}`, []string{"n2", "n10"}},
		{`{"shape":"isolate","grudge":{"n1":["zk1","n2"],"n2":["n1"],"zk1":["n1"],"clients":["n1"]}}`, []string{"clients", "n1", "n2", "zk1"}},
		{`{"key":"kchaos/0","follower":"n3","leader":"n1","loss":0.9}`, []string{"n3"}},
		{`{"key":"kchaos/0","leader":"n1","isr":[1,2],"phase":"isolate-leader","grudge":{"n1":["n2"]}}`, []string{"n1"}},
		{`{"nodes":{"n1":"killed"},"leader":"n2"}`, []string{"n2"}}, // nodes in another shape: ignored
		{`["n1"]`, nil},
		{`null`, nil},
	}
	for _, tt := range tests {
		require.Equal(t, tt.hit, history.DecodeNemesisValue(json.RawMessage(tt.raw)).Hit(), tt.raw)
	}
	v := history.DecodeNemesisValue(json.RawMessage(`{"nodes":["n1"],"shape":"ring","key":"k/1"}`))
	require.Equal(t, history.NemesisValue{Nodes: []string{"n1"}, Shape: "ring", Key: "k/1"}, v)
	for name, want := range map[string]int{"n1": 1, "n12": 12} {
		id, ok := history.BrokerID(name)
		require.True(t, ok)
		require.Equal(t, want, id)
	}
	for _, name := range []string{"zk1", "n", "n-1", "n+1", "clients", "n1a"} {
		_, ok := history.BrokerID(name)
		require.False(t, ok, name)
	}
}

func TestFaultWindows(t *testing.T) {
	nem := func(t *testing.T, time int64, f string, v any, err string) history.Op {
		op, e := history.Nemesis(f, v)
		require.NoError(t, e)
		op.Time, op.Error = time, err
		return op
	}
	n1 := map[string]any{"nodes": []string{"n1"}}
	n2 := map[string]any{"nodes": []string{"n2"}}
	ops := []history.Op{
		nem(t, 10, "start-kill", n1, ""),                                                               // 0: kill n1
		nem(t, 11, "start-kill", n2, ""),                                                               // 1: kill n2, overlapping
		nem(t, 12, "start-pause", nil, "no target"),                                                    // 2: failed: never open
		nem(t, 13, "stop-kill", n1, ""),                                                                // 3: stops kill n1 (named), not the latest
		nem(t, 14, "stop-pause", nil, ""),                                                              // 4: nothing open: ignored
		nem(t, 15, "start-jepsen-2013", map[string]any{"leader": "n3"}, ""),                            // 5
		nem(t, 16, "isolate-jepsen-2013", map[string]any{"leader": "n3"}, ""),                          // 6: a step of 5
		nem(t, 17, "stop-jepsen-2013", n2, "heal failed"),                                              // 7: stays open
		nem(t, 18, "stop-jepsen-2013", map[string]any{"nodes": []string{"n3"}}, ""),                    // 8: stops 5 and 6
		nem(t, 19, "stop-kill", nil, ""),                                                               // 9: stops kill n2, the latest
		nem(t, 20, "start-partition", map[string]any{"grudge": map[string][]string{"n1": {"n2"}}}, ""), // 10: never stopped
		nem(t, 21, "kill", nil, ""),                                                                    // 11: Jepsen-style: no window
	}
	for i := range ops {
		ops[i].Index = int64(i)
	}
	got := history.FaultWindows(ops)
	raw := func(i int) json.RawMessage { return ops[i].Raw }
	want := []history.FaultWindow{
		{Kind: "kill", F: "start-kill", Parent: -1, Start: 0, StartTime: 10, Value: raw(0), Stopped: true, Stop: 3, StopTime: 13},
		{Kind: "kill", F: "start-kill", Parent: -1, Start: 1, StartTime: 11, Value: raw(1), Stopped: true, Stop: 9, StopTime: 19},
		{Kind: "pause", F: "start-pause", Parent: -1, Start: 2, StartTime: 12, Error: "no target", Stop: -1},
		{Kind: "jepsen-2013", F: "start-jepsen-2013", Parent: -1, Start: 5, StartTime: 15, Value: raw(5), Stopped: true, Stop: 8, StopTime: 18,
			StopErrors: []string{"heal failed"}},
		{Kind: "jepsen-2013", F: "isolate-jepsen-2013", Step: "isolate", Parent: 3, Start: 6, StartTime: 16, Value: raw(6), Stopped: true, Stop: 8, StopTime: 18},
		{Kind: "partition", F: "start-partition", Parent: -1, Start: 10, StartTime: 20, Value: raw(10), Stop: -1},
	}
	require.Equal(t, want, got)
	require.True(t, got[0].Open(12))
	require.False(t, got[0].Open(14))
	require.False(t, got[2].Open(12))
	require.True(t, got[5].Open(1000))
	require.Empty(t, history.FaultWindows(nil))
}

// What is written is written to be read back: the writer and the nemesis constructor refuse
// lines Read would refuse.
func TestWriteRefusesUnreadableLines(t *testing.T) {
	var buf strings.Builder
	w := history.NewWriter(&buf)
	for _, op := range []history.Op{
		{Process: 1, Type: history.Invoke, F: "append"},
		{Process: history.ObserverProcess, Type: history.Info, F: "leader"},
		{Process: history.NemesisProcess, Type: history.Invoke, F: "start-kill"},
		{Process: 1, F: "send"},
	} {
		require.Error(t, w.Write(&op), "%+v", op)
	}
	_, err := history.Nemesis("start kill", nil)
	require.ErrorContains(t, err, `nemesis f "start kill"`)
	_, err = history.Nemesis("poll", nil)
	require.Error(t, err)
	require.NoError(t, w.Flush())
	require.Empty(t, buf.String())
}

func TestExactMetadataLines(t *testing.T) {
	zk := history.PartitionState{Key: "t/0", Leader: 2, LeaderEpoch: 3, ISR: []int{2, 3}, ZkVersion: 4,
		Source: history.SourceZooKeeperLog, Zxid: 0x100000021, LogTime: 5_000_000_000}
	kraft := history.PartitionState{Key: "t/1", Leader: -1, LeaderEpoch: 7, ISR: []int{}, PartitionEpoch: 9,
		ELR: []int{1, 5}, LastKnownELR: []int{1}, Source: history.SourceKRaftLog, MetadataOffset: 131, LogTime: 6}
	for _, want := range []history.PartitionState{zk, kraft} {
		op := history.ObservePartitionState(want)
		line := history.AppendJSON(nil, &op)
		back, err := history.ParseLine(line)
		require.NoError(t, err, "%s", line)
		got, err := back.PartitionState()
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.True(t, got.Exact())
	}
	// A live state without zk_version is refused; a KRaft one needs none.
	live := history.Op{Process: history.ObserverProcess, Type: history.Info, F: history.FPartitionState,
		Raw: []byte(`{"key":"t/0","leader":1,"leader_epoch":0,"isr":[1]}`)}
	_, err := live.PartitionState()
	require.ErrorContains(t, err, "zk_version")

	m := history.MetadataLog{Source: history.SourceZooKeeperLog, Complete: false, Reason: "zxid 0x1000000a9 missing", First: 1, Last: 9, States: 3}
	op := history.ObserveMetadataLog(m)
	back, err := history.ParseLine(history.AppendJSON(nil, &op))
	require.NoError(t, err)
	gotM, err := back.MetadataLog()
	require.NoError(t, err)
	require.Equal(t, m, gotM)

	b := history.BrokerState{Broker: 3, Registered: true, Fenced: true, Epoch: 12, Source: history.SourceKRaftLog, MetadataOffset: 54}
	op = history.ObserveBrokerState(b)
	back, err = history.ParseLine(history.AppendJSON(nil, &op))
	require.NoError(t, err)
	gotB, err := back.BrokerState()
	require.NoError(t, err)
	require.Equal(t, b, gotB)
}
