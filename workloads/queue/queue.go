// Package queue is Jepsen's Kafka queue workload against a real cluster: keys are topic-partitions,
// sends of unique integers pinned to one partition, polls by partition-assigned consumers reading
// from their position, and final reads of every key from offset 0.
//
// Each send is exactly one Produce request (kafka-go's Client, no Writer and no retries), so the
// offset comes back and nothing is written twice unseen. Errors are classified by Classify: fail
// when the request certainly had no effect, info when its outcome is unknown.
package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/kchaos/kchaos/history"
)

// Options configure the workload.
type Options struct {
	// Bootstrap are the brokers' addresses.
	Bootstrap []string
	// Topic holds the keys: "<Topic>/<partition>".
	Topic      string
	Partitions int
	// Acks is "all", "1" or "0".
	Acks string
	// OpTimeout bounds one operation; past it the outcome is unknown (info).
	OpTimeout time.Duration
	// PollMaxBytes bounds what one poll fetches per key.
	PollMaxBytes int64
	// Subscribe makes consumers subscribe to the topic through a consumer group (Group) instead of
	// assigning themselves partitions: the group coordinator hands out partitions and moves them on
	// rebalances, and consumers resume from committed offsets.
	Subscribe bool
	// Group is the consumer group of subscribing consumers; "kchaos" when empty.
	Group string
	// ReplicaLagMax is the cluster's replica.lag.time.max.ms: without a marker offset (acks=0),
	// final reads take a high watermark that stood still longer than this as the log's end.
	ReplicaLagMax time.Duration
	// Logf receives a line about each key whose final reads fell short; nil discards them.
	Logf func(format string, args ...any)
}

// Keys returns the workload's keys, partition 0 first.
func (o Options) Keys() []string {
	keys := make([]string, o.Partitions)
	for p := range keys {
		keys[p] = o.Topic + "/" + strconv.Itoa(p)
	}
	return keys
}

// RequiredAcks maps the acks option to kafka-go's.
func RequiredAcks(acks string) (kafka.RequiredAcks, error) {
	switch acks {
	case "all", "-1":
		return kafka.RequireAll, nil
	case "1":
		return kafka.RequireOne, nil
	case "0":
		return kafka.RequireNone, nil
	}
	return 0, fmt.Errorf("acks: want all, 1 or 0, got %q", acks)
}

// Values hands out the unique integers that sends write, across every client of a test.
type Values struct{ next atomic.Int64 }

// Next returns a value never returned before.
func (v *Values) Next() int64 { return v.next.Add(1) }

// Client is one process's connection: its own transport, assignment and read positions. A process
// whose operation ended info is retired with its client; the worker opens a new one.
type Client struct {
	opts      Options
	acks      kafka.RequiredAcks
	values    *Values
	transport *kafka.Transport
	kc        *kafka.Client

	assigned   []string         // keys this consumer reads, in assign order
	positions  map[string]int64 // next offset to read, per assigned key
	watermarks map[string]int64 // high watermark seen by the last fetch, per key
	needAssign bool
	group      *kafka.Reader // the consumer group member of a subscribed consumer
	offsets    *offsets      // the workload's offset tracking; nil for a client of its own
}

// NewClient opens a client for one process.
func NewClient(opts Options, values *Values) (*Client, error) {
	acks, err := RequiredAcks(opts.Acks)
	if err != nil {
		return nil, err
	}
	if opts.OpTimeout == 0 {
		opts.OpTimeout = 5 * time.Second
	}
	if opts.PollMaxBytes == 0 {
		opts.PollMaxBytes = 256 << 10
	}
	// Fresh metadata matters more than fewer requests: a stale leader turns every send into a fail.
	tr := &kafka.Transport{DialTimeout: 2 * time.Second, MetadataTTL: time.Second, IdleTimeout: 30 * time.Second}
	return &Client{
		opts: opts, acks: acks, values: values, transport: tr,
		kc:         &kafka.Client{Addr: kafka.TCP(opts.Bootstrap...), Transport: tr},
		positions:  map[string]int64{},
		watermarks: map[string]int64{},
		needAssign: true,
	}, nil
}

// Close releases the client's connections and leaves its consumer group.
func (c *Client) Close() {
	if c.group != nil {
		c.group.Close()
	}
	c.transport.CloseIdleConnections()
}

// Next generates this client's next invocation: an assign first (and after a poll found its
// position gone), then sends and polls in equal measure, with an occasional reassignment.
func (c *Client) Next(p history.Process, rng *rand.Rand) history.Op {
	keys := c.opts.Keys()
	switch {
	case c.opts.Subscribe && c.needAssign:
		return history.SubscribeInvoke(p, keys)
	case c.opts.Subscribe:
		// Subscribed consumers never reassign: the group coordinator moves their partitions.
	case c.needAssign || rng.IntN(100) == 0:
		n := 1 + rng.IntN(len(keys))
		perm := rng.Perm(len(keys))[:n]
		slices.Sort(perm)
		assign := make([]string, n)
		for i, k := range perm {
			assign[i] = keys[k]
		}
		return history.AssignInvoke(p, assign)
	}
	if rng.IntN(2) == 0 {
		return history.SendInvoke(p, keys[rng.IntN(len(keys))], history.IntValue(c.values.Next()))
	}
	return history.PollInvoke(p)
}

// Invoke performs inv and returns its completion: ok, fail (certainly no effect) or info (unknown).
func (c *Client) Invoke(ctx context.Context, inv history.Op) history.Op {
	done := c.invoke(ctx, inv)
	if c.offsets != nil {
		c.offsets.see(&done)
	}
	return done
}

func (c *Client) invoke(ctx context.Context, inv history.Op) history.Op {
	ctx, cancel := context.WithTimeout(ctx, c.opts.OpTimeout)
	defer cancel()
	switch inv.F {
	case history.FSend:
		return c.send(ctx, inv)
	case history.FPoll:
		return c.poll(ctx, inv)
	case history.FAssign:
		c.assign(inv.Keys)
		return inv.Complete(history.OK, "")
	case history.FSubscribe:
		c.subscribe()
		return inv.Complete(history.OK, "")
	}
	return inv.Complete(history.Fail, "queue workload: unknown f "+inv.F)
}

// assign replaces the consumer's assignment; newly assigned keys are read from offset 0 and keys it
// keeps keep their positions.
func (c *Client) assign(keys []string) {
	positions := make(map[string]int64, len(keys))
	for _, k := range keys {
		positions[k] = c.positions[k]
	}
	c.assigned, c.positions, c.needAssign = slices.Clone(keys), positions, false
}

func (c *Client) send(ctx context.Context, inv history.Op) history.Op {
	m := inv.Mops[0]
	topic, partition, err := SplitKey(m.Key)
	if err != nil {
		return inv.Complete(history.Fail, err.Error())
	}
	v, _ := m.Value.Int()
	resp, err := c.kc.Produce(ctx, &kafka.ProduceRequest{
		Topic: topic, Partition: partition, RequiredAcks: c.acks,
		Records: kafka.NewRecordReader(kafka.Record{Value: kafka.NewBytes([]byte(strconv.FormatInt(v, 10)))}),
	})
	if err == nil && resp != nil && resp.Error != nil {
		err = resp.Error
	}
	if err != nil {
		return inv.Complete(Classify(err), err.Error())
	}
	if c.acks == kafka.RequireNone || resp == nil {
		// acks=0: the broker says nothing, not even the offset.
		return history.SendOK(inv.Process, m.Key, history.NoOffset, m.Value)
	}
	return history.SendOK(inv.Process, m.Key, resp.BaseOffset, m.Value)
}

// subscribe makes the client a member of the consumer group; it joins on its first poll.
func (c *Client) subscribe() {
	group := c.opts.Group
	if group == "" {
		group = "kchaos"
	}
	c.group = kafka.NewReader(kafka.ReaderConfig{
		Brokers: c.opts.Bootstrap, GroupID: group, Topic: c.opts.Topic,
		MinBytes: 1, MaxBytes: int(c.opts.PollMaxBytes), MaxWait: 50 * time.Millisecond,
		StartOffset: kafka.FirstOffset, HeartbeatInterval: time.Second, SessionTimeout: 10 * time.Second,
		// Commits are synchronous, after each poll: a consumer that takes over a partition resumes
		// right after what was read before.
		CommitInterval: 0,
	})
	c.needAssign = false
}

// groupPollWindow is how long a subscribed consumer's poll gathers messages.
const groupPollWindow = 100 * time.Millisecond

// pollGroup gathers what the group member receives for a short window, in order, and commits it.
func (c *Client) pollGroup(ctx context.Context, inv history.Op) history.Op {
	window, cancel := context.WithTimeout(ctx, groupPollWindow)
	defer cancel()
	var msgs []kafka.Message
	var err error
	for {
		var m kafka.Message
		if m, err = c.group.FetchMessage(window); err != nil {
			break
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 && window.Err() == nil {
		// Nothing was read: the poll changed nothing.
		return inv.Complete(history.Fail, err.Error())
	}
	// The member's position moved past every message fetched: they are this poll's reads, whatever
	// ended the window.
	var reads []history.KeyReads
	at := map[string]int{}
	for _, m := range msgs {
		key := m.Topic + "/" + strconv.Itoa(m.Partition)
		i, ok := at[key]
		if !ok {
			i = len(reads)
			at[key] = i
			reads = append(reads, history.KeyReads{Key: key})
		}
		reads[i].Records = append(reads[i].Records, history.Record{Offset: m.Offset, Value: parseValue(m.Value)})
	}
	if len(msgs) > 0 {
		// The reads happened whether or not the commit does; a failed commit only means the next
		// member of the partition reads them again, which subscribed consumers may.
		_ = c.group.CommitMessages(ctx, msgs...)
	}
	return history.PollOK(inv.Process, reads)
}

func (c *Client) poll(ctx context.Context, inv history.Op) history.Op {
	if c.group != nil {
		return c.pollGroup(ctx, inv)
	}
	reads := make([]history.KeyReads, 0, len(c.assigned))
	next := make([]int64, len(c.assigned))
	for i, key := range c.assigned {
		records, n, hw, err := c.fetch(ctx, key, c.positions[key])
		if err != nil {
			if errors.Is(err, kafka.OffsetOutOfRange) {
				// The log no longer holds our position (truncated by an election): only a new
				// assignment may move a consumer, so the next op reassigns.
				c.needAssign = true
			}
			// A failed poll changed nothing on the brokers, whatever the error: reads are safe to
			// fail. Its reads of other keys are dropped and the positions stay where they were, so
			// the next poll reads the same records again.
			return inv.Complete(history.Fail, err.Error())
		}
		next[i] = n
		c.watermarks[key] = hw
		reads = append(reads, history.KeyReads{Key: key, Records: records})
	}
	for i, key := range c.assigned {
		c.positions[key] = next[i]
	}
	return history.PollOK(inv.Process, reads)
}

// fetch reads the records of key from offset on, at most PollMaxBytes, and returns them with the
// offset to read next and the partition's high watermark.
func (c *Client) fetch(ctx context.Context, key string, offset int64) ([]history.Record, int64, int64, error) {
	topic, partition, err := SplitKey(key)
	if err != nil {
		return nil, offset, 0, err
	}
	resp, err := c.kc.Fetch(ctx, &kafka.FetchRequest{
		Topic: topic, Partition: partition, Offset: offset,
		MinBytes: 1, MaxBytes: c.opts.PollMaxBytes, MaxWait: 50 * time.Millisecond,
	})
	if err == nil && resp.Error != nil {
		err = resp.Error
	}
	if err != nil {
		return nil, offset, 0, err
	}
	var records []history.Record
	next := offset
	for {
		r, err := resp.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, offset, 0, fmt.Errorf("read records of %s: %w", key, err)
		}
		value, verr := readValue(r)
		if verr != nil {
			return nil, offset, 0, fmt.Errorf("%s offset %d: %w", key, r.Offset, verr)
		}
		// A fetch may return a batch that starts before the offset asked for.
		if r.Offset < offset {
			continue
		}
		records = append(records, history.Record{Offset: r.Offset, Value: value})
		next = r.Offset + 1
	}
	return records, next, resp.HighWatermark, nil
}

// Progress returns the consumer's position on key (the next offset it will read) and the high
// watermark its last fetch of key saw: final reads go on until the position reaches both the high
// watermark and the highest offset any operation saw.
func (c *Client) Progress(key string) (position, highWatermark int64) {
	return c.positions[key], c.watermarks[key]
}

// readValue decodes a record's value: the harness writes decimal integers; anything else (a
// user's own producer) is kept as a string.
func readValue(r *kafka.Record) (history.Value, error) {
	if r.Value == nil {
		return history.StringValue(""), nil
	}
	b, err := io.ReadAll(r.Value)
	if err != nil {
		return history.Value{}, fmt.Errorf("read value: %w", err)
	}
	return parseValue(b), nil
}

// parseValue decodes a message value: a decimal integer, or any other text as a string.
func parseValue(b []byte) history.Value {
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		return history.IntValue(n)
	}
	return history.StringValue(string(b))
}

// SplitKey splits "topic/partition".
func SplitKey(key string) (string, int, error) {
	i := strings.LastIndexByte(key, '/')
	if i <= 0 {
		return "", 0, fmt.Errorf("key %q is not topic/partition", key)
	}
	p, err := strconv.Atoi(key[i+1:])
	if err != nil || p < 0 {
		return "", 0, fmt.Errorf("key %q is not topic/partition", key)
	}
	return key[:i], p, nil
}
