package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/client"

	"github.com/kchaos/kchaos/broker/zklog"
)

// zooKeeperTxnDir is where kchaos's ZooKeeper servers keep their snapshots and transaction logs:
// the version-2 directory of zoo.cfg's dataDir (see ClusterSpec.zooConfig).
const zooKeeperTxnDir = "/var/lib/zookeeper/version-2"

// ZooKeeperDataDir copies the snapshots and transaction logs off a ZooKeeper node and reads them.
// The node may be running, killed or stopped, not paused. Files being written while they are
// copied end with a torn entry at most, which zklog reports and ignores.
func (n *Node) ZooKeeperDataDir(ctx context.Context) (*zklog.DataDir, error) {
	if n.Role != RoleZooKeeper {
		return nil, fmt.Errorf("read the ZooKeeper transaction log of %s: a %s holds none", n.Name, n.Role)
	}
	if n.container == nil {
		return nil, fmt.Errorf("read the ZooKeeper transaction log of %s: the node has no container", n.Name)
	}
	res, err := n.cluster.docker.CopyFromContainer(ctx, n.containerID(), client.CopyFromContainerOptions{SourcePath: zooKeeperTxnDir})
	if err != nil {
		return nil, fmt.Errorf("copy %s off %s: %w", zooKeeperTxnDir, n.Name, err)
	}
	defer res.Content.Close()
	d, err := zklog.ReadTar(res.Content)
	if err != nil {
		return nil, fmt.Errorf("read %s of %s: %w", zooKeeperTxnDir, n.Name, err)
	}
	return d, nil
}

// ZooKeeperHistory reads the transaction logs and snapshots of every ZooKeeper node, replays each
// into the exact sequence of znode changes, checks that the nodes agree on the zxids they have in
// common, and returns the ensemble's history, merged from all of them (zklog.Merge). Zxids
// missing from every node are listed in History.Missing: a reader that needs every change must
// check History.Complete.
func (c *Cluster) ZooKeeperHistory(ctx context.Context) (*zklog.History, error) {
	histories := make(map[string]*zklog.History, len(c.zooKeeper))
	var errs []error
	for _, n := range c.zooKeeper {
		d, err := n.ZooKeeperDataDir(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		h, err := d.Replay()
		if err != nil {
			errs = append(errs, fmt.Errorf("replay the ZooKeeper transaction log of %s: %w", n.Name, err))
			continue
		}
		histories[n.Name] = h
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return zklog.Merge(histories)
}
