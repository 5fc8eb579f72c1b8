package main

import (
	"errors"
	"flag"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/spec"
)

// clusterFlags registers the cluster's flags (spec.ClusterFields) on fs and returns a function
// that gives the cluster spec once fs is parsed.
func clusterFlags(fs *flag.FlagSet) func() broker.ClusterSpec {
	s := spec.Defaults()
	spec.RegisterFlags(fs, &s, spec.ClusterFields)
	return func() broker.ClusterSpec { return s.Cluster }
}

// parseFlags parses args into fs. It returns ok to go on, or the exit status: 0 after -h (the
// usage was asked for), exitError after a bad flag (fs has printed what is wrong).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitValid, false
		}
		return exitError, false
	}
	return 0, true
}
