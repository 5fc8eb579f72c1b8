package txn

import (
	"context"
	"fmt"
	"github.com/kchaos/kchaos/workloads/queue"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kchaos/kchaos/history"
)

// Client is one process's producer and consumer: one franz-go client, its assignment and its
// read positions. A process whose operation ended info is retired with its client.
type Client struct {
	w         *Workload
	opts      Options
	txnID     string  // the transactional id; "" unless transactional
	abortRate float64 // the share of transactions this client aborts
	kc        *kgo.Client

	assigned   []string         // keys this consumer reads, in assign order
	positions  map[string]int64 // next offset to read, per assigned key
	watermarks map[string]int64 // the end of the readable log (LSO or high watermark) last seen
	needAssign bool
	abortNext  bool // the txn Next generated last is to be aborted
	// broken says the franz-go client is in a state only a new one gets out of (an abort that
	// failed): the next operation opens a new one under the same transactional id.
	broken bool
	// txnOpen says the franz-go client began a transaction it has not ended: its EndTxn failed
	// (the op ended info). Only a client handed over under Options.KeepProducer invokes in
	// that state; its first txn ends the predecessor's transaction with an abort.
	txnOpen bool
	// keep says Close hands the franz-go client to a successor (Options.KeepProducer; workers'
	// clients only, never final readers').
	keep bool
}

// freshClient returns a client of a new process without its franz-go client: its consumer
// starts fresh (no assignment, no positions).
func freshClient(w *Workload, id string, abortRate float64) *Client {
	return &Client{w: w, opts: w.opts, txnID: id, abortRate: abortRate,
		positions: map[string]int64{}, watermarks: map[string]int64{}, needAssign: true}
}

// newClient opens a client; id is its transactional id ("" for none).
func newClient(w *Workload, id string, abortRate float64) (*Client, error) {
	c := freshClient(w, id, abortRate)
	kc, err := c.open()
	if err != nil {
		return nil, err
	}
	c.kc = kc
	return c, nil
}

// keptClient returns a client of a new process around a predecessor's franz-go producer; its
// consumer starts fresh, as a new client's does.
func keptClient(w *Workload, k kept, abortRate float64) *Client {
	c := freshClient(w, k.txnID, abortRate)
	c.kc, c.txnOpen = k.kc, k.txnOpen
	return c
}

// open makes the franz-go client of the producer and consumer kinds of the options.
func (c *Client) open() (*kgo.Client, error) {
	o := c.opts
	opts := []kgo.Opt{
		kgo.SeedBrokers(o.Bootstrap...),
		// Sends name their partition: a key is one partition.
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.DialTimeout(2 * time.Second),
		kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.MetadataMaxAge(5 * time.Second),
		// franz-go retries retriable errors by itself; past the op timeout the record fails and
		// its outcome is unknown, which is what the op timeout means.
		kgo.RecordDeliveryTimeout(o.OpTimeout),
		kgo.ProduceRequestTimeout(o.OpTimeout),
		kgo.RetryTimeout(o.OpTimeout),
		kgo.ProducerLinger(0),
		kgo.FetchMaxWait(100 * time.Millisecond),
		// A position the log no longer holds (truncated by an election) is read again from the
		// start: the checkers see what the consumer did.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}
	if o.Isolation == ReadCommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	} else {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	}
	switch o.Producer {
	case Plain:
		a, err := acks(o.Acks)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.RequiredAcks(a))
	case Idempotent:
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case Transactional:
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.TransactionalID(c.txnID),
			kgo.TransactionTimeout(o.TransactionTimeout))
	}
	kc, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("txn workload: new franz-go client: %w", err)
	}
	return kc, nil
}

// Close releases the client's connections, and its transactional id for a successor. Under
// Options.KeepProducer a worker's client that is not broken instead hands its franz-go client,
// producer id and epoch unchanged, to the workload's next client; only its consumer is dropped.
func (c *Client) Close() {
	if c.kc == nil {
		return
	}
	if c.keep && !c.broken {
		c.reseat(map[string]int64{}) // drops what the consumer fetched: a successor reads fresh
		c.w.keep(kept{kc: c.kc, txnID: c.txnID, txnOpen: c.txnOpen})
	} else {
		c.kc.Close()
		c.w.releaseID(c.txnID)
	}
	c.kc, c.txnID = nil, ""
}

// Invoke performs inv and returns its completion: ok, fail (certainly no effect) or info
// (unknown). A send or poll op is run as a txn of its micro-operations.
func (c *Client) Invoke(ctx context.Context, inv history.Op) history.Op {
	done := c.invoke(ctx, inv)
	c.w.offsets.See(&done)
	return done
}

func (c *Client) invoke(ctx context.Context, inv history.Op) history.Op {
	if c.broken {
		kc, err := c.open()
		if err != nil {
			return inv.Complete(history.Fail, err.Error())
		}
		c.kc.Close()
		c.kc, c.broken, c.txnOpen = kc, false, false
		c.reseat(c.positions)
	}
	switch inv.F {
	case history.FAssign:
		c.assign(inv.Keys)
		return inv.Complete(history.OK, "")
	case history.FTxn, history.FSend, history.FPoll:
		return c.txn(ctx, inv)
	}
	return inv.Complete(history.Fail, "txn workload: unknown f "+inv.F)
}

// assign replaces the consumer's assignment: newly assigned keys are read from offset 0 and keys
// it keeps keep their positions.
func (c *Client) assign(keys []string) {
	positions := make(map[string]int64, len(keys))
	for _, k := range keys {
		positions[k] = c.positions[k]
	}
	c.assigned, c.needAssign = slices.Clone(keys), false
	c.reseat(positions)
}

// reseat makes the franz-go consumer read exactly the keys of positions, each from its position,
// dropping whatever it had fetched beyond: after an aborted txn its polls are undone.
func (c *Client) reseat(positions map[string]int64) {
	drop := map[string][]int32{}
	for key := range c.positions {
		if topic, p, err := queue.SplitKey(key); err == nil {
			drop[topic] = append(drop[topic], int32(p))
		}
	}
	if len(drop) > 0 {
		c.kc.RemoveConsumePartitions(drop)
	}
	add := map[string]map[int32]kgo.Offset{}
	for key, at := range positions {
		topic, p, err := queue.SplitKey(key)
		if err != nil {
			continue
		}
		if add[topic] == nil {
			add[topic] = map[int32]kgo.Offset{}
		}
		add[topic][int32(p)] = kgo.NewOffset().At(at)
	}
	if len(add) > 0 {
		c.kc.AddConsumePartitions(add)
	}
	c.positions = positions
}

// pollWindow is how long a poll waits for records when none are buffered.
const pollWindow = 100 * time.Millisecond

// poll returns what the consumer received since its last poll, per assigned key in assign order,
// and moves the positions past it. Errors only shorten what it returns: reads change nothing.
func (c *Client) poll(ctx context.Context) []history.KeyReads {
	ctx, cancel := context.WithTimeout(ctx, pollWindow)
	defer cancel()
	fetches := c.kc.PollFetches(ctx)
	got := map[string][]history.Record{}
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		key := fp.Topic + "/" + strconv.Itoa(int(fp.Partition))
		if _, ok := c.positions[key]; !ok {
			return // a partition no longer assigned
		}
		if fp.Err == nil {
			end := fp.HighWatermark
			if c.opts.Isolation == ReadCommitted {
				end = fp.LastStableOffset
			}
			if end >= 0 {
				c.watermarks[key] = end
			}
		}
		for _, r := range fp.Records {
			if r.Offset < c.positions[key] {
				continue
			}
			got[key] = append(got[key], history.Record{Offset: r.Offset, Value: queue.ParseValue(r.Value)})
			c.positions[key] = r.Offset + 1
		}
	})
	reads := make([]history.KeyReads, 0, len(c.assigned))
	for _, key := range c.assigned {
		reads = append(reads, history.KeyReads{Key: key, Records: got[key]})
	}
	return reads
}

// Progress returns the consumer's position on key (the next offset it will read) and the end of
// the readable log its last fetch of key saw (the last stable offset under read_committed, the
// high watermark otherwise).
func (c *Client) Progress(key string) (position, end int64) {
	return c.positions[key], c.watermarks[key]
}
