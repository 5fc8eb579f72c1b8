package images

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// Engine is the part of the Docker engine's API a Builder uses; *client.Client (and
// testcontainers' DockerClient, which embeds it) is one.
type Engine interface {
	ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImagePull(ctx context.Context, ref string, opts client.ImagePullOptions) (client.ImagePullResponse, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, opts client.ImageBuildOptions) (client.ImageBuildResult, error)
	ImageImport(ctx context.Context, source client.ImageImportSource, ref string, opts client.ImageImportOptions) (client.ImageImportResult, error)
}

// Builder ensures images through a Docker engine. Its zero value is not usable: set Docker, and
// leave the rest to FromEnv or set them.
type Builder struct {
	// Docker is the engine that holds and builds the images.
	Docker Engine
	// Logf receives a line per step and one when it is done, with its time, as scripts/setup
	// printed them ("==> Kafka image kchaos/kafka:4.1.1", "    done in 41.2s (...)"); nil
	// discards them.
	Logf func(format string, args ...any)
	// BuildRoot holds a directory per Kafka version (its jars, pom and logs).
	BuildRoot string
	// Base is the JRE base image; when empty, DebootstrapBase if it exists, else PulledBase if it
	// can be pulled, else DebootstrapBase built with debootstrap.
	Base string
	// Mvn is the Maven command ("mvn" when empty).
	Mvn string

	base string // the base resolved by ensureBase
}

// FromEnv returns a Builder on docker configured from the environment as scripts/setup was:
// KCHAOS_BASE_IMAGE names the JRE base, KCHAOS_BUILD_DIR the build root (default: the user's
// cache directory, kchaos/images).
func FromEnv(docker Engine, logf func(string, ...any)) *Builder {
	root := os.Getenv("KCHAOS_BUILD_DIR")
	if root == "" {
		if cache, err := os.UserCacheDir(); err == nil {
			root = filepath.Join(cache, "kchaos", "images")
		} else {
			root = filepath.Join(os.TempDir(), "kchaos-images")
		}
	}
	return &Builder{Docker: docker, Logf: logf, BuildRoot: root, Base: os.Getenv("KCHAOS_BASE_IMAGE")}
}

func (b *Builder) logf(format string, args ...any) {
	if b.Logf != nil {
		b.Logf(format, args...)
	}
}

// step prints the line that starts a step and returns the function that prints its end.
func (b *Builder) step(name string) func(detail string) {
	start := time.Now()
	b.logf("==> %s", name)
	return func(detail string) {
		if detail != "" {
			detail = " (" + detail + ")"
		}
		b.logf("    done in %.1fs%s", time.Since(start).Seconds(), detail)
	}
}

// Exists reports whether the engine has image.
func (b *Builder) Exists(ctx context.Context, image string) (bool, error) {
	_, err := b.Docker.ImageInspect(ctx, image)
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("ask the Docker engine for image %s (is it running? scripts/setup starts one): %w", image, err)
	}
}

// EnsureKafka makes sure the engine has kchaos/kafka:version, building it when missing: the JRE
// base first (see Builder.Base), then Kafka's jars from Maven Central, then the image. An image
// that exists is left as it is. It returns the image.
func (b *Builder) EnsureKafka(ctx context.Context, version string) (string, error) {
	if err := ValidateVersion(version); err != nil {
		return "", err
	}
	image := KafkaImage(version)
	if ok, err := b.Exists(ctx, image); err != nil {
		return "", err
	} else if ok {
		b.step("Kafka image " + image)("exists")
		return image, nil
	}
	base, err := b.ensureBase(ctx)
	if err != nil {
		return "", err
	}
	plan, err := KafkaPlan(version, b.BuildRoot, base)
	if err != nil {
		return "", err
	}
	done := b.step("Kafka image " + image)
	if err := os.MkdirAll(plan.Dir, 0o755); err != nil {
		return "", fmt.Errorf("build directory of %s: %w", image, err)
	}
	unlock, err := lockDir(plan.Dir)
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have built it while this one waited for the lock.
	if ok, err := b.Exists(ctx, image); err != nil {
		return "", err
	} else if ok {
		done("built by another process meanwhile")
		return image, nil
	}
	jars, err := b.resolve(ctx, plan)
	if err != nil {
		return "", err
	}
	if err := b.build(ctx, plan); err != nil {
		return "", err
	}
	done(fmt.Sprintf("%d jars, %s, base %s", jars, plan.Pom, base))
	return image, nil
}

// Pull pulls image from its registry unless the engine has it already.
func (b *Builder) Pull(ctx context.Context, image string) error {
	done := b.step("image " + image)
	if ok, err := b.Exists(ctx, image); err != nil {
		return err
	} else if ok {
		done("exists")
		return nil
	}
	if err := b.pull(ctx, image); err != nil {
		return err
	}
	done("pulled")
	return nil
}

func (b *Builder) pull(ctx context.Context, image string) error {
	resp, err := b.Docker.ImagePull(ctx, image, client.ImagePullOptions{})
	if err == nil {
		err = resp.Wait(ctx)
	}
	if err != nil {
		return fmt.Errorf("pull %s (is a registry reachable from the Docker engine?): %w", image, err)
	}
	return nil
}

// ensureBase resolves the JRE base once: Base if set (pulled when missing), else an existing
// DebootstrapBase, else PulledBase if it can be had, else DebootstrapBase built with debootstrap.
func (b *Builder) ensureBase(ctx context.Context) (string, error) {
	if b.base != "" {
		return b.base, nil
	}
	if b.Base != "" {
		done := b.step("JRE base image " + b.Base)
		ok, err := b.Exists(ctx, b.Base)
		if err != nil {
			return "", err
		}
		if ok {
			done("exists")
		} else {
			if err := b.pull(ctx, b.Base); err != nil {
				return "", fmt.Errorf("JRE base image (KCHAOS_BASE_IMAGE): %w", err)
			}
			done("pulled")
		}
		b.base = b.Base
		return b.base, nil
	}
	done := b.step("JRE base image " + DebootstrapBase)
	for _, image := range []string{DebootstrapBase, PulledBase} {
		ok, err := b.Exists(ctx, image)
		if err != nil {
			return "", err
		}
		if ok {
			done("exists: " + image)
			b.base = image
			return image, nil
		}
	}
	pullErr := b.pull(ctx, PulledBase)
	if pullErr == nil {
		done("pulled " + PulledBase)
		b.base = PulledBase
		return b.base, nil
	}
	b.logf("    no registry answered for %s; building %s with debootstrap", PulledBase, DebootstrapBase)
	if err := b.debootstrap(ctx); err != nil {
		return "", fmt.Errorf("JRE base image: %w (and %w)", err, pullErr)
	}
	done("built with debootstrap")
	b.base = DebootstrapBase
	return b.base, nil
}

// debootstrapPackages are what the base holds beyond minbase: a JRE and what the nemesis runs in
// the nodes.
var debootstrapPackages = []string{"openjdk-17-jre-headless", "iproute2", "iptables", "procps"}

// debootstrapArgs are the arguments of debootstrap that lay a Debian bookworm root file system
// with a JRE into rootfs from mirror.
func debootstrapArgs(rootfs, mirror string) []string {
	return []string{"--variant=minbase", "--include=" + strings.Join(debootstrapPackages, ","), "bookworm", rootfs, mirror}
}

// debootstrap builds DebootstrapBase: a Debian root file system imported as an image.
func (b *Builder) debootstrap(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("building %s with debootstrap needs root: run kchaos setup as root, or set KCHAOS_BASE_IMAGE to a JRE 17 image you have", DebootstrapBase)
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return fmt.Errorf("building %s needs debootstrap, which is not installed (apt-get install debootstrap, or run scripts/setup)", DebootstrapBase)
	}
	rootfs, err := os.MkdirTemp("", "kchaos-rootfs.")
	if err != nil {
		return fmt.Errorf("debootstrap root: %w", err)
	}
	defer os.RemoveAll(rootfs)
	logPath := filepath.Join(os.TempDir(), "kchaos-debootstrap.log")
	if out, err := run(ctx, "", logPath, "debootstrap", debootstrapArgs(rootfs, debianMirror())...); err != nil {
		return fmt.Errorf("debootstrap failed (log %s): %w%s", logPath, err, out)
	}
	for _, dir := range []string{"var/cache/apt/archives", "var/lib/apt/lists"} {
		matches, _ := filepath.Glob(filepath.Join(rootfs, dir, "*"))
		for _, m := range matches {
			if fi, err := os.Lstat(m); err == nil && !fi.IsDir() {
				os.Remove(m)
			}
		}
	}
	// tar keeps device nodes, owners and modes as they are; it streams into the import.
	cmd := exec.CommandContext(ctx, "tar", "-C", rootfs, "-c", ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("tar the root file system: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("tar the root file system: %w", err)
	}
	resp, err := b.Docker.ImageImport(ctx, client.ImageImportSource{Source: stdout, SourceName: "-"}, DebootstrapBase,
		client.ImageImportOptions{Changes: []string{
			"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			`CMD ["/bin/bash"]`,
		}})
	if err == nil {
		_, err = io.Copy(io.Discard, resp)
		resp.Close()
	}
	waitErr := cmd.Wait()
	if err != nil {
		return fmt.Errorf("import %s into the Docker engine: %w", DebootstrapBase, err)
	}
	if waitErr != nil {
		return fmt.Errorf("tar the root file system: %w: %s", waitErr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// debianMirror is the mirror apt uses on this machine, or Debian's own.
func debianMirror() string {
	data, err := os.ReadFile("/etc/apt/sources.list.d/debian.sources")
	if err == nil {
		for line := range strings.Lines(string(data)) {
			if rest, ok := strings.CutPrefix(line, "URIs:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					return f[0]
				}
			}
		}
	}
	return "http://deb.debian.org/debian"
}

// resolve puts Kafka's runtime class path into plan.Dir/libs with Maven, unless an earlier
// build left it complete there, and returns the number of jars.
func (b *Builder) resolve(ctx context.Context, plan Plan) (int, error) {
	libs := filepath.Join(plan.Dir, "libs")
	complete := filepath.Join(libs, ".complete")
	if _, err := os.Stat(complete); err != nil {
		mvn := b.Mvn
		if mvn == "" {
			mvn = "mvn"
		}
		if _, err := exec.LookPath(mvn); err != nil {
			return 0, fmt.Errorf("resolving Kafka %s needs Maven, and %s is not installed (apt-get install maven, or run scripts/setup)", plan.Version, mvn)
		}
		pom, err := KafkaFile(plan.Pom)
		if err != nil {
			return 0, err
		}
		if err := os.RemoveAll(libs); err != nil {
			return 0, fmt.Errorf("clear %s: %w", libs, err)
		}
		if err := os.WriteFile(filepath.Join(plan.Dir, "pom.xml"), pom, 0o644); err != nil {
			return 0, fmt.Errorf("write the pom of Kafka %s: %w", plan.Version, err)
		}
		logPath := filepath.Join(plan.Dir, "mvn.log")
		b.logf("    resolving Kafka %s from Maven Central (%s, log %s)", plan.Version, plan.Pom, logPath)
		if out, err := run(ctx, plan.Dir, logPath, mvn, plan.MavenArgs...); err != nil {
			if missingArtifact(out) {
				return 0, fmt.Errorf("Maven Central has no Kafka %s (org.apache.kafka:kafka_2.13:%s; log %s)%s", plan.Version, plan.Version, logPath, out)
			}
			return 0, fmt.Errorf("resolving Kafka %s from Maven Central failed (log %s): %w%s", plan.Version, logPath, err, out)
		}
		if err := os.WriteFile(complete, nil, 0o644); err != nil {
			return 0, fmt.Errorf("mark %s complete: %w", libs, err)
		}
	}
	entries, err := os.ReadDir(libs)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", libs, err)
	}
	jars := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".jar") {
			jars++
		}
	}
	if jars == 0 {
		return 0, fmt.Errorf("mvn put no jars into %s", libs)
	}
	return jars, nil
}

// missingArtifact tells, from Maven's output, that an artifact does not exist in the repository
// (as opposed to a network or other failure).
func missingArtifact(out string) bool {
	return strings.Contains(out, "was not found in") || strings.Contains(out, "Could not find artifact")
}

// build builds plan.Image from the embedded Dockerfile and plan.Dir/libs with the classic
// builder (BuildKit needs a session the API client does not open), logging to plan.Dir/build.log.
func (b *Builder) build(ctx context.Context, plan Plan) error {
	dockerfile, err := KafkaFile("Dockerfile")
	if err != nil {
		return err
	}
	logPath := filepath.Join(plan.Dir, "build.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("build log of %s: %w", plan.Image, err)
	}
	defer logFile.Close()
	b.logf("    building %s (log %s)", plan.Image, logPath)

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(pw, dockerfile, filepath.Join(plan.Dir, "libs"))) }()
	args := make(map[string]*string, len(plan.BuildArgs))
	for k, v := range plan.BuildArgs {
		args[k] = &v
	}
	resp, err := b.Docker.ImageBuild(ctx, pr, client.ImageBuildOptions{
		Tags: []string{plan.Image}, BuildArgs: args, Version: build.BuilderV1, Remove: true, ForceRemove: true,
	})
	if err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("docker build of %s: %w", plan.Image, err)
	}
	defer resp.Body.Close()
	if err := readBuild(resp.Body, logFile); err != nil {
		logFile.Sync()
		return fmt.Errorf("docker build of %s failed (log %s): %w%s", plan.Image, logPath, err, tail(logPath, 20))
	}
	return nil
}

// readBuild copies the build's output to log and returns the error the engine reported, if any.
func readBuild(body io.Reader, log io.Writer) error {
	dec := json.NewDecoder(body)
	for {
		var msg jsonstream.Message
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read the build's output: %w", err)
		}
		if msg.Stream != "" {
			io.WriteString(log, msg.Stream)
		}
		if msg.Error != nil {
			io.WriteString(log, msg.Error.Message+"\n")
			return errors.New(msg.Error.Message)
		}
	}
}

// writeContext writes the build context: the Dockerfile and every regular file of libs, as libs/.
func writeContext(w io.Writer, dockerfile []byte, libs string) error {
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(dockerfile); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "libs/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	entries, err := os.ReadDir(libs)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := addFile(tw, filepath.Join(libs, e.Name()), "libs/"+e.Name()); err != nil {
			return err
		}
	}
	return tw.Close()
}

func addFile(tw *tar.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: fi.Size(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// run runs name in dir with its output in logPath; on failure it returns the log's last lines,
// ready to append to an error.
func run(ctx context.Context, dir, logPath, name string, args ...string) (string, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", fmt.Errorf("log of %s: %w", name, err)
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logFile, logFile
	if err := cmd.Run(); err != nil {
		return tail(logPath, 20), err
	}
	return "", nil
}

// tail returns the last n lines of the file at path as "\n--- last lines of PATH ---\n...".
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return fmt.Sprintf("\n--- last lines of %s ---\n%s", path, strings.Join(lines, "\n"))
}

// lockDir takes an exclusive lock on dir, so that two processes do not build the same version at
// once; the second waits and then finds the image.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}
