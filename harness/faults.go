package harness

import (
	"context"
	"fmt"
	"github.com/kchaos/kchaos/spec"

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

// newFaults builds the nemesis of a spec against a started cluster, recording its events as
// nemesis lines; nil when the spec has no faults.
func newFaults(c *broker.Cluster, s spec.Spec, rec *Recorder) (Faults, error) {
	cfg, err := s.NemesisConfig()
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
