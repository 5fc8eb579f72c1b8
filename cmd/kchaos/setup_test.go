package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSetup(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		ok       bool
		versions []string
		pulls    []string
		stderr   string
	}{
		{name: "default", ok: true, versions: []string{"3.9.1"}},
		{name: "two versions, as CI asks", args: []string{"--kafka", "3.9.1", "--kafka=4.1.1"}, ok: true, versions: []string{"3.9.1", "4.1.1"}},
		{name: "an image only", args: []string{"--image", "apache/kafka:4.1.1"}, ok: true, pulls: []string{"apache/kafka:4.1.1"}},
		{name: "malformed version", args: []string{"--kafka", "4.1"}, code: exitError, stderr: `Kafka version "4.1"`},
		{name: "unsupported major", args: []string{"--kafka", "2.8.2"}, code: exitError, stderr: "3.x and 4.x"},
		{name: "bad version after a good one", args: []string{"--kafka", "4.1.1", "--kafka", "x"}, code: exitError, stderr: `"x"`},
		{name: "empty image", args: []string{"--image", ""}, code: exitError, stderr: "not an image reference"},
		{name: "stray argument", args: []string{"4.1.1"}, code: exitError, stderr: `unexpected argument "4.1.1"`},
		{name: "unknown flag", args: []string{"--version", "4.1.1"}, code: exitError, stderr: "-version"},
		{name: "help", args: []string{"-h"}, code: exitValid, stderr: "usage: kchaos setup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			req, code, ok := parseSetup(tc.args, &stderr)
			require.Equal(t, tc.ok, ok, stderr.String())
			if !ok {
				require.Equal(t, tc.code, code)
				require.Contains(t, stderr.String(), tc.stderr)
				return
			}
			require.Equal(t, tc.versions, req.versions)
			require.Equal(t, tc.pulls, req.pulls)
		})
	}
}

// TestSetupBadVersionStartsNothing: the binary exits 3 on a malformed version, before it asks
// the Docker engine anything.
func TestSetupBadVersionStartsNothing(t *testing.T) {
	r := runKchaos(t, "setup", "--kafka", "4.1")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, `Kafka version "4.1": want a release such as 3.9.1 or 4.1.1`)
	require.NotContains(t, r.stderr, "kchaos setup: connect to the Docker engine")
	require.NotContains(t, r.stderr, "does not answer")
}
