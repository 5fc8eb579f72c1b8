package spec

import (
	"fmt"
	"math"

	"github.com/kchaos/kchaos/workloads/txn"
)

// validateTxn checks the producer, isolation, abort-rate and keep-producer fields. The queue
// workload's kafka-go client has neither idempotent nor transactional producers nor
// read_committed fetches: a spec asking the queue workload for them is refused rather than
// silently run without them.
func (s Spec) validateTxn() []error {
	var errs []error
	p, err := txn.ParseProducer(s.Producer)
	if err != nil {
		errs = append(errs, err)
	}
	if _, err := txn.ParseIsolation(s.Isolation); err != nil {
		errs = append(errs, err)
	}
	if r := s.AbortRate; math.IsNaN(r) || (r != NoAborts && (r < 0 || r > 1)) {
		errs = append(errs, fmt.Errorf("abort-rate: must be within 0..1, got %g", r))
	}
	if s.KeepProducer && (err != nil || p != txn.Transactional) {
		errs = append(errs, fmt.Errorf("keep-producer: only with --producer %s, got --producer %s", txn.Transactional, s.Producer))
	}
	if s.Workload == "queue" {
		if err == nil && p != txn.Plain {
			errs = append(errs, fmt.Errorf("producer: the queue workload (kafka-go) has only plain producers; use --workload txn for %s producers", p))
		}
		if s.Isolation == string(txn.ReadCommitted) {
			errs = append(errs, fmt.Errorf("isolation: the queue workload reads read_uncommitted; use --workload txn for read_committed"))
		}
	}
	return errs
}
