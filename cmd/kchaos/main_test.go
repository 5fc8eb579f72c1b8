package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"run", "--help"}, {"run", "-h"}, {"check", "--help"}, {"report", "--help"},
		{"bench", "--help"}, {"bench", "detect", "--help"}, {"cluster", "--help"}, {"cluster", "up", "--help"},
		{"setup", "--help"},
	} {
		r := runKchaos(t, args...)
		require.Equal(t, exitValid, r.code, "kchaos %s: %s", strings.Join(args, " "), r.stderr)
		require.NotEmpty(t, r.stdout+r.stderr, "kchaos %s prints its usage", strings.Join(args, " "))
	}
}

func TestVersion(t *testing.T) {
	r := runKchaos(t, "--version")
	require.Equal(t, exitValid, r.code)
	require.True(t, strings.HasPrefix(r.stdout, "kchaos "), r.stdout)
}

// TestBadRunFlagsStartNothing: a bad flag value exits 3 naming the flag, before a run directory
// or a cluster exists.
func TestBadRunFlagsStartNothing(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--brokers", "0"}, "brokers"},
		{[]string{"--partitions", "0"}, "partitions"},
		{[]string{"--concurrency", "0"}, "concurrency"},
		{[]string{"--time-limit", "0s"}, "time-limit"},
		{[]string{"--name", ""}, "name"},
		{[]string{"--rate", "NaN"}, "rate"},
		{[]string{"--seed", "0"}, "seed"},
		{[]string{"--server-property", "zookeeper.session.timeout.ms=6000"}, "zookeeper-session-timeout-ms"},
		{[]string{"--nemesis", "meteor"}, "meteor"},
	} {
		t.Run(strings.Join(tc.args, "="), func(t *testing.T) {
			dir := t.TempDir()
			r := runKchaos(t, append([]string{"run", "--results-dir", dir}, tc.args...)...)
			require.Equal(t, exitError, r.code, r.stderr)
			require.Contains(t, r.stderr, tc.want)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, entries, "nothing written under the results dir")
			_, err = os.Stat(filepath.Join(dir, "latest"))
			require.True(t, os.IsNotExist(err))
		})
	}
}

func TestPanicExitsWithErrorNotAVerdict(t *testing.T) {
	code := runCommand(command{run: func([]string) int { panic("boom") }}, nil)
	require.Equal(t, exitError, code, "a crash must not read as UNKNOWN (2)")
}
