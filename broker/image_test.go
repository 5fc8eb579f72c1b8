package broker

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImageSource: kchaos's own image of a version is built on demand, any other image pulled.
func TestImageSource(t *testing.T) {
	for _, tc := range []struct {
		image, build string
	}{
		{"kchaos/kafka:4.4.0", "4.4.0"},
		{"kchaos/kafka:3.9.1", "3.9.1"},
		{"apache/kafka:4.1.1", ""},
		{"kchaos/kafka:latest", ""},
		{"registry.example/kchaos/kafka:4.1.1", ""},
	} {
		require.Equal(t, tc.build, sourceOf(ClusterSpec{Image: tc.image}).build, tc.image)
	}
	require.Equal(t, "4.1.1", sourceOf(ClusterSpec{KafkaVersion: "4.1.1"}.WithDefaults()).build, "the default image is built")
}
