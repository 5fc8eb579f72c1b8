package txn

import (
	"context"
	"time"

	"github.com/kchaos/kchaos/history"
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
	return workloads.ReadEachKey(w.Keys(), func(key string, process history.Process, stride int) error {
		return w.finalRead(ctx, rec, key, process, stride)
	})
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

// finalRead reads one key; its processes are process, process+stride, ... (a reader whose
// operation ended info is retired like any other).
func (w *Workload) finalRead(ctx context.Context, rec workloads.Recorder, key string, process history.Process, stride int) error {
	fr := history.FinalRead{Key: key, Target: w.MaxOffset(key) + 1, Processes: []int64{int64(process)}, Marker: -1}
	var client *Client
	defer func() {
		if client != nil {
			client.Close()
		}
	}()
	// next opens the client of the next process, after an info or a failure to connect.
	retire := func() {
		if client != nil {
			client.Close()
			client = nil
		}
		process += history.Process(stride)
		fr.Processes = append(fr.Processes, int64(process))
	}
	invoke := func(inv history.Op) history.Op {
		rec.Append(&inv)
		done := client.Invoke(context.WithoutCancel(ctx), inv)
		rec.Append(&done)
		return done
	}
	pause := func() {
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}

	// First a marker write, past which the reads must go: after an election the high watermark
	// can stand below records the ISR holds until a new append (see the queue workload).
	end := int64(-1) // the offset the reads must pass; -1 until known
	markerSent, assigned := false, false
	lastEnd, endSince := int64(-1), time.Now()
	for ctx.Err() == nil && !fr.Complete {
		if client == nil {
			c, err := w.newClient(0) // final readers never abort
			if err != nil {
				w.logf("final read of %s: %v", key, err)
				pause()
				continue
			}
			client, assigned = c, false
		}
		if !markerSent {
			done := invoke(history.SendInvoke(process, key, history.IntValue(w.value())))
			switch done.Type {
			case history.OK:
				markerSent = true
				if off := done.Mops[0].Offset; off >= 0 {
					fr.Marker, end = off, off+1
				}
			case history.Info:
				// A broker that drops each produce at once ends an attempt in milliseconds:
				// without a pause the retries flood the history.
				retire()
				pause()
			default: // e.g. no leader yet
				pause()
			}
			continue
		}
		if !assigned {
			assigned = invoke(history.AssignInvoke(process, []string{key})).Type == history.OK
			continue
		}
		if done := invoke(history.PollInvoke(process)); done.Type != history.OK {
			retire()
			pause()
			continue
		}
		fr.Position, fr.HighWatermark = client.Progress(key)
		if fr.HighWatermark != lastEnd {
			lastEnd, endSince = fr.HighWatermark, time.Now()
		}
		fr.ReachedTarget = fr.Position >= fr.Target
		switch {
		case end >= 0:
			fr.Complete = fr.Position >= end
		default: // acks=0: no marker offset
			fr.Complete = fr.Position >= fr.HighWatermark && (fr.ReachedTarget || time.Since(endSince) >= endStableFor)
		}
		if !fr.Complete && fr.Position >= fr.HighWatermark {
			pause()
		}
	}
	line := history.ObserveFinalRead(fr)
	rec.Append(&line)
	switch {
	case !fr.Complete:
		w.logf("final read of %s incomplete: at offset %d of %d (end of log seen %d)", key, fr.Position, fr.Target, fr.HighWatermark)
	case !fr.ReachedTarget:
		w.logf("final read of %s: the log ends at %d, below offset %d that operations saw", key, fr.Position, fr.Target-1)
	}
	return nil
}
