// Package workloads is what the harness drives of a client workload, whatever it is: clients that
// generate and invoke operations under Jepsen's invoke/ok/fail/info discipline, and final reads
// once faults are healed. Each workload (workloads/queue, ...) owns its generator, its Kafka
// client, its offset tracking and its final reads, as Jepsen's workload namespaces do; the
// harness holds none of it.
package workloads

import (
	"context"
	"math/rand/v2"
	"sync"

	"github.com/kchaos/kchaos/history"
)

// Client is one process's client.
type Client interface {
	// Next generates the invocation of the process's next operation.
	Next(p history.Process, rng *rand.Rand) history.Op
	// Invoke runs inv and returns its completion (ok, fail or info).
	Invoke(ctx context.Context, inv history.Op) history.Op
	// Close releases the client's connections.
	Close()
}

// Recorder is where a workload appends the operations it runs by itself (its final reads) and
// its observer lines. The harness's recorder stamps index and time.
type Recorder interface {
	Append(op *history.Op)
}

// Workload is a client workload of one run.
type Workload interface {
	// Keys are the keys the workload reads and writes: each must have a leader before the
	// workload starts and after the faults are healed.
	Keys() []string
	// WaitReady returns once the clients would find every key ready to be written and read,
	// as the cluster answers them (for Kafka: a leader and a full ISR, in every broker's
	// metadata), or an error when ctx ends first. The workload starts only then, so that a run
	// without faults has no failed or unknown operations of its own making.
	WaitReady(ctx context.Context) error
	// NewClient opens a worker's client; a worker whose operation ended info opens a new one.
	NewClient() (Client, error)
	// FinalReads reads back, after healing, everything the keys hold, recording its operations
	// and, per key, whether it read the whole log. It returns when done or when ctx ends.
	FinalReads(ctx context.Context, rec Recorder) error
	// SkipFinalReads records, per key, that there were no final reads, and why (an interrupted
	// or failed run): the checkers then answer unknown at best.
	SkipFinalReads(rec Recorder, reason string)
	// Close releases what the workload's clients shared (connections); the run calls it last.
	Close()
}

// Preparer is a Workload that readies the cluster before the run's clock starts (e.g. the
// transactional workload's transaction coordinator); the harness calls Prepare, bounded by the
// recovery timeout, once the topic exists.
type Preparer interface {
	Prepare(ctx context.Context) error
}

// FinalReadProcess is the first final reader's process, above any worker's: final readers are
// fresh processes, key i's being FinalReadProcess+i, then + len(keys) after each info.
const FinalReadProcess = history.Process(1_000_000_000)

// ReadKeys does the final reads of every key at once (ReadKey), key i's first reader being
// process FinalReadProcess+i and its next ones len(keys) apart: the final reads of both workloads.
func ReadKeys(ctx context.Context, rec Recorder, keys []string, cfg FinalReadConfig) {
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Go(func() { ReadKey(ctx, rec, key, FinalReadProcess+history.Process(i), len(keys), cfg) })
	}
	wg.Wait()
}

// RecordSkippedFinalReads records, for every key, final reads that did not happen and why;
// maxOffset is the highest offset any operation saw of a key.
func RecordSkippedFinalReads(rec Recorder, keys []string, maxOffset func(key string) int64, reason string) {
	for _, key := range keys {
		line := history.ObserveFinalRead(history.FinalRead{Key: key, Target: maxOffset(key) + 1,
			Processes: []int64{}, Marker: -1, Skipped: reason})
		rec.Append(&line)
	}
}
