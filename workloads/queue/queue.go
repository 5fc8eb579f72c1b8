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
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/fetch"
	"github.com/segmentio/kafka-go/protocol/produce"

	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/workloads"
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
	// PollWait is the longest a poll waits on the brokers for records when its keys have nothing
	// new (the fetch's max wait); a poll returns as soon as any of its keys has records. Zero
	// means DefaultPollWait; PollWaitFor derives it from a run's rate.
	PollWait time.Duration
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

// DefaultPollWait is the PollWait of Options that set none.
const DefaultPollWait = 50 * time.Millisecond

// PollWaitFor returns the PollWait of a run of concurrency workers at rate operations per second
// (rate <= 0: unlimited): the time between two operations of one worker, within 1 ms and 100 ms.
// A poll that waited longer for records would hold its worker past its next turn, and the run
// below its rate; one that waited less would come back empty more often.
func PollWaitFor(rate float64, concurrency int) time.Duration {
	const minWait, maxWait = time.Millisecond, 100 * time.Millisecond
	if rate <= 0 || concurrency < 1 {
		return minWait
	}
	return min(max(time.Duration(float64(concurrency)/rate*float64(time.Second)), minWait), maxWait)
}

// Values hands out the unique integers that sends write, across every client of a test.
type Values struct{ next atomic.Int64 }

// Next returns a value never returned before.
func (v *Values) Next() int64 { return v.next.Add(1) }

// Client is one process's client: its assignment and read positions, and its requests' way to the
// brokers. A process whose operation ended info is retired with its client; the worker opens a
// new one.
type Client struct {
	opts      Options
	keys      []string
	acks      kafka.RequiredAcks
	values    *Values
	transport *kafka.Transport
	shared    bool // the transport is the workload's, not the client's to close
	kc        *kafka.Client

	assigned   []string         // keys this consumer reads, in assign order
	positions  map[string]int64 // next offset to read, per assigned key
	watermarks map[string]int64 // high watermark seen by the last fetch, per key
	needAssign bool
	group      *kafka.Reader      // the consumer group member of a subscribed consumer
	offsets    *workloads.Offsets // the workload's offset tracking; nil for a client of its own
}

// newTransport returns a kafka-go transport for the workload's topic. Fresh metadata matters
// more than fewer requests: a stale leader turns sends into fails or unknowns. Its metadata is of
// the workload's topic alone: the brokers would answer for every topic of the cluster otherwise.
func newTransport(opts Options) *kafka.Transport {
	return &kafka.Transport{DialTimeout: 2 * time.Second, MetadataTTL: time.Second, MetadataTopics: []string{opts.Topic},
		IdleTimeout: 30 * time.Second}
}

// NewClient opens a client for one process, with a transport (connections and metadata) of its
// own.
func NewClient(opts Options, values *Values) (*Client, error) {
	return newClient(opts, values, nil)
}

// newClient opens a client that sends through tr, or through a transport of its own when tr is
// nil.
func newClient(opts Options, values *Values, tr *kafka.Transport) (*Client, error) {
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
	if opts.PollWait == 0 {
		opts.PollWait = DefaultPollWait
	}
	shared := tr != nil
	if !shared {
		tr = newTransport(opts)
	}
	return &Client{
		opts: opts, keys: opts.Keys(), acks: acks, values: values, transport: tr, shared: shared,
		kc:         &kafka.Client{Addr: kafka.TCP(opts.Bootstrap...), Transport: tr},
		positions:  map[string]int64{},
		watermarks: map[string]int64{},
		needAssign: true,
	}, nil
}

// Close releases the client's connections (those of its own transport) and leaves its consumer
// group.
func (c *Client) Close() {
	if c.group != nil {
		c.group.Close()
	}
	if !c.shared {
		c.transport.CloseIdleConnections()
	}
}

// Next generates this client's next invocation: an assign first (and after a poll found its
// position gone), then sends and polls in equal measure, with an occasional reassignment.
func (c *Client) Next(p history.Process, rng *rand.Rand) history.Op {
	keys := c.keys
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
		c.offsets.See(&done)
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
	offset, err := c.produce(ctx, topic, partition, []byte(strconv.FormatInt(v, 10)))
	if err != nil {
		return inv.Complete(Classify(err), err.Error())
	}
	return history.SendOK(inv.Process, m.Key, offset, m.Value)
}

// ProduceTimeout is the timeout a send's Produce request carries, for an operation timeout of
// opTimeout: how long the leader may wait for its ISR before it answers REQUEST_TIMED_OUT. It is
// a tenth short of opTimeout so that, when replication is slow, the broker's answer (which names
// the cause) arrives before the client gives up, and no sooner: a broker that gave up earlier
// than the client would turn a slow but healthy write into an unknown outcome.
func ProduceTimeout(opTimeout time.Duration) time.Duration {
	return opTimeout - opTimeout/10
}

// produce sends one record to topic/partition in exactly one Produce request, and returns the
// offset it took (history.NoOffset with acks=0, where the broker answers nothing). kafka-go's
// Client.Produce is not used: it gives the broker half the context's remaining time, or 500 ms
// when the client has no timeout, whatever the operation's timeout is.
func (c *Client) produce(ctx context.Context, topic string, partition int, value []byte) (int64, error) {
	req := &produce.Request{
		Acks:    int16(c.acks),
		Timeout: int32(ProduceTimeout(c.opts.OpTimeout).Milliseconds()),
		Topics: []produce.RequestTopic{{Topic: topic, Partitions: []produce.RequestPartition{{
			Partition: int32(partition),
			RecordSet: protocol.RecordSet{Records: protocol.NewRecordReader(protocol.Record{Value: protocol.NewBytes(value)})},
		}}}},
	}
	m, err := c.transport.RoundTrip(ctx, c.kc.Addr, req)
	if err != nil {
		// The operation names the key: the error does not, so that one cause reads the same on
		// every key (the report groups unknown outcomes by their error).
		return history.NoOffset, fmt.Errorf("produce: %w", err)
	}
	if c.acks == kafka.RequireNone {
		return history.NoOffset, nil
	}
	res, ok := m.(*produce.Response)
	if !ok || len(res.Topics) != 1 || len(res.Topics[0].Partitions) != 1 {
		// Whatever the broker meant, the request reached it: the outcome is unknown.
		return history.NoOffset, fmt.Errorf("produce: unexpected response %T %+v", m, m)
	}
	p := &res.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		err := error(kafka.Error(p.ErrorCode))
		if p.ErrorMessage != "" {
			err = fmt.Errorf("%w: %s", err, p.ErrorMessage)
		}
		return history.NoOffset, err
	}
	return p.BaseOffset, nil
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
		reads[i].Records = append(reads[i].Records, history.Record{Offset: m.Offset, Value: ParseValue(m.Value)})
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
	fetched, err := c.fetch(ctx, c.assigned)
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
	reads := make([]history.KeyReads, len(c.assigned))
	for i, key := range c.assigned {
		f := fetched[key]
		reads[i] = history.KeyReads{Key: key, Records: f.records}
		c.positions[key], c.watermarks[key] = f.next, f.highWatermark
	}
	return history.PollOK(inv.Process, reads)
}

// fetched is what a poll read of one key: its records from the position on, the offset to read
// next and the partition's high watermark.
type fetched struct {
	records       []history.Record
	next          int64
	highWatermark int64
}

// fetch reads every key of keys from its position, at most PollMaxBytes each. It sends one Fetch
// request per partition leader, all at once, each of which the broker answers as soon as one of
// its partitions has records, or after PollWait. A poll that fetched key after key, each waiting
// for PollWait, would take up to that many waits when nothing is new, keeping its worker idle.
func (c *Client) fetch(ctx context.Context, keys []string) (map[string]fetched, error) {
	requests, err := c.fetchRequests(ctx, keys)
	if err != nil {
		return nil, err
	}
	responses := make([]protocol.Message, len(requests))
	errs := make([]error, len(requests))
	var wg sync.WaitGroup
	for i, req := range requests {
		wg.Go(func() { responses[i], errs[i] = c.transport.RoundTrip(ctx, c.kc.Addr, req) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	out := make(map[string]fetched, len(keys))
	for _, m := range responses {
		res, ok := m.(*fetch.Response)
		if !ok {
			return nil, fmt.Errorf("fetch: unexpected response %T", m)
		}
		if res.ErrorCode != 0 {
			return nil, fmt.Errorf("fetch: %w", kafka.Error(res.ErrorCode))
		}
		for _, t := range res.Topics {
			for _, p := range t.Partitions {
				key := t.Topic + "/" + strconv.Itoa(int(p.Partition))
				f, err := readFetched(key, c.positions[key], &p)
				if err != nil {
					return nil, err
				}
				out[key] = f
			}
		}
	}
	for _, key := range keys {
		if _, ok := out[key]; !ok {
			return nil, fmt.Errorf("fetch: no answer for %s", key)
		}
	}
	return out, nil
}

// fetchRequests groups keys by the leader of their partition in the client's cached metadata (no
// request is sent for it) into one Fetch request per leader.
func (c *Client) fetchRequests(ctx context.Context, keys []string) ([]*fetch.Request, error) {
	type partition struct {
		topic string
		id    int
	}
	parts := make([]partition, len(keys))
	var topics []string
	for i, key := range keys {
		topic, id, err := SplitKey(key)
		if err != nil {
			return nil, err
		}
		parts[i] = partition{topic, id}
		if !slices.Contains(topics, topic) {
			topics = append(topics, topic)
		}
	}
	md, err := c.kc.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("metadata of %v: %w", topics, err)
	}
	leaders := map[partition]int{}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			if p.Error == nil && p.Leader.Host != "" {
				leaders[partition{t.Name, p.ID}] = p.Leader.ID
			}
		}
	}
	var requests []*fetch.Request
	byLeader := map[int]*fetch.Request{}
	for i, p := range parts {
		leader, ok := leaders[p]
		if !ok {
			// Like kafka-go's own routing: nothing is sent without a known leader.
			return nil, fetch.NewError(fmt.Errorf("no leader known for %s", keys[i]))
		}
		req := byLeader[leader]
		if req == nil {
			req = &fetch.Request{ReplicaID: -1, MaxWaitTime: int32(c.opts.PollWait.Milliseconds()), MinBytes: 1,
				SessionID: -1, SessionEpoch: -1}
			byLeader[leader] = req
			requests = append(requests, req)
		}
		req.MaxBytes += int32(c.opts.PollMaxBytes)
		rp := fetch.RequestPartition{Partition: int32(p.id), CurrentLeaderEpoch: -1,
			FetchOffset: c.positions[keys[i]], LogStartOffset: -1, PartitionMaxBytes: int32(c.opts.PollMaxBytes)}
		if n := len(req.Topics); n > 0 && req.Topics[n-1].Topic == p.topic {
			req.Topics[n-1].Partitions = append(req.Topics[n-1].Partitions, rp)
		} else {
			req.Topics = append(req.Topics, fetch.RequestTopic{Topic: p.topic, Partitions: []fetch.RequestPartition{rp}})
		}
	}
	return requests, nil
}

// readFetched decodes the records of key that a Fetch response holds from offset on.
func readFetched(key string, offset int64, p *fetch.ResponsePartition) (fetched, error) {
	if p.ErrorCode != 0 {
		return fetched{}, fmt.Errorf("fetch %s at offset %d: %w", key, offset, kafka.Error(p.ErrorCode))
	}
	f := fetched{next: offset, highWatermark: p.HighWatermark}
	if p.RecordSet.Records == nil {
		return f, nil
	}
	for {
		r, err := p.RecordSet.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fetched{}, fmt.Errorf("read records of %s: %w", key, err)
		}
		value, verr := readValue(r)
		if verr != nil {
			return fetched{}, fmt.Errorf("%s offset %d: %w", key, r.Offset, verr)
		}
		// A fetch may return a batch that starts before the offset asked for.
		if r.Offset < offset {
			continue
		}
		f.records = append(f.records, history.Record{Offset: r.Offset, Value: value})
		f.next = r.Offset + 1
	}
	return f, nil
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
	return ParseValue(b), nil
}

// ParseValue decodes a message value as the workloads write them: a decimal integer, or any
// other text as a string.
func ParseValue(b []byte) history.Value {
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
