package results

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/dynamics"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/history/historytest"
	"github.com/stretchr/testify/require"
)

// TestDeterministicOutputs checks that one run directory gives the same results.json,
// report.html and junit.xml, byte for byte, whatever GOMAXPROCS and however often they are
// written: for histories checked here (generated, and the checkers' stored ones with anomalies
// of every kind, transactional ones too) and for the stored runs, whose results.json is read.
func TestDeterministicOutputs(t *testing.T) {
	type source struct {
		name   string
		ops    func(t *testing.T) []history.Op // nil: a stored run, reported from its files
		stored string
	}
	fromFile := func(p string) func(t *testing.T) []history.Op {
		return func(t *testing.T) []history.Op {
			ops, err := history.ReadFile(p)
			require.NoError(t, err)
			return ops
		}
	}
	sources := []source{
		{name: "generated", ops: func(*testing.T) []history.Op {
			return historytest.Generate(historytest.Config{Ops: 3000, Keys: 6, LeaderChanges: 6, InfoRate: 0.05, FailRate: 0.05, Seed: 3})
		}},
	}
	for _, f := range []string{"lost-after-read", "duplicate", "inconsistent-offsets", "G1a", "poll-skip", "not-linearizable", "unclean-story", "unseen"} {
		sources = append(sources, source{name: f, ops: fromFile(filepath.Join("..", "checkers", "testdata", f+".jsonl"))})
	}
	// Transactional histories: the Transactions section and its cycles.
	for _, f := range []string{"G1c", "G1c-realtime", "G2-realtime", "torn-transaction", "G1b"} {
		sources = append(sources, source{name: "txn " + f, ops: fromFile(filepath.Join("..", "checkers", "txn", "testdata", f+".jsonl"))})
	}
	for _, sc := range scenarios() {
		sources = append(sources, source{name: "stored " + sc.name, stored: sc.dir()})
	}
	files := []string{ResultsFile, ReportFile, JUnitFile}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			var want map[string][]byte
			for _, procs := range []int{1, 4, 1, 4} {
				runtime.GOMAXPROCS(procs)
				// The same path each time: the report names its directory.
				dir := filepath.Join(t.TempDir(), "det", "20260301T100000")
				if src.stored != "" {
					copyTree(t, src.stored, dir)
					_, err := WriteRun(dir, nil, nil)
					require.NoError(t, err)
				} else {
					require.NoError(t, os.MkdirAll(dir, 0o755))
					ops := src.ops(t)
					res, err := checkers.Check(ops, checkers.Options{LinearizabilityTimeout: time.Minute,
						Cluster: dynamics.Settings{SessionTimeout: 18 * time.Second}})
					require.NoError(t, err)
					_, err = WriteRun(dir, res, ops)
					require.NoError(t, err)
				}
				got := map[string][]byte{}
				for _, f := range files {
					data, err := os.ReadFile(filepath.Join(dir, f))
					require.NoError(t, err)
					got[f] = data
				}
				if want == nil {
					want = got
					continue
				}
				for _, f := range files {
					require.True(t, string(want[f]) == string(got[f]), "%s differs with GOMAXPROCS %d", f, procs)
				}
			}
		})
	}
}
