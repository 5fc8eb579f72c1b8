package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/kchaos/kchaos/broker"
	"github.com/kchaos/kchaos/images"
)

func init() {
	commands["setup"] = command{summary: "ensure the Kafka images: build kchaos/kafka:V from Maven Central, or pull --image", run: runSetup}
}

// setupRequest is what kchaos setup was asked for: Kafka versions to build and images to pull.
type setupRequest struct {
	versions []string
	pulls    []string
}

// parseSetup reads the flags of kchaos setup and validates every version before anything
// starts. It returns ok to go on, or the exit status.
func parseSetup(args []string, stderr io.Writer) (req setupRequest, code int, ok bool) {
	fs := flag.NewFlagSet("kchaos setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: kchaos setup [--kafka VERSION]... [--image IMAGE]...

Makes sure the Docker engine has the image of every --kafka VERSION (3.9.1 when neither flag is
given), building a missing kchaos/kafka:VERSION from Maven Central on a JRE base (eclipse-temurin:17-jre
pulled where a registry answers, else kchaos/jre:17 built with debootstrap, which needs root), and
pulls every --image (e.g. apache/kafka:4.1.1). An image that exists is left as it is. Needs a
running Docker engine and, to build, mvn; scripts/setup installs both. KCHAOS_BASE_IMAGE names
another JRE base, KCHAOS_BUILD_DIR where the jars and logs go (default: the user's cache dir).`)
		fs.PrintDefaults()
	}
	fs.Func("kafka", "Kafka `VERSION` to build kchaos/kafka:VERSION of (repeatable)", func(v string) error {
		if err := images.ValidateVersion(v); err != nil {
			return err
		}
		req.versions = append(req.versions, v)
		return nil
	})
	fs.Func("image", "`IMAGE` to pull from its registry when missing (repeatable), e.g. apache/kafka:4.1.1", func(v string) error {
		if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t\n") {
			return fmt.Errorf("%q is not an image reference", v)
		}
		req.pulls = append(req.pulls, v)
		return nil
	})
	if code, ok := parseFlags(fs, args); !ok {
		return req, code, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kchaos setup: unexpected argument %q\n", fs.Arg(0))
		return req, exitError, false
	}
	if len(req.versions) == 0 && len(req.pulls) == 0 {
		req.versions = []string{broker.DefaultKafkaVersion}
	}
	return req, 0, true
}

func runSetup(args []string) int {
	req, code, ok := parseSetup(args, os.Stderr)
	if !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }

	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kchaos setup: connect to the Docker engine (scripts/setup installs and starts one): %v\n", err)
		return exitError
	}
	defer docker.Close()
	version, err := docker.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "kchaos setup: the Docker engine does not answer (scripts/setup installs and starts one): %v\n", err)
		return exitError
	}

	b := images.FromEnv(docker, logf)
	var ready []string
	for _, v := range req.versions {
		image, err := b.EnsureKafka(ctx, v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kchaos setup: %v\n", err)
			return exitError
		}
		ready = append(ready, image)
	}
	for _, image := range req.pulls {
		if err := b.Pull(ctx, image); err != nil {
			fmt.Fprintf(os.Stderr, "kchaos setup: %v\n", err)
			return exitError
		}
		ready = append(ready, image)
	}
	fmt.Printf("setup: ready (engine %s, images %s)\n", version.Version, strings.Join(ready, " "))
	return exitValid
}
