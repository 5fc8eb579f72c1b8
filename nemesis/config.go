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
	// Interval is the quiet time before each fault (default 15 s).
	Interval time.Duration `json:"interval"`
	// Hold is how long a fault lasts once started (default Interval). A lag holds longer, up to
	// RecoverTimeout, while its follower is still in the ISR.
	Hold time.Duration `json:"hold"`
	// Seed makes the schedule reproducible: the same seed draws the same kinds, targets, shapes and
	// picks (see Plan).
	Seed int64 `json:"seed"`
	// Targets are the targets kill, pause, zk-isolate and the isolate and one-way partitions draw
	// from (default AllTargets).
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
	}
	if cfg.Hold == 0 {
		cfg.Hold = cfg.Interval
	}
	if len(cfg.Targets) == 0 {
		cfg.Targets = AllTargets()
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

// Validate reports the first problem of a config with defaults applied, naming the field.
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
	}
	return nil
}
