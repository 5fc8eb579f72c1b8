package spec_test

import (
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

	for _, args := range [][]string{
		{"--producer", "transactional"},
		{"--producer", "idempotent"},
		{"--isolation", "read_committed"},
		{"--workload", "txn", "--producer", "exactly-once"},
		{"--workload", "txn", "--isolation", "serializable"},
		{"--workload", "txn", "--abort-rate", "1.5"},
	} {
		_, err := spec.ParseArgs(append([]string{"--seed", "1"}, args...))
		require.Error(t, err, "%q", args)
	}
}
