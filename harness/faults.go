package harness

import (
	"context"
	"fmt"
	"strings"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/nemesis"
)

// Faults is the nemesis as the harness drives it: run the schedule until ctx ends (healing what it
// started), heal everything on demand (idempotent), and say what is active now.
type Faults interface {
	Run(ctx context.Context) error
	Heal(ctx context.Context) error
	Active() []string
}

// nemesisConfig turns the spec's nemesis fields into the nemesis' schedule.
func nemesisConfig(s Spec) (nemesis.Config, error) {
	kinds, err := nemesis.ParseKinds(strings.Join(s.Nemesis, ","))
	if err != nil {
		return nemesis.Config{}, err
	}
	cfg := nemesis.Config{Kinds: kinds, Interval: s.NemesisInterval.D(), Seed: s.Seed, Topic: s.Topic,
		Traffic: nemesis.Traffic(s.NemesisTraffic)}
	for _, t := range s.NemesisTargets {
		cfg.Targets = append(cfg.Targets, nemesis.Target(t))
	}
	for _, sh := range s.NemesisShapes {
		cfg.Shapes = append(cfg.Shapes, nemesis.Shape(sh))
	}
	cfg = cfg.WithDefaults()
	return cfg, cfg.Validate()
}

// validateNemesis checks the nemesis fields of a spec.
func validateNemesis(s Spec) error {
	_, err := nemesisConfig(s)
	return err
}

// newFaults builds the nemesis of a spec against a started cluster, recording its events as
// nemesis lines; nil when the spec has no faults.
func newFaults(c *broker.Cluster, s Spec, rec *Recorder) (Faults, error) {
	cfg, err := nemesisConfig(s)
	if err != nil || len(cfg.Kinds) == 0 {
		return nil, err
	}
	return nemesis.New(c, cfg, func(e nemesis.Event) {
		op, err := history.Nemesis(e.F, e.Value)
		if err != nil {
			op, _ = history.Nemesis(e.F, nil)
			op.Error = fmt.Sprintf("kchaos could not record this event's value: %v", err)
		}
		if e.Error != "" {
			op.Error = e.Error
		}
		rec.Append(&op)
	}), nil
}
