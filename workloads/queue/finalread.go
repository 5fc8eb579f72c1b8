package queue

import (
	"context"
	"slices"
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
	return workloads.ReadEachKey(w.Keys(), func(key string, process history.Process, stride int) error {
		return w.finalRead(ctx, rec, key, process, stride)
	})
}

// SkipFinalReads records, for every key, final reads that did not happen.
func (w *Workload) SkipFinalReads(rec workloads.Recorder, reason string) {
	workloads.RecordSkippedFinalReads(rec, w.Keys(), w.MaxOffset, reason)
}

func recordFinalRead(rec workloads.Recorder, fr FinalRead) {
	line := history.ObserveFinalRead(fr)
	rec.Append(&line)
}

func (w *Workload) logf(format string, args ...any) {
	if w.opts.Logf != nil {
		w.opts.Logf(format, args...)
	}
}

// finalRead reads one key; its processes are process, process+stride, ... (a reader whose
// operation ended info is retired like any other).
func (w *Workload) finalRead(ctx context.Context, rec workloads.Recorder, key string, process history.Process, stride int) error {
	fr := FinalRead{Key: key, Target: w.MaxOffset(key) + 1, Processes: []int64{}, Marker: -1}
	client, err := w.newClient()
	if err != nil {
		return err
	}
	defer func() { client.Close() }()
	invoke := func(inv history.Op) history.Op {
		rec.Append(&inv)
		done := client.Invoke(context.Background(), inv)
		rec.Append(&done)
		if done.Type == history.Info {
			client.Close()
			if fresh, err := w.newClient(); err == nil {
				client = fresh
			}
		}
		return done
	}

	// First a marker write. After an election the new leader's high watermark can stand below
	// records its ISR holds (Kafka logs a non-monotonic update of the high watermark) and moves
	// only with a new append: without one, reads would stop short of records that are there.
	// Reading past the marker reads everything the log held before it.
	end := int64(-1) // the offset the reads must pass; -1 until known
	markerSent := false
	for !markerSent && ctx.Err() == nil {
		fr.Processes = append(fr.Processes, int64(process))
		done := invoke(history.SendInvoke(process, key, history.IntValue(w.values.Next())))
		switch done.Type {
		case history.OK:
			markerSent = true
			if off := done.Mops[0].Offset; off >= 0 {
				fr.Marker, end = off, off+1
			}
		case history.Info: // retired; the next attempt is a new process with a fresh client
			process += history.Process(stride)
			// A broker that drops each produce at once ("unexpected EOF", as after a power
			// loss) ends an attempt in milliseconds: without a pause the retries wrote 2,000
			// lines a second to the history.
			time.Sleep(200 * time.Millisecond)
		default: // e.g. no leader yet: try again shortly
			time.Sleep(200 * time.Millisecond)
		}
	}
	// Without the marker's offset (acks=0), the reads go on until they pass the highest offset any
	// operation saw, or see the high watermark stand still for longer than a follower may lag.
	stableFor := w.opts.ReplicaLagMax + 2*time.Second
	assigned := false
	lastHW, hwSince := int64(-1), time.Now()
	for ctx.Err() == nil {
		if !assigned {
			if !slices.Contains(fr.Processes, int64(process)) {
				fr.Processes = append(fr.Processes, int64(process))
			}
			assigned = invoke(history.AssignInvoke(process, []string{key})).Type == history.OK
			continue
		}
		switch invoke(history.PollInvoke(process)).Type {
		case history.Info: // retired; the next attempt is a new process with a fresh client
			process += history.Process(stride)
			assigned = false
			continue
		case history.Fail: // e.g. no leader yet: try again shortly
			time.Sleep(200 * time.Millisecond)
			continue
		}
		fr.Position, fr.HighWatermark = client.Progress(key)
		if fr.HighWatermark != lastHW {
			lastHW, hwSince = fr.HighWatermark, time.Now()
		}
		if fr.Position < fr.HighWatermark {
			continue
		}
		fr.ReachedTarget = fr.Position >= fr.Target
		switch {
		case end >= 0 && fr.Position >= end,
			end < 0 && markerSent && (fr.ReachedTarget || time.Since(hwSince) >= stableFor):
			fr.Complete = true
		}
		if fr.Complete {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	recordFinalRead(rec, fr)
	switch {
	case !fr.Complete:
		w.logf("final read of %s incomplete: at offset %d of %d (high watermark %d)", key, fr.Position, fr.Target, fr.HighWatermark)
	case !fr.ReachedTarget:
		w.logf("final read of %s: the log ends at %d, below offset %d that operations saw", key, fr.Position, fr.Target-1)
	}
	return nil
}
