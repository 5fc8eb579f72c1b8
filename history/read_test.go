package history_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
)

func readValid(t testing.TB) []history.Op {
	t.Helper()
	ops, err := history.ReadFile("testdata/valid.jsonl")
	require.NoError(t, err)
	return ops
}

func TestReadValid(t *testing.T) {
	ops := readValid(t)
	require.Len(t, ops, 23)
	v := history.IntValue
	tests := []struct {
		index int
		want  history.Op
	}{
		{2, history.Op{Index: 2, Time: 1000, Process: 0, Type: history.Invoke, F: "assign", Keys: []string{"kchaos/0", "kchaos/1"}}},
		{3, history.Op{Index: 3, Time: 1500, Process: 1, Type: history.Invoke, F: "send", Mops: []history.Mop{history.Send("kchaos/0", v(17))}}},
		{6, history.Op{Index: 6, Time: 3000, Process: 1, Type: history.OK, F: "send", Mops: []history.Mop{history.SendAt("kchaos/0", 42, v(17))}}},
		{7, history.Op{Index: 7, Time: 3100, Process: history.NemesisProcess, Type: history.Info, F: "start-partition",
			Raw: json.RawMessage(`{"shape":"majorities-ring","grudge":{"n1":["n2","n3"]}}`)}},
		{8, history.Op{Index: 8, Time: 3200, Process: 0, Type: history.Invoke, F: "poll", Mops: []history.Mop{history.Poll()}}},
		{9, history.Op{Index: 9, Time: 4000, Process: 0, Type: history.OK, F: "poll", Mops: []history.Mop{history.PollResult([]history.KeyReads{
			{Key: "kchaos/0", Records: []history.Record{{Offset: 41, Value: v(16)}, {Offset: 42, Value: v(17)}}},
			{Key: "kchaos/1", Records: []history.Record{}},
		})}}},
		{10, history.Op{Index: 10, Time: 5000, Process: 2, Type: history.Info, F: "send", Mops: []history.Mop{history.Send("kchaos/1", v(18))}, Error: "request timed out"}},
		{15, history.Op{Index: 15, Time: 5500, Process: history.NemesisProcess, Type: history.Info, F: "stop-partition"}},
		{19, history.Op{Index: 19, Time: 6800, Process: 1, Type: history.OK, F: "txn", Mops: []history.Mop{
			history.SendAt("kchaos/0", 43, history.StringValue("a string")),
			history.Send("kchaos/1", v(21)),
			history.PollResult([]history.KeyReads{{Key: "kchaos/0", Records: []history.Record{{Offset: 43, Value: history.StringValue("a string")}}}}),
		}}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, ops[tt.index], "line %d", tt.index+1)
	}

	s, err := ops[14].PartitionState()
	require.NoError(t, err)
	require.Equal(t, history.PartitionState{Key: "kchaos/0", Leader: history.NoLeader, LeaderEpoch: 1, ISR: []int{1}, ZkVersion: 2}, s)
	c, err := ops[1].Controller()
	require.NoError(t, err)
	require.Equal(t, history.Controller{Broker: 1, Epoch: 1}, c)
	g, err := ops[13].ObserverGap()
	require.NoError(t, err)
	require.Equal(t, history.ObserverGap{Key: "kchaos/0", FromVersion: 0, ToVersion: 2}, g)
	_, err = ops[13].PartitionState()
	require.ErrorContains(t, err, "not an observer partition-state line")
}

// The file is written in the writer's own format, so writing what was read gives it back byte
// for byte.
func TestWriteReproducesFile(t *testing.T) {
	data, err := os.ReadFile("testdata/valid.jsonl")
	require.NoError(t, err)
	ops := readValid(t)
	var buf bytes.Buffer
	w := history.NewWriter(&buf)
	for i := range ops {
		require.NoError(t, w.Write(&ops[i]))
	}
	require.NoError(t, w.Flush())
	require.Equal(t, string(data), buf.String())
}

func TestConstructorsWriteTheDocumentedLines(t *testing.T) {
	v := history.IntValue(17)
	tests := []struct {
		op   history.Op
		want string
	}{
		{history.SendInvoke(3, "kchaos/0", v), `{"index":0,"time":0,"process":3,"type":"invoke","f":"send","value":[["send","kchaos/0",17]]}`},
		{history.SendOK(3, "kchaos/0", 42, v), `{"index":0,"time":0,"process":3,"type":"ok","f":"send","value":[["send","kchaos/0",[42,17]]]}`},
		{history.SendOK(3, "kchaos/0", history.NoOffset, v), `{"index":0,"time":0,"process":3,"type":"ok","f":"send","value":[["send","kchaos/0",17]]}`},
		{history.SendInfo(3, "kchaos/0", v, "timeout"), `{"index":0,"time":0,"process":3,"type":"info","f":"send","value":[["send","kchaos/0",17]],"error":"timeout"}`},
		{history.SendFail(3, "kchaos/0", v, `say "no"`), `{"index":0,"time":0,"process":3,"type":"fail","f":"send","value":[["send","kchaos/0",17]],"error":"say \"no\""}`},
		{history.PollInvoke(4), `{"index":0,"time":0,"process":4,"type":"invoke","f":"poll","value":[["poll"]]}`},
		{history.PollOK(4, []history.KeyReads{{Key: "kchaos/0", Records: []history.Record{{Offset: 41, Value: history.IntValue(16)}, {Offset: 42, Value: v}}}, {Key: "kchaos/1"}}),
			`{"index":0,"time":0,"process":4,"type":"ok","f":"poll","value":[["poll",{"kchaos/0":[[41,16],[42,17]],"kchaos/1":[]}]]}`},
		{history.PollOK(4, nil), `{"index":0,"time":0,"process":4,"type":"ok","f":"poll","value":[["poll",{}]]}`},
		{history.PollInfo(4, "reset"), `{"index":0,"time":0,"process":4,"type":"info","f":"poll","value":[["poll"]],"error":"reset"}`},
		{history.AssignInvoke(4, []string{"kchaos/0", "kchaos/1"}).Complete(history.OK, ""), `{"index":0,"time":0,"process":4,"type":"ok","f":"assign","value":["kchaos/0","kchaos/1"]}`},
		{history.SubscribeInvoke(4, []string{"kchaos/0"}), `{"index":0,"time":0,"process":4,"type":"invoke","f":"subscribe","value":["kchaos/0"]}`},
		{history.ObservePartitionState(history.PartitionState{Key: "kchaos/0", Leader: 2, LeaderEpoch: 5, ISR: []int{2, 3}, ZkVersion: 9}),
			`{"index":0,"time":0,"process":"observer","type":"info","f":"partition-state","value":{"key":"kchaos/0","leader":2,"leader_epoch":5,"isr":[2,3],"zk_version":9}}`},
		{history.ObserveController(history.Controller{Broker: 3, Epoch: 4}), `{"index":0,"time":0,"process":"observer","type":"info","f":"controller","value":{"broker":3,"epoch":4}}`},
		{history.ObserveGap(history.ObserverGap{Key: "kchaos/0", FromVersion: 9, ToVersion: 11}),
			`{"index":0,"time":0,"process":"observer","type":"info","f":"observer-gap","value":{"key":"kchaos/0","from_version":9,"to_version":11}}`},
		{mustNemesis(t, "stop-partition", nil), `{"index":0,"time":0,"process":"nemesis","type":"info","f":"stop-partition","value":null}`},
		{history.Op{Index: 7, Time: 9, Process: 1, Type: history.Invoke, F: "txn", Mops: []history.Mop{history.Send("k", history.StringValue("x\ny")), history.Poll()}},
			`{"index":7,"time":9,"process":1,"type":"invoke","f":"txn","value":[["send","k","x\ny"],["poll"]]}`},
	}
	for _, tt := range tests {
		got := string(history.AppendJSON(nil, &tt.op))
		require.Equal(t, tt.want, got)
		back, err := history.ParseLine([]byte(got))
		require.NoError(t, err)
		want := tt.op
		if len(want.Mops) == 1 && want.Mops[0].Polled && want.Mops[0].Reads == nil {
			want.Mops = []history.Mop{history.PollResult([]history.KeyReads{})} // {} reads back empty, not nil
		}
		if want.F == "poll" && len(want.Mops[0].Reads) == 2 && want.Mops[0].Reads[1].Records == nil {
			want.Mops[0].Reads[1].Records = []history.Record{}
		}
		require.Equal(t, want, back, got)
	}
}

func mustNemesis(t *testing.T, f string, v any) history.Op {
	op, err := history.Nemesis(f, v)
	require.NoError(t, err)
	return op
}

// Lines the fast scanner leaves to encoding/json must still read as the same thing.
func TestParseLineUnusualSpellings(t *testing.T) {
	base := history.Op{Index: 0, Time: 5, Process: 1, Type: history.OK, F: "send", Mops: []history.Mop{history.SendAt("kchaos/0", 3, history.IntValue(17))}}
	same := []string{
		`{"index":0,"time":5,"process":1,"type":"ok","f":"send","value":[["send","kchaos/0",[3,17]]]}`,
		" { \"index\" : 0 , \"time\":5,\"process\":1,\"type\":\"ok\",\"f\":\"send\",\"value\":[ [ \"send\" , \"kchaos/0\" , [ 3 , 17 ] ] ] } \r",
		`{"value":[["send","kchaos/0",[3,17]]],"f":"send","type":"ok","process":1,"time":5,"index":0}`,
		`{"index":0,"time":5,"process":1,"type":"ok","f":"send","value":[["send","kchaos\u002f0",[3,17]]]}`,
		`{"index":0,"time":5,"process":1,"type":"ok","f":"send","value":[["send","kchaos/0",[3,17]]],"extra":{"a":[1,2]}}`,
		`{"index":0,"time":5,"process":1,"type":"ok","f":"send","value":[["send","kchaos/0",[3,17]]],"error":null}`,
		`{"index":-0,"time":5,"process":1,"type":"ok","f":"send","value":[["send","kchaos/0",[3,17]]]}`,
	}
	for _, line := range same {
		got, err := history.ParseLine([]byte(line))
		require.NoError(t, err, line)
		require.Equal(t, base, got, line)
	}

	values := map[string]history.Value{
		`"a\u0041"`:            history.StringValue("aA"),
		`"é"`:                  history.StringValue("é"),
		`1.5`:                  mustValue(t, "1.5"),
		`true`:                 mustValue(t, "true"),
		`null`:                 mustValue(t, "null"),
		`-0`:                   history.IntValue(0),
		`99999999999999999999`: mustValue(t, "99999999999999999999"),
	}
	for text, want := range values {
		line := `{"index":0,"time":5,"process":1,"type":"invoke","f":"send","value":[["send","k",` + text + `]]}`
		got, err := history.ParseLine([]byte(line))
		require.NoError(t, err, line)
		require.Equal(t, want, got.Mops[0].Value, line)
		require.Equal(t, history.NoOffset, got.Mops[0].Offset)
	}
	got, err := history.ParseLine([]byte(`{"index":0,"time":5,"process":1,"type":"ok","f":"send","value":[["send","k",[null,7]]]}`))
	require.NoError(t, err)
	require.Equal(t, history.Send("k", history.IntValue(7)), got.Mops[0])
}

func mustValue(t *testing.T, s string) history.Value {
	v, err := history.ParseValue([]byte(s))
	require.NoError(t, err)
	return v
}

func TestValue(t *testing.T) {
	require.Equal(t, history.StringValue("A"), mustValue(t, `"\u0041"`))
	require.Equal(t, `"a\"b\\c\n\u0001"`, history.StringValue("a\"b\\c\n\x01").String())
	require.Equal(t, `"\ufffd"`[:1]+"\ufffd"+`"`, history.StringValue("\xff").String())
	n, ok := history.IntValue(-5).Int()
	require.True(t, ok)
	require.Equal(t, int64(-5), n)
	_, ok = history.StringValue("5").Int()
	require.False(t, ok)
	require.NotEqual(t, history.IntValue(5), history.StringValue("5"))
	for _, bad := range []string{"[1]", `{"a":1}`, "", "1 2", "tru", `"x`} {
		_, err := history.ParseValue([]byte(bad))
		require.Error(t, err, bad)
	}
	var v history.Value
	require.NoError(t, json.Unmarshal([]byte(`"x"`), &v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.Equal(t, `"x"`, string(b))
}

func TestReadErrors(t *testing.T) {
	good := func(i int) string {
		op := history.SendInvoke(1, "kchaos/0", history.IntValue(int64(i)))
		op.Index = int64(i)
		return string(history.AppendJSON(nil, &op))
	}
	tests := []struct {
		name  string
		lines []string
		line  int
		msg   string
	}{
		{"not json", []string{good(0), `{"index":1,`}, 2, "incomplete JSON"},
		{"garbage", []string{good(0), good(1), `hello`}, 3, "invalid JSON"},
		{"array", []string{`[1,2]`}, 1, "want a JSON object"},
		{"trailing data", []string{good(0) + ` {}`}, 1, "data after the JSON object"},
		{"missing f", []string{`{"index":0,"time":1,"process":1,"type":"invoke","value":null}`}, 1, `missing field "f"`},
		{"missing index", []string{`{"time":1,"process":1,"type":"invoke","f":"x"}`}, 1, `missing field "index"`},
		{"index out of order", []string{good(0), good(2)}, 2, "index 2, want 1"},
		{"fractional index", []string{`{"index":0.5,"time":1,"process":1,"type":"invoke","f":"x"}`}, 1, "index 0.5: want a non-negative integer"},
		{"negative time", []string{good(0), `{"index":1,"time":-1,"process":1,"type":"invoke","f":"x"}`}, 2, "time -1"},
		{"bad type", []string{`{"index":0,"time":1,"process":1,"type":"done","f":"x"}`}, 1, `type "done"`},
		{"bad process", []string{`{"index":0,"time":1,"process":"client","type":"ok","f":"x"}`}, 1, `process "client"`},
		{"negative process", []string{`{"index":0,"time":1,"process":-3,"type":"ok","f":"x"}`}, 1, "process -3"},
		{"duplicate field", []string{`{"index":0,"index":0,"time":1,"process":1,"type":"ok","f":"x"}`}, 1, `field "index" appears twice`},
		{"send not a list", []string{`{"index":0,"time":1,"process":1,"type":"invoke","f":"send","value":{"k":1}}`}, 1, "want a list of micro-operations"},
		{"send too short", []string{`{"index":0,"time":1,"process":1,"type":"invoke","f":"send","value":[["send","k"]]}`}, 1, `micro-op 0`},
		{"send key not string", []string{`{"index":0,"time":1,"process":1,"type":"invoke","f":"send","value":[["send",3,4]]}`}, 1, "send key 3 is not a string"},
		{"send value object", []string{`{"index":0,"time":1,"process":1,"type":"invoke","f":"send","value":[["send","k",{}]]}`}, 1, "not a JSON scalar"},
		{"negative offset", []string{`{"index":0,"time":1,"process":1,"type":"ok","f":"send","value":[["send","k",[-1,4]]]}`}, 1, "offset -1"},
		{"unknown micro-op", []string{`{"index":0,"time":1,"process":1,"type":"ok","f":"txn","value":[["append","k",4]]}`}, 1, `micro-op "append"`},
		{"poll record not a pair", []string{`{"index":0,"time":1,"process":1,"type":"ok","f":"poll","value":[["poll",{"k":[[1,2,3]]}]]}`}, 1, `key "k" record 0`},
		{"poll key twice", []string{`{"index":0,"time":1,"process":1,"type":"ok","f":"poll","value":[["poll",{"k":[],"k":[]}]]}`}, 1, `key "k" appears twice`},
		{"assign not strings", []string{`{"index":0,"time":1,"process":1,"type":"ok","f":"assign","value":["a",1]}`}, 1, "key 1: 1 is not a string"},
		{"empty line", []string{good(0), "", good(1)}, 2, "empty line"},
		{"blank line", []string{good(0), good(1), "   ", good(2)}, 3, "empty line"},
		{"first of two errors", []string{good(0), "x", "y"}, 2, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Join(tt.lines, "\n") + "\n"
			_, err := history.Read(strings.NewReader(data))
			var le *history.LineError
			require.True(t, errors.As(err, &le), "error %v", err)
			require.Equal(t, tt.line, le.Line)
			require.ErrorContains(t, err, tt.msg)

			// The streaming decoder finds the same line.
			dec := history.NewDecoder(strings.NewReader(data))
			var op history.Op
			for err = dec.Decode(&op); err == nil; err = dec.Decode(&op) {
			}
			require.True(t, errors.As(err, &le), "error %v", err)
			require.Equal(t, tt.line, le.Line)
			require.ErrorContains(t, err, tt.msg)
		})
	}
}

func TestReadEndings(t *testing.T) {
	for _, data := range []string{"", "\n", " \n\n", "\r\n"} {
		ops, err := history.Read(strings.NewReader(data))
		require.NoError(t, err)
		require.Empty(t, ops)
	}
	line := `{"index":0,"time":1,"process":1,"type":"invoke","f":"poll","value":[["poll"]]}`
	for _, data := range []string{line, line + "\n", line + "\r\n", line + "\n\n  \n"} {
		ops, err := history.Read(strings.NewReader(data))
		require.NoError(t, err, "%q", data)
		require.Len(t, ops, 1)
		dec := history.NewDecoder(strings.NewReader(data))
		var op history.Op
		require.NoError(t, dec.Decode(&op))
		require.Equal(t, ops[0], op)
		require.ErrorIs(t, dec.Decode(&op), io.EOF)
	}
}

func TestDecoderLongLines(t *testing.T) {
	recs := make([]history.Record, 20000)
	for i := range recs {
		recs[i] = history.Record{Offset: int64(i), Value: history.IntValue(int64(i))}
	}
	op := history.PollOK(1, []history.KeyReads{{Key: "k", Records: recs}})
	line := history.AppendJSON(nil, &op)
	require.Greater(t, len(line), 1<<17)
	dec := history.NewDecoder(bytes.NewReader(append(line, '\n')))
	var got history.Op
	require.NoError(t, dec.Decode(&got))
	require.Equal(t, op, got)
}

// Read parses in parallel chunks; the decoder line by line. Both see the same history.
func TestReadMatchesDecoder(t *testing.T) {
	var buf bytes.Buffer
	w := history.NewWriter(&buf)
	for i := 0; i < 30000; i++ {
		op := history.SendOK(history.Process(i%7), "kchaos/1", int64(i), history.IntValue(int64(i)))
		op.Index, op.Time = int64(i), int64(i*10)
		require.NoError(t, w.Write(&op))
	}
	require.NoError(t, w.Flush())
	ops, err := history.Read(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	require.Len(t, ops, 30000)
	dec := history.NewDecoder(bufio.NewReader(&buf))
	for i := range ops {
		var op history.Op
		require.NoError(t, dec.Decode(&op))
		require.Equal(t, ops[i], op)
	}
}
