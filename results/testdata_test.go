package results

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/checkers/dynamics"
	"github.com/kchaos/kchaos/spec"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/results from the generator")

// testdataResults is a results directory of stored runs, one per kind of verdict, plus one whose
// history and results hold markup.
const testdataResults = "testdata/results"

// scenario is a stored run: how its history is generated and what its hand-written
// results.json says of it.
type scenario struct {
	name, stamp string
	cfg         simConfig
	results     func(n simNotes) map[string]any
	viz         []string // keys with a porcupine visualization
}

func (s scenario) dir() string { return filepath.Join(testdataResults, s.name, s.stamp) }

var standardFaults = []simFault{
	{kind: "kill", start: 5 * time.Second, stop: 10 * time.Second, nodes: []string{"n2"}},
	{kind: "pause", start: 14 * time.Second, stop: 18 * time.Second, nodes: []string{"n3"}},
	{kind: "partition", start: 21 * time.Second, stop: 26 * time.Second, nodes: []string{"n1"},
		value: map[string]any{"shape": "isolate-leader", "traffic": "all", "grudge": map[string][]string{"n1": {"n2", "n3", "zk1", "clients"}}}},
}

func scenarios() []scenario {
	return []scenario{
		{name: "valid", stamp: "20260301T100000", cfg: simConfig{name: "valid", ops: 900, duration: 30 * time.Second, keys: 4, brokers: 3, workers: 6,
			faults: standardFaults, seed: 1},
			results: func(n simNotes) map[string]any {
				return map[string]any{"valid": true, "anomaly_types": []string{}, "anomalies": map[string]any{},
					"checkers": map[string]any{
						"queue":           map[string]any{"valid": true, "counts": map[string]int{"acknowledged": 410, "read": 410}, "bad_anomaly_types": []string{}},
						"linearizable":    map[string]any{"valid": true, "timeout": "10s", "keys": map[string]any{"kchaos/0": map[string]any{"valid": true, "ops": 230}}},
						"leader-election": map[string]any{"valid": true, "checked": true, "partitions": 4, "elections": 4, "unclean": 0, "undecided": []any{}},
						"stats":           map[string]any{"valid": true, "seconds": 32, "isr_dynamics": isrDynamics(n)},
					}}
			}},
		{name: "invalid", stamp: "20260301T110000", cfg: simConfig{name: "invalid", ops: 900, duration: 30 * time.Second, keys: 4, brokers: 3, workers: 6,
			faults: standardFaults, unclean: true, seed: 2},
			viz: []string{"kchaos/0"},
			results: func(n simNotes) map[string]any {
				lost := map[string]any{"key": "kchaos/0", "value": n.faultSendKV[0], "offset": n.faultSendKV[1], "index": 3, "max_read_index": 2,
					"writer": opRef(n.ops, n.faultSend),
					"leader": map[string]any{"at_ack": stateRef(n.ops, n.uncleanPrev), "next_election": map[string]any{"kind": "unclean",
						"state": stateRef(n.ops, n.unclean), "previous": stateRef(n.ops, n.uncleanPrev)}},
					"explanation": fmt.Sprintf("send of %d to kchaos/0 was acknowledged at offset %d, but no poll and no final read saw it; the leader that acknowledged it lost its leadership to broker 3 in an unclean election", n.faultSendKV[0], n.faultSendKV[1])}
				notLin := map[string]any{"key": "kchaos/0", "from": n.ops[n.faultSend].Time - int64(time.Second), "to": n.ops[n.lateSend].Time,
					"segment_ops": 40, "linearized": 31, "ops": []any{opRef(n.ops, n.faultSend), opRef(n.ops, n.lateSend)},
					"explanation": "no order of the 40 operations of kchaos/0 between these times explains what the polls read; porcupine ordered 31 of them at best"}
				unclean := map[string]any{"key": "kchaos/0", "state": stateRef(n.ops, n.unclean), "previous": stateRef(n.ops, n.uncleanPrev),
					"explanation": "broker 3 became leader of kchaos/0 at leader epoch 3 while the ISR was [2]: it was not in the ISR"}
				return map[string]any{"valid": false, "anomaly_types": []string{"lost-write", "not-linearizable", "unclean-leader-election"},
					"anomalies": map[string]any{"lost-write": []any{lost}, "not-linearizable": []any{notLin}, "unclean-leader-election": []any{unclean}},
					"checkers": map[string]any{
						"queue":           map[string]any{"valid": false, "counts": map[string]int{"lost-write": 1}, "bad_anomaly_types": []string{"lost-write"}},
						"linearizable":    map[string]any{"valid": false, "timeout": "10s", "keys": map[string]any{"kchaos/0": map[string]any{"valid": false, "ops": 230}}},
						"leader-election": map[string]any{"valid": false, "checked": true, "partitions": 4, "elections": 5, "unclean": 1, "undecided": []any{}},
						"stats":           map[string]any{"valid": true, "seconds": 32, "isr_dynamics": isrDynamics(n)},
					}}
			}},
		{name: "unknown", stamp: "20260301T120000", cfg: simConfig{name: "unknown", ops: 500, duration: 20 * time.Second, keys: 2, brokers: 3, workers: 4,
			faults: standardFaults[:2], gap: true, seed: 3},
			results: func(n simNotes) map[string]any {
				return map[string]any{"valid": "unknown", "anomaly_types": []string{}, "anomalies": map[string]any{},
					"checkers": map[string]any{
						"queue":        map[string]any{"valid": true, "counts": map[string]int{}, "bad_anomaly_types": []string{}},
						"linearizable": map[string]any{"valid": "unknown", "timeout": "10s", "keys": map[string]any{"kchaos/1": map[string]any{"valid": "unknown", "reason": "timed out after 10s"}}},
						"leader-election": map[string]any{"valid": "unknown", "checked": true, "partitions": 2, "elections": 2, "unclean": 0,
							"undecided": []any{map[string]any{"key": "kchaos/1", "index": n.gapPos + 1, "reason": "versions were not seen: an election may have happened among them"}}},
						"stats": map[string]any{"valid": true, "seconds": 22, "isr_dynamics": isrDynamics(n)},
					}}
			}},
		{name: "elr", stamp: "20260301T140000", cfg: simConfig{name: "elr", ops: 600, duration: 32 * time.Second, keys: 2, brokers: 3, workers: 4,
			elr: true, seed: 5},
			results: func(n simNotes) map[string]any {
				return map[string]any{"valid": true, "anomaly_types": []string{}, "anomalies": map[string]any{},
					"checkers": map[string]any{
						"queue": map[string]any{"valid": true, "counts": map[string]int{}, "bad_anomaly_types": []string{}},
						"leader-election": map[string]any{"valid": true, "checked": true, "partitions": 1, "states": 7, "elections": 1, "unclean": 0, "undecided": []any{},
							"exact": true, "elected_by": map[string]int{"elr": 1},
							"decisions": []any{map[string]any{"key": "kchaos/0", "position": n.elrElected, "log_time": 26900000000, "leader": 3, "leader_epoch": 2, "rule": "elr"}}},
						"coverage": map[string]any{"valid": true, "acked_sends": 412, "reads": 380, "elections": 1},
						"stats":    map[string]any{"valid": true, "seconds": 34},
					}}
			}},
		{name: "markup", stamp: "20260301T130000", cfg: simConfig{name: "markup", ops: 300, duration: 12 * time.Second, keys: 2, brokers: 3, workers: 4,
			faults: standardFaults[:1], markup: true, seed: 4},
			results: func(n simNotes) map[string]any {
				lost := map[string]any{"key": "kchaos/0", "value": markupValue, "offset": 0, "index": 0,
					"writer":      opRef(n.ops, n.markupSend),
					"explanation": "send of " + markupValue + " was acknowledged but never read"}
				g1a := map[string]any{"key": "kchaos/0", "value": 7, "offset": 1, "writer": opRef(n.ops, n.markupFail), "reader": opRef(n.ops, n.markupSend),
					"explanation": "a poll read a value whose send failed with " + markupError}
				return map[string]any{"valid": false, "anomaly_types": []string{"G1a", "lost-write"},
					"anomalies": map[string]any{"lost-write": []any{lost}, "G1a": []any{g1a}},
					"checkers": map[string]any{
						"queue": map[string]any{"valid": false, "bad_anomaly_types": []string{"G1a", "lost-write"}, "note": markupError},
						"stats": map[string]any{"valid": true}, // no isr_dynamics: as an older kchaos wrote it
					}}
			}},
	}
}

// isrDynamics is the ISR-dynamics summary the stats checker writes for a generated history,
// with the cluster timeouts specFor gives.
func isrDynamics(n simNotes) dynamics.Summary {
	return dynamics.Summarize(n.ops, dynamics.Settings{SessionTimeout: 18 * time.Second, ReplicaLagMax: 30 * time.Second})
}

// specFor is the test.json of a generated run, as the harness writes it.
func specFor(cfg simConfig) spec.Spec {
	var kinds []string
	for _, f := range cfg.faults {
		if !slices.Contains(kinds, f.kind) {
			kinds = append(kinds, f.kind)
		}
	}
	s := spec.Spec{Name: cfg.name, Workload: "queue", Topic: "kchaos", Partitions: cfg.keys, Acks: "all", Nemesis: kinds,
		NemesisInterval: spec.Duration(4 * time.Second), TimeLimit: spec.Duration(cfg.duration), Concurrency: cfg.workers, Rate: 200,
		Seed: 1772359200123456789 + int64(cfg.seed), ResultsDir: "results", OpTimeout: spec.Duration(5 * time.Second),
		RecoveryTimeout: spec.Duration(2 * time.Minute), FinalReadTimeout: spec.Duration(2 * time.Minute),
		Cluster: broker.ClusterSpec{Image: "kchaos/kafka:3.9.1", KafkaVersion: "3.9.1", Metadata: "zookeeper", ZooKeeperNodes: 1, Brokers: cfg.brokers, BrokerHeapMB: 512, ZooKeeperHeapMB: 256,
			ReplicationFactor: 3, MinInsyncReplicas: 2, UncleanLeaderElection: cfg.unclean, ReplicaLagTimeMaxMs: 30000, ZooKeeperSessionTimeoutMs: 18000}}
	if cfg.elr {
		s.Nemesis = []string{"isr-drain"}
		s.Cluster.Image, s.Cluster.KafkaVersion, s.Cluster.Metadata = "kchaos/kafka:4.1.1", "4.1.1", "kraft"
		s.Cluster.Controllers, s.Cluster.ControllerMode = 1, "dedicated"
		s.Cluster.ServerProperties = map[string]string{"broker.session.timeout.ms": "6000"}
	}
	if cfg.markup {
		s.Cluster.ServerProperties = map[string]string{"log.message.format.version": "<script>alert(1)</script>"}
	}
	return s
}

// writeScenario writes a scenario's run directory into dir.
func writeScenario(dir string, sc scenario) error {
	n := simulate(sc.cfg)
	return writeRun(dir, sc.cfg, n, sc.results(n), sc.viz)
}

// writeRun writes a run directory: test.json, history.jsonl, results.json, node logs and
// visualizations.
func writeRun(dir string, cfg simConfig, n simNotes, results map[string]any, viz []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, SpecFile), specFor(cfg)); err != nil {
		return err
	}
	if err := writeHistory(dir, n.ops); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, ResultsFile), results); err != nil {
		return err
	}
	nodes := []string{"zk1"}
	for b := 1; b <= cfg.brokers; b++ {
		nodes = append(nodes, fmt.Sprintf("n%d", b))
	}
	for _, node := range nodes {
		files := []string{"stdout.log"}
		if node != "zk1" {
			files = append(files, "server.log", "controller.log", "state-change.log")
		}
		for _, f := range files {
			p := filepath.Join(dir, NodesDir, node, f)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			text := fmt.Sprintf("[2026-03-01 10:00:00,000] INFO %s %s started (kafka.server.KafkaServer)\n", node, f)
			if cfg.markup {
				text += "[2026-03-01 10:00:01,000] WARN " + markupError + "\n"
			}
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				return err
			}
		}
	}
	for _, key := range viz {
		err := WriteVisualization(dir, key, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>%s</title></head><body><p>porcupine visualization of %s (stand-in)</p></body></html>\n", key, key)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// TestTestdataUpToDate checks that the stored runs are what the generator makes (go test
// ./results -run TestTestdataUpToDate -args -update rewrites them).
func TestTestdataUpToDate(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			if *update {
				require.NoError(t, os.RemoveAll(sc.dir()))
				require.NoError(t, writeScenario(sc.dir(), sc))
			}
			fresh := t.TempDir()
			require.NoError(t, writeScenario(fresh, sc))
			want := readTree(t, fresh)
			got := readTree(t, sc.dir())
			require.Equal(t, keysOf(want), keysOf(got), "files of %s; run go test ./results -run TestTestdataUpToDate -args -update", sc.dir())
			for name, data := range want {
				require.True(t, bytes.Equal(data, got[name]), "%s differs from the generator's; run go test ./results -run TestTestdataUpToDate -args -update", name)
			}
		})
	}
}

// readTree reads every file under dir, by slash path, leaving out generated report files.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == ReportFile || rel == JUnitFile {
			return nil
		}
		data, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	require.NoError(t, err)
	return out
}

func keysOf(m map[string][]byte) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return strings.Join(slices.Sorted(slices.Values(ks)), "\n")
}

// copyRun copies a stored run directory into a fresh temporary one and returns its path.
func copyRun(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(filepath.Dir(src)), filepath.Base(src))
	copyTree(t, src, dst)
	return dst
}

func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	require.NoError(t, err)
}
