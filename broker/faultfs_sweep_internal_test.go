package broker

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kchaos/kchaos/faultfs"
	"github.com/stretchr/testify/require"
)

// sweepChildEnv makes the test binary a process that mounts a faultfs at the named run dir's
// n1/mnt and waits to be killed, as a kchaos run killed with SIGKILL leaves one.
const sweepChildEnv = "KCHAOS_BROKER_FAULTFS_CHILD"

func init() {
	run := os.Getenv(sweepChildEnv)
	if run == "" {
		return
	}
	_, err := faultfs.Mount(filepath.Join(run, "n1", "backing"), filepath.Join(run, "n1", "mnt"), faultfs.Options{})
	var missing *faultfs.MissingError
	switch {
	case errors.As(err, &missing):
		fmt.Println("missing " + missing.What)
	case err != nil:
		fmt.Println("error " + err.Error())
	default:
		fmt.Println("mounted")
	}
	select {}
}

// The mounts of a killed kchaos are unmounted, and their run's dir removed, at the next start.
func TestSweepRemovesTheMountsOfAKilledRun(t *testing.T) {
	run := filepath.Join(t.TempDir(), faultDirPrefix+"killed-run")
	mnt := filepath.Join(run, "n1", "mnt")
	require.NoError(t, os.MkdirAll(filepath.Join(run, "n1", "backing"), 0o755))
	require.NoError(t, os.MkdirAll(mnt, 0o755))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), sweepChildEnv+"="+run)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	if strings.HasPrefix(line, "missing ") {
		t.Skipf("no FUSE here: %s", line)
	}
	require.Equal(t, "mounted\n", line)
	require.True(t, stillMounted(run))

	sweepFaultFS(t.Logf)
	require.True(t, stillMounted(run), "the mount of a live process is left alone")

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	sweepFaultFS(t.Logf)
	require.False(t, stillMounted(run), "the killed run's mount is gone")
	_, err = os.Stat(run)
	require.ErrorIs(t, err, os.ErrNotExist, "and so is its dir")
}
