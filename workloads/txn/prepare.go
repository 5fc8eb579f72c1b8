package txn

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kchaos/kchaos/workloads"
)

// prepareID is the transactional id Prepare initializes; no client produces under it.
const prepareID = "kchaos-txn-prepare"

// Prepare readies the cluster for the workload before the clock of the run starts: for
// transactional producers, it waits until a transaction coordinator answers InitProducerID. On a
// new cluster the first one creates __transaction_state (50 partitions, replicated), which took
// longer than a 20 s run on a loaded machine here: every transaction of the run failed waiting
// for it. It returns when the coordinator answered or ctx ended.
func (w *Workload) Prepare(ctx context.Context) error {
	if w.optsErr != nil || w.opts.Producer != Transactional {
		return nil
	}
	kc, err := kgo.NewClient(kgo.SeedBrokers(w.opts.Bootstrap...), kgo.DialTimeout(2*time.Second))
	if err != nil {
		return fmt.Errorf("txn workload: prepare: %w", err)
	}
	defer kc.Close()
	var last error
	for {
		req := kmsg.NewPtrInitProducerIDRequest()
		id := prepareID
		req.TransactionalID = &id
		req.TransactionTimeoutMillis = int32(w.opts.TransactionTimeout.Milliseconds())
		resp, err := req.RequestWith(ctx, kc)
		if err == nil {
			if err = kerr.ErrorForCode(resp.ErrorCode); err == nil {
				return nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("txn workload: no transaction coordinator answered: %w", last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

var _ workloads.Preparer = (*Workload)(nil)
