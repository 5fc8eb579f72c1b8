package broker

import (
	"context"
	"fmt"
	"strings"

	"github.com/kchaos/kchaos/images"
)

// imageSource is what Start does with a spec's image that the engine lacks: build kchaos's own
// image of a Kafka version, or pull any other.
type imageSource struct {
	// build is the Kafka version to build kchaos/kafka:VERSION of; empty to pull instead.
	build string
}

// sourceOf decides how the spec's image is had: an image named ImagePrefix+VERSION is built (no
// registry has it), any other given image (apache/kafka:4.1.1) is pulled.
func sourceOf(spec ClusterSpec) imageSource {
	if v, ok := strings.CutPrefix(spec.Image, ImagePrefix); ok && images.ValidateVersion(v) == nil {
		return imageSource{build: v}
	}
	return imageSource{}
}

// ensureImage makes sure the engine has spec.Image before any container starts: a missing
// kchaos/kafka:VERSION is built on demand (package images, minutes the first time, progress
// through logf), a missing other image is pulled.
func ensureImage(ctx context.Context, docker images.Engine, spec ClusterSpec, logf func(string, ...any)) error {
	b := images.FromEnv(docker, logf)
	ok, err := b.Exists(ctx, spec.Image)
	if err != nil || ok {
		return err
	}
	src := sourceOf(spec)
	if src.build == "" {
		logf("image %s is not on this machine; pulling it", spec.Image)
		if err := b.Pull(ctx, spec.Image); err != nil {
			return fmt.Errorf("image %s is not on this machine and could not be pulled: %w", spec.Image, err)
		}
		return nil
	}
	logf("image %s is not on this machine; building it (once, a few minutes)", spec.Image)
	if _, err := b.EnsureKafka(ctx, src.build); err != nil {
		return fmt.Errorf("build image %s: %w", spec.Image, err)
	}
	return nil
}
