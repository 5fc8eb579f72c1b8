package nemesis

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The faults over faultfs refuse a cluster whose log dirs are not on it, saying how to get one.
func TestFaultFSFaultsNeedFaultFS(t *testing.T) {
	plain := ClusterInfo{Brokers: 3, ZooKeeperNodes: 1}
	withFS := ClusterInfo{Brokers: 3, ZooKeeperNodes: 1, FaultFS: true}
	for _, k := range []Kind{KindCrash, KindPowerLoss, KindDiskFull, KindDiskError, KindSlowDisk} {
		t.Run(string(k), func(t *testing.T) {
			err := Available([]Kind{k}, plain)
			require.ErrorContains(t, err, string(k)+" cannot run on this cluster: needs the brokers' log dirs on faultfs (--faultfs")
			require.NoError(t, Available([]Kind{k}, withFS))
			require.ErrorContains(t, Available([]Kind{k}, ClusterInfo{FaultFS: true}), "needs at least 1 brokers")
		})
	}
	require.NoError(t, Available([]Kind{KindKill}, plain), "the other faults do not need it")
}

// crash and the disk faults hit one broker; power-loss several, or the ISR of a partition.
func TestCrashTargets(t *testing.T) {
	v := testView()
	for _, target := range AllTargets() {
		for _, k := range []Kind{KindCrash, KindDiskFull, KindDiskError, KindSlowDisk} {
			fp, _ := FailpointOf(k)
			f, err := fp.resolve(fp.draw(Step{Kind: k, Pick: 3}, target, ""), v)
			require.NoError(t, err)
			require.Len(t, f.Nodes, 1, "%s drawn with %s", k, target)
		}
		f, err := PowerLossFailpoint.resolve(PowerLossFailpoint.draw(Step{Kind: KindPowerLoss, Pick: 3}, target, ""), v)
		require.NoError(t, err)
		switch f.Target {
		case TargetAll:
			require.Equal(t, brokerNames(5), f.Nodes)
		case TargetMajority:
			require.Len(t, f.Nodes, 3)
		case TargetPrimaries:
			// testView's only led partition of topic kchaos is kchaos/0, ISR 2, 3, 5.
			require.Equal(t, "kchaos/0", f.Key)
			require.Equal(t, []string{"n2", "n3", "n5"}, f.Nodes)
		default:
			t.Fatalf("power-loss drawn with %s resolved to target %s", target, f.Target)
		}
	}
}
