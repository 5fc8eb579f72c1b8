package harness

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/dynamics"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/results"
	"github.com/kchaos/kchaos/spec"
)

// CheckRunDir checks dir/history.jsonl with every checker and writes every output of the run
// directory with results.WriteRun: results.json, the visualizations, report.html, junit.xml and
// the index of its results directory (each through a temporary file: on error the old one is
// left as it was). When dir holds the run's test.json, it is a kchaos run: keys without final
// reads (a killed run) or whose states the observer missed are judged unknown at best, and the
// ISR dynamics are set against the spec's session timeout (ZooKeeper's, or the KRaft
// controllers' broker session) and replica lag time.
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
		opts.UncleanLeaderElectionAllowed = s.Cluster.UncleanLeaderElection
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
	if _, err := results.WriteRun(dir, res, ops); err != nil {
		return nil, err
	}
	return res, nil
}

// readSpec reads a run's test.json.
func readSpec(path string) (spec.Spec, error) {
	var s spec.Spec
	data, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read the spec: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// clusterSettings returns the timeouts of a run's spec: the session timeout of its metadata mode
// (broker.ClusterSpec.SessionTimeout) and the replica lag time.
func clusterSettings(s spec.Spec) dynamics.Settings {
	setting, sessionMs := s.Cluster.SessionTimeout()
	return dynamics.Settings{
		SessionTimeout:        time.Duration(sessionMs) * time.Millisecond,
		SessionTimeoutSetting: setting,
		ReplicaLagMax:         time.Duration(s.Cluster.ReplicaLagTimeMaxMs) * time.Millisecond,
	}
}
