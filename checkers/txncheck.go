package checkers

import (
	"context"
	"fmt"
	"time"

	"github.com/kchaos/kchaos/checkers/txn"
	"github.com/kchaos/kchaos/history"
)

// CheckerTxn is the key of the transactional checker (checkers/txn) in results.json's "checkers".
const CheckerTxn = "txn"

// txnTimeout bounds the transactional checker's cycle search; past it the checker is unknown.
const txnTimeout = 2 * time.Minute

// txnOptions returns the transactional checker's options from opts, and whether it runs at all:
// on histories with txn operations, or from runs whose producers were not plain.
func txnOptions(a *Analysis, opts Options) (txn.Options, bool, error) {
	var o txn.Options
	var err error
	if o.Producer, err = txn.ParseProducer(opts.Producer); err != nil {
		return o, false, fmt.Errorf("check: %w", err)
	}
	if o.Isolation, err = txn.ParseIsolation(opts.Isolation); err != nil {
		return o, false, fmt.Errorf("check: %w", err)
	}
	if opts.Producer != "" && o.Producer != txn.Plain {
		return o, true, nil
	}
	for i := range a.Ops {
		if a.Ops[i].F == history.FTxn {
			return o, true, nil
		}
	}
	return o, false, nil
}

// abortedReadsAllowed reports whether reading a failed (aborted) write is allowed: only
// read_uncommitted consumers of transactional producers read aborted transactions' records by
// design. The queue checker's G1a follows the same rule as the transactional checker's
// aborted-read.
func abortedReadsAllowed(opts Options) bool {
	o, err := txnOptionsOf(opts)
	return err == nil && o.Allowed(txn.AbortedRead)
}

// transactional reports whether opts name transactional producers ("" included): the sends of
// one operation then commit or abort together.
func transactional(opts Options) bool {
	o, err := txnOptionsOf(opts)
	return err == nil && o.Producer == txn.Transactional
}

// txnOptionsOf reads opts' producer and isolation names; "" is what Kafka promises most
// (transactional, read_committed), as txn.Options's zero value.
func txnOptionsOf(opts Options) (txn.Options, error) {
	p, err := txn.ParseProducer(opts.Producer)
	if err != nil {
		return txn.Options{}, err
	}
	i, err := txn.ParseIsolation(opts.Isolation)
	if err != nil {
		return txn.Options{}, err
	}
	return txn.Options{Producer: p, Isolation: i}, nil
}

// checkTxn runs the transactional checker, or returns nil when it does not apply.
func checkTxn(a *Analysis, opts Options) (*txn.Result, error) {
	o, run, err := txnOptions(a, opts)
	if err != nil || !run {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), txnTimeout)
	defer cancel()
	res, err := txn.Check(ctx, a.Ops, o)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	return res, nil
}

// mergeTxnAnomalies adds the transactional checker's entries to anomalies, but for types the
// other checkers report already (duplicate is the queue checker's too): one entry per anomaly.
func mergeTxnAnomalies(anomalies map[string][]any, t *txn.Result) {
	own := map[string]bool{}
	for typ := range anomalies {
		own[typ] = true
	}
	for typ, entries := range t.Anomalies {
		if !own[typ] {
			anomalies[typ] = append(anomalies[typ], entries...)
		}
	}
}
