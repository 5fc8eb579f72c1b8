package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/broker/brokertest"
	"github.com/kchaos/kchaos/broker/zklog"
)

// TestZooKeeperHistoryHoldsEveryObservedState kills a partition leader on a cluster with three
// ZooKeeper servers, then reads all three transaction logs: they agree, the history is complete,
// and every state of the partition that the live observer reported is a version of its state
// znode in the log, with the same leader, epoch and ISR.
func TestZooKeeperHistoryHoldsEveryObservedState(t *testing.T) {
	started := time.Now()
	spec := brokertest.FastSpec()
	spec.ZooKeeperNodes = 3
	c := brokertest.StartCluster(t, spec)
	obs := brokertest.Observe(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, c.CreateTopic(ctx, broker.TopicSpec{Name: "z", Partitions: 1, ReplicationFactor: 3}))
	before, at := obs.WaitState(t, "z/0", 0, 30*time.Second, "a leader with a full ISR",
		func(s broker.PartitionState) bool { return s.Leader > 0 && len(s.ISR) == 3 })
	leader := c.Broker(before.Leader)
	require.NoError(t, leader.Kill(ctx))
	obs.WaitState(t, "z/0", at+1, 60*time.Second, "a new leader",
		func(s broker.PartitionState) bool { return s.Leader > 0 && s.Leader != before.Leader })

	read := time.Now()
	h, err := c.ZooKeeperHistory(ctx)
	require.NoError(t, err)
	t.Logf("read %d transactions, %d znode changes, from 3 ZooKeeper servers in %s",
		len(h.Txns), len(h.Changes), time.Since(read).Round(time.Millisecond))
	require.True(t, h.Complete(), "zxids missing: %v", h.Missing)
	require.Positive(t, zklog.Epoch(h.Last()), "an ensemble's zxids carry the leader's epoch")
	changes, err := zklog.KafkaChanges(h.Changes)
	require.NoError(t, err)

	versions := map[int32]zklog.KafkaChange{}
	var sessionEnded bool
	for _, k := range changes {
		if k.Key == "z/0" {
			require.NotEqual(t, zklog.Deleted, k.Kind)
			require.Equal(t, int32(len(versions)), k.Version, "versions of z/0 follow one another")
			versions[k.Version] = k
			ts := k.Timestamp()
			require.False(t, ts.Before(started.Truncate(time.Millisecond)) || ts.After(time.Now()),
				"ZooKeeper's time of zxid %#x, %s, is within the test", k.Zxid, ts)
		}
		if k.Broker == leader.ID && k.Kind == zklog.Deleted {
			sessionEnded = k.SessionEnded
		}
	}
	require.True(t, sessionEnded, "the killed broker's registration ends with its session")
	observed := obs.States("z/0")
	require.NotEmpty(t, observed)
	for _, s := range observed {
		k, ok := versions[int32(s.ZkVersion)]
		require.True(t, ok, "observed version %d of z/0 is in the log", s.ZkVersion)
		require.Equal(t, s.Leader, k.State.Leader, "leader of version %d", s.ZkVersion)
		require.Equal(t, s.LeaderEpoch, k.State.LeaderEpoch, "leader epoch of version %d", s.ZkVersion)
		require.Equal(t, s.ISR, k.State.ISR, "ISR of version %d", s.ZkVersion)
	}

	for _, n := range c.ZooKeeper() {
		d, err := n.ZooKeeperDataDir(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, d.Logs, n.Name)
		require.NotEmpty(t, d.Snapshots, n.Name)
	}
	_, err = c.Broker(1).ZooKeeperDataDir(ctx)
	require.ErrorContains(t, err, "a broker holds none")
}
