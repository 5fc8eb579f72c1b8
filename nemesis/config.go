package nemesis

import (
	"fmt"
	"slices"
	"time"
)

// Config is the schedule of faults for a run. The zero value of each field means its default
// (see WithDefaults); Validate reports what is wrong.
type Config struct {
	// Kinds are the faults the schedule draws from; none means a run without faults.
	Kinds []Kind `json:"kinds"`
	// Interval is the quiet time before each fault (default 15 s, or longer when a kind needs it
	// to play out: see Need).
	Interval time.Duration `json:"interval"`
	// Hold is how long a fault lasts once started (default Interval). A lag holds longer, up to
	// RecoverTimeout, while its follower is still in the ISR; a jepsen-2013 holds its isolated
	// leader until a new leader is seen, up to three session timeouts.
	Hold time.Duration `json:"hold"`
	// Seed makes the schedule reproducible: the same seed draws the same kinds, targets, shapes and
	// picks (see Plan).
	Seed int64 `json:"seed"`
	// Targets are the targets kill, pause, zk-isolate, controller-isolate and the isolate and
	// one-way partitions draw from (default DefaultTargets).
	Targets []Target `json:"targets"`
	// Shapes are the partition shapes the schedule draws from (default AllShapes).
	Shapes []Shape `json:"shapes"`
	// Traffic is what partitions cut (default TrafficAll).
	Traffic Traffic `json:"traffic"`
	// Topic holds the partitions that primaries, lag and jepsen-2013 pick from; every topic whose
	// name does not start with "__" when empty.
	Topic string `json:"topic,omitempty"`
	// LagLoss is the share of packets a lag drops each way (default 0.9).
	LagLoss float64 `json:"lag_loss"`
	// RecoverTimeout bounds the waits of a fault: a restarted broker's registration, a lagging
	// follower leaving the ISR, the ISR shrinking in jepsen-2013 (default 2 min).
	RecoverTimeout time.Duration `json:"recover_timeout"`

	// SessionTimeout is the cluster's session timeout (zookeeper.session.timeout.ms, or in KRaft
	// mode broker.session.timeout.ms: SessionTimeoutSetting names which) and ReplicaLagMax its
	// replica.lag.time.max.ms: how long faults take to play out (see Failpoint.Need). Whoever builds
	// the Config from a spec fills them, so that Validate can refuse a schedule too short for its
	// faults before any cluster starts; New takes those still zero from the cluster's spec.
	SessionTimeout        time.Duration `json:"session_timeout,omitempty"`
	SessionTimeoutSetting string        `json:"session_timeout_setting,omitempty"`
	ReplicaLagMax         time.Duration `json:"replica_lag_max,omitempty"`
}

// Defaults used by WithDefaults.
const (
	DefaultInterval       = 15 * time.Second
	DefaultLagLoss        = 0.9
	DefaultRecoverTimeout = 2 * time.Minute
)

// WithDefaults returns a copy of cfg with every unset field given its default. Negative values are
// kept so that Validate can name them.
func (cfg Config) WithDefaults() Config {
	cfg.Kinds = slices.Clone(cfg.Kinds)
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
		// A default must not be shorter than what the chosen faults need to play out.
		for _, k := range cfg.Kinds {
			if fp, ok := FailpointOf(k); ok {
				if need := fp.Need(cfg); !need.Waits && need.Min > cfg.Interval {
					cfg.Interval = need.Min
				}
			}
		}
	}
	if cfg.Hold == 0 {
		cfg.Hold = cfg.Interval
	}
	if len(cfg.Targets) == 0 {
		cfg.Targets = DefaultTargets()
	} else {
		cfg.Targets = slices.Clone(cfg.Targets)
	}
	if len(cfg.Shapes) == 0 {
		cfg.Shapes = AllShapes()
	} else {
		cfg.Shapes = slices.Clone(cfg.Shapes)
	}
	if cfg.Traffic == "" {
		cfg.Traffic = TrafficAll
	}
	if cfg.LagLoss == 0 {
		cfg.LagLoss = DefaultLagLoss
	}
	if cfg.RecoverTimeout == 0 {
		cfg.RecoverTimeout = DefaultRecoverTimeout
	}
	return cfg
}

// Validate reports the first problem of a config with defaults applied, naming the field. A
// fault's hold (Hold, which is Interval unless set) must cover what the fault needs to play out on
// the cluster's timings, and for faults that wait for their own outcome RecoverTimeout must; the
// error names both numbers: "nemesis-interval 10s is shorter than what kill needs to play out: 18s
// (zookeeper.session.timeout.ms) + 2s". Unknown timings (zero) are not checked.
func (cfg Config) Validate() error {
	for _, k := range cfg.Kinds {
		if !k.Valid() {
			return fmt.Errorf("nemesis config: kinds: unknown fault %q; valid: %s", k, kindList())
		}
	}
	for _, t := range cfg.Targets {
		if !slices.Contains(AllTargets(), t) {
			return fmt.Errorf("nemesis config: targets: unknown target %q; valid: %v", t, AllTargets())
		}
	}
	for _, s := range cfg.Shapes {
		if !slices.Contains(AllShapes(), s) {
			return fmt.Errorf("nemesis config: shapes: unknown shape %q; valid: %v", s, AllShapes())
		}
	}
	switch {
	case cfg.Interval <= 0:
		return fmt.Errorf("nemesis config: interval must be positive, got %s", cfg.Interval)
	case cfg.Hold <= 0:
		return fmt.Errorf("nemesis config: hold must be positive, got %s", cfg.Hold)
	case cfg.Traffic != TrafficAll && cfg.Traffic != TrafficBrokers:
		return fmt.Errorf("nemesis config: traffic: unknown %q; valid: %s, %s", cfg.Traffic, TrafficBrokers, TrafficAll)
	case !(cfg.LagLoss > 0 && cfg.LagLoss <= 1):
		return fmt.Errorf("nemesis config: lag loss must be in (0, 1], got %v", cfg.LagLoss)
	case cfg.RecoverTimeout <= 0:
		return fmt.Errorf("nemesis config: recover timeout must be positive, got %s", cfg.RecoverTimeout)
	case cfg.SessionTimeout < 0:
		return fmt.Errorf("nemesis config: session timeout must not be negative, got %s", cfg.SessionTimeout)
	case cfg.ReplicaLagMax < 0:
		return fmt.Errorf("nemesis config: replica lag max must not be negative, got %s", cfg.ReplicaLagMax)
	}
	return cfg.validateNeeds()
}

// validateNeeds checks every kind's hold against what it needs to play out.
func (cfg Config) validateNeeds() error {
	for _, k := range cfg.Kinds {
		fp, _ := FailpointOf(k)
		need := fp.Need(cfg)
		name, have := "nemesis-interval", cfg.Interval
		switch {
		case need.Waits:
			name, have = "recover timeout", cfg.RecoverTimeout
		case cfg.Hold != cfg.Interval:
			// The user set the hold: the interval is only the quiet time between faults.
			name, have = "hold", cfg.Hold
		}
		if have < need.Min {
			return fmt.Errorf("nemesis config: %s %s is shorter than what %s needs to play out: %s", name, have, k, need.Why)
		}
	}
	return nil
}
