package harness

import (
	"context"
	"github.com/kchaos/kchaos/spec"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/kchaos/kchaos/checkers"
)

// RunT runs spec from a go test and returns its outcome. The test fails at once when the run could
// not be done. Ctrl-C (SIGINT or SIGTERM) during the run heals every fault and removes the cluster
// before the test ends. Logs go to t.Log, so go test -v shows the phases.
func RunT(t testing.TB, s spec.Spec) Outcome {
	t.Helper()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out, err := Run(ctx, s, Options{Logf: t.Logf})
	if err != nil {
		t.Fatalf("kchaos run could not be done: %v (run directory: %s)", err, out.RunDir)
	}
	t.Logf("verdict %s, anomalies %v, run directory %s", out.Verdict, out.AnomalyTypes, out.RunDir)
	return out
}

// RequireValid runs spec from a go test and fails the test unless the verdict is valid, naming the
// anomalies and the run directory to look at.
func RequireValid(t testing.TB, s spec.Spec) Outcome {
	t.Helper()
	out := RunT(t, s)
	if out.Verdict != checkers.Valid {
		t.Fatalf("kchaos verdict %s (anomalies %v): see %s/report.html and results.json", out.Verdict, out.AnomalyTypes, out.RunDir)
	}
	return out
}
