package results

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/stretchr/testify/require"
)

// maxFuzzSpan bounds the time span of the histories FuzzReport checks: 3 hours.
const maxFuzzSpan = int64(3 * time.Hour)

// fuzzSeedLines is how many lines of each stored history seed FuzzReport.
const fuzzSeedLines = 120

// FuzzReport renders the report of arbitrary histories: any history the history package reads
// and the checkers check has a report.html and a junit.xml, from the checkers' Result and again
// from the files alone, as kchaos report makes them. Seeded with the stored runs' histories and a few small ones.
func FuzzReport(f *testing.F) {
	for _, sc := range scenarios() {
		data, err := os.ReadFile(filepath.Join(sc.dir(), HistoryFile))
		require.NoError(f, err)
		// The first lines of each: their faults, observer states and operations, and few
		// enough of them for the fuzzer to run many a second.
		lines := bytes.SplitAfter(data, []byte("\n"))
		f.Add(bytes.Join(lines[:min(len(lines), fuzzSeedLines)], nil))
	}
	for _, seed := range []string{
		"",
		`{"index":0,"time":0,"process":0,"type":"invoke","f":"send","value":[["send","k/0",1]]}` + "\n",
		`{"index":0,"time":0,"process":0,"type":"invoke","f":"send","value":[["send","k/0",1]]}` + "\n" +
			`{"index":1,"time":5,"process":0,"type":"ok","f":"send","value":[["send","k/0",[0,1]]]}` + "\n" +
			`{"index":2,"time":6,"process":1,"type":"invoke","f":"poll","value":[["poll"]]}` + "\n" +
			`{"index":3,"time":9,"process":1,"type":"ok","f":"poll","value":[["poll",{"k/0":[[0,1]]}]]}` + "\n",
		`{"index":0,"time":0,"process":"nemesis","type":"info","f":"start-kill","value":{"nodes":["n1"]}}` + "\n" +
			`{"index":1,"time":0,"process":"observer","type":"info","f":"partition-state","value":{"key":"k/0","leader":-1,"leader_epoch":0,"isr":[],"zk_version":0}}` + "\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := history.Read(bytes.NewReader(data))
		if err != nil {
			return // not a history: kchaos report says which line and stops
		}
		// The stats checker keeps a count per second of the history: a history spanning years
		// (times in epoch nanoseconds, say) needs gigabytes there, before any report.
		for i := range ops {
			if ops[i].Time > maxFuzzSpan {
				return
			}
		}
		res, err := checkers.Check(ops, checkers.Options{Workers: 1, LinearizabilityTimeout: time.Second})
		if err != nil {
			return // a history the checkers cannot make sense of has no results.json
		}
		// The run directory as kchaos check leaves it; the report is rendered as WriteRun
		// renders it, from the Result and again from the files, without the fsyncs of writing
		// it, which would make the fuzzer wait on the disk.
		dir := filepath.Join(t.TempDir(), "fuzz", "20260301T100000")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, HistoryFile), data, 0o644))
		text, err := res.JSON()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, ResultsFile), text, 0o644))
		for _, given := range []*checkers.Result{res, nil} {
			r, err := loadRun(dir, given, nil)
			require.NoError(t, err)
			_, err = renderReport(r)
			require.NoError(t, err)
			_, err = junitXML(r)
			require.NoError(t, err)
		}
	})
}
