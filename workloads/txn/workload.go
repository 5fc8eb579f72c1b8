package txn

import (
	"context"
	"fmt"
	"github.com/kchaos/kchaos/workloads/queue"
	"sync"
	"sync/atomic"

	"github.com/kchaos/kchaos/workloads"
)

// Workload is the txn workload of one run: it opens the workers' clients, hands out values unique
// across the run and transactional ids, tracks the highest offset any operation saw per key, and
// does the final reads.
type Workload struct {
	opts    Options
	optsErr error
	next    atomic.Int64 // the last value handed out
	offsets workloads.Offsets

	mu      sync.Mutex
	freeIDs []string // transactional ids of closed clients, for their successors
	nextID  int
}

var _ workloads.Workload = (*Workload)(nil)

// New returns the txn workload with opts; bad options are reported when it opens a client.
func New(opts Options) *Workload {
	o, err := opts.withDefaults()
	return &Workload{opts: o, optsErr: err}
}

// Keys returns the workload's keys.
func (w *Workload) Keys() []string { return w.opts.Keys() }

// WaitReady waits until every broker's own metadata gives every partition a leader and a full
// ISR (franz-go's clients then find them so when they first ask).
func (w *Workload) WaitReady(ctx context.Context) error {
	return queue.WaitTopicReady(ctx, w.opts.Bootstrap, w.opts.Topic, w.opts.Partitions)
}

// Close does nothing: each client closes its own franz-go client, and they share nothing.
func (w *Workload) Close() {}

// NewClient opens a worker's client.
func (w *Workload) NewClient() (workloads.Client, error) { return w.newClient(w.opts.AbortRate) }

func (w *Workload) newClient(abortRate float64) (*Client, error) {
	if w.optsErr != nil {
		return nil, fmt.Errorf("txn workload: %w", w.optsErr)
	}
	id := ""
	if w.opts.Producer == Transactional {
		id = w.takeID()
	}
	c, err := newClient(w, id, abortRate)
	if err != nil {
		w.releaseID(id)
		return nil, err
	}
	return c, nil
}

// value returns a value never returned before.
func (w *Workload) value() int64 { return w.next.Add(1) }

// takeID returns the transactional id of a closed client, or a new one. Reusing ids matters: the
// new producer's InitProducerID aborts whatever transaction the old one left open, instead of
// letting it hold back the last stable offset until it times out.
func (w *Workload) takeID() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.freeIDs); n > 0 {
		id := w.freeIDs[n-1]
		w.freeIDs = w.freeIDs[:n-1]
		return id
	}
	w.nextID++
	return fmt.Sprintf("kchaos-txn-%d", w.nextID)
}

func (w *Workload) releaseID(id string) {
	if id == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.freeIDs = append(w.freeIDs, id)
}

// MaxOffset returns the highest offset any ok operation saw on key, or -1.
func (w *Workload) MaxOffset(key string) int64 { return w.offsets.Max(key) }
