package txn

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/broker/brokertest"
	checktxn "github.com/kchaos/kchaos/checkers/txn"
	"github.com/kchaos/kchaos/history"
)

// TestMain also checks that the tests left no container or network behind.
func TestMain(m *testing.M) { os.Exit(brokertest.CheckLeftovers(m.Run(), "workloads/txn")) }

// recorder keeps the lines of a test's operations, stamped as the harness stamps them.
type recorder struct{ ops []history.Op }

func (r *recorder) Append(op *history.Op) {
	op.Index, op.Time = int64(len(r.ops)), int64(len(r.ops))
	r.ops = append(r.ops, *op)
}

func (r *recorder) invoke(ctx context.Context, c *Client, inv history.Op) history.Op {
	inv.Process = 0
	r.Append(&inv)
	done := c.Invoke(ctx, inv)
	r.Append(&done)
	return done
}

func txnOf(mops ...history.Mop) history.Op {
	return history.Op{Type: history.Invoke, F: history.FTxn, Mops: mops}
}

// values returns the values a poll completion read of key, in order, and checks their offsets
// rise.
func values(t *testing.T, done history.Op, key string) []int64 {
	var out []int64
	last := int64(-1)
	for _, m := range done.Mops {
		for _, kr := range m.Reads {
			if kr.Key != key {
				continue
			}
			for _, r := range kr.Records {
				require.Greater(t, r.Offset, last, "offsets of %s rise", key)
				last = r.Offset
				v, _ := r.Value.Int()
				out = append(out, v)
			}
		}
	}
	return out
}

// pollAll polls until want values of key were read (or a minute passed) and returns them.
func pollAll(ctx context.Context, t *testing.T, r *recorder, c *Client, key string, want int) []int64 {
	var got []int64
	deadline := time.Now().Add(time.Minute)
	for len(got) < want && time.Now().Before(deadline) {
		done := r.invoke(ctx, c, history.PollInvoke(0))
		require.Equal(t, history.OK, done.Type, done.Error)
		got = append(got, values(t, done, key)...)
	}
	return got
}

// The workload's clients against a real one-broker cluster (the machine is shared: generous
// timeouts). An idempotent producer's sends land once each at the offsets it reports; a
// transactional commit is visible under read_committed and an abort is not; under
// read_uncommitted the aborted send is visible, an aborted-read the checker allows there and
// forbids under read_committed.
func TestClientsAgainstKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	c := brokertest.StartCluster(t, broker.ClusterSpec{Brokers: 1})
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "i", Partitions: 2, ReplicationFactor: 1}))
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "x", Partitions: 1, ReplicationFactor: 1}))
	opTimeout := 30 * time.Second // a loaded machine: the first transaction creates __transaction_state

	t.Run("idempotent", func(t *testing.T) {
		w := New(Options{Bootstrap: c.BootstrapAddrs(), Topic: "i", Partitions: 2, Producer: Idempotent, OpTimeout: opTimeout})
		cl, err := w.newClient(0)
		require.NoError(t, err)
		defer cl.Close()
		var r recorder
		var sent []int64
		for i := range 10 {
			v := w.value()
			done := r.invoke(ctx, cl, txnOf(history.Send("i/0", history.IntValue(v)), history.Send("i/1", history.IntValue(w.value()))))
			require.Equal(t, history.OK, done.Type, done.Error)
			require.Equal(t, int64(i), done.Mops[0].Offset, "consecutive offsets: one record per send")
			sent = append(sent, v)
		}
		require.Equal(t, history.OK, r.invoke(ctx, cl, history.AssignInvoke(0, []string{"i/0", "i/1"})).Type)
		require.Equal(t, sent, pollAll(ctx, t, &r, cl, "i/0", len(sent)), "each value once, in order")
		res, err := checktxn.Check(ctx, r.ops, checktxn.Options{Producer: checktxn.Idempotent, Isolation: checktxn.ReadUncommitted})
		require.NoError(t, err)
		require.Equal(t, checktxn.Valid, res.Valid, "%+v", res.AnomalyTypes)
	})

	// One history: a committed txn, an aborted one, then a committed one, on x/0.
	w := New(Options{Bootstrap: c.BootstrapAddrs(), Topic: "x", Partitions: 1, Producer: Transactional, OpTimeout: opTimeout})
	producer, err := w.newClient(0)
	require.NoError(t, err)
	defer producer.Close()
	var r recorder
	committed, aborted, later := w.value(), w.value(), w.value()
	done := r.invoke(ctx, producer, txnOf(history.Send("x/0", history.IntValue(committed))))
	require.Equal(t, history.OK, done.Type, done.Error)
	require.NotEqual(t, history.NoOffset, done.Mops[0].Offset)
	producer.abortNext = true
	done = r.invoke(ctx, producer, txnOf(history.Send("x/0", history.IntValue(aborted))))
	require.Equal(t, history.Fail, done.Type)
	require.Equal(t, "aborted", done.Error)
	require.Equal(t, history.NoOffset, done.Mops[0].Offset, "an aborted send has no offset")
	done = r.invoke(ctx, producer, txnOf(history.Send("x/0", history.IntValue(later))))
	require.Equal(t, history.OK, done.Type, done.Error)
	withProducer := len(r.ops)

	read := func(t *testing.T, iso Isolation, want []int64) []history.Op {
		wr := New(Options{Bootstrap: c.BootstrapAddrs(), Topic: "x", Partitions: 1, Producer: Transactional, Isolation: iso, OpTimeout: opTimeout})
		cl, err := wr.newClient(0)
		require.NoError(t, err)
		defer cl.Close()
		rr := recorder{ops: append([]history.Op(nil), r.ops[:withProducer]...)}
		require.Equal(t, history.OK, rr.invoke(ctx, cl, history.AssignInvoke(0, []string{"x/0"})).Type)
		require.Equal(t, want, pollAll(ctx, t, &rr, cl, "x/0", len(want)))
		return rr.ops
	}
	t.Run("read_committed", func(t *testing.T) {
		ops := read(t, ReadCommitted, []int64{committed, later})
		res, err := checktxn.Check(ctx, ops, checktxn.Options{Producer: checktxn.Transactional, Isolation: checktxn.ReadCommitted})
		require.NoError(t, err)
		require.Equal(t, checktxn.Valid, res.Valid, "%+v", res.AnomalyTypes)
		require.GreaterOrEqual(t, res.Stats.Committed, 2, "the two committed txns, and the polls")
		require.Equal(t, 1, res.Stats.Aborted)
	})
	t.Run("read_uncommitted", func(t *testing.T) {
		ops := read(t, ReadUncommitted, []int64{committed, aborted, later})
		res, err := checktxn.Check(ctx, ops, checktxn.Options{Producer: checktxn.Transactional, Isolation: checktxn.ReadUncommitted})
		require.NoError(t, err)
		require.Contains(t, res.AnomalyTypes, checktxn.AbortedRead)
		require.Equal(t, checktxn.Valid, res.Valid, "aborted reads are allowed under read_uncommitted")
		strict, err := checktxn.Check(ctx, ops, checktxn.Options{Producer: checktxn.Transactional, Isolation: checktxn.ReadCommitted})
		require.NoError(t, err)
		require.Equal(t, checktxn.Invalid, strict.Valid, "the same reads under read_committed are an anomaly")
	})
}
