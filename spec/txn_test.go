package spec_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/spec"
)

// The txn workload's flags: the isolation follows the producer unless given, an explicit
// --abort-rate 0 stays 0 through the harness's defaults, and the queue workload refuses what its
// kafka-go client cannot do.
func TestTxnFlags(t *testing.T) {
	s, err := spec.ParseArgs([]string{"--seed", "1", "--workload", "txn", "--producer", "transactional"})
	require.NoError(t, err)
	require.Equal(t, "read_committed", s.Isolation)
	require.Equal(t, 0.1, s.AbortShare())

	s, err = spec.ParseArgs([]string{"--seed", "1", "--workload", "txn"})
	require.NoError(t, err)
	require.Equal(t, "plain", s.Producer)
	require.Equal(t, "read_uncommitted", s.Isolation)

	s, err = spec.ParseArgs([]string{"--seed", "1", "--workload", "txn", "--producer", "transactional", "--abort-rate", "0"})
	require.NoError(t, err)
	require.Zero(t, s.WithDefaults().AbortShare(), "an explicit 0 is never replaced by the default")
	back, err := spec.ParseArgs(spec.RerunArgs(s))
	require.NoError(t, err)
	require.Equal(t, s, back)

	// Producers and isolation only the txn workload has imply it, and the re-run command leaves
	// it implied.
	for _, tc := range []struct {
		args     []string
		workload string
	}{
		{[]string{"--producer", "transactional"}, "txn"},
		{[]string{"--producer", "idempotent"}, "txn"},
		{[]string{"--isolation", "read_committed"}, "txn"},
		{[]string{"--producer", "plain"}, "queue"},
		{[]string{"--workload", "txn"}, "txn"},
	} {
		s, err := spec.ParseArgs(append([]string{"--seed", "1"}, tc.args...))
		require.NoError(t, err, "%q", tc.args)
		require.Equal(t, tc.workload, s.Workload, "%q", tc.args)
		require.NotContains(t, spec.RerunArgs(s), "queue")
		back, err := spec.ParseArgs(spec.RerunArgs(s))
		require.NoError(t, err)
		require.Equal(t, s, back, "%q", tc.args)
	}

	for _, args := range [][]string{
		{"--workload", "queue", "--producer", "transactional"},
		{"--workload", "queue", "--producer", "idempotent"},
		{"--workload", "queue", "--isolation", "read_committed"},
		{"--workload", "txn", "--producer", "exactly-once"},
		{"--workload", "txn", "--isolation", "serializable"},
		{"--workload", "txn", "--abort-rate", "1.5"},
	} {
		_, err := spec.ParseArgs(append([]string{"--seed", "1"}, args...))
		require.Error(t, err, "%q", args)
	}
}

// --keep-producer is for transactional producers only, and names itself when refused.
func TestKeepProducerFlag(t *testing.T) {
	s, err := spec.ParseArgs([]string{"--seed", "1", "--producer", "transactional", "--keep-producer"})
	require.NoError(t, err)
	require.True(t, s.KeepProducer)
	require.Equal(t, "txn", s.Workload)
	require.Contains(t, spec.RerunArgs(s), "--keep-producer=true")
	back, err := spec.ParseArgs(spec.RerunArgs(s))
	require.NoError(t, err)
	require.Equal(t, s, back)

	s, err = spec.ParseArgs([]string{"--seed", "1", "--producer", "transactional"})
	require.NoError(t, err)
	require.False(t, s.KeepProducer)
	require.NotContains(t, strings.Join(spec.RerunArgs(s), " "), "keep-producer", "an unset flag stays out of the re-run command")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--keep-producer"}, "keep-producer: only with --producer transactional, got --producer plain"},
		{[]string{"--workload", "txn", "--keep-producer"}, "keep-producer: only with --producer transactional, got --producer plain"},
		{[]string{"--producer", "idempotent", "--keep-producer"}, "keep-producer: only with --producer transactional, got --producer idempotent"},
	} {
		_, err := spec.ParseArgs(append([]string{"--seed", "1"}, tc.args...))
		require.ErrorContains(t, err, tc.want, "%q", tc.args)
	}
}
