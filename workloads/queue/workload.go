package queue

import (
	"sync"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/workloads"
)

// Workload is the queue workload of one run: it opens the workers' clients, hands out values
// unique across the run, tracks the highest offset any operation saw on each key, and does the
// final reads (FinalReads).
type Workload struct {
	opts    Options
	values  Values
	offsets offsets
}

var _ workloads.Workload = (*Workload)(nil)

// New returns the queue workload with opts; it checks opts when it opens its first client.
func New(opts Options) *Workload { return &Workload{opts: opts} }

// Keys returns the workload's keys.
func (w *Workload) Keys() []string { return w.opts.Keys() }

// NewClient opens a worker's client, whose completions the workload's offset tracking sees.
func (w *Workload) NewClient() (workloads.Client, error) { return w.newClient() }

func (w *Workload) newClient() (*Client, error) {
	c, err := NewClient(w.opts, &w.values)
	if err != nil {
		return nil, err
	}
	c.offsets = &w.offsets
	return c, nil
}

// MaxOffset returns the highest offset any operation of the workload's clients saw on key, or -1.
func (w *Workload) MaxOffset(key string) int64 { return w.offsets.max(key) }

// offsets is the highest offset seen per key, by sends and polls that completed ok.
type offsets struct {
	mu  sync.Mutex
	per map[string]int64
}

func (o *offsets) see(op *history.Op) {
	if op.Type != history.OK {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.per == nil {
		o.per = map[string]int64{}
	}
	seen := func(key string, offset int64) {
		if cur, ok := o.per[key]; !ok || offset > cur {
			o.per[key] = offset
		}
	}
	for i := range op.Mops {
		m := &op.Mops[i]
		if m.Kind == history.MopSend && m.Offset != history.NoOffset {
			seen(m.Key, m.Offset)
		}
		for _, kr := range m.Reads {
			if n := len(kr.Records); n > 0 {
				seen(kr.Key, kr.Records[n-1].Offset)
			}
		}
	}
}

func (o *offsets) max(key string) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	if v, ok := o.per[key]; ok {
		return v
	}
	return -1
}
