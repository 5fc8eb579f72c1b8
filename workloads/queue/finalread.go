package queue

import (
	"context"
	"time"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/workloads"
)

// FinalReadF is the f of the observer line written for each key after its final reads. Its value
// is a FinalRead.
const FinalReadF = history.FFinalRead

// FinalRead is the value of a FinalReadF line: how the final reads of one key ended. It is
// history's type, which the checkers read the line back with.
type FinalRead = history.FinalRead

// FinalReads reads every key from offset 0 with a fresh client per key, until the position passes
// a marker written first (or, without its offset, the high watermark and the highest offset any
// operation saw), or ctx ends. Each key's outcome is recorded as a FinalReadF observer line.
func (w *Workload) FinalReads(ctx context.Context, rec workloads.Recorder) error {
	workloads.ReadKeys(ctx, rec, w.Keys(), w.finalReadConfig())
	return nil
}

// SkipFinalReads records, for every key, final reads that did not happen.
func (w *Workload) SkipFinalReads(rec workloads.Recorder, reason string) {
	workloads.RecordSkippedFinalReads(rec, w.Keys(), w.MaxOffset, reason)
}

func (w *Workload) logf(format string, args ...any) {
	if w.opts.Logf != nil {
		w.opts.Logf(format, args...)
	}
}

// finalReadConfig is what the shared final-read loop needs of the workload. Without a marker
// offset (acks=0), the end of the log must stand still for longer than a follower may lag.
func (w *Workload) finalReadConfig() workloads.FinalReadConfig {
	return workloads.FinalReadConfig{
		Open: func() (workloads.FinalReader, error) {
			c, err := w.newClient()
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		NextValue:    w.values.Next,
		MaxOffset:    w.MaxOffset,
		EndStableFor: w.opts.ReplicaLagMax + 2*time.Second,
		Logf:         w.logf,
	}
}
