package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		ok      bool
	}{
		{"3.9.1", true},
		{"4.1.1", true},
		{"4.4.0", true},
		{"3.10.12", true},
		{"4.1", false},
		{"v4.1.1", false},
		{"4.1.1-rc1", false},
		{"", false},
		{" 4.1.1", false},
		{"2.8.2", false},
		{"5.0.0", false},
	} {
		err := ValidateVersion(tc.version)
		if tc.ok {
			require.NoError(t, err, tc.version)
			continue
		}
		var ve *VersionError
		require.ErrorAs(t, err, &ve, tc.version)
		require.Contains(t, err.Error(), tc.version)
	}
}

func TestKafkaPlan(t *testing.T) {
	for _, tc := range []struct {
		version, pom string
	}{
		{"3.9.1", "pom.xml"},
		{"4.1.1", "pom-4.xml"},
		{"4.4.0", "pom-4.xml"},
	} {
		p, err := KafkaPlan(tc.version, "/b", "kchaos/jre:17")
		require.NoError(t, err)
		require.Equal(t, "kchaos/kafka:"+tc.version, p.Image)
		require.Equal(t, tc.pom, p.Pom)
		require.Equal(t, filepath.Join("/b", tc.version), p.Dir)
		require.Equal(t, map[string]string{"BASE": "kchaos/jre:17", "KAFKA_VERSION": tc.version}, p.BuildArgs)
		// What scripts/setup ran: the pom in the build dir, the version as a property, runtime jars into libs.
		require.Equal(t, []string{"-q", "-B", "-Dstyle.color=never", "-f", "pom.xml", "-Dkafka.version=" + tc.version,
			"dependency:copy-dependencies", "-DincludeScope=runtime", "-DoutputDirectory=libs"}, p.MavenArgs)
	}
	_, err := KafkaPlan("4.1", "/b", "kchaos/jre:17")
	require.Error(t, err)
}

// TestEmbeddedFiles: every file of the build is embedded, the same bytes as the checkout's
// images/kafka (what scripts/setup built from), and agrees with the plan: the Dockerfile takes the
// plan's build arguments and copies libs/, each pom reads the version from kafka.version.
func TestEmbeddedFiles(t *testing.T) {
	for _, name := range []string{"Dockerfile", "pom.xml", "pom-4.xml"} {
		embedded, err := KafkaFile(name)
		require.NoError(t, err)
		onDisk, err := os.ReadFile(filepath.Join("kafka", name))
		require.NoError(t, err)
		require.Equal(t, string(onDisk), string(embedded), name)
	}
	dockerfile, err := KafkaFile("Dockerfile")
	require.NoError(t, err)
	p, err := KafkaPlan("4.1.1", "/b", "x")
	require.NoError(t, err)
	for arg := range p.BuildArgs {
		require.Contains(t, string(dockerfile), "ARG "+arg, "the Dockerfile declares build argument %s", arg)
	}
	require.Contains(t, string(dockerfile), "COPY libs/ /opt/kafka/libs/")
	for _, pom := range []string{"pom.xml", "pom-4.xml"} {
		data, err := KafkaFile(pom)
		require.NoError(t, err)
		require.Contains(t, string(data), "<version>${kafka.version}</version>", pom)
		require.Contains(t, string(data), "<artifactId>kafka_2.13</artifactId>", pom)
	}
	_, err = KafkaFile("nope")
	require.Error(t, err)
}

func TestDebootstrapArgs(t *testing.T) {
	require.Equal(t, []string{"--variant=minbase", "--include=openjdk-17-jre-headless,iproute2,iptables,procps",
		"bookworm", "/r", "http://m/debian"}, debootstrapArgs("/r", "http://m/debian"))
}

func TestMissingArtifact(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want bool
	}{
		{"[ERROR] Failed to execute goal on project kafka-image-4: Could not resolve dependencies: " +
			"The following artifacts could not be resolved: org.apache.kafka:kafka_2.13:jar:4.9.9 (absent): " +
			"org.apache.kafka:kafka_2.13:jar:4.9.9 was not found in https://repo.maven.apache.org/maven2", true},
		{"Could not find artifact org.apache.kafka:kafka-tools:jar:3.0.9", true},
		{"Could not transfer artifact ... Connection refused", false},
		{"", false},
	} {
		require.Equal(t, tc.want, missingArtifact(tc.out), strings.TrimSpace(tc.out))
	}
}
