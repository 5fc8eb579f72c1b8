package queue

import (
	"github.com/segmentio/kafka-go"

	"github.com/kchaos/kchaos/workloads"
)

// Workload is the queue workload of one run: it opens the workers' clients, hands out values
// unique across the run, tracks the highest offset any operation saw on each key, and does the
// final reads (FinalReads).
//
// Its clients share one kafka-go transport: one metadata refresh a second for the run instead of
// one per client, connections reused from one process to the next, and a client opened after an
// unknown outcome that is ready at once. A connection on which a request failed is closed by the
// transport, so a retired process leaves nothing behind for the next.
type Workload struct {
	opts      Options
	values    Values
	offsets   workloads.Offsets
	transport *kafka.Transport
}

var _ workloads.Workload = (*Workload)(nil)

// New returns the queue workload with opts; it checks opts when it opens its first client.
func New(opts Options) *Workload { return &Workload{opts: opts, transport: newTransport(opts)} }

// Close closes the connections of the workload's clients.
func (w *Workload) Close() { w.transport.CloseIdleConnections() }

// Keys returns the workload's keys.
func (w *Workload) Keys() []string { return w.opts.Keys() }

// NewClient opens a worker's client, whose completions the workload's offset tracking sees.
func (w *Workload) NewClient() (workloads.Client, error) { return w.newClient() }

func (w *Workload) newClient() (*Client, error) {
	c, err := newClient(w.opts, &w.values, w.transport)
	if err != nil {
		return nil, err
	}
	c.offsets = &w.offsets
	return c, nil
}

// MaxOffset returns the highest offset any operation of the workload's clients saw on key, or -1.
func (w *Workload) MaxOffset(key string) int64 { return w.offsets.Max(key) }
