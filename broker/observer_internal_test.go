package broker

import (
	"context"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

// TestChildrenWatchSurvivesCreationRace creates a directory in the window between childrenW's
// ChildrenW (no node) and its ExistsW: the watch it returns must still fire for a new child.
// An observer that kept ExistsW's data watch there never saw the topic the test created next.
func TestChildrenWatchSurvivesCreationRace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := Start(ctx, ClusterSpec{Brokers: 1}, Options{Logf: t.Logf})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close(context.Background())) })
	conn, err := c.dialZooKeeper(c.ZooKeeperAddrs(), 10*time.Second)
	require.NoError(t, err)
	defer conn.Close()
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
}
