package suites

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
)

// TestScenariosOnEveryVersion runs nothing: it checks that every scenario makes a valid spec on
// each Kafka version and metadata mode the matrix uses, and that KRaft keeps the scenario's timing.
func TestScenariosOnEveryVersion(t *testing.T) {
	versions := []struct{ version, metadata, want string }{
		{"3.9.1", "", "3.9.1/zookeeper"},
		{"3.9.1", "kraft", "3.9.1/kraft"},
		{"4.1.1", "", "4.1.1/kraft"},
	}
	for _, name := range Names() {
		for _, v := range versions {
			t.Run(name+"@"+v.want, func(t *testing.T) {
				s, err := Get(name)
				require.NoError(t, err)
				on, err := s.On(v.version, v.metadata)
				require.NoError(t, err)
				want := v.want
				if s.Spec.Cluster.Controllers != 0 {
					want = v.version + "/kraft" // a scenario that sets its controllers is KRaft's alone
				}
				require.Equal(t, want, on.Version())
				require.NoError(t, on.Spec.WithDefaults().Validate())
				if on.Spec.Cluster.WithDefaults().KRaft() {
					key, ms := on.Spec.Cluster.SessionTimeout()
					require.Equal(t, broker.BrokerSessionTimeoutKey, key)
					require.Equal(t, sessionTimeoutMs, ms, "KRaft keeps the scenario's session timeout")
					require.NotContains(t, on.Spec.Nemesis, "zk-isolate")
				}
				require.Equal(t, s.Spec.Nemesis, mustGet(t, name).Spec.Nemesis, "On must not change the scenario it was called on")
			})
		}
	}
}

func TestOnRejectsZooKeeperOnKafka4(t *testing.T) {
	s, err := Get("safe-kill")
	require.NoError(t, err)
	_, err = s.On("4.1.1", broker.MetadataZooKeeper)
	require.ErrorContains(t, err, "no ZooKeeper mode")
}

func TestKRaftOnlyScenarioRefusesZooKeeper(t *testing.T) {
	s, err := Get("elr-last-replica")
	require.NoError(t, err)
	on, err := s.On("3.9.1", broker.MetadataZooKeeper)
	if err == nil {
		err = on.Spec.WithDefaults().Validate()
	}
	require.Error(t, err)
}

func mustGet(t *testing.T, name string) Scenario {
	s, err := Get(name)
	require.NoError(t, err)
	return s
}
