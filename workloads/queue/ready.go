package queue

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
)

// WaitReady waits until every broker answers, in its own metadata, that every partition of the
// topic has a leader and a full ISR (all its replicas), or ctx ends. ZooKeeper says so first:
// brokers learn it from the controller afterwards, and a client that asks a broker that has not
// yet learnt it is told the topic does not exist, or sends to a leader whose followers are not
// yet fetching, whose writes then wait for them and time out.
func (w *Workload) WaitReady(ctx context.Context) error {
	return waitReady(ctx, w.opts.Topic, w.ready)
}

// WaitTopicReady waits until every broker at bootstrap answers, in its own metadata, that every
// partition of topic has a leader and a full ISR, or ctx ends: WaitReady without the queue
// workload's own transport, for workloads whose clients keep their metadata themselves.
func WaitTopicReady(ctx context.Context, bootstrap []string, topic string, partitions int) error {
	return waitReady(ctx, topic, func(ctx context.Context) error {
		for _, addr := range bootstrap {
			if err := brokerReady(ctx, addr, topic, partitions); err != nil {
				return fmt.Errorf("broker %s: %w", addr, err)
			}
		}
		return nil
	})
}

// waitReady calls ready until it answers nil, or ctx ends.
func waitReady(ctx context.Context, topic string, ready func(context.Context) error) error {
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topic %s not ready: %w (last seen: %w)", topic, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ready asks each broker for the topic's metadata and says what is not ready, if anything; then
// whether the clients' shared transport has metadata that says the same. That transport fetched
// its metadata when first used, and keeps an error it met then (a metadata request that outlasted
// its one-second deadline on a loaded machine) until a refresh succeeds: every request of every
// client would fail meanwhile.
func (w *Workload) ready(ctx context.Context) error {
	for _, addr := range w.opts.Bootstrap {
		if err := brokerReady(ctx, addr, w.opts.Topic, w.opts.Partitions); err != nil {
			return fmt.Errorf("broker %s: %w", addr, err)
		}
	}
	kc := &kafka.Client{Addr: kafka.TCP(w.opts.Bootstrap...), Transport: w.transport}
	md, err := kc.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{w.opts.Topic}})
	if err != nil {
		return fmt.Errorf("the clients' metadata: %w", err)
	}
	for _, t := range md.Topics {
		if t.Name == w.opts.Topic {
			if err := partitionsReady(t.Partitions, w.opts.Topic, w.opts.Partitions); err != nil {
				return fmt.Errorf("the clients' metadata: %w", err)
			}
			return nil
		}
	}
	return fmt.Errorf("the clients' metadata: no topic %s", w.opts.Topic)
}

// brokerReady reads the topic's partitions from the broker at addr, in one Metadata request on a
// connection of its own (a transport's cached metadata would answer with what it saw before).
func brokerReady(ctx context.Context, addr, topic string, partitions int) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := (&kafka.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(d); err != nil {
			return err
		}
	}
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		return err
	}
	return partitionsReady(parts, topic, partitions)
}

// partitionsReady says which of the topic's partitions, as one broker's metadata lists them, has
// no leader or an ISR short of its replicas; nil when each of the want partitions is listed and
// ready.
func partitionsReady(parts []kafka.Partition, topic string, want int) error {
	seen := make([]bool, want)
	for _, p := range parts {
		if p.Topic != topic || p.ID < 0 || p.ID >= want {
			continue
		}
		switch {
		case p.Leader.Host == "" || p.Leader.ID < 0:
			return fmt.Errorf("%s/%d has no leader", topic, p.ID)
		case !sameBrokers(p.Isr, p.Replicas):
			return fmt.Errorf("%s/%d has ISR %v of replicas %v", topic, p.ID, brokerIDs(p.Isr), brokerIDs(p.Replicas))
		}
		seen[p.ID] = true
	}
	if i := slices.Index(seen, false); i >= 0 {
		return fmt.Errorf("%s/%d is not listed", topic, i)
	}
	return nil
}

func brokerIDs(bs []kafka.Broker) []int {
	ids := make([]int, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	slices.Sort(ids)
	return ids
}

func sameBrokers(a, b []kafka.Broker) bool {
	return len(b) > 0 && slices.Equal(brokerIDs(a), brokerIDs(b))
}
