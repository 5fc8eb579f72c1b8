package nemesis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The registry is the single source of the fault kinds: what parses, what `all` means, what the
// schedule draws and what Validate accepts all come from it.
func TestRegistryIsTheSingleSource(t *testing.T) {
	fps := Failpoints()
	require.NotEmpty(t, fps)
	var kinds []Kind
	seen := map[Kind]bool{}
	for _, fp := range fps {
		k := fp.Kind()
		require.NotEmpty(t, k)
		require.False(t, seen[k], "%s is registered twice", k)
		seen[k] = true
		kinds = append(kinds, k)

		parsed, err := ParseKinds(string(k))
		require.NoError(t, err, "registered kind %s must parse", k)
		require.Equal(t, []Kind{k}, parsed)
		require.True(t, k.Valid())
		got, ok := FailpointOf(k)
		require.True(t, ok)
		require.Equal(t, fp, got)
		require.NoError(t, Config{Kinds: []Kind{k}}.WithDefaults().Validate(), "%s alone is a valid schedule", k)
	}
	all, err := ParseKinds("all")
	require.NoError(t, err)
	require.Equal(t, kinds, all, "all expands to the registry, in order")
	require.Equal(t, kinds, AllKinds())

	_, ok := FailpointOf("meteor")
	require.False(t, ok)
	fps[0] = nil
	require.NotNil(t, Failpoints()[0], "Failpoints returns a copy")
}

// Every kind the schedule draws resolves to a fault of that kind on a cluster with targets.
func TestEveryRegisteredKindResolves(t *testing.T) {
	v := testView()
	for _, s := range Plan(Config{Kinds: AllKinds(), Seed: 5, Targets: []Target{TargetOne}}, 60) {
		f, err := resolve(s, v)
		require.NoError(t, err, "%+v", s)
		require.Equal(t, s.Kind, f.Kind)
	}
}

func TestAvailable(t *testing.T) {
	one := ClusterInfo{Brokers: 1, ZooKeeperNodes: 1}
	three := ClusterInfo{Brokers: 3, ZooKeeperNodes: 1}
	tests := []struct {
		kind    Kind
		c       ClusterInfo
		wantErr string
	}{
		{KindKill, one, ""},
		{KindPause, one, ""},
		{KindZKIsolate, one, ""},
		{KindZKIsolate, ClusterInfo{Brokers: 3}, "needs ZooKeeper"},
		{KindPartition, one, "needs at least 2 brokers, the cluster has 1"},
		{KindLag, one, "needs at least 2 brokers"},
		{KindJepsen2013, one, "needs at least 2 brokers"},
		{KindJepsen2013, three, ""},
		{KindISRDrain, ClusterInfo{Brokers: 4, ZooKeeperNodes: 1}, "needs KRaft mode"},
		{KindISRDrain, ClusterInfo{Brokers: 3, KRaft: true, Controllers: 1, DedicatedControllers: true}, "needs at least 4 brokers, the cluster has 3: it kills a partition's three replicas"},
		{KindISRDrain, ClusterInfo{Brokers: 4, KRaft: true, Controllers: 3}, "kills three brokers, and with 3 combined controllers on 4 brokers that takes the KRaft quorum down"},
		{KindISRDrain, ClusterInfo{Brokers: 5, KRaft: true, Controllers: 3}, ""},
		{KindISRDrain, ClusterInfo{Brokers: 4, KRaft: true, Controllers: 1, DedicatedControllers: true}, ""},
		{KindISRDrainClean, ClusterInfo{Brokers: 4, ZooKeeperNodes: 1}, "needs KRaft mode"},
		{KindISRDrainClean, ClusterInfo{Brokers: 4, KRaft: true, Controllers: 1, DedicatedControllers: true}, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			err := Available([]Kind{tt.kind}, tt.c)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, string(tt.kind)+" cannot run on this cluster: "+tt.wantErr)
		})
	}
	require.ErrorContains(t, Available([]Kind{"meteor"}, three), `unknown fault "meteor"`)
}

func TestNeed(t *testing.T) {
	kafkaDefaults := Config{SessionTimeout: 18 * time.Second, ReplicaLagMax: 30 * time.Second}
	suites := Config{SessionTimeout: 6 * time.Second, ReplicaLagMax: 10 * time.Second}
	tests := []struct {
		kind Kind
		cfg  Config
		want Need
	}{
		{KindKill, kafkaDefaults, Need{Min: 20 * time.Second, Why: "18s (zookeeper.session.timeout.ms) + 2s"}},
		{KindPause, kafkaDefaults, Need{Min: 20 * time.Second, Why: "18s (zookeeper.session.timeout.ms) + 2s"}},
		{KindPartition, kafkaDefaults, Need{Min: 20 * time.Second, Why: "18s (zookeeper.session.timeout.ms) + 2s"}},
		{KindZKIsolate, suites, Need{Min: 8 * time.Second, Why: "6s (zookeeper.session.timeout.ms) + 2s"}},
		{KindLag, kafkaDefaults, Need{Min: 32 * time.Second, Why: "30s (replica.lag.time.max.ms) + 2s", Waits: true}},
		{KindJepsen2013, suites, Need{Min: 12 * time.Second, Why: "10s (replica.lag.time.max.ms) + 2s", Waits: true}},
		{KindISRDrain, Config{SessionTimeout: 6 * time.Second, SessionTimeoutSetting: "broker.session.timeout.ms"},
			Need{Min: 8 * time.Second, Why: "6s (broker.session.timeout.ms) + 2s", Waits: true}},
		{KindISRDrain, Config{}, Need{}},
		{KindKill, Config{}, Need{}},
		{KindLag, Config{SessionTimeout: time.Second}, Need{}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			fp, ok := FailpointOf(tt.kind)
			require.True(t, ok)
			require.Equal(t, tt.want, fp.Need(tt.cfg))
		})
	}
}
