package harness

import (
	"cmp"
	"encoding/json"
	"fmt"
	"github.com/kchaos/kchaos/spec"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/dynamics"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/results"
)

// CheckRunDir checks dir/history.jsonl with every checker and writes dir/results.json (through a
// temporary file: on error the old one is left as it was). When dir holds the run's test.json, it is
// a kchaos run: keys without final reads (a killed run) or whose states the observer missed are
// judged unknown at best, and the ISR
// dynamics are set against the spec's ZooKeeper session and replica lag timeouts.
func CheckRunDir(dir string, opts checkers.Options) (*checkers.Result, error) {
	rd := results.RunDir{Path: dir}
	if _, err := os.Stat(rd.File(results.SpecFile)); err == nil {
		// A kchaos run: it ends with final reads, and its spec has the cluster's timeouts.
		opts.ExpectFinalReads = true
		opts.ObservedFromCreation = true
		s, err := readSpec(rd.File(results.SpecFile))
		if err != nil {
			return nil, err
		}
		if opts.Cluster == (dynamics.Settings{}) {
			opts.Cluster = clusterSettings(s)
		}
		if opts.Producer == "" && opts.Isolation == "" {
			// What the run's clients promised: its producers and its consumers' isolation. A
			// spec written before these fields existed ran the queue workload: plain producers,
			// read_uncommitted reads.
			s = s.DerivedDefaults()
			opts.Producer, opts.Isolation = cmp.Or(s.Producer, "plain"), s.Isolation
		}
	}
	// Reading builds the whole history and leaves next to no garbage: collecting while the heap
	// grows would scan it again and again for nothing (half the read time at GOGC=100).
	gc := debug.SetGCPercent(800)
	ops, err := history.ReadFile(rd.File(results.HistoryFile))
	debug.SetGCPercent(gc)
	if err != nil {
		return nil, err
	}
	res, err := checkers.Check(ops, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rd.File(results.HistoryFile), err)
	}
	data, err := res.JSON()
	if err != nil {
		return nil, err
	}
	if err := results.WriteFileAtomic(rd.File(results.ResultsFile), data); err != nil {
		return nil, err
	}
	return res, nil
}

// readSpec reads a run's spec.
func readSpec(specPath string) (spec.Spec, error) {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return spec.Spec{}, fmt.Errorf("read the spec: %w", err)
	}
	var s spec.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return spec.Spec{}, fmt.Errorf("%s: %w", specPath, err)
	}
	return s, nil
}

// clusterSettings returns the timeouts of a run's spec.
func clusterSettings(s spec.Spec) dynamics.Settings {
	return dynamics.Settings{
		SessionTimeout: time.Duration(s.Cluster.ZooKeeperSessionTimeoutMs) * time.Millisecond,
		ReplicaLagMax:  time.Duration(s.Cluster.ReplicaLagTimeMaxMs) * time.Millisecond,
	}
}

// WriteReport writes the files a person and CI read from a checked run directory: porcupine's
// visualization of each key the linearizability checker kept one for, report.html and junit.xml,
// and the index of the results directory above the run, when there is one.
func WriteReport(dir string, res *checkers.Result) error {
	if res != nil && res.Linearizable != nil {
		for _, key := range res.Linearizable.VisualizedKeys() {
			err := results.WriteVisualization(dir, key, func(w io.Writer) error { return res.Linearizable.Visualize(w, key) })
			if err != nil {
				return err
			}
		}
	}
	if err := results.WriteReport(dir); err != nil {
		return err
	}
	if root, ok := results.ResultsDirOf(dir); ok {
		return results.WriteIndex(root)
	}
	return nil
}
