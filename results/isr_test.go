package results

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/checkers"
	"github.com/kchaos/kchaos/history"
	"github.com/kchaos/kchaos/spec"
)

// The ISR section names the session timeout of the run's metadata mode: a KRaft cluster has no
// zookeeper.session.timeout.ms; its controllers fence a broker after broker.session.timeout.ms.
func TestISRSessionTimeoutFollowsTheMode(t *testing.T) {
	kraft := &spec.Spec{Cluster: broker.ClusterSpec{KafkaVersion: "4.1.1", Metadata: broker.MetadataKRaft}}
	zk := &spec.Spec{Cluster: broker.ClusterSpec{KafkaVersion: "3.9.1", Metadata: broker.MetadataZooKeeper, ZooKeeperSessionTimeoutMs: 6000}}
	tests := []struct {
		name     string
		settings string // results.json's checkers.stats.isr_dynamics.settings
		spec     *spec.Spec
		failover string // the section's sentence
		setting  string // the stat's label and the failovers table's column
		value    string // the stat's value
	}{
		{"KRaft", `{"zookeeper_session_timeout":9000000000,"session_timeout_setting":"broker.session.timeout.ms"}`, kraft,
			"Median failover 6,500 ms after a fault hit a leader: 72 % of broker.session.timeout.ms (9,000 ms).", "broker.session.timeout.ms", "9,000 ms"},
		{"ZooKeeper", `{"zookeeper_session_timeout":6000000000,"session_timeout_setting":"zookeeper.session.timeout.ms"}`, zk,
			"Median failover 6,500 ms after a fault hit a leader: 108 % of zookeeper.session.timeout.ms (6,000 ms).", "zookeeper.session.timeout.ms", "6,000 ms"},
		{"KRaft, setting known, value not", `{"zookeeper_session_timeout":0,"session_timeout_setting":"broker.session.timeout.ms"}`, kraft,
			"Median failover 6,500 ms after a fault hit a leader; broker.session.timeout.ms is unknown.", "broker.session.timeout.ms", "unknown"},
		// results.json from before the setting was named held the spec's ZooKeeper timeout, in
		// KRaft runs too: the spec says what a KRaft run's was.
		{"KRaft, older results.json", `{"zookeeper_session_timeout":18000000000}`, kraft,
			"Median failover 6,500 ms after a fault hit a leader: 72 % of broker.session.timeout.ms (9,000 ms).", "broker.session.timeout.ms", "9,000 ms"},
		{"ZooKeeper, older results.json", `{"zookeeper_session_timeout":6000000000}`, zk,
			"Median failover 6,500 ms after a fault hit a leader: 108 % of zookeeper.session.timeout.ms (6,000 ms).", "zookeeper.session.timeout.ms", "6,000 ms"},
		{"a history without a spec", `{"zookeeper_session_timeout":0}`, nil,
			"Median failover 6,500 ms after a fault hit a leader; the session timeout is unknown.", "session timeout", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := []history.Op{
				state("k/0", 1, 0, []int{1, 2, 3}, 0),
				nemesisLine(t, "start-kill", map[string]any{"nodes": []string{"n1"}}),
				state("k/0", 2, 1, []int{2, 3}, 1),
				nemesisLine(t, "stop-kill", nil),
			}
			r := testOps(t, ops, 0, 10, 16.5, 20)
			r.spec = tt.spec
			dyn := `{"settings":` + tt.settings + `,
			"failovers":[{"key":"k/0","fault":"start-kill","fault_time":10000000000,"old_leader":1,"new_leader":2,"elected_time":16500000000,"failover_ms":6500}],
			"isr_leaves":[],"conclusions":{"median_failover_ms":6500,"leaves":0,"rejoined_by_itself":0,"never_rejoined":0,"answer":"No follower left an ISR."}}`
			res, err := checkers.ReadResult([]byte(`{"valid":true,"anomaly_types":[],"anomalies":{},"checkers":{"stats":{"valid":true,"isr_dynamics":` + dyn + `}}}`))
			require.NoError(t, err)
			r.results = res

			v := buildReport(r).ISR
			require.Equal(t, tt.failover, v.Failover)
			var labels []string
			for _, s := range v.Stats {
				labels = append(labels, s.Label)
				if s.Label == tt.setting {
					require.Equal(t, tt.value, s.Value)
				}
			}
			require.Contains(t, labels, tt.setting)

			page, err := renderReport(r)
			require.NoError(t, err)
			section := string(page)
			section = section[strings.Index(section, `id="isr-dynamics"`):]
			section = section[:strings.Index(section, "</section>")]
			want := tt.setting
			if tt.spec == nil {
				want = "the session timeout"
			}
			requireHas(t, section, "<th>against "+want+"</th>")
			if tt.setting != "zookeeper.session.timeout.ms" {
				require.NotContains(t, section, "zookeeper", "a KRaft run, or one whose mode is unknown, names no ZooKeeper setting")
			}
		})
	}
}
