package queue

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

func TestPartitionsReady(t *testing.T) {
	b := func(ids ...int) []kafka.Broker {
		bs := make([]kafka.Broker, len(ids))
		for i, id := range ids {
			bs[i] = kafka.Broker{Host: "h", ID: id}
		}
		return bs
	}
	part := func(id, leader int, isr, replicas []kafka.Broker) kafka.Partition {
		p := kafka.Partition{Topic: "t", ID: id, Isr: isr, Replicas: replicas}
		if leader >= 0 {
			p.Leader = kafka.Broker{Host: "h", ID: leader}
		}
		return p
	}
	ready := []kafka.Partition{part(0, 1, b(1, 2, 3), b(1, 2, 3)), part(1, 2, b(3, 2, 1), b(2, 3, 1))}
	require.NoError(t, partitionsReady(ready, "t", 2))
	require.NoError(t, partitionsReady(append(ready, kafka.Partition{Topic: "other", ID: 2}), "t", 2), "other topics do not count")
	require.EqualError(t, partitionsReady(ready, "t", 3), "t/2 is not listed")
	require.EqualError(t, partitionsReady([]kafka.Partition{ready[0], part(1, -1, b(2), b(2, 3, 1))}, "t", 2), "t/1 has no leader")
	require.EqualError(t, partitionsReady([]kafka.Partition{ready[0], part(1, 2, b(2, 3), b(2, 3, 1))}, "t", 2),
		"t/1 has ISR [2 3] of replicas [1 2 3]")
}

func TestPollWaitFor(t *testing.T) {
	require.Equal(t, 20*time.Millisecond, PollWaitFor(2000, 40), "a worker's turn at the rate")
	require.Equal(t, 50*time.Millisecond, PollWaitFor(200, 10))
	require.Equal(t, 100*time.Millisecond, PollWaitFor(1, 10), "at most 100 ms")
	require.Equal(t, time.Millisecond, PollWaitFor(1e6, 1), "at least 1 ms")
	require.Equal(t, time.Millisecond, PollWaitFor(-1, 10), "unlimited")
}

func TestProduceTimeout(t *testing.T) {
	require.Equal(t, 4500*time.Millisecond, ProduceTimeout(5*time.Second))
}
