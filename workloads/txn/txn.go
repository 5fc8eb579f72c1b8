package txn

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/workloads/queue"
)

// txn runs the micro-operations of inv in order and completes it (see the table in doc.go).
func (c *Client) txn(ctx context.Context, inv history.Op) history.Op {
	abort := c.abortNext
	c.abortNext = false
	ctx, cancel := context.WithTimeout(ctx, c.opts.OpTimeout)
	defer cancel()
	before := maps.Clone(c.positions)
	transactional := c.opts.Producer == Transactional
	if transactional && c.txnOpen {
		// A kept producer whose predecessor's commit has an unknown outcome: end that
		// transaction first, as its client must before beginning another.
		if err := c.endPredecessor(ctx); err != nil {
			c.broken = true
			return inv.Complete(history.Fail, "abort of the predecessor's transaction: "+err.Error())
		}
	}
	if transactional {
		if err := c.kc.BeginTransaction(); err != nil {
			// Nothing was sent; the client's transaction state needs a new client.
			c.broken = true
			return inv.Complete(history.Fail, "begin transaction: "+err.Error())
		}
		c.txnOpen = true
	}
	mops := slices.Clone(inv.Mops)
	acked := 0 // sends acknowledged
	var sendErr error
	for i, m := range mops {
		if m.Kind == history.MopPoll {
			mops[i] = history.PollResult(c.poll(ctx))
			continue
		}
		offset, err := c.send(ctx, m)
		if err != nil {
			sendErr = err
			break
		}
		acked++
		mops[i] = history.SendAt(m.Key, offset, m.Value)
	}

	if !transactional {
		switch {
		case sendErr == nil:
			return history.Op{Process: inv.Process, Type: history.OK, F: inv.F, Mops: mops}
		case acked == 0 && Classify(sendErr) == history.Fail:
			c.reseat(before) // undo the polls: a failed op moved nothing
			return inv.Complete(history.Fail, sendErr.Error())
		}
		// Some records are in the log, or may be: the op's outcome is unknown.
		return c.unknown(inv, mops, sendErr)
	}

	switch {
	case sendErr != nil:
		return c.abort(inv, before, "send failed, transaction aborted: "+sendErr.Error())
	case abort:
		return c.abort(inv, before, "aborted")
	}
	endCtx, endCancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.OpTimeout)
	defer endCancel()
	err := c.kc.EndTransaction(endCtx, kgo.TryCommit)
	switch {
	case err == nil:
		c.txnOpen = false
		return history.Op{Process: inv.Process, Type: history.OK, F: inv.F, Mops: mops}
	case errors.Is(err, kerr.OperationNotAttempted):
		// franz-go sent no EndTxn (it had no producer id): nothing can commit the transaction.
		return c.abort(inv, before, "commit not attempted, transaction aborted: "+err.Error())
	}
	return c.unknown(inv, mops, err)
}

// send produces one record to the partition of m's key and returns its offset (NoOffset under
// acks=0, where the broker answers nothing).
func (c *Client) send(ctx context.Context, m history.Mop) (int64, error) {
	topic, p, err := queue.SplitKey(m.Key)
	if err != nil {
		return history.NoOffset, err
	}
	rec := &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte(m.Value.String())}
	if n, ok := m.Value.Int(); ok {
		rec.Value = strconv.AppendInt(nil, n, 10)
	}
	r, err := c.kc.ProduceSync(ctx, rec).First()
	if err != nil {
		return history.NoOffset, err
	}
	if c.opts.Producer == Plain && c.opts.Acks == "0" {
		return history.NoOffset, nil
	}
	return r.Offset, nil
}

// abort ends the open transaction with an abort and completes inv as fail: no EndTxn(commit) was
// sent, so the transaction can only end aborted (by this abort, or by the coordinator when it
// times out or the next producer of the id fences it). Its polls are undone.
func (c *Client) abort(inv history.Op, before map[string]int64, reason string) history.Op {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.OpTimeout)
	defer cancel()
	if err := c.kc.EndTransaction(ctx, kgo.TryAbort); err != nil {
		// The transaction stays open until the coordinator ends it; a new client under the same
		// id fences it at once.
		c.broken = true
		reason += " (abort: " + err.Error() + ")"
	} else {
		c.txnOpen = false
	}
	c.reseat(before)
	return inv.Complete(history.Fail, reason)
}

// endPredecessor aborts the transaction a kept producer's predecessor left with an unknown
// outcome. franz-go refuses to begin another before it (and, having failed the producer id when
// the EndTxn failed, aborts it by re-running InitProducerID with the id and epoch it has, which
// bumps the epoch; see the package docs).
func (c *Client) endPredecessor(ctx context.Context) error {
	if err := c.kc.EndTransaction(ctx, kgo.TryAbort); err != nil {
		return err
	}
	c.txnOpen = false
	return nil
}

// unknown completes inv as info: its sends without offsets (whether they took effect is not
// known), its polls with what they read. The harness retires the process and its client.
func (c *Client) unknown(inv history.Op, mops []history.Mop, err error) history.Op {
	for i, m := range mops {
		if m.Kind == history.MopSend {
			mops[i] = history.Send(m.Key, m.Value)
		}
	}
	return history.Op{Process: inv.Process, Type: history.Info, F: inv.F, Mops: mops, Error: err.Error()}
}
