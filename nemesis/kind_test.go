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
		{in: "jepsen-2013,kill,kill", want: []Kind{KindJepsen2013, KindKill}},
		{in: "all", want: AllKinds()},
		{in: "pause,all", want: []Kind{KindPause, KindKill, KindPartition, KindZKIsolate, KindLag, KindJepsen2013}},
		{in: "kill,bogus", wantErr: `unknown fault "bogus"; valid: kill, pause, partition, zk-isolate, lag, jepsen-2013, all, none`},
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
	require.Equal(t, AllTargets(), d.Targets)
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorContains(t, tt.cfg.WithDefaults().Validate(), tt.wantErr)
		})
	}
}
