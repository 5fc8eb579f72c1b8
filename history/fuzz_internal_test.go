package history

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzSeeds are lines the fuzz tests start from: the example history and shapes that stress the
// scanner's edges.
func fuzzSeeds(t testing.TB) [][]byte {
	f, err := os.Open("testdata/valid.jsonl")
	require.NoError(t, err)
	defer f.Close()
	var seeds [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		seeds = append(seeds, append([]byte(nil), sc.Bytes()...))
	}
	require.NoError(t, sc.Err())
	for _, s := range []string{
		`{"index":0,"time":1,"process":2,"type":"ok","f":"send","value":[["send","k",[null,-0]]],"error":"e"}`,
		`{"index":0,"time":1,"process":2,"type":"ok","f":"send","value":[["send","k",[9223372036854775807,-9223372036854775808]]]}`,
		`{"index":0,"time":1,"process":2,"type":"ok","f":"send","value":[["send","k",[1,9223372036854775808]]]}`,
		`{"index":0,"time":1,"process":2,"type":"ok","f":"poll","value":[["poll",{"a":[[1,"x"],[null,2]],"b":[]}],["poll"]]}`,
		`{"index":0,"time":1,"process":2,"type":"ok","f":"assign","value":[]}`,
		`{"index":0,"time":1,"process":2,"type":"ok","f":"send","value":[]}`,
		`{"index":0,"time":1,"process":2,"type":"ok","f":"send","value":null}`,
		`{"index":0,"time":1,"process":2,"type":"ok","f":"send","value":[["send","k",1.5e3]]}`,
		`{"index":0,"time":1,"process":2,"type":"ok","f":"send","value":[["send","k","\u00e9\n"]]}`,
		`{"index":0,"time":1,"process":2,"type":"ok","f":"send","value":[["send","k",01]]}`,
		` {"f":"poll","index":0,"time":1,"process":2,"type":"ok","value":[["poll",{}]]} `,
		`{"index":0,"time":1,"process":"nemesis","type":"info","f":"x","value":[1, {"a" : null}]}`,
		`{"index":0,"time":1,"process":2,"type":"info","f":"send","value":[["send","k",1]],"error":["network","Disconnected"]}`,
		`{"index":0,"time":1,"process":2,"type":"fail","f":"poll","value":[["poll"]],"error":{"type":"x"}}`,
		`{"index":0,"time":1,"process":2,"type":"fail","f":"poll","value":[["poll"]],"error":""}`,
		`{"index":0,"time":1,"process":2,"type":"ok","f":"read"}`,
		`{"index":0,"time":1,"process":"nemesis","type":"invoke","f":"start-kill","value":null}`,
		`{"index":0,"time":1,"process":"observer","type":"info","f":"final-read","value":{"key":"k","complete":true}}`,
		`{"index":0,"time":1,"process":"observer","type":"info","f":"nope","value":null}`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// FuzzParseLine checks the fast scanner against the encoding/json reference: whatever the
// scanner accepts, the reference accepts with the same meaning; and whatever the reference
// accepts, written back with AppendJSON, reads back the same.
func FuzzParseLine(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		slow, slowErr := parseSlow(line)
		s := scanner{in: newInterner(), sl: &slabs{}}
		var fast Op
		if s.parse(line, &fast) {
			require.True(t, json.Valid(line), "scanner accepted invalid JSON %q", line)
			require.NoError(t, slowErr, "scanner accepted %q", line)
			require.Equal(t, slow, fast, "%q", line)
		}
		if slowErr != nil {
			_, err := ParseLine(line)
			require.Error(t, err)
			return
		}
		out := AppendJSON(nil, &slow)
		require.True(t, json.Valid(out), "wrote invalid JSON %q", out)
		back, err := ParseLine(out)
		require.NoError(t, err, "%q", out)
		require.Equal(t, slow, back, "%q", out)
	})
}

// The lines the harness writes take the fast path.
func TestScannerTakesTheHarnessLines(t *testing.T) {
	for _, line := range fuzzSeeds(t)[:23] {
		op, err := parseSlow(line)
		require.NoError(t, err)
		if !op.Process.IsClient() {
			continue
		}
		var s scanner
		var fast Op
		require.True(t, s.parse(line, &fast), "%s", line)
		require.Equal(t, op, fast)
	}
}
