package harness

import (
	"context"
	"fmt"
	"strings"

	"github.com/kchaos/kchaos/broker"
)

// Faults is the nemesis as the harness drives it: run the schedule until ctx ends (healing what it
// started), heal everything on demand (idempotent), and say what is active now.
type Faults interface {
	Run(ctx context.Context) error
	Heal(ctx context.Context) error
	Active() []string
}

// validateNemesis checks the nemesis kinds of a spec.
func validateNemesis(kinds []string) error {
	if len(kinds) == 0 || (len(kinds) == 1 && kinds[0] == "none") {
		return nil
	}
	return fmt.Errorf("fault kinds %s are not available yet", strings.Join(kinds, ","))
}

// newFaults builds the nemesis of a spec against a started cluster; nil when the spec has none.
func newFaults(_ *broker.Cluster, spec Spec, _ *Recorder) (Faults, error) {
	if err := validateNemesis(spec.Nemesis); err != nil {
		return nil, err
	}
	return nil, nil
}
