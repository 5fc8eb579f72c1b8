package txn

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kchaos/kchaos/history"
)

// A client that makes no connection yet: franz-go dials lazily.
func offlineClient(t *testing.T, opts Options) *Client {
	t.Helper()
	w := New(opts)
	c, err := w.newClient(opts.AbortRate)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// Generated ops: an assign first, then txns of 1..4 send and poll micro-ops over the keys, each
// sent value unique; with transactional producers about the abort rate of them is to be aborted.
func TestGenerate(t *testing.T) {
	c := offlineClient(t, Options{Bootstrap: []string{"127.0.0.1:1"}, Topic: "t", Partitions: 3,
		Producer: Transactional, AbortRate: 0.25})
	rng := rand.New(rand.NewPCG(1, 2))
	first := c.Next(0, rng)
	require.Equal(t, history.FAssign, first.F)
	require.NotEmpty(t, first.Keys)
	c.assign(first.Keys)

	seen := map[int64]bool{}
	sizes := map[int]int{}
	kinds := map[history.MopKind]int{}
	aborts, txns := 0, 0
	for range 2000 {
		op := c.Next(0, rng)
		if op.F == history.FAssign {
			c.assign(op.Keys)
			continue
		}
		require.Equal(t, history.FTxn, op.F)
		require.Equal(t, history.Invoke, op.Type)
		txns++
		if c.abortNext {
			aborts++
		}
		sizes[len(op.Mops)]++
		for _, m := range op.Mops {
			kinds[m.Kind]++
			if m.Kind == history.MopSend {
				require.Contains(t, []string{"t/0", "t/1", "t/2"}, m.Key)
				v, ok := m.Value.Int()
				require.True(t, ok)
				require.False(t, seen[v], "value %d sent twice", v)
				seen[v] = true
				require.Equal(t, history.NoOffset, m.Offset)
			}
		}
	}
	for n := 1; n <= MaxMops; n++ {
		require.Positive(t, sizes[n], "txns of %d micro-ops", n)
	}
	require.Len(t, sizes, MaxMops)
	require.InDelta(t, kinds[history.MopSend], kinds[history.MopPoll], float64(txns)/5)
	require.InDelta(t, 0.25, float64(aborts)/float64(txns), 0.05)

	plain := offlineClient(t, Options{Bootstrap: []string{"127.0.0.1:1"}, Topic: "t", Partitions: 1, AbortRate: 1})
	plain.assign([]string{"t/0"})
	for range 50 {
		plain.Next(1, rng)
		require.False(t, plain.abortNext, "only transactional producers abort")
	}
}

func TestOptions(t *testing.T) {
	o, err := Options{Partitions: 1}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, Plain, o.Producer)
	require.Equal(t, ReadUncommitted, o.Isolation)
	o, err = Options{Partitions: 1, Producer: Transactional}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, ReadCommitted, o.Isolation)
	for _, bad := range []Options{
		{Partitions: 1, Producer: "exactly-once"},
		{Partitions: 1, Isolation: "serializable"},
		{Partitions: 1, AbortRate: 2},
		{Partitions: 1, Acks: "2"},
		{Partitions: 0},
	} {
		_, err := bad.withDefaults()
		require.Error(t, err, "%+v", bad)
		_, err = New(bad).NewClient()
		require.Error(t, err, "%+v", bad)
	}
}

// Transactional ids are reused: the client that replaces a retired one fences its producer.
func TestTransactionalIDsAreReused(t *testing.T) {
	w := New(Options{Bootstrap: []string{"127.0.0.1:1"}, Topic: "t", Partitions: 1, Producer: Transactional})
	a, err := w.newClient(0)
	require.NoError(t, err)
	b, err := w.newClient(0)
	require.NoError(t, err)
	require.NotEqual(t, a.txnID, b.txnID)
	id := a.txnID
	a.Close()
	c, err := w.newClient(0)
	require.NoError(t, err)
	require.Equal(t, id, c.txnID)
	b.Close()
	c.Close()
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want history.Type
	}{
		{kerr.NotEnoughReplicas, history.Fail},
		{fmt.Errorf("produce: %w", kerr.MessageTooLarge), history.Fail},
		{kerr.TopicAuthorizationFailed, history.Fail},
		{kgo.ErrClientClosed, history.Fail},
		{kerr.OperationNotAttempted, history.Fail},
		{kerr.NotEnoughReplicasAfterAppend, history.Info},
		{kerr.RequestTimedOut, history.Info},
		{kerr.NotLeaderForPartition, history.Info},
		{kerr.UnknownServerError, history.Info},
		{kgo.ErrRecordTimeout, history.Info},
		{kgo.ErrRecordRetries, history.Info},
		{errors.New("read tcp: connection reset by peer"), history.Info},
	} {
		require.Equal(t, tc.want, Classify(tc.err), "%v", tc.err)
	}
}
