package broker

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

// The observer's watch logic where ZooKeeper's timing decides: races forced with a test hook, and
// missed events made by stopping the watchers.
func TestObserverMissesNothingSilently(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := Start(ctx, ClusterSpec{Brokers: 1}, Options{Logf: t.Logf})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close(context.Background())) }) // again: a no-op
	conn, err := c.dialZooKeeper(c.ZooKeeperAddrs(), 10*time.Second)
	require.NoError(t, err)
	defer conn.Close()

	// A directory created between childrenW's ChildrenW (no node) and its ExistsW: the watch it
	// returns must still fire for a new child. An observer that kept ExistsW's data watch there
	// never saw the topic a test created right after it started.
	t.Run("children watch survives the creation race", func(t *testing.T) {
		const dir = "/kchaos-race"
		raced := 0
		testHookChildrenNoNode = func(d string) {
			if d == dir && raced == 0 {
				raced++
				_, err := conn.Create(dir, nil, 0, zk.WorldACL(zk.PermAll))
				require.NoError(t, err)
			}
		}
		t.Cleanup(func() { testHookChildrenNoNode = nil })

		children, ch, err := childrenW(conn, dir)
		require.NoError(t, err)
		require.Equal(t, 1, raced, "the hook created the directory inside the race window")
		require.Empty(t, children)
		_, err = conn.Create(dir+"/child", nil, 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
		select {
		case ev := <-ch:
			require.Equal(t, zk.EventNodeChildrenChanged, ev.Type)
		case <-time.After(10 * time.Second):
			t.Fatal("the watch never fired for the new child")
		}
	})

	// State changes no watcher saw (the watchers are stopped first) are reported at Close: the
	// latest state, after a gap naming the versions missed.
	t.Run("close reports what the watchers missed", func(t *testing.T) {
		var mu sync.Mutex
		var seen []Observation
		o, err := c.Observe(ctx, func(ob Observation) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, ob)
		})
		require.NoError(t, err)
		require.NoError(t, c.CreateTopic(ctx, TopicSpec{Name: "missed", Partitions: 1, ReplicationFactor: 1}))
		states := func() (out []any) {
			mu.Lock()
			defer mu.Unlock()
			for _, ob := range seen {
				if ob.F != ObservedController {
					out = append(out, ob.Value)
				}
			}
			return out
		}
		require.Eventually(t, func() bool { return len(states()) == 1 }, 30*time.Second, 50*time.Millisecond)
		first := states()[0].(PartitionState)
		require.Equal(t, 0, first.ZkVersion)

		o.cancel()
		o.wg.Wait()
		const statePath = "/brokers/topics/missed/partitions/0/state"
		data, _, err := conn.Get(statePath)
		require.NoError(t, err)
		for range 2 { // the same state written again: only the version moves
			_, err = conn.Set(statePath, data, -1)
			require.NoError(t, err)
		}
		o.Close()
		after := states()
		require.Len(t, after, 3, "%+v", after)
		require.Equal(t, ObserverGap{Key: "missed/0", FromVersion: 0, ToVersion: 2}, after[1])
		last := after[2].(PartitionState)
		require.Equal(t, 2, last.ZkVersion)
		require.Equal(t, first.Leader, last.Leader)
	})

	// An observer that outlives its cluster still closes: the last read gives up.
	t.Run("close after the cluster is gone", func(t *testing.T) {
		o, err := c.Observe(ctx, func(Observation) {})
		require.NoError(t, err)
		require.NoError(t, c.Close(ctx))
		closed := make(chan struct{})
		go func() {
			o.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(time.Minute):
			t.Fatal("Close hangs once ZooKeeper is gone")
		}
	})
}
