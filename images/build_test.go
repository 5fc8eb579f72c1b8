package images

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"
)

// fakeEngine has the images in have; it records every call and fails every pull, as an engine
// with no registry does.
type fakeEngine struct {
	have  map[string]bool
	calls []string
}

func (f *fakeEngine) ImageInspect(_ context.Context, image string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	f.calls = append(f.calls, "inspect "+image)
	if f.have[image] {
		return client.ImageInspectResult{}, nil
	}
	return client.ImageInspectResult{}, cerrdefs.ErrNotFound.WithMessage("No such image: " + image)
}

func (f *fakeEngine) ImagePull(_ context.Context, ref string, _ client.ImagePullOptions) (client.ImagePullResponse, error) {
	f.calls = append(f.calls, "pull "+ref)
	return nil, errors.New("lookup registry-1.docker.io: no such host")
}

func (f *fakeEngine) ImageBuild(context.Context, io.Reader, client.ImageBuildOptions) (client.ImageBuildResult, error) {
	f.calls = append(f.calls, "build")
	return client.ImageBuildResult{}, errors.New("not in this test")
}

func (f *fakeEngine) ImageImport(context.Context, client.ImageImportSource, string, client.ImageImportOptions) (client.ImageImportResult, error) {
	f.calls = append(f.calls, "import")
	return nil, errors.New("not in this test")
}

func testBuilder(t *testing.T, have ...string) (*Builder, *fakeEngine, *[]string) {
	engine := &fakeEngine{have: map[string]bool{}}
	for _, image := range have {
		engine.have[image] = true
	}
	var lines []string
	b := &Builder{Docker: engine, BuildRoot: t.TempDir(), Mvn: filepath.Join(t.TempDir(), "no-mvn"),
		Logf: func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }}
	return b, engine, &lines
}

func TestEnsureKafkaExists(t *testing.T) {
	b, engine, lines := testBuilder(t, "kchaos/kafka:4.1.1")
	image, err := b.EnsureKafka(context.Background(), "4.1.1")
	require.NoError(t, err)
	require.Equal(t, "kchaos/kafka:4.1.1", image)
	require.Equal(t, []string{"inspect kchaos/kafka:4.1.1"}, engine.calls, "an existing image needs no base, no Maven, no build")
	require.Len(t, *lines, 2)
	require.Equal(t, "==> Kafka image kchaos/kafka:4.1.1", (*lines)[0])
	require.Regexp(t, `^    done in \d+\.\ds \(exists\)$`, (*lines)[1])
}

func TestEnsureKafkaBadVersionAsksNothing(t *testing.T) {
	b, engine, _ := testBuilder(t)
	_, err := b.EnsureKafka(context.Background(), "4.1")
	var ve *VersionError
	require.ErrorAs(t, err, &ve)
	require.Empty(t, engine.calls)
}

// TestEnsureKafkaNamesMissingMaven: with the base there and no mvn, the error names Maven
// before any build is asked of the engine.
func TestEnsureKafkaNamesMissingMaven(t *testing.T) {
	b, engine, _ := testBuilder(t, DebootstrapBase)
	_, err := b.EnsureKafka(context.Background(), "4.4.0")
	require.ErrorContains(t, err, "needs Maven")
	require.ErrorContains(t, err, "apt-get install maven")
	require.NotContains(t, engine.calls, "build")
}

func TestBaseFromEnvMustBePullable(t *testing.T) {
	b, engine, _ := testBuilder(t)
	b.Base = "example/jre:17"
	_, err := b.EnsureKafka(context.Background(), "3.9.1")
	require.ErrorContains(t, err, "KCHAOS_BASE_IMAGE")
	require.ErrorContains(t, err, "pull example/jre:17")
	require.Contains(t, engine.calls, "pull example/jre:17")
	require.NotContains(t, engine.calls, "pull "+PulledBase, "a base the user named is not swapped for another")
}

func TestBasePrefersExisting(t *testing.T) {
	for _, have := range []string{DebootstrapBase, PulledBase} {
		b, engine, _ := testBuilder(t, have)
		base, err := b.ensureBase(context.Background())
		require.NoError(t, err)
		require.Equal(t, have, base)
		for _, c := range engine.calls {
			require.False(t, strings.HasPrefix(c, "pull"), "an existing base is not pulled: %v", engine.calls)
		}
	}
}

func TestPullFailureSaysSo(t *testing.T) {
	b, _, _ := testBuilder(t)
	err := b.Pull(context.Background(), "apache/kafka:4.1.1")
	require.ErrorContains(t, err, "pull apache/kafka:4.1.1")
	require.ErrorContains(t, err, "registry")
}

func TestWriteContext(t *testing.T) {
	libs := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(libs, "kafka_2.13-4.1.1.jar"), []byte("jar"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(libs, ".complete"), nil, 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(libs, "sub"), 0o755))
	var buf bytes.Buffer
	require.NoError(t, writeContext(&buf, []byte("FROM x\n"), libs))
	tr := tar.NewReader(&buf)
	got := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		got[h.Name] = string(data)
	}
	require.Equal(t, map[string]string{"Dockerfile": "FROM x\n", "libs/": "", "libs/kafka_2.13-4.1.1.jar": "jar"}, got)
}

func TestReadBuild(t *testing.T) {
	var log bytes.Buffer
	err := readBuild(strings.NewReader(`{"stream":"Step 1/6 : FROM kchaos/jre:17\n"}`+"\n"+
		`{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}`), &log)
	require.EqualError(t, err, "manifest unknown")
	require.Equal(t, "Step 1/6 : FROM kchaos/jre:17\nmanifest unknown\n", log.String())

	log.Reset()
	require.NoError(t, readBuild(strings.NewReader(`{"stream":"Successfully tagged kchaos/kafka:4.1.1\n"}`), &log))
	require.Equal(t, "Successfully tagged kchaos/kafka:4.1.1\n", log.String())
}
