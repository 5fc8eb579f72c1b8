// Package spec is the run spec of a chaos test: its fields, their defaults, validation, the flags
// of kchaos run and the re-run command, all from one table (Fields). It is written to each run
// directory as test.json and read back with the same type by the harness, the report and the CLI.
package spec

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/nemesis"
	"github.com/kchaos/kchaos/workloads/queue"
)

// Spec is a chaos test. Zero fields take their defaults (WithDefaults); Validate reports what is
// wrong before anything starts. It is written to the run directory as test.json.
type Spec struct {
	// Name names the test and its folder under ResultsDir.
	Name    string             `json:"name"`
	Cluster broker.ClusterSpec `json:"cluster"`
	// Workload is the client workload; "queue" is Jepsen's Kafka queue, "txn" its transactional
	// queue (workloads/txn: txns of several sends and polls, on franz-go).
	Workload string `json:"workload"`
	// Topic and Partitions are the workload's keys: "<topic>/<partition>".
	Topic      string `json:"topic"`
	Partitions int    `json:"partitions"`
	// Acks is the producers' acks: "all", "1" or "0".
	Acks string `json:"acks"`
	// Producer is the txn workload's producers: "plain", "idempotent" or "transactional". The
	// queue workload's kafka-go client has only plain producers.
	Producer string `json:"producer,omitempty"`
	// Isolation is the txn workload's consumers' isolation level: "read_uncommitted" or
	// "read_committed". Unset, it follows the producer (DerivedDefaults): read_committed for
	// transactional producers, read_uncommitted otherwise.
	Isolation string `json:"isolation,omitempty"`
	// AbortRate is the share of transactions that transactional producers abort, in [0, 1];
	// NoAborts stands for an explicit 0 (a zero field takes the default).
	AbortRate float64 `json:"abort_rate,omitempty"`
	// KeepProducer, with transactional producers only, hands the franz-go producer of a txn
	// client retired after an info to its successor instead of closing it (txn.Options).
	KeepProducer bool `json:"keep_producer,omitempty"`
	// Subscribe makes consumers subscribe through a consumer group instead of assigning
	// themselves partitions (the checkers then allow poll-skip and nonmonotonic-poll).
	Subscribe bool `json:"subscribe,omitempty"`
	// Nemesis lists the fault kinds (see nemesis.ParseKinds); ["none"] runs without faults, and
	// an empty list takes the default mix.
	Nemesis []string `json:"nemesis"`
	// NemesisInterval is the time between faults.
	NemesisInterval Duration `json:"nemesis_interval"`
	// NemesisTargets are the targets faults draw from (nemesis.Target: one, minority, majority,
	// all, primaries, controller, and in KRaft mode controllers-minority, controllers-majority);
	// nemesis.DefaultTargets when empty.
	NemesisTargets []string `json:"nemesis_targets,omitempty"`
	// NemesisShapes are the partition shapes drawn from (nemesis.Shape); all of them when empty.
	NemesisShapes []string `json:"nemesis_shapes,omitempty"`
	// NemesisTraffic is what partitions cut: "all" (brokers, ZooKeeper and clients) or "brokers".
	NemesisTraffic string `json:"nemesis_traffic,omitempty"`
	// TimeLimit is how long the workload and the nemesis run.
	TimeLimit Duration `json:"time_limit"`
	// Concurrency is the number of client workers.
	Concurrency int `json:"concurrency"`
	// Rate is the target of operations per second over all workers; Unlimited is as fast as they
	// go. Zero, like every zero field, means the default.
	Rate float64 `json:"rate"`
	// Seed makes the workload's and the nemesis' choices repeatable; 0 means "draw one from the
	// clock" (WithDefaults), and the seed drawn is what test.json and the re-run command hold.
	Seed int64 `json:"seed"`
	// ResultsDir is where run directories go.
	ResultsDir string `json:"results_dir"`
	// OpTimeout bounds one operation; past it the outcome is unknown (info).
	OpTimeout Duration `json:"op_timeout"`
	// RecoveryTimeout bounds the wait, after healing, for every broker and partition to be back.
	RecoveryTimeout Duration `json:"recovery_timeout"`
	// FinalReadTimeout bounds the final reads; reads cut short make the verdict unknown at best.
	FinalReadTimeout Duration `json:"final_read_timeout"`
}

// Unlimited is the Rate of workers that go as fast as they can.
const Unlimited = -1

// NoAborts is the AbortRate of a run whose transactions never abort.
const NoAborts = -1

// AbortShare returns the share of transactions aborted: AbortRate, with NoAborts as 0.
func (s Spec) AbortShare() float64 { return max(0, s.AbortRate) }

// DerivedDefaults returns s with its unset (zero) fields whose default follows other fields filled
// in from those: the workload and isolation follow the producer (txn and read_committed for
// transactional producers, where transactions promise most; the queue and read_uncommitted for
// plain ones), the image, metadata mode and controllers follow the Kafka version. Fields has the
// rules.
func (s Spec) DerivedDefaults() Spec {
	return withDerived(s, func(f Field) bool { return f.value(&s).isZero() })
}

// Duration is a time.Duration written in JSON as Go's duration text ("60s").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes "1m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads Go's duration text.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// WithDefaults returns s with every unset (zero) field given its default from Fields (derived
// from the fields set, for those whose default follows others: DerivedDefaults), and a zero Seed
// replaced by one drawn from the clock. The cluster's other derived defaults (a replication factor
// no larger than the brokers) come from broker.ClusterSpec.WithDefaults.
func (s Spec) WithDefaults() Spec {
	s = s.DerivedDefaults()
	s.Cluster = s.Cluster.WithDefaults()
	for _, f := range Fields {
		v := f.value(&s)
		if v.isZero() && f.Default != "" && f.derive == nil {
			if err := v.Set(f.Default); err != nil {
				panic(fmt.Sprintf("spec: default %q of --%s: %v", f.Default, f.Flag, err)) // a bug in the table
			}
		}
	}
	if s.Seed == 0 {
		s.Seed = ClockSeed()
	}
	return s
}

// ClockSeed draws a non-zero seed from the clock.
func ClockSeed() int64 {
	if n := time.Now().UnixNano() & math.MaxInt64; n != 0 {
		return n
	}
	return 1
}

var testName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Validate reports every problem with the spec, each naming its flag, before anything starts.
// Call it on a spec with every field set (WithDefaults, or ParseArgs): a zero or empty value
// here is one a user set explicitly, and an error.
func (s Spec) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if err := s.Cluster.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !testName.MatchString(s.Name) || s.Name == "latest" {
		bad("name", "%q must be letters, digits, '.', '_' or '-' (and not \"latest\")", s.Name)
	}
	if s.Workload != "queue" && s.Workload != "txn" {
		bad("workload", "unknown workload %q (known: queue, txn)", s.Workload)
	}
	errs = append(errs, s.validateTxn()...)
	if !testName.MatchString(s.Topic) {
		bad("topic", "%q is not a valid topic name", s.Topic)
	}
	if s.Partitions < 1 || s.Partitions > 64 {
		bad("partitions", "must be within 1..64, got %d", s.Partitions)
	}
	if _, err := queue.RequiredAcks(s.Acks); err != nil {
		errs = append(errs, err)
	}
	if len(s.Nemesis) == 0 {
		bad("nemesis", `must not be empty (use "none" for no faults)`)
	} else if cfg, err := s.NemesisConfig(); err != nil {
		errs = append(errs, err)
	} else {
		// Refused here rather than once the cluster is up: crash without --faultfs, partition
		// with one broker.
		if err := nemesis.Available(cfg.Kinds, s.clusterInfo()); err != nil {
			errs = append(errs, err)
		}
		if err := nemesis.AvailableTargets(cfg.Targets, s.clusterInfo()); err != nil {
			errs = append(errs, err)
		}
	}
	if s.NemesisTraffic != string(nemesis.TrafficAll) && s.NemesisTraffic != string(nemesis.TrafficBrokers) {
		bad("nemesis-traffic", "want %s or %s, got %q", nemesis.TrafficAll, nemesis.TrafficBrokers, s.NemesisTraffic)
	}
	if s.NemesisInterval.D() < time.Second {
		bad("nemesis-interval", "must be at least 1s, got %s", s.NemesisInterval.D())
	}
	if s.TimeLimit.D() < time.Second {
		bad("time-limit", "must be at least 1s, got %s", s.TimeLimit.D())
	}
	if s.Concurrency < 1 || s.Concurrency > 1000 {
		bad("concurrency", "must be within 1..1000, got %d", s.Concurrency)
	}
	if math.IsNaN(s.Rate) || math.IsInf(s.Rate, 0) || (s.Rate <= 0 && s.Rate != Unlimited) {
		bad("rate", "must be a positive number or unlimited, got %g", s.Rate)
	}
	if s.Seed == 0 {
		bad("seed", "must not be 0 (leave the flag out to draw a seed from the clock)")
	}
	if s.OpTimeout.D() < 100*time.Millisecond {
		bad("op-timeout", "must be at least 100ms, got %s", s.OpTimeout.D())
	}
	if s.RecoveryTimeout.D() < time.Second {
		bad("recovery-timeout", "must be at least 1s, got %s", s.RecoveryTimeout.D())
	}
	if s.FinalReadTimeout.D() < time.Second {
		bad("final-read-timeout", "must be at least 1s, got %s", s.FinalReadTimeout.D())
	}
	if s.ResultsDir == "" {
		bad("results-dir", "must not be empty")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid test spec: %w", errors.Join(errs...))
	}
	return nil
}

// clusterInfo is what the faults' availability depends on, with the cluster's defaults: in KRaft
// mode no ZooKeeper (zk-isolate cannot run, controller-isolate can), and the other way round.
func (s Spec) clusterInfo() nemesis.ClusterInfo {
	return nemesis.ClusterInfoOfSpec(s.Cluster)
}

// NemesisConfig turns the spec's nemesis fields into the nemesis' schedule; no kinds for
// ["none"].
func (s Spec) NemesisConfig() (nemesis.Config, error) {
	kinds, err := nemesis.ParseKinds(strings.Join(s.Nemesis, ","))
	if err != nil {
		return nemesis.Config{}, err
	}
	if slices.Contains(s.Nemesis, "all") {
		// "all" is every fault this cluster can run (crash needs --faultfs, zk-isolate
		// ZooKeeper, controller-isolate KRaft); a fault named
		// on its own is kept, and Validate says why it cannot run.
		named, _ := nemesis.ParseKinds(strings.Join(slices.DeleteFunc(slices.Clone(s.Nemesis), func(n string) bool { return n == "all" }), ","))
		info := s.clusterInfo()
		kinds = slices.DeleteFunc(kinds, func(k nemesis.Kind) bool {
			return !slices.Contains(named, k) && nemesis.Available([]nemesis.Kind{k}, info) != nil
		})
	}
	cfg := nemesis.Config{Kinds: kinds, Interval: s.NemesisInterval.D(), Seed: s.Seed, Topic: s.Topic,
		Traffic: nemesis.Traffic(s.NemesisTraffic)}
	for _, t := range s.NemesisTargets {
		cfg.Targets = append(cfg.Targets, nemesis.Target(t))
	}
	for _, sh := range s.NemesisShapes {
		cfg.Shapes = append(cfg.Shapes, nemesis.Shape(sh))
	}
	// Faults are sized to the cluster: each must last long enough to play out.
	setting, ms := s.Cluster.SessionTimeout()
	cfg.SessionTimeout, cfg.SessionTimeoutSetting = time.Duration(ms)*time.Millisecond, setting
	cfg.ReplicaLagMax = time.Duration(s.Cluster.ReplicaLagTimeMaxMs) * time.Millisecond
	cfg = cfg.WithDefaults()
	return cfg, cfg.Validate()
}
