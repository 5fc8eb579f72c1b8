package nemesis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/broker/brokertest"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

// TestPowerLossOfEveryReplica writes with acks=all to a partition with three replicas, each
// broker's log dir on faultfs, then power-loses every broker at once and restarts them on what
// was durable. With Kafka's default flush policy (no fsync, replication instead) acknowledged
// records are gone; with an fsync per append (log.flush.interval.messages=1) none is. Each case
// runs a cluster of its own, one after the other.
func TestPowerLossOfEveryReplica(t *testing.T) {
	t.Run("default flush loses acknowledged records", func(t *testing.T) {
		acked, read, dropped := powerLossAll(t, nil)
		lost := missing(acked, read)
		t.Logf("%d acknowledged, %d read back, %d lost", len(acked), len(read), len(lost))
		require.NotEmpty(t, lost, "a power loss of every replica loses what only the page cache held")
		for name, d := range dropped {
			require.Positive(t, d.Bytes, "%s dropped unsynced data", name)
		}
	})
	t.Run("flush per message keeps every acknowledged record", func(t *testing.T) {
		acked, read, _ := powerLossAll(t, map[string]string{"log.flush.interval.messages": "1"})
		lost := missing(acked, read)
		t.Logf("%d acknowledged, %d read back, %d lost", len(acked), len(read), len(lost))
		require.Empty(t, lost, "Kafka fsyncs every append before it acknowledges it")
	})
}

// powerLossAll runs one case: it returns the values acknowledged, the values read back from
// offset 0 after the restart, and what each broker dropped, as the start line recorded it.
func powerLossAll(t *testing.T, props map[string]string) (acked []string, read map[string]bool, dropped map[string]Dropped) {
	requireNoFaultFSMounts(t)
	spec := brokertest.FastSpec()
	spec.FaultFS = true
	for k, v := range props {
		spec.ServerProperties[k] = v
	}
	c := brokertest.StartCluster(t, spec)
	ctx := ctxTimeout(t, 3*time.Minute)
	const topic = "p"
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 3}))
	leader := leaderOf(t, c, topic+"/0")

	waitTopicKnown(t, ctx, c.Broker(leader.Leader).HostAddr(), topic)
	acked = produceAcked(t, ctx, c.Broker(leader.Leader).HostAddr(), topic, 50, 20)
	require.NotEmpty(t, acked)

	ev := &events{}
	n := New(c, Config{Seed: 1, Topic: topic}, ev.add)
	id, err := n.Start(ctx, Fault{Kind: KindPowerLoss, Nodes: []string{"n1", "n2", "n3"}, Target: TargetAll})
	require.NoError(t, err)
	require.NoError(t, n.Stop(ctx, id))
	events := ev.all()
	require.Equal(t, []string{"start-power-loss", "stop-power-loss"}, ev.fs())
	for _, e := range events {
		require.Empty(t, e.Error, e.F)
		line, err := json.Marshal(e)
		require.NoError(t, err)
		t.Logf("%.600s", line)
	}
	start := events[0].Value.(CrashValue)
	require.Len(t, start.Dropped, 3, "one entry per broker")
	require.Equal(t, start.Dropped, events[1].Value.(CrashValue).Dropped, "the stop line names what was dropped too")

	_, err = WaitISR(ctx, c, topic+"/0", func(st broker.PartitionState) bool { return st.Leader > 0 })
	require.NoError(t, err)
	return acked, readAll(t, ctx, c, topic), start.Dropped
}

// waitTopicKnown waits until the broker at addr has partition 0 of topic, with a leader, in its
// metadata: ZooKeeper names the leader before the broker has heard of the topic, and a produce in
// between fails with "topic not found" (a CI run lost all its 30 requests to it).
func waitTopicKnown(t *testing.T, ctx context.Context, addr, topic string) {
	t.Helper()
	cl := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 5 * time.Second}
	require.Eventually(t, func() bool {
		md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
			return false
		}
		for _, p := range md.Topics[0].Partitions {
			if p.ID == 0 && p.Error == nil && p.Leader.ID > 0 {
				return true
			}
		}
		return false
	}, time.Minute, 200*time.Millisecond, "%s never knew topic %s", addr, topic)
}

// produceAcked sends requests of size records each, one request per send and no retries, with
// acks=all, and returns the values acknowledged.
func produceAcked(t *testing.T, ctx context.Context, addr, topic string, requests, size int) []string {
	t.Helper()
	cl := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 20 * time.Second}
	var acked []string
	for r := range requests {
		var recs []kafka.Record
		var values []string
		for i := range size {
			v := strconv.Itoa(r*size+i) + ":" + strings.Repeat("x", 200)
			values = append(values, v)
			recs = append(recs, kafka.Record{Value: kafka.NewBytes([]byte(v))})
		}
		res, err := cl.Produce(ctx, &kafka.ProduceRequest{Topic: topic, Partition: 0, RequiredAcks: kafka.RequireAll,
			Records: kafka.NewRecordReader(recs...)})
		if err == nil {
			err = res.Error
		}
		if err != nil {
			t.Logf("request %d not acknowledged: %v", r, err)
			continue
		}
		acked = append(acked, values...)
	}
	return acked
}

// readAll reads the partition from offset 0 to its high watermark, retrying while the restarted
// brokers settle.
func readAll(t *testing.T, ctx context.Context, c *broker.Cluster, topic string) map[string]bool {
	t.Helper()
	var read map[string]bool
	require.NoError(t, waitUntil(ctx, func() error {
		got, err := readPartition(ctx, c, topic)
		read = got
		return err
	}))
	return read
}

func readPartition(ctx context.Context, c *broker.Cluster, topic string) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var conn *kafka.Conn
	var err error
	for _, addr := range c.BootstrapAddrs() {
		if conn, err = kafka.DialLeader(ctx, "tcp", addr, topic, 0); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("dial the leader of %s/0: %w", topic, err)
	}
	defer conn.Close()
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return nil, fmt.Errorf("read offsets: %w", err)
	}
	read := map[string]bool{}
	if first != 0 && last > 0 {
		return nil, fmt.Errorf("the log starts at %d, not 0", first)
	}
	for off := int64(0); off < last; {
		from := off
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Seek(off, kafka.SeekAbsolute); err != nil {
			return nil, fmt.Errorf("seek %d: %w", off, err)
		}
		batch := conn.ReadBatch(1, 10<<20)
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			read[string(m.Value)] = true
			off = m.Offset + 1
		}
		if err := batch.Close(); err != nil && !errors.Is(err, kafka.OffsetOutOfRange) {
			return nil, fmt.Errorf("read from %d: %w", off, err)
		}
		if off == from {
			return nil, fmt.Errorf("no record at offset %d below the end %d", off, last)
		}
	}
	return read, nil
}

func missing(acked []string, read map[string]bool) []string {
	var out []string
	for _, v := range acked {
		if !read[v] {
			out = append(out, v)
		}
	}
	return out
}

// requireNoFaultFSMounts checks, when t ends (after the cluster's Close, registered later), that
// this process left no faultfs mount.
func requireNoFaultFSMounts(t *testing.T) {
	t.Cleanup(func() {
		data, err := os.ReadFile("/proc/self/mountinfo")
		require.NoError(t, err)
		require.NotContains(t, string(data), fmt.Sprintf("kchaos-faultfs:pid=%d ", os.Getpid()), "a faultfs mount outlived the cluster")
	})
}

// TestCrashAndDiskFaultsOnOneBroker crashes one broker (its unsynced data dropped) under acks=all
// with three replicas and min.insync.replicas 2: replication covers it, nothing acknowledged is
// lost. Then each disk fault is put on one broker and healed: the broker is back in the ISR and
// its filesystem has no fault left.
func TestCrashAndDiskFaultsOnOneBroker(t *testing.T) {
	requireNoFaultFSMounts(t)
	spec := brokertest.FastSpec()
	spec.FaultFS = true
	c := brokertest.StartCluster(t, spec)
	ctx := ctxTimeout(t, 5*time.Minute)
	const topic = "c"
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: topic, Partitions: 1, ReplicationFactor: 3}))
	leader := leaderOf(t, c, topic+"/0")
	waitTopicKnown(t, ctx, c.Broker(leader.Leader).HostAddr(), topic)
	acked := produceAcked(t, ctx, c.Broker(leader.Leader).HostAddr(), topic, 30, 20)
	require.NotEmpty(t, acked)

	ev := &events{}
	n := New(c, Config{Seed: 1, Topic: topic}, ev.add)
	victim := broker.BrokerName(leader.Leader)
	id, err := n.Start(ctx, Fault{Kind: KindCrash, Nodes: []string{victim}, Target: TargetPrimaries})
	require.NoError(t, err)
	start := ev.all()[0]
	require.Empty(t, start.Error)
	dropped := start.Value.(CrashValue).Dropped
	t.Logf("crash of %s dropped %+v", victim, dropped[victim])
	require.Positive(t, dropped[victim].Bytes, "the leader had unsynced data")
	require.NoError(t, n.Stop(ctx, id))
	leaderOf(t, c, topic+"/0") // the crashed broker caught up and is in the ISR again
	lost := missing(acked, readAll(t, ctx, c, topic))
	require.Empty(t, lost, "the other replicas held every acknowledged record")

	for _, k := range []Kind{KindDiskError, KindDiskFull, KindSlowDisk} {
		target := c.Brokers()[2]
		id, err := n.Start(ctx, Fault{Kind: k, Nodes: []string{target.Name}, Target: TargetOne})
		require.NoError(t, err, "%s", k)
		require.Len(t, target.FaultFS().Faults(), 1)
		// Writes to the partition reach the faulty disk through replication.
		produceAcked(t, ctx, c.BootstrapAddrs()[0], topic, 5, 5)
		running, _, err := target.Running(ctx)
		require.NoError(t, err)
		t.Logf("%s on %s: broker running after writes: %v", k, target.Name, running)
		require.NoError(t, n.Stop(ctx, id), "%s", k)
		require.Empty(t, target.FaultFS().Faults(), "%s cleared", k)
		leaderOf(t, c, topic+"/0")
	}
	for _, e := range ev.all() {
		require.Empty(t, e.Error, e.F)
	}
}
