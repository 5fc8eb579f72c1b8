package workloads

import (
	"sync"

	"github.com/kchaos/kchaos/history"
)

// Offsets tracks the highest offset per key that operations completed ok saw: the offsets of their
// sends and the last record of each key they read. A final read that stops below it stopped short
// of what the workload saw. The zero value is ready; it is safe for concurrent use.
type Offsets struct {
	mu  sync.Mutex
	per map[string]int64
}

// See notes the offsets of op when it completed ok; other ops saw nothing certain.
func (o *Offsets) See(op *history.Op) {
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

// Max returns the highest offset seen on key, or -1 when none was.
func (o *Offsets) Max(key string) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	if v, ok := o.per[key]; ok {
		return v
	}
	return -1
}
