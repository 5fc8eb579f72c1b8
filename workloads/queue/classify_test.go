package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/fetch"
	"github.com/segmentio/kafka-go/protocol/produce"
	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/history"
)

func TestClassify(t *testing.T) {
	dialRefused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	readReset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	tests := []struct {
		name string
		err  error
		want history.Type
	}{
		{"not enough replicas is refused before append", kafka.NotEnoughReplicas, history.Fail},
		{"not enough replicas after append may be in the log", kafka.NotEnoughReplicasAfterAppend, history.Info},
		{"request timed out", kafka.RequestTimedOut, history.Info},
		// A leader that lost its leadership while the append waited for the ISR answers NOT_LEADER.
		{"not leader may have appended", fmt.Errorf("produce: %w", kafka.NotLeaderForPartition), history.Info},
		{"leader not available", kafka.LeaderNotAvailable, history.Info},
		{"unknown partition", kafka.UnknownTopicOrPartition, history.Fail},
		{"network exception", kafka.NetworkException, history.Info},
		{"storage error", kafka.KafkaStorageError, history.Info},
		{"dial refused never sent", fmt.Errorf("kafka.(*Client).Produce: %w", dialRefused), history.Fail},
		{"connection reset mid-request", readReset, history.Info},
		// Errors of kafka-go's routing, before any request is sent.
		{"no metadata for the topic: never sent", fmt.Errorf("kafka.(*Client).Produce: %w", produce.NewError(protocol.NewErrNoTopic("kchaos"))), history.Fail},
		{"no leader known: never sent", fmt.Errorf("kafka.(*Client).Produce: %w", produce.NewError(protocol.NewErrNoLeader("kchaos", 0))), history.Fail},
		{"no leader known for a fetch", fmt.Errorf("kafka.(*Client).Fetch: %w", fetch.NewError(protocol.NewErrNoPartition("kchaos", 0))), history.Fail},
		// The same words in an answer: the request was sent, its outcome is unknown.
		{"a response without the topic", fmt.Errorf("kafka.(*Client).Produce: %w", protocol.ErrNoTopic), history.Info},
		{"deadline", context.DeadlineExceeded, history.Info},
		{"eof", io.ErrUnexpectedEOF, history.Info},
		{"anything else is unknown", errors.New("surprise"), history.Info},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, Classify(tt.err)) })
	}
}

func TestSplitKey(t *testing.T) {
	topic, p, err := SplitKey("kchaos/3")
	require.NoError(t, err)
	require.Equal(t, "kchaos", topic)
	require.Equal(t, 3, p)
	topic, p, err = SplitKey("a/b/12")
	require.NoError(t, err)
	require.Equal(t, "a/b", topic)
	require.Equal(t, 12, p)
	for _, bad := range []string{"kchaos", "/3", "kchaos/x", "kchaos/-1"} {
		_, _, err := SplitKey(bad)
		require.Error(t, err, bad)
	}
}

func TestRequiredAcks(t *testing.T) {
	for in, want := range map[string]kafka.RequiredAcks{"all": kafka.RequireAll, "-1": kafka.RequireAll, "1": kafka.RequireOne, "0": kafka.RequireNone} {
		got, err := RequiredAcks(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := RequiredAcks("2")
	require.ErrorContains(t, err, "acks")
}
