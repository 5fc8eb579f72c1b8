package workloads

import (
	"context"
	"time"

	"github.com/kchaos/kchaos/history"
)

// FinalReader is the client of one final reader process: what ReadKey needs of a workload's
// client.
type FinalReader interface {
	// Invoke runs inv and returns its completion (ok, fail or info).
	Invoke(ctx context.Context, inv history.Op) history.Op
	// Progress returns the consumer's position on key (the next offset it will read) and the end
	// of the readable log its last poll of key saw (the high watermark, or the last stable offset
	// under read_committed).
	Progress(key string) (position, end int64)
	// Close releases the client's connections.
	Close()
}

// DefaultFinalReadPause is FinalReadConfig.Pause when it is zero.
const DefaultFinalReadPause = 200 * time.Millisecond

// FinalReadConfig is what ReadKey needs of a workload.
type FinalReadConfig struct {
	// Open opens the client of a new final reader process.
	Open func() (FinalReader, error)
	// NextValue returns a value never written before: each marker write's.
	NextValue func() int64
	// MaxOffset returns the highest offset any operation saw of a key, or -1: the reads' target
	// is the offset after it.
	MaxOffset func(key string) int64
	// EndStableFor is how long, without a marker offset (acks=0), the end of the log must stand
	// still, with the position at it, before the reads of a key are taken as complete.
	EndStableFor time.Duration
	// Pause is the wait after an operation that did not end ok, after a client that failed to
	// open, and between polls that found the position at the end of the log;
	// DefaultFinalReadPause when zero.
	Pause time.Duration
	// Logf receives a line about each key whose final reads fell short, and about clients that
	// failed to open; nil discards them.
	Logf func(format string, args ...any)
}

func (cfg *FinalReadConfig) logf(format string, args ...any) {
	if cfg.Logf != nil {
		cfg.Logf(format, args...)
	}
}

// ReadKey does the final reads of key, records their operations and the key's history.FinalRead
// observer line, and returns that line's value. It returns when the reads are complete or ctx
// ends; an operation under way then still completes.
//
// First a marker write: after an election the new leader's high watermark can stand below
// records its ISR holds (Kafka logs a non-monotonic update of the high watermark) and moves only
// with a new append, so reads without one would stop short of records that are there. Then an
// assign and polls from offset 0 until the position passes the marker, which reads everything the
// log held before it. Without the marker's offset (acks=0), the polls go on until the position is
// at the end of the log and either past the highest offset any operation saw or with the end
// standing still for cfg.EndStableFor.
//
// The readers are process, process+stride, ...: an operation that ended info retires its process
// (its client is closed and the next process opens a fresh one), as any worker's would. An
// operation that failed is retried by the same process. Either waits cfg.Pause first: a broker
// that drops each request at once (as after a power loss) would otherwise flood the history.
func ReadKey(ctx context.Context, rec Recorder, key string, process history.Process, stride int, cfg FinalReadConfig) history.FinalRead {
	fr := history.FinalRead{Key: key, Target: cfg.MaxOffset(key) + 1, Processes: []int64{}, Marker: -1}
	pauseFor := cfg.Pause
	if pauseFor == 0 {
		pauseFor = DefaultFinalReadPause
	}
	pause := func() {
		t := time.NewTimer(pauseFor)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	var client FinalReader
	defer func() {
		if client != nil {
			client.Close()
		}
	}()
	invoke := func(inv history.Op) history.Op {
		if n := len(fr.Processes); n == 0 || fr.Processes[n-1] != int64(process) {
			fr.Processes = append(fr.Processes, int64(process))
		}
		rec.Append(&inv)
		done := client.Invoke(context.WithoutCancel(ctx), inv)
		rec.Append(&done)
		switch done.Type {
		case history.OK:
		case history.Info: // retired: the next operation is the next process's, on a fresh client
			client.Close()
			client = nil
			process += history.Process(stride)
			pause()
		default: // e.g. no leader yet: try again shortly
			pause()
		}
		return done
	}

	end := int64(-1) // the offset the reads must pass; -1 until known
	markerSent, assigned := false, false
	lastEnd, endSince := int64(-1), time.Now()
	openErr := ""
	for ctx.Err() == nil && !fr.Complete {
		if client == nil {
			c, err := cfg.Open()
			if err != nil {
				if err.Error() != openErr { // one line per cause, not one per attempt
					openErr = err.Error()
					cfg.logf("final read of %s: %v", key, err)
				}
				pause()
				continue
			}
			client, assigned, openErr = c, false, ""
		}
		if !markerSent {
			done := invoke(history.SendInvoke(process, key, history.IntValue(cfg.NextValue())))
			if done.Type == history.OK {
				markerSent = true
				if off := done.Mops[0].Offset; off >= 0 {
					fr.Marker, end = off, off+1
				}
			}
			continue
		}
		if !assigned {
			assigned = invoke(history.AssignInvoke(process, []string{key})).Type == history.OK
			continue
		}
		if invoke(history.PollInvoke(process)).Type != history.OK {
			continue
		}
		fr.Position, fr.HighWatermark = client.Progress(key)
		if fr.HighWatermark != lastEnd {
			lastEnd, endSince = fr.HighWatermark, time.Now()
		}
		atEnd := fr.Position >= fr.HighWatermark
		fr.ReachedTarget = fr.Position >= fr.Target
		if end >= 0 {
			// The end may lie past the marker: a transaction's commit marker follows it.
			fr.Complete = fr.Position >= end
		} else {
			fr.Complete = atEnd && (fr.ReachedTarget || time.Since(endSince) >= cfg.EndStableFor)
		}
		if !fr.Complete && atEnd {
			pause() // nothing more to read yet
		}
	}
	line := history.ObserveFinalRead(fr)
	rec.Append(&line)
	switch {
	case !fr.Complete:
		cfg.logf("final read of %s incomplete: at offset %d of %d (end of log seen %d)", key, fr.Position, fr.Target, fr.HighWatermark)
	case !fr.ReachedTarget:
		cfg.logf("final read of %s: the log ends at %d, below offset %d that operations saw", key, fr.Position, fr.Target-1)
	}
	return fr
}
