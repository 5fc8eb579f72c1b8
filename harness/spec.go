// Package harness runs a chaos test: it validates a test spec, then drives the phases of a run
// (start the cluster, create topics, run the workload and the nemesis for the time limit, heal,
// wait for recovery, final reads, collect logs, tear down, check, write results), schedules
// operations under Jepsen's invoke/ok/fail/info discipline and records them in one history.
// Run is the Go API for go test suites; cmd/kchaos is a thin layer over it.
package harness

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/workloads/queue"
)

// Spec is a chaos test. Zero fields take their defaults (WithDefaults); Validate reports what is
// wrong before anything starts. It is written to the run directory as test.json.
type Spec struct {
	// Name names the test and its folder under ResultsDir.
	Name    string             `json:"name"`
	Cluster broker.ClusterSpec `json:"cluster"`
	// Workload is the client workload; "queue" is Jepsen's Kafka queue.
	Workload string `json:"workload"`
	// Topic and Partitions are the workload's keys: "<topic>/<partition>".
	Topic      string `json:"topic"`
	Partitions int    `json:"partitions"`
	// Acks is the producers' acks: "all", "1" or "0".
	Acks string `json:"acks"`
	// Subscribe makes consumers subscribe through a consumer group instead of assigning
	// themselves partitions (the checkers then allow poll-skip and nonmonotonic-poll).
	Subscribe bool `json:"subscribe,omitempty"`
	// Nemesis lists the fault kinds (see nemesis.ParseKinds); empty runs without faults.
	Nemesis []string `json:"nemesis"`
	// NemesisInterval is the time between faults.
	NemesisInterval Duration `json:"nemesis_interval"`
	// NemesisTargets are the targets faults draw from (nemesis.Target: one, minority, majority,
	// all, primaries, controller); all of them when empty.
	NemesisTargets []string `json:"nemesis_targets,omitempty"`
	// NemesisShapes are the partition shapes drawn from (nemesis.Shape); all of them when empty.
	NemesisShapes []string `json:"nemesis_shapes,omitempty"`
	// NemesisTraffic is what partitions cut: "all" (brokers, ZooKeeper and clients) or "brokers".
	NemesisTraffic string `json:"nemesis_traffic,omitempty"`
	// TimeLimit is how long the workload and the nemesis run.
	TimeLimit Duration `json:"time_limit"`
	// Concurrency is the number of client workers.
	Concurrency int `json:"concurrency"`
	// Rate is the target of operations per second over all workers; 0 is as fast as they go.
	Rate float64 `json:"rate"`
	// Seed makes the workload's and the nemesis' choices repeatable.
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

// WithDefaults returns s with every unset field given its default.
func (s Spec) WithDefaults() Spec {
	s.Cluster = s.Cluster.WithDefaults()
	set := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	if s.Name == "" {
		s.Name = "kchaos"
	}
	if s.Workload == "" {
		s.Workload = "queue"
	}
	if s.Topic == "" {
		s.Topic = "kchaos"
	}
	if s.Partitions == 0 {
		s.Partitions = 4
	}
	if s.Acks == "" {
		s.Acks = "all"
	}
	set(&s.NemesisInterval, 15*time.Second)
	set(&s.TimeLimit, 60*time.Second)
	if s.Concurrency == 0 {
		s.Concurrency = 10
	}
	if s.ResultsDir == "" {
		s.ResultsDir = "results"
	}
	set(&s.OpTimeout, 5*time.Second)
	set(&s.RecoveryTimeout, 2*time.Minute)
	set(&s.FinalReadTimeout, 2*time.Minute)
	return s
}

var testName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Validate reports every problem with the spec, each naming its field, before anything starts.
// Call it on a spec with defaults applied.
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
	if s.Workload != "queue" {
		bad("workload", "unknown workload %q (known: queue)", s.Workload)
	}
	if !testName.MatchString(s.Topic) {
		bad("topic", "%q is not a valid topic name", s.Topic)
	}
	if s.Partitions < 1 || s.Partitions > 64 {
		bad("partitions", "must be within 1..64, got %d", s.Partitions)
	}
	if _, err := queue.RequiredAcks(s.Acks); err != nil {
		errs = append(errs, err)
	}
	if err := validateNemesis(s); err != nil {
		errs = append(errs, err)
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
	if s.Rate < 0 {
		bad("rate", "must not be negative, got %g", s.Rate)
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
