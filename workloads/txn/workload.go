package txn

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kchaos/kchaos/workloads"
	"github.com/kchaos/kchaos/workloads/queue"
)

// Workload is the txn workload of one run: it opens the workers' clients, hands out values unique
// across the run and transactional ids, tracks the highest offset any operation saw per key, and
// does the final reads. Under Options.KeepProducer it also holds the franz-go producers of retired
// clients until the next clients take them.
type Workload struct {
	opts    Options
	optsErr error
	next    atomic.Int64 // the last value handed out
	offsets workloads.Offsets

	mu      sync.Mutex
	freeIDs []string // transactional ids of closed clients, for their successors
	nextID  int
	idle    []kept // producers of retired clients, oldest first
	reused  int    // clients that took a kept producer
}

// kept is the franz-go client of a retired client, for its successor: the producer (id, epoch,
// and the transaction its predecessor may have left open), not the consumer's positions.
type kept struct {
	kc      *kgo.Client
	txnID   string
	txnOpen bool // the predecessor's last EndTxn failed: its transaction is still open client-side
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

// Close closes the producers kept for successors (Options.KeepProducer); each client closes its
// own franz-go client otherwise.
func (w *Workload) Close() { w.dropKept() }

// NewClient opens a worker's client: under Options.KeepProducer around the producer a retired
// client left, the longest idle first, if there is one.
func (w *Workload) NewClient() (workloads.Client, error) {
	var c *Client
	if k, ok := w.takeKept(); ok {
		c = keptClient(w, k, w.opts.AbortRate)
	} else {
		var err error
		if c, err = w.newClient(w.opts.AbortRate); err != nil {
			return nil, err
		}
	}
	c.keep = w.opts.KeepProducer
	return c, nil
}

// newClient opens a client with a franz-go client of its own; final readers use it directly, and
// neither take nor leave kept producers.
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

// keep holds k for the next worker's client.
func (w *Workload) keep(k kept) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.idle = append(w.idle, k)
}

// takeKept returns the longest idle kept producer, if any.
func (w *Workload) takeKept() (kept, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.idle) == 0 {
		return kept{}, false
	}
	k := w.idle[0]
	w.idle = w.idle[1:]
	w.reused++
	w.logf("txn workload: a new process takes the kept producer of %s (%d reused so far)", k.txnID, w.reused)
	return k, true
}

// Reused returns how many clients took a kept producer (Options.KeepProducer).
func (w *Workload) Reused() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reused
}

// dropKept closes the kept producers and frees their transactional ids. A transaction a kept
// producer left open stays open until a producer of its id (a final reader's) fences it, or the
// coordinator times it out.
func (w *Workload) dropKept() {
	w.mu.Lock()
	idle := w.idle
	w.idle = nil
	w.mu.Unlock()
	for _, k := range idle {
		k.kc.Close()
		w.releaseID(k.txnID)
	}
}

// MaxOffset returns the highest offset any ok operation saw on key, or -1.
func (w *Workload) MaxOffset(key string) int64 { return w.offsets.Max(key) }
