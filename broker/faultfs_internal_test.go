package broker

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A stale run's dir is removed only once nothing is mounted under it.
func TestStillMounted(t *testing.T) {
	require.False(t, stillMounted(t.TempDir()))
	require.True(t, stillMounted("/proc"), "/proc is a mount point")
	require.False(t, stillMounted("/pro"), "a prefix of a mount point is not under it")
}

// Without FaultFS a node has no filesystem and no bind mount.
func TestNoFaultFSWithoutTheOption(t *testing.T) {
	n := &Node{Name: "n1", Role: RoleBroker}
	require.Nil(t, n.FaultFS())
	require.Empty(t, n.faultFSBinds())
	c := &Cluster{brokers: []*Node{n}}
	require.NoError(t, c.mountFaultFS())
	require.NoError(t, c.unmountFaultFS())
}

func TestFaultFSCannotBeDetached(t *testing.T) {
	require.ErrorContains(t, faultFSOptions(ClusterSpec{FaultFS: true}, Options{Detached: true}), "cannot be detached")
	require.NoError(t, faultFSOptions(ClusterSpec{FaultFS: true}, Options{}))
	require.NoError(t, faultFSOptions(ClusterSpec{}, Options{Detached: true}))
}
