package faultfs

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSweepUnmountsStaleMounts(t *testing.T) {
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	require.NoError(t, os.Mkdir(backing, 0o755))
	require.NoError(t, os.Mkdir(mnt, 0o755))

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mnt)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if mounted(t, mnt) {
			_ = lazyUnmount(mnt)
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "mounted\n", line)
	require.True(t, mounted(t, mnt))

	stale, err := Sweep()
	require.NoError(t, err)
	require.Empty(t, stale, "swept the mount of a live process")

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.True(t, mounted(t, mnt), "the kernel keeps the mount of a killed server")

	stale, err = Sweep()
	require.NoError(t, err)
	require.Equal(t, []Stale{{Mountpoint: mnt, Pid: cmd.Process.Pid}}, stale)
	require.False(t, mounted(t, mnt))
	require.Eventually(t, func() bool { _, err := os.ReadDir(mnt); return err == nil }, 5*time.Second, 50*time.Millisecond)
}

func TestSweepSparesOurMounts(t *testing.T) {
	_, mnt, _ := mountT(t, Options{})
	stale, err := Sweep()
	require.NoError(t, err)
	require.Empty(t, stale)
	require.True(t, mounted(t, mnt))
}

func TestParseMountInfo(t *testing.T) {
	tests := []struct {
		line string
		want mountInfo
		ok   bool
	}{
		{
			line: `812 30 0:120 / /tmp/a\040b rw,nosuid,nodev,relatime shared:450 - fuse.kchaos-faultfs kchaos-faultfs:pid=42 rw,user_id=0,group_id=0,allow_other`,
			want: mountInfo{Dev: 120, Mountpoint: "/tmp/a b", FsType: "fuse.kchaos-faultfs", Source: "kchaos-faultfs:pid=42"},
			ok:   true,
		},
		{
			line: `25 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw`,
			want: mountInfo{Dev: 1, Mountpoint: "/", FsType: "ext4", Source: "/dev/sda1"},
			ok:   true,
		},
		{line: `garbage`, ok: false},
	}
	for _, tt := range tests {
		got, ok := parseMountInfo(tt.line)
		require.Equal(t, tt.ok, ok, tt.line)
		if ok {
			require.Equal(t, tt.want, got)
		}
	}
	pid, ok := ownerPid(tests[0].want)
	require.True(t, ok)
	require.Equal(t, 42, pid)
	_, ok = ownerPid(tests[1].want)
	require.False(t, ok)
}

func TestUserAllowOther(t *testing.T) {
	dir := t.TempDir()
	for conf, want := range map[string]bool{
		"#user_allow_other\n":               false,
		"mount_max = 5\nuser_allow_other\n": true,
		"":                                  false,
	} {
		p := filepath.Join(dir, "fuse.conf")
		require.NoError(t, os.WriteFile(p, []byte(conf), 0o644))
		require.Equal(t, want, userAllowOther(p), "%q", conf)
	}
	require.False(t, userAllowOther(filepath.Join(dir, "missing")))
}
