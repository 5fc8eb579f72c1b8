package spec_test

import (
	"encoding/json"
	"flag"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/nemesis"
	"github.com/kchaos/kchaos/spec"
	"github.com/kchaos/kchaos/suites"
)

// otherValue is, for each flag, a valid value that differs from its default.
var otherValue = map[string]string{
	"name": "other.name_1", "workload": "txn", "producer": "transactional", "isolation": "read_committed",
	"abort-rate": "0.25", "keep-producer": "true", "topic": "t-2", "partitions": "7", "acks": "1",
	"subscribe": "true", "nemesis": "jepsen-2013,lag", "nemesis-interval": "42s",
	"nemesis-targets": "primaries,one", "nemesis-shapes": "isolate,one-way", "nemesis-traffic": "brokers",
	"time-limit": "1m30s", "concurrency": "3", "rate": "unlimited", "seed": "99", "results-dir": "/tmp/run s",
	"op-timeout": "700ms", "recovery-timeout": "10s", "final-read-timeout": "20s",
	"image": "apache/kafka:3.9.1", "brokers": "5", "zk-nodes": "3", "replication-factor": "2",
	"min-insync-replicas": "1", "unclean-leader-election": "true", "replica-lag-time-max-ms": "1000",
	"zookeeper-session-timeout-ms": "6000", "broker-heap-mb": "1024", "zk-heap-mb": "128",
	"server-property": "log.retention.ms=1000", "faultfs": "true", "feature": "eligible.leader.replicas.version=0",
	"kafka-version": "4.1.1", "metadata": "kraft", "controllers": "1", "controller-mode": "dedicated",
}

// alongside holds, for a flag that is valid only with others, those others.
var alongside = map[string][]string{
	"producer":      {"--workload", "txn"},
	"isolation":     {"--workload", "txn"},
	"keep-producer": {"--producer", "transactional"},
	"feature":       {"--metadata", "kraft"},
}

// leafFields counts the settable fields of t, descending into nested structs.
func leafFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Struct {
			for _, sub := range leafFields(f.Type) {
				out = append(out, f.Name+"."+sub)
			}
			continue
		}
		out = append(out, f.Name)
	}
	return out
}

func TestEveryFieldHasAFlag(t *testing.T) {
	require.Len(t, spec.Fields, len(leafFields(reflect.TypeFor[spec.Spec]())),
		"every field of Spec (and of its cluster) has exactly one row in spec.Fields: %v", leafFields(reflect.TypeFor[spec.Spec]()))
	var flags []string
	for _, f := range spec.Fields {
		require.NotContains(t, flags, f.Flag, "one row per flag")
		flags = append(flags, f.Flag)
		require.Contains(t, otherValue, f.Flag, "the round-trip test needs a value for --%s", f.Flag)
	}
}

// TestRerunRoundTripsEveryField sets each field to a value that is not its default: the re-run
// command names it, and parsing that command back gives the same spec.
func TestRerunRoundTripsEveryField(t *testing.T) {
	for _, f := range spec.Fields {
		t.Run(f.Flag, func(t *testing.T) {
			if otherValue[f.Flag] == "" {
				t.Skipf("--%s has a single valid value", f.Flag)
			}
			want, err := spec.ParseArgs(append([]string{"--seed", "5", "--" + f.Flag + "=" + otherValue[f.Flag]}, alongside[f.Flag]...))
			require.NoError(t, err)
			args := spec.RerunArgs(want)
			require.True(t, slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--"+f.Flag) }),
				"re-run args %q lack --%s", args, f.Flag)
			got, err := spec.ParseArgs(args)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}

// TestRerunOfEverySuiteScenario parses back the re-run command of each scenario's test.json.
func TestRerunOfEverySuiteScenario(t *testing.T) {
	for _, name := range suites.Names() {
		t.Run(name, func(t *testing.T) {
			sc, err := suites.Get(name)
			require.NoError(t, err)
			s := sc.Spec
			s.Seed = 1234
			// What the harness writes to test.json, read back as the report reads it.
			data, err := json.Marshal(s.WithDefaults())
			require.NoError(t, err)
			var written spec.Spec
			require.NoError(t, json.Unmarshal(data, &written))
			got, err := spec.ParseArgs(spec.RerunArgs(written))
			require.NoError(t, err)
			require.Equal(t, written, got, "re-run args: %q", spec.RerunArgs(written))
		})
	}
}

func TestRerunAlwaysNamesTheSeed(t *testing.T) {
	s, err := spec.ParseArgs(nil)
	require.NoError(t, err)
	require.NotZero(t, s.Seed, "a seed drawn from the clock")
	args := spec.RerunArgs(s)
	require.Contains(t, strings.Join(args, " "), "--seed ")
	require.NotContains(t, args, "0")
}

func TestRerunCommandQuotes(t *testing.T) {
	s, err := spec.ParseArgs([]string{"--seed", "3", "--results-dir", "/tmp/it's here"})
	require.NoError(t, err)
	require.Equal(t, `kchaos run --seed 3 --results-dir '/tmp/it'\''s here'`, spec.RerunCommand(s))
}

// TestExplicitValuesAreNeverReplacedByDefaults: a zero, empty or non-finite value given on the
// command line is an error naming its flag, never a silent default.
func TestExplicitValuesAreNeverReplacedByDefaults(t *testing.T) {
	for _, tc := range []struct{ args []string }{
		{[]string{"--brokers", "0"}},
		{[]string{"--partitions", "0"}},
		{[]string{"--concurrency", "0"}},
		{[]string{"--time-limit", "0"}},
		{[]string{"--name", ""}},
		{[]string{"--topic", ""}},
		{[]string{"--acks", ""}},
		{[]string{"--nemesis", ""}},
		{[]string{"--nemesis-traffic", ""}},
		{[]string{"--results-dir", ""}},
		{[]string{"--image", ""}},
		{[]string{"--zk-nodes", "0"}},
		{[]string{"--replication-factor", "0"}},
		{[]string{"--min-insync-replicas", "0"}},
		{[]string{"--op-timeout", "0s"}},
		{[]string{"--seed", "0"}},
		{[]string{"--rate", "NaN"}},
		{[]string{"--nemesis-interval", "10s"}},
		{[]string{"--rate", "+Inf"}},
		{[]string{"--rate", "-1"}},
		{[]string{"--rate", "-0.5"}},
		{[]string{"--server-property", "zookeeper.session.timeout.ms=6000"}},
		{[]string{"--server-property", "replica.lag.time.max.ms=1"}},
		{[]string{"--feature", "eligible.leader.replicas.version=0"}}, // ZooKeeper mode has no KRaft features
		{[]string{"--feature", "eligible.leader.replicas.version=-1", "--kafka-version", "4.1.1"}},
	} {
		t.Run(strings.Join(tc.args, "="), func(t *testing.T) {
			_, err := spec.ParseArgs(tc.args)
			require.Error(t, err)
			flagName := strings.TrimPrefix(tc.args[0], "--")
			if flagName == "server-property" {
				key, _, _ := strings.Cut(tc.args[1], "=")
				require.ErrorContains(t, err, key)
				return
			}
			require.ErrorContains(t, err, flagName)
		})
	}
}

func TestBadFlagValuesNameTheFlag(t *testing.T) {
	for _, args := range [][]string{
		{"--brokers", "three"}, {"--time-limit", "60"}, {"--subscribe=maybe"}, {"--server-property", "novalue"},
		{"--feature", "eligible.leader.replicas.version"}, {"--feature", "eligible.leader.replicas.version=off"},
		{"--no-such-flag"}, {"stray"},
	} {
		_, err := spec.ParseArgs(args)
		require.Error(t, err, "%q", args)
	}
}

func TestDefaults(t *testing.T) {
	s, err := spec.ParseArgs([]string{"--seed", "1"})
	require.NoError(t, err)
	require.Equal(t, strings.Split(spec.DefaultNemesis, ","), s.Nemesis, "a run with no --nemesis injects faults")
	none, err := spec.ParseArgs([]string{"--seed", "1", "--nemesis", "none"})
	require.NoError(t, err)
	cfg, err := none.NemesisConfig()
	require.NoError(t, err)
	require.Empty(t, cfg.Kinds)
	// The Go API's zero spec takes the same defaults as the command line.
	goAPI := spec.Spec{Seed: 1}.WithDefaults()
	require.Equal(t, s, goAPI)
}

func TestRateZeroIsUnlimitedOnTheCommandLine(t *testing.T) {
	for _, text := range []string{"0", "unlimited"} {
		s, err := spec.ParseArgs([]string{"--seed", "1", "--rate", text})
		require.NoError(t, err)
		require.Equal(t, float64(spec.Unlimited), s.Rate)
		require.Equal(t, float64(spec.Unlimited), s.WithDefaults().Rate, "the harness's defaults keep it")
	}
	require.Equal(t, 200.0, spec.Spec{}.WithDefaults().Rate, "the Go API's zero rate is the default")
}

func TestRegisterFlagsHelpShowsDefaults(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	s := spec.Defaults()
	spec.RegisterFlags(fs, &s, spec.Fields)
	require.Equal(t, "20s", fs.Lookup("nemesis-interval").DefValue)
	require.Equal(t, spec.DefaultNemesis, fs.Lookup("nemesis").DefValue)
}

func TestSpecValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(*spec.Spec)
		says string
	}{
		{"bad name", func(s *spec.Spec) { s.Name = "a/b" }, "name:"},
		{"latest is reserved", func(s *spec.Spec) { s.Name = "latest" }, "name:"},
		{"unknown workload", func(s *spec.Spec) { s.Workload = "bank" }, "workload:"},
		{"zero partitions", func(s *spec.Spec) { s.Partitions = -1 }, "partitions:"},
		{"acks 2", func(s *spec.Spec) { s.Acks = "2" }, "acks:"},
		{"short time limit", func(s *spec.Spec) { s.TimeLimit = spec.Duration(10 * time.Millisecond) }, "time-limit:"},
		{"no concurrency", func(s *spec.Spec) { s.Concurrency = -3 }, "concurrency:"},
		{"negative rate", func(s *spec.Spec) { s.Rate = -2 }, "rate:"},
		{"zero rate", func(s *spec.Spec) { s.Rate = 0 }, "rate:"},
		{"unknown nemesis", func(s *spec.Spec) { s.Nemesis = []string{"meteor"} }, "nemesis:"},
		{"cluster field", func(s *spec.Spec) { s.Cluster.MinInsyncReplicas = 5 }, "min-insync-replicas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec.Spec{}.WithDefaults()
			tt.edit(&s)
			err := s.Validate()
			require.ErrorContains(t, err, tt.says)
		})
	}
	require.NoError(t, spec.Spec{}.WithDefaults().Validate())
}

// The cluster's derived defaults follow the fields given: a version alone says its image and
// metadata mode, and the re-run command names the version alone.
func TestDerivedClusterDefaults(t *testing.T) {
	s, err := spec.ParseArgs([]string{"--seed", "1", "--kafka-version", "4.1.1"})
	require.NoError(t, err)
	require.Equal(t, "kchaos/kafka:4.1.1", s.Cluster.Image)
	require.Equal(t, broker.MetadataKRaft, s.Cluster.Metadata)
	require.Equal(t, 3, s.Cluster.Controllers)
	require.Equal(t, broker.ControllersCombined, s.Cluster.ControllerMode)
	require.Equal(t, []string{"--seed", "1", "--kafka-version", "4.1.1"}, spec.RerunArgs(s))
	goAPI := spec.Spec{Seed: 1, Cluster: broker.ClusterSpec{KafkaVersion: "4.1.1"}}.WithDefaults()
	require.Equal(t, s, goAPI, "the Go API derives the same")

	zk, err := spec.ParseArgs([]string{"--seed", "1"})
	require.NoError(t, err)
	require.Equal(t, broker.DefaultImage, zk.Cluster.Image)
	require.Equal(t, broker.MetadataZooKeeper, zk.Cluster.Metadata)
	require.Zero(t, zk.Cluster.Controllers)
	require.Equal(t, []string{"--seed", "1"}, spec.RerunArgs(zk))

	_, err = spec.ParseArgs([]string{"--kafka-version", "4.1.1", "--metadata", "zookeeper"})
	require.ErrorContains(t, err, "metadata")
	require.ErrorContains(t, err, "--kafka-version 4.1.1 --metadata zookeeper")
	_, err = spec.ParseArgs([]string{"--image", "apache/kafka:4.1.1", "--kafka-version", "4.1.1"})
	require.NoError(t, err)
}

// The workload and isolation follow the producer, on the command line and in the Go API alike,
// and the re-run command names the producer alone.
func TestDerivedWorkloadDefaults(t *testing.T) {
	for _, tc := range []struct {
		args                []string
		workload, isolation string
		rerun               []string
	}{
		{args: nil, workload: "queue", isolation: "read_uncommitted", rerun: []string{"--seed", "1"}},
		{args: []string{"--producer", "transactional"}, workload: "txn", isolation: "read_committed",
			rerun: []string{"--producer", "transactional", "--seed", "1"}},
		{args: []string{"--producer", "idempotent"}, workload: "txn", isolation: "read_uncommitted",
			rerun: []string{"--producer", "idempotent", "--seed", "1"}},
		// Explicit values win over what the producer derives.
		{args: []string{"--producer", "transactional", "--isolation", "read_uncommitted"}, workload: "txn", isolation: "read_uncommitted",
			rerun: []string{"--producer", "transactional", "--isolation", "read_uncommitted", "--seed", "1"}},
		{args: []string{"--workload", "txn"}, workload: "txn", isolation: "read_uncommitted",
			rerun: []string{"--workload", "txn", "--seed", "1"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			s, err := spec.ParseArgs(append([]string{"--seed", "1"}, tc.args...))
			require.NoError(t, err)
			require.Equal(t, tc.workload, s.Workload)
			require.Equal(t, tc.isolation, s.Isolation)
			require.Equal(t, tc.rerun, spec.RerunArgs(s))

			back, err := spec.ParseArgs(spec.RerunArgs(s))
			require.NoError(t, err)
			require.Equal(t, s, back)
		})
	}
	// The Go API derives what the flags derive.
	goAPI := spec.Spec{Seed: 1, Producer: "transactional"}.WithDefaults()
	require.Equal(t, "txn", goAPI.Workload)
	require.Equal(t, "read_committed", goAPI.Isolation)
	require.NoError(t, goAPI.Validate())
}

// The faults over faultfs are refused before any cluster starts when --faultfs is missing.
func TestFaultFSFaultsNeedTheFlag(t *testing.T) {
	_, err := spec.ParseArgs([]string{"--seed", "5", "--nemesis", "kill,crash"})
	require.ErrorContains(t, err, "crash cannot run on this cluster: needs the brokers' log dirs on faultfs (--faultfs")
	s, err := spec.ParseArgs([]string{"--seed", "5", "--nemesis", "crash,power-loss,disk-full,disk-error,slow-disk", "--faultfs"})
	require.NoError(t, err)
	require.True(t, s.Cluster.FaultFS)
}

// TestNemesisAllIsWhatTheClusterCanRun: "all" leaves out the faults the cluster cannot run
// (crash and the disk faults without --faultfs), and a fault named on its own is still refused.
func TestNemesisAllIsWhatTheClusterCanRun(t *testing.T) {
	s, err := spec.ParseArgs([]string{"--seed", "3", "--nemesis", "all"})
	require.NoError(t, err)
	cfg, err := s.NemesisConfig()
	require.NoError(t, err)
	require.Contains(t, cfg.Kinds, nemesis.Kind("kill"))
	require.NotContains(t, cfg.Kinds, nemesis.Kind("crash"))

	s, err = spec.ParseArgs([]string{"--seed", "3", "--nemesis", "all", "--faultfs"})
	require.NoError(t, err)
	cfg, err = s.NemesisConfig()
	require.NoError(t, err)
	require.Contains(t, cfg.Kinds, nemesis.Kind("crash"))

	_, err = spec.ParseArgs([]string{"--seed", "3", "--nemesis", "all,crash"})
	require.ErrorContains(t, err, "crash")
}

// Faults are sized to the session timeout of the cluster's metadata mode: ZooKeeper's
// zookeeper.session.timeout.ms, KRaft's broker.session.timeout.ms (9 s by default).
func TestNemesisIntervalFollowsTheModesSessionTimeout(t *testing.T) {
	tests := []struct {
		args []string
		says string // empty: valid
	}{
		{[]string{"--nemesis", "kill", "--nemesis-interval", "12s"}, "kill needs to play out: 18s (zookeeper.session.timeout.ms) + 2s"},
		{[]string{"--kafka-version", "4.1.1", "--nemesis", "kill", "--nemesis-interval", "12s"}, ""},
		{[]string{"--kafka-version", "4.1.1", "--nemesis", "kill", "--nemesis-interval", "10s"}, "kill needs to play out: 9s (broker.session.timeout.ms) + 2s"},
		{[]string{"--kafka-version", "4.1.1", "--server-property", "broker.session.timeout.ms=15000", "--nemesis", "kill", "--nemesis-interval", "12s"}, "15s (broker.session.timeout.ms) + 2s"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			s, err := spec.ParseArgs(append([]string{"--seed", "1"}, tt.args...))
			if err == nil {
				err = s.Validate()
			}
			if tt.says == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.says)
		})
	}
}

// Each metadata mode has its own isolation fault and names the other's: zk-isolate in ZooKeeper
// mode, controller-isolate in KRaft mode. "all" draws only what the mode can run, and the
// controller quorum's targets need KRaft.
func TestMetadataFaultsFollowTheMode(t *testing.T) {
	kraft := []string{"--kafka-version", "4.1.1"}
	tests := []struct {
		name    string
		args    []string
		says    string         // empty: valid
		has     []nemesis.Kind // with says empty: kinds the config holds
		hasNot  []nemesis.Kind
		targets []nemesis.Target
	}{
		{name: "controller-isolate in ZooKeeper mode", args: []string{"--nemesis", "controller-isolate"},
			says: "controller-isolate cannot run on this cluster: needs KRaft controllers, and the cluster runs ZooKeeper: zk-isolate is its ZooKeeper-mode counterpart"},
		{name: "zk-isolate in KRaft mode", args: append(kraft, "--nemesis", "zk-isolate"),
			says: "zk-isolate cannot run on this cluster: needs ZooKeeper, and the cluster runs KRaft: controller-isolate is its KRaft counterpart"},
		{name: "zk-isolate on 3.9.1 KRaft", args: []string{"--metadata", "kraft", "--nemesis", "zk-isolate"}, says: "controller-isolate is its KRaft counterpart"},
		{name: "controller-isolate on 4.1.1", args: append(kraft, "--nemesis", "controller-isolate"), has: []nemesis.Kind{"controller-isolate"}},
		{name: "controller-isolate on 3.9.1 KRaft, dedicated", args: []string{"--metadata", "kraft", "--controller-mode", "dedicated", "--nemesis", "controller-isolate"},
			has: []nemesis.Kind{"controller-isolate"}},
		{name: "controller-isolate on one combined node", args: append(kraft, "--brokers", "1", "--replication-factor", "1", "--nemesis", "controller-isolate"),
			says: "needs a controller other than the broker it cuts off"},
		{name: "all in ZooKeeper mode", args: []string{"--nemesis", "all"},
			has: []nemesis.Kind{"kill", "zk-isolate"}, hasNot: []nemesis.Kind{"controller-isolate"}},
		{name: "all in KRaft mode", args: append(kraft, "--nemesis", "all"),
			has: []nemesis.Kind{"kill", "controller-isolate"}, hasNot: []nemesis.Kind{"zk-isolate"}},
		{name: "all and a fault of the other mode", args: append(kraft, "--nemesis", "all,zk-isolate"), says: "zk-isolate cannot run"},
		{name: "quorum targets in ZooKeeper mode", args: []string{"--nemesis", "kill", "--nemesis-targets", "controllers-minority"},
			says: "target controllers-minority needs KRaft controllers, and the cluster runs ZooKeeper"},
		{name: "quorum targets in KRaft mode", args: append(kraft, "--nemesis", "kill,pause,partition", "--nemesis-targets", "controllers-minority,controllers-majority"),
			has: []nemesis.Kind{"kill"}, targets: []nemesis.Target{"controllers-minority", "controllers-majority"}},
		{name: "default targets leave the quorum alone", args: append(kraft, "--nemesis", "kill"),
			has: []nemesis.Kind{"kill"}, targets: nemesis.DefaultTargets()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := spec.ParseArgs(append([]string{"--seed", "1"}, tt.args...))
			if err == nil {
				err = s.Validate()
			}
			if tt.says != "" {
				require.ErrorContains(t, err, tt.says)
				return
			}
			require.NoError(t, err)
			cfg, err := s.NemesisConfig()
			require.NoError(t, err)
			for _, k := range tt.has {
				require.Contains(t, cfg.Kinds, k)
			}
			for _, k := range tt.hasNot {
				require.NotContains(t, cfg.Kinds, k)
			}
			if tt.targets != nil {
				require.Equal(t, tt.targets, cfg.Targets)
			}
		})
	}
}
