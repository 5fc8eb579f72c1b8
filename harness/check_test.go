package harness

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/checkers/dynamics"
	"github.com/kchaos/kchaos/results"
	"github.com/kchaos/kchaos/spec"
)

// A run directory with test.json is a kchaos run, whose observer watched from before the topic
// existed: a partition the clients used must have been observed, or the election verdict is
// unknown. The same history without test.json is judged as any history is.
func TestCheckRunDirExpectsARunsObservations(t *testing.T) {
	history, err := os.ReadFile(filepath.Join("..", "checkers", "testdata", "lost-after-read-ok.jsonl"))
	require.NoError(t, err)
	observed := append(append([]byte{}, history...),
		[]byte(`{"index":13,"time":14000000,"process":"observer","type":"info","f":"partition-state","value":{"key":"kchaos/0","leader":1,"leader_epoch":0,"isr":[1,2,3],"zk_version":0}}`+"\n")...)
	tests := []struct {
		name    string
		history []byte
		spec    bool
		want    checkers.Validity
	}{
		{"any history, no observer lines", history, false, checkers.Valid},
		{"a kchaos run whose partition was never observed", history, true, checkers.Unknown},
		{"a kchaos run whose partition was observed from its creation", observed, true, checkers.Valid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, results.HistoryFile), tt.history, 0o644))
			if tt.spec {
				require.NoError(t, os.WriteFile(filepath.Join(dir, results.SpecFile), []byte(`{"name":"t"}`), 0o644))
			}
			res, err := CheckRunDir(dir, checkers.Options{})
			require.NoError(t, err)
			require.Equal(t, tt.want, res.Valid, "%+v", res.LeaderElection)
		})
	}
}

// The ISR dynamics of a run are set against its metadata mode's session timeout, named.
func TestClusterSettingsFollowTheMode(t *testing.T) {
	zk := clusterSettings(spec.Spec{Cluster: broker.ClusterSpec{KafkaVersion: "3.9.1", ZooKeeperSessionTimeoutMs: 6000, ReplicaLagTimeMaxMs: 10000}})
	require.Equal(t, dynamics.Settings{SessionTimeout: 6 * time.Second, SessionTimeoutSetting: "zookeeper.session.timeout.ms", ReplicaLagMax: 10 * time.Second}, zk)
	// A KRaft spec carries a zookeeper.session.timeout.ms that no node is given.
	kraft := clusterSettings(spec.Spec{Cluster: broker.ClusterSpec{KafkaVersion: "4.1.1", ZooKeeperSessionTimeoutMs: 18000, ReplicaLagTimeMaxMs: 10000}})
	require.Equal(t, dynamics.Settings{SessionTimeout: 9 * time.Second, SessionTimeoutSetting: "broker.session.timeout.ms", ReplicaLagMax: 10 * time.Second}, kraft)
}
