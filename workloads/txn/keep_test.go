package txn

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// KeepProducer is for transactional producers only.
func TestKeepProducerOptions(t *testing.T) {
	for _, tc := range []struct {
		producer Producer
		wantErr  string
	}{
		{Transactional, ""},
		{Idempotent, "keep producer: only with transactional producers, got idempotent"},
		{Plain, "keep producer: only with transactional producers, got plain"},
		{"", "keep producer: only with transactional producers, got plain"},
	} {
		t.Run(string(tc.producer), func(t *testing.T) {
			w := New(Options{Bootstrap: []string{"127.0.0.1:1"}, Topic: "t", Partitions: 1,
				Producer: tc.producer, KeepProducer: true})
			c, err := w.NewClient()
			if tc.wantErr == "" {
				require.NoError(t, err)
				c.Close()
				w.Close()
				return
			}
			require.EqualError(t, err, "txn workload: "+tc.wantErr)
		})
	}
}

// Under KeepProducer a retired worker's franz-go client goes to the next worker's client, oldest
// first, with its transactional id and open transaction but without its consumer; a broken one
// is closed, final readers neither take nor leave one, and Close empties the pool. Without
// KeepProducer nothing is kept.
func TestKeepProducerPool(t *testing.T) {
	opts := Options{Bootstrap: []string{"127.0.0.1:1"}, Topic: "t", Partitions: 2,
		Producer: Transactional, KeepProducer: true}
	w := New(opts)
	open := func() *Client {
		c, err := w.NewClient()
		require.NoError(t, err)
		return c.(*Client)
	}

	a, b := open(), open()
	require.Equal(t, "kchaos-txn-1", a.txnID)
	require.Equal(t, "kchaos-txn-2", b.txnID)
	akc, bkc := a.kc, b.kc
	a.assign([]string{"t/0", "t/1"})
	a.positions["t/0"] = 7
	a.txnOpen = true // its commit ended info
	a.Close()
	b.Close()
	require.Len(t, w.idle, 2)

	// The final reader opens its own.
	fr, err := w.newClient(0)
	require.NoError(t, err)
	require.Equal(t, "kchaos-txn-3", fr.txnID)
	require.NotSame(t, akc, fr.kc)
	fr.Close()
	require.Len(t, w.idle, 2, "a final reader's client is not kept")

	// Oldest first, with id and open transaction, and a fresh consumer.
	a2 := open()
	require.Same(t, akc, a2.kc)
	require.Equal(t, "kchaos-txn-1", a2.txnID)
	require.True(t, a2.txnOpen)
	require.Empty(t, a2.positions)
	require.Empty(t, a2.assigned)
	require.True(t, a2.needAssign)
	b2 := open()
	require.Same(t, bkc, b2.kc)
	require.False(t, b2.txnOpen)
	require.Equal(t, 2, w.Reused())

	// A broken client is closed, its id freed for a new client.
	b2.broken = true
	b2.Close()
	require.Empty(t, w.idle)
	c := open()
	require.Equal(t, "kchaos-txn-2", c.txnID)
	require.NotSame(t, bkc, c.kc)
	require.Equal(t, 2, w.Reused())

	a2.Close()
	c.Close()
	require.Len(t, w.idle, 2)
	w.Close()
	require.Empty(t, w.idle)
	require.ElementsMatch(t, []string{"kchaos-txn-1", "kchaos-txn-2", "kchaos-txn-3"}, w.freeIDs)

	// Without KeepProducer a closed client frees its id and keeps nothing.
	opts.KeepProducer = false
	w = New(opts)
	d := open()
	d.Close()
	require.Empty(t, w.idle)
	require.Equal(t, []string{"kchaos-txn-1"}, w.freeIDs)
}
