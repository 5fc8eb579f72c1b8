package faultfs

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// jreImage is the image kchaos runs Kafka on; any image with a shell and
// GNU coreutils would do.
const jreImage = "kchaos/jre:17"

// TestContainerWritesThroughABindMount bind-mounts the FUSE mount into a
// container, writes files from inside it with and without fsync, crashes
// the filesystem, and checks what survived.
func TestContainerWritesThroughABindMount(t *testing.T) {
	// brokertest.RequireEngine's rule, without importing it (broker imports faultfs): -short
	// skips, a missing engine fails.
	if testing.Short() {
		t.Skip("runs a container in Docker: skipped by -short")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Fatalf("this test needs a Docker engine (scripts/setup starts one): %v: %s", err, strings.TrimSpace(string(out)))
	}
	if err := exec.Command("docker", "image", "inspect", jreImage).Run(); err != nil {
		t.Fatalf("image %s is not built (scripts/setup builds it)", jreImage)
	}
	f, mnt, _ := mountT(t, Options{})
	script := strings.Join([]string{
		"echo lost > /data/lost",                                    // close(2) only
		"echo synced > /data/syncfs && sync",                        // sync(2): FUSE does not forward syncfs
		"echo kept > /data/kept && sync /data/kept /data",           // fsync of the file and of the directory
		"mkdir /data/d && echo entry > /data/d/f && sync /data/d/f", // the file, not its directories
		"cat /data/lost /data/kept",
	}, " && ")
	out, err := exec.Command("docker", "run", "--rm", "-v", mnt+":/data", jreImage, "sh", "-c", script).CombinedOutput()
	require.NoError(t, err, "docker run: %s", out)
	require.Equal(t, "lost\nkept\n", string(out), "the container reads its writes back")

	loss, err := f.Crash()
	require.NoError(t, err)
	t.Logf("loss: %+v", loss)
	// The fsync of /data made every entry in it durable, but only kept's
	// data: lost and syncfs survive empty. d and d/f are gone, as nothing
	// synced /data after mkdir d, nor d itself.
	require.Equal(t, map[string]string{"kept": "kept\n", "lost": "", "syncfs": ""}, contents(t, mnt))
	require.Equal(t, []FileLoss{{Path: "lost", Bytes: 5, Size: 5}, {Path: "syncfs", Bytes: 7, Size: 7}}, loss.Files)
	require.Equal(t, []OpLoss{{Op: "mkdir", Path: "d"}, {Op: "create", Path: "d/f"}}, loss.Ops)
}
