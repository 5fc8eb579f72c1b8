package queue

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/broker/brokertest"
	"github.com/kchaos/kchaos/history"
)

// The queue clients against a real one-broker cluster: sends come back with consecutive offsets,
// polls read them in order from the consumer's position, a failed poll moves no position, and
// acks=0 sends are ok without an offset.
func TestClientAgainstKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := brokertest.StartCluster(t, broker.ClusterSpec{Brokers: 1})
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "q", Partitions: 2, ReplicationFactor: 1}))

	opts := Options{Bootstrap: c.BootstrapAddrs(), Topic: "q", Partitions: 2, Acks: "all"}
	var values Values
	cl, err := NewClient(opts, &values)
	require.NoError(t, err)
	defer cl.Close()

	for i := range 5 {
		inv := history.SendInvoke(0, "q/0", history.IntValue(values.Next()))
		done := cl.Invoke(ctx, inv)
		require.Equal(t, history.OK, done.Type, done.Error)
		require.Equal(t, int64(i), done.Mops[0].Offset)
		require.Equal(t, inv.Mops[0].Value, done.Mops[0].Value)
	}

	require.Equal(t, history.OK, cl.Invoke(ctx, history.AssignInvoke(0, []string{"q/0", "q/1"})).Type)
	polled := cl.Invoke(ctx, history.PollInvoke(0))
	require.Equal(t, history.OK, polled.Type, polled.Error)
	reads := polled.Mops[0].Reads
	require.Len(t, reads, 2)
	require.Equal(t, "q/0", reads[0].Key)
	require.Len(t, reads[0].Records, 5)
	for i, r := range reads[0].Records {
		require.Equal(t, int64(i), r.Offset)
		require.Equal(t, history.IntValue(int64(i+1)), r.Value)
	}
	pos, hw := cl.Progress("q/0")
	require.Equal(t, int64(5), pos)
	require.Equal(t, int64(5), hw)

	// A poll that fails on one key moves no key's position: q/0 is fetched first, then the
	// partition that does not exist fails the poll.
	more := cl.Invoke(ctx, history.SendInvoke(0, "q/0", history.IntValue(values.Next())))
	require.Equal(t, history.OK, more.Type)
	require.Equal(t, history.OK, cl.Invoke(ctx, history.AssignInvoke(0, []string{"q/0", "q/7"})).Type)
	failed := cl.Invoke(ctx, history.PollInvoke(0))
	require.Equal(t, history.Fail, failed.Type)
	pos, _ = cl.Progress("q/0")
	require.Equal(t, int64(5), pos, "a failed poll must not advance the position")

	// A send kafka-go cannot route (the metadata has no such topic) is never sent: certainly failed.
	unrouted := cl.Invoke(ctx, history.SendInvoke(0, "absent/0", history.IntValue(values.Next())))
	require.Equal(t, history.Fail, unrouted.Type, unrouted.Error)
	require.Contains(t, unrouted.Error, "topic not found")

	// Generated operations: an assign first, then sends and polls of the workload's keys.
	rng := rand.New(rand.NewPCG(1, 2))
	fresh, err := NewClient(opts, &values)
	require.NoError(t, err)
	defer fresh.Close()
	require.Equal(t, history.FAssign, fresh.Next(3, rng).F)

	// The workload starts once every broker lists every partition with a leader and a full ISR;
	// a topic no broker knows never gets there.
	require.NoError(t, New(opts).WaitReady(ctx))
	short, shortCancel := context.WithTimeout(ctx, time.Second)
	defer shortCancel()
	err = New(Options{Bootstrap: c.BootstrapAddrs(), Topic: "absent", Partitions: 1}).WaitReady(short)
	require.ErrorContains(t, err, "topic absent not ready")

	acks0, err := NewClient(Options{Bootstrap: c.BootstrapAddrs(), Topic: "q", Partitions: 2, Acks: "0"}, &values)
	require.NoError(t, err)
	defer acks0.Close()
	done := acks0.Invoke(ctx, history.SendInvoke(1, "q/1", history.IntValue(values.Next())))
	require.Equal(t, history.OK, done.Type, done.Error)
	require.Equal(t, history.NoOffset, done.Mops[0].Offset)
}

// A subscribed consumer joins the group, is handed the topic's partitions and reads what was sent.
func TestSubscribedClientAgainstKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := brokertest.StartCluster(t, broker.ClusterSpec{Brokers: 1})
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "g", Partitions: 2, ReplicationFactor: 1}))

	opts := Options{Bootstrap: c.BootstrapAddrs(), Topic: "g", Partitions: 2, Acks: "all", Subscribe: true}
	var values Values
	cl, err := NewClient(opts, &values)
	require.NoError(t, err)
	defer cl.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	sub := cl.Next(0, rng)
	require.Equal(t, history.FSubscribe, sub.F)
	require.Equal(t, []string{"g/0", "g/1"}, sub.Keys)
	require.Equal(t, history.OK, cl.Invoke(ctx, sub).Type)
	for range 20 {
		require.NotEqual(t, history.FAssign, cl.Next(0, rng).F, "subscribed consumers never assign")
	}

	sent := map[int64]bool{}
	for i := range 6 {
		v := values.Next()
		done := cl.Invoke(ctx, history.SendInvoke(0, "g/"+strconv.Itoa(i%2), history.IntValue(v)))
		require.Equal(t, history.OK, done.Type, done.Error)
		sent[v] = true
	}
	read := map[int64]bool{}
	require.Eventually(t, func() bool {
		done := cl.Invoke(ctx, history.PollInvoke(0))
		if done.Type != history.OK {
			return false
		}
		for _, kr := range done.Mops[0].Reads {
			for i, r := range kr.Records {
				if i > 0 {
					require.Greater(t, r.Offset, kr.Records[i-1].Offset, "records of a key in order")
				}
				v, _ := r.Value.Int()
				read[v] = true
			}
		}
		return len(read) == len(sent)
	}, 60*time.Second, 10*time.Millisecond, "the group member never read every value")
	require.Equal(t, sent, read)
}

// A poll of many keys with nothing new waits for records once, not once per key: with each key
// waited for in turn, 16 waits of 300 ms would outlast the 2 s operation timeout and fail the
// poll; one Fetch request per leader comes back after one wait, empty and ok. Sending to one of
// the keys then gives a poll that reads it.
func TestPollWaitsOnceAgainstKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := brokertest.StartCluster(t, broker.ClusterSpec{Brokers: 1})
	const partitions = 16
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "w", Partitions: partitions, ReplicationFactor: 1}))
	opts := Options{Bootstrap: c.BootstrapAddrs(), Topic: "w", Partitions: partitions, Acks: "all",
		OpTimeout: 2 * time.Second, PollWait: 300 * time.Millisecond}
	require.NoError(t, New(opts).WaitReady(ctx))
	var values Values
	cl, err := NewClient(opts, &values)
	require.NoError(t, err)
	defer cl.Close()

	require.Equal(t, history.OK, cl.Invoke(ctx, history.AssignInvoke(0, opts.Keys())).Type)
	for range 3 {
		empty := cl.Invoke(ctx, history.PollInvoke(0))
		require.Equal(t, history.OK, empty.Type, empty.Error)
		reads := empty.Mops[0].Reads
		require.Len(t, reads, partitions, "every assigned key is in the poll's result")
		for i, kr := range reads {
			require.Equal(t, opts.Keys()[i], kr.Key, "keys in assign order")
			require.Empty(t, kr.Records)
		}
	}
	sent := cl.Invoke(ctx, history.SendInvoke(0, "w/9", history.IntValue(values.Next())))
	require.Equal(t, history.OK, sent.Type, sent.Error)
	polled := cl.Invoke(ctx, history.PollInvoke(0))
	require.Equal(t, history.OK, polled.Type, polled.Error)
	require.Equal(t, []history.Record{{Offset: 0, Value: sent.Mops[0].Value}}, polled.Mops[0].Reads[9].Records)
}
