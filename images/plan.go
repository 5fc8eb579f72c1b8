// Package images builds the Docker images kchaos runs, on demand and without a checkout: the
// Kafka image of a version (kchaos/kafka:VERSION: Apache Kafka and its runtime class path from
// Maven Central, laid out like the official distribution on a JRE base) and that JRE base
// (eclipse-temurin:17-jre pulled where a registry answers, else kchaos/jre:17 built with
// debootstrap). The Dockerfile and the Maven poms are embedded in the package; the node
// configuration (server.properties, log4j) is not baked into the image, package broker writes it
// into each container at start.
package images

import (
	"embed"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
)

// kafkaFiles are the files an image build reads: scripts/setup used the same ones from this
// directory before it called kchaos setup.
//
//go:embed kafka/Dockerfile kafka/pom.xml kafka/pom-4.xml
var kafkaFiles embed.FS

// KafkaRepository is the repository of the Kafka images kchaos builds: KafkaImage(v) is
// KafkaRepository+":"+v.
const KafkaRepository = "kchaos/kafka"

// The JRE bases: PulledBase where a registry answers, else DebootstrapBase built locally.
const (
	PulledBase      = "eclipse-temurin:17-jre"
	DebootstrapBase = "kchaos/jre:17"
)

// KafkaImage is the image kchaos builds for Kafka version v.
func KafkaImage(v string) string { return KafkaRepository + ":" + v }

var versionPattern = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)$`)

// ParseRelease reads a Kafka release written MAJOR.MINOR.PATCH, such as "4.1.1": the one
// reading of a version that the image build and the cluster spec share.
func ParseRelease(v string) (major, minor int, ok bool) {
	m := versionPattern.FindStringSubmatch(v)
	if m == nil {
		return 0, 0, false
	}
	major, _ = strconv.Atoi(m[1])
	minor, _ = strconv.Atoi(m[2])
	return major, minor, true
}

// VersionError is a Kafka version kchaos cannot build an image of: bad input, nothing started.
type VersionError struct {
	Version string
	Reason  string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("Kafka version %q: %s", e.Version, e.Reason)
}

// ValidateVersion checks that v is a Kafka release kchaos builds images of: 3.x or 4.x, written
// MAJOR.MINOR.PATCH.
func ValidateVersion(v string) error {
	_, err := major(v)
	return err
}

func major(v string) (int, error) {
	n, _, ok := ParseRelease(v)
	if !ok {
		return 0, &VersionError{v, "want a release such as 3.9.1 or 4.1.1"}
	}
	if n < 3 || n > 4 {
		return 0, &VersionError{v, "kchaos builds images of Kafka 3.x and 4.x"}
	}
	return n, nil
}

// Plan is how the image of one Kafka version is built: pure data, decided before anything runs.
type Plan struct {
	// Version is the Kafka release, Image its tag (kchaos/kafka:VERSION).
	Version, Image string
	// Pom names the embedded pom that resolves the version: pom.xml for 3.x (reload4j logging),
	// pom-4.xml for 4.x (log4j2 logging).
	Pom string
	// Dir is the build directory of this version: the pom, libs/ (the jars), the Dockerfile and
	// the logs mvn.log and build.log.
	Dir string
	// MavenArgs are the arguments of mvn, run in Dir.
	MavenArgs []string
	// BuildArgs are the Dockerfile's build arguments: BASE (the JRE base) and KAFKA_VERSION.
	BuildArgs map[string]string
}

// KafkaPlan returns the plan that builds version on base in buildRoot/version.
func KafkaPlan(version, buildRoot, base string) (Plan, error) {
	n, err := major(version)
	if err != nil {
		return Plan{}, err
	}
	pom := "pom.xml"
	if n >= 4 {
		pom = "pom-4.xml"
	}
	dir := filepath.Join(buildRoot, version)
	return Plan{
		Version: version,
		Image:   KafkaImage(version),
		Pom:     pom,
		Dir:     dir,
		MavenArgs: []string{"-q", "-B", "-Dstyle.color=never", "-f", "pom.xml", "-Dkafka.version=" + version,
			"dependency:copy-dependencies", "-DincludeScope=runtime", "-DoutputDirectory=libs"},
		BuildArgs: map[string]string{"BASE": base, "KAFKA_VERSION": version},
	}, nil
}

// KafkaFile returns an embedded file of the Kafka image build by name: Dockerfile, pom.xml or
// pom-4.xml.
func KafkaFile(name string) ([]byte, error) {
	data, err := kafkaFiles.ReadFile("kafka/" + name)
	if err != nil {
		return nil, fmt.Errorf("embedded image file %s: %w", name, err)
	}
	return data, nil
}
