package broker_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/broker/brokertest"
)

// produceAndReadBack writes n acks=all messages to partition 0 of topic and reads them back from
// offset 0.
func produceAndReadBack(t *testing.T, ctx context.Context, c *broker.Cluster, topic string, n int) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(c.BootstrapAddrs()...), Topic: topic, RequiredAcks: kafka.RequireAll,
		BatchSize: 100, BatchTimeout: 5 * time.Millisecond}
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: []byte(strconv.Itoa(i))}
	}
	require.NoError(t, w.WriteMessages(ctx, msgs...))
	require.NoError(t, w.Close())

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.BootstrapAddrs(), Topic: topic, Partition: 0, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	require.NoError(t, r.SetOffset(0))
	for i := range n {
		m, err := r.ReadMessage(ctx)
		require.NoError(t, err, "reading message %d", i)
		require.Equal(t, int64(i), m.Offset)
		require.Equal(t, strconv.Itoa(i), string(m.Value))
	}
}

func TestKRaftProduceAndReadBack(t *testing.T) {
	c := brokertest.StartCluster(t, broker.ClusterSpec{KafkaVersion: "4.1.1"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.Len(t, c.ControllerNodes(), 3)
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "t1", Partitions: 1, ReplicationFactor: 3,
		Config: map[string]string{"min.insync.replicas": "2"}}))
	produceAndReadBack(t, ctx, c, "t1", 1000)
}
