package nemesis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseKinds(t *testing.T) {
	tests := []struct {
		in      string
		want    []Kind
		wantErr string
	}{
		{in: "", want: []Kind{}},
		{in: "none", want: []Kind{}},
		{in: "kill", want: []Kind{KindKill}},
		{in: "kill,pause,partition", want: []Kind{KindKill, KindPause, KindPartition}},
		{in: " zk-isolate , lag ", want: []Kind{KindZKIsolate, KindLag}},
		{in: "controller-isolate", want: []Kind{KindControllerIsolate}},
		{in: "jepsen-2013,kill,kill", want: []Kind{KindJepsen2013, KindKill}},
		{in: "all", want: AllKinds()},
		{in: "pause,all", want: []Kind{KindPause, KindKill, KindPartition, KindZKIsolate, KindControllerIsolate, KindLag, KindJepsen2013,
			KindCrash, KindPowerLoss, KindDiskFull, KindDiskError, KindSlowDisk, KindISRDrain, KindISRDrainClean}},
		{in: "kill,bogus", wantErr: `unknown fault "bogus"; valid: kill, pause, partition, zk-isolate, controller-isolate, lag, jepsen-2013, crash, power-loss, disk-full, disk-error, slow-disk, isr-drain, isr-drain-clean, all, none`},
		{in: "Kill", wantErr: `unknown fault "Kill"`},
		{in: "partitions", wantErr: `unknown fault "partitions"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKinds(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestConfigDefaultsAndValidate(t *testing.T) {
	d := Config{}.WithDefaults()
	require.Equal(t, 15*time.Second, d.Interval)
	require.Equal(t, d.Interval, d.Hold)
	require.Equal(t, DefaultTargets(), d.Targets)
	require.NotContains(t, d.Targets, TargetControllersMajority, "the quorum targets are asked for by name")
	require.Equal(t, AllShapes(), d.Shapes)
	require.Equal(t, TrafficAll, d.Traffic)
	require.Equal(t, 0.9, d.LagLoss)
	require.NoError(t, d.Validate())
	require.Equal(t, 4*time.Second, Config{Interval: 4 * time.Second}.WithDefaults().Hold)

	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"unknown kind", Config{Kinds: []Kind{"nap"}}, `kinds: unknown fault "nap"`},
		{"negative interval", Config{Interval: -time.Second}, "interval must be positive, got -1s"},
		{"negative hold", Config{Hold: -time.Second}, "hold must be positive"},
		{"unknown target", Config{Targets: []Target{"leader"}}, `targets: unknown target "leader"`},
		{"unknown shape", Config{Shapes: []Shape{"triangle"}}, `shapes: unknown shape "triangle"`},
		{"unknown traffic", Config{Traffic: "clients"}, `traffic: unknown "clients"`},
		{"loss above one", Config{LagLoss: 1.5}, "lag loss must be in (0, 1], got 1.5"},
		{"negative loss", Config{LagLoss: -0.1}, "lag loss must be in (0, 1]"},
		{"negative recover timeout", Config{RecoverTimeout: -time.Second}, "recover timeout must be positive"},
		{"negative session timeout", Config{SessionTimeout: -time.Second}, "session timeout must not be negative"},
		{"negative replica lag", Config{ReplicaLagMax: -time.Second}, "replica lag max must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorContains(t, tt.cfg.WithDefaults().Validate(), tt.wantErr)
		})
	}
}

// Kafka's default timings: the run of the issue (jepsen-2013 for 15 s against an 18 s session
// timeout) and its like must be refused before anything starts.
var kafkaDefaults = Config{SessionTimeout: 18 * time.Second, ReplicaLagMax: 30 * time.Second}

// The suites' timings (suites/scenarios.go): 6 s sessions, 10 s replica lag.
var suiteTimings = Config{SessionTimeout: 6 * time.Second, ReplicaLagMax: 10 * time.Second}

func TestValidateHoldsAgainstWhatFaultsNeed(t *testing.T) {
	with := func(timings Config, kinds []Kind, set func(*Config)) Config {
		cfg := Config{Kinds: kinds, SessionTimeout: timings.SessionTimeout, ReplicaLagMax: timings.ReplicaLagMax}
		set(&cfg)
		return cfg
	}
	interval := func(d time.Duration) func(*Config) { return func(c *Config) { c.Interval = d } }
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"kill for 10s against an 18s session", with(kafkaDefaults, []Kind{KindKill}, interval(10*time.Second)),
			"nemesis config: nemesis-interval 10s is shorter than what kill needs to play out: 18s (zookeeper.session.timeout.ms) + 2s"},
		{"the default interval against an 18s session", with(kafkaDefaults, []Kind{KindPartition}, interval(DefaultInterval)),
			"nemesis-interval 15s is shorter than what partition needs to play out: 18s (zookeeper.session.timeout.ms) + 2s"},
		{"the first kind too short is named", with(kafkaDefaults, []Kind{KindLag, KindZKIsolate, KindPause}, interval(19*time.Second)),
			"nemesis-interval 19s is shorter than what zk-isolate needs"},
		{"kill for 20s against an 18s session", with(kafkaDefaults, []Kind{KindKill}, interval(20*time.Second)), ""},
		{"a hold set by the user is what counts", with(kafkaDefaults, []Kind{KindPause}, func(c *Config) {
			c.Interval, c.Hold = time.Minute, 5*time.Second
		}), "nemesis config: hold 5s is shorter than what pause needs to play out: 18s (zookeeper.session.timeout.ms) + 2s"},
		{"a long hold and a short interval", with(kafkaDefaults, []Kind{KindPause}, func(c *Config) {
			c.Interval, c.Hold = time.Second, 20*time.Second
		}), ""},
		// Faults that wait for their own outcome are bounded by the recover timeout, not the hold.
		{"lag waits for its follower to leave the ISR", with(kafkaDefaults, []Kind{KindLag}, interval(10*time.Second)), ""},
		{"jepsen-2013 waits for the ISR and a new leader", with(kafkaDefaults, []Kind{KindJepsen2013}, interval(10*time.Second)), ""},
		{"a recover timeout shorter than the replica lag", with(kafkaDefaults, []Kind{KindLag}, func(c *Config) {
			c.RecoverTimeout = 20 * time.Second
		}), "nemesis config: recover timeout 20s is shorter than what lag needs to play out: 30s (replica.lag.time.max.ms) + 2s"},
		{"jepsen-2013 with a short recover timeout", with(kafkaDefaults, []Kind{KindJepsen2013}, func(c *Config) {
			c.RecoverTimeout = 31 * time.Second
		}), "recover timeout 31s is shorter than what jepsen-2013 needs to play out: 30s (replica.lag.time.max.ms) + 2s"},
		// The suites stay valid: safe-* at 10 s, safe-all, jepsen-2013 at 12 s.
		{"safe suites", with(suiteTimings, []Kind{KindKill, KindPause, KindPartition, KindZKIsolate, KindLag}, interval(10*time.Second)), ""},
		{"jepsen-2013 suite", with(suiteTimings, []Kind{KindJepsen2013}, interval(12*time.Second)), ""},
		{"unknown timings are not checked", Config{Kinds: AllKinds(), Interval: time.Second}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.WithDefaults().Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// A default interval is never shorter than what the chosen faults need.
func TestDefaultIntervalCoversTheFaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want time.Duration
	}{
		{"no timings", Config{Kinds: []Kind{KindKill}}, DefaultInterval},
		{"18s sessions", Config{Kinds: []Kind{KindLag, KindKill}, SessionTimeout: 18 * time.Second}, 20 * time.Second},
		{"6s sessions", Config{Kinds: []Kind{KindKill}, SessionTimeout: 6 * time.Second}, DefaultInterval},
		{"lag waits by itself", Config{Kinds: []Kind{KindLag}, ReplicaLagMax: 30 * time.Second}, DefaultInterval},
		{"set by the user", Config{Kinds: []Kind{KindKill}, SessionTimeout: 18 * time.Second, Interval: 30 * time.Second}, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.cfg.WithDefaults()
			require.Equal(t, tt.want, d.Interval)
			require.Equal(t, tt.want, d.Hold)
			require.NoError(t, d.Validate())
		})
	}
}
