package txn

import (
	"context"
	"time"

	"github.com/kchaos/kchaos/workloads"
)

// endStableFor is how long, without a marker offset (acks=0), the end of the log must stand still
// before the reads of a key are taken as complete.
const endStableFor = 10 * time.Second

// FinalReads reads every key from offset 0 with the run's isolation, with a fresh client per
// key, until the position passes a marker written first, or ctx ends; as the queue workload
// does. Each key's outcome is recorded as a history.FinalRead observer line. Under
// read_committed the reads pass the marker only once every transaction open before it has ended:
// the last stable offset stops at the first of them. Final readers never take a kept producer
// (Options.KeepProducer): each opens its own, whose InitProducerID fences whatever a kept one of
// its id left open.
func (w *Workload) FinalReads(ctx context.Context, rec workloads.Recorder) error {
	if w.opts.KeepProducer {
		w.logf("txn workload: %d new processes took a kept producer", w.Reused())
	}
	w.dropKept() // the workers are done: their ids go to the final readers, which fence them
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

// finalReadConfig is what the shared final-read loop needs of the workload. Final readers never
// abort.
func (w *Workload) finalReadConfig() workloads.FinalReadConfig {
	return workloads.FinalReadConfig{
		Open: func() (workloads.FinalReader, error) {
			c, err := w.newClient(0)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		NextValue:    w.value,
		MaxOffset:    w.MaxOffset,
		EndStableFor: endStableFor,
		Logf:         w.logf,
	}
}
