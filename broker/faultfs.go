package broker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kchaos/kchaos/faultfs"
)

// With ClusterSpec.FaultFS, each broker's log dir is a faultfs mount on the host, bind-mounted
// into its container, so that the nemesis can drop what Kafka never fsynced (a power loss) and
// inject disk faults. The mounts of a run live under one temp dir:
//
//	$TMPDIR/kchaos-faultfs-RUNID-XXXX/n1/backing   what is durable
//	$TMPDIR/kchaos-faultfs-RUNID-XXXX/n1/mnt       what the broker sees, at brokerDataDir
//
// Each mount's source names the pid that serves it (faultfs does this), so a run killed with
// SIGKILL leaves mounts that the next Start sweeps, as it removes stale containers.

// brokerDataDir is the broker's log.dirs inside its container (see spec.go).
const brokerDataDir = "/var/lib/kafka/data"

// faultDirPrefix starts the name of every run's faultfs temp dir.
const faultDirPrefix = "kchaos-faultfs-"

// FaultFS returns the filesystem that serves the broker's log dir, or nil when the cluster runs
// without ClusterSpec.FaultFS (or the node is not a broker).
func (n *Node) FaultFS() *faultfs.FS { return n.fs }

// faultFSOptions refuses a detached cluster on faultfs: the mounts are served by this process,
// so they would die with it and leave the brokers without their log dirs.
func faultFSOptions(spec ClusterSpec, opts Options) error {
	if spec.FaultFS && opts.Detached {
		return errors.New("broker: a cluster on faultfs cannot be detached: its log dirs are served by this process")
	}
	return nil
}

// mountFaultFS mounts a faultfs for each broker when the spec asks for it. A machine without FUSE
// refuses the cluster with the *faultfs.MissingError, naming what is missing: a crash fault that
// silently lost nothing would pass a test it never ran.
func (c *Cluster) mountFaultFS() error {
	if !c.Spec.FaultFS {
		return nil
	}
	dir, err := os.MkdirTemp("", faultDirPrefix+c.RunID+"-")
	if err != nil {
		return fmt.Errorf("faultfs: make the run's dir: %w", err)
	}
	c.faultDir = dir
	for _, b := range c.brokers {
		backing, mnt := filepath.Join(dir, b.Name, "backing"), filepath.Join(dir, b.Name, "mnt")
		for _, d := range []string{backing, mnt} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("faultfs: make %s: %w", d, err)
			}
		}
		fs, err := faultfs.Mount(backing, mnt, faultfs.Options{})
		if err != nil {
			var missing *faultfs.MissingError
			if errors.As(err, &missing) {
				return fmt.Errorf("broker: --faultfs needs FUSE on this machine, which lacks %s: %w", missing.What, err)
			}
			return fmt.Errorf("faultfs: mount the log dir of %s: %w", b.Name, err)
		}
		b.fs = fs
		c.logf("%s: log dir on faultfs %s", b.Name, mnt)
	}
	return nil
}

// faultFSBinds is the bind mount of the node's faultfs over its log dir, if it has one.
func (n *Node) faultFSBinds() []string {
	if n.fs == nil {
		return nil
	}
	return []string{n.fs.Mountpoint() + ":" + brokerDataDir}
}

// unmountFaultFS unmounts the brokers' filesystems, once their containers are gone, and removes
// the run's dir. Unmount makes what was cached durable first, as a clean shutdown would.
func (c *Cluster) unmountFaultFS() error {
	var errs []error
	for _, b := range c.brokers {
		if b.fs == nil {
			continue
		}
		if err := b.fs.Unmount(); err != nil {
			errs = append(errs, fmt.Errorf("faultfs: unmount the log dir of %s: %w", b.Name, err))
			continue
		}
		b.fs = nil
	}
	if c.faultDir != "" && len(errs) == 0 {
		// Only once nothing is mounted under it: RemoveAll would otherwise walk into a mount.
		if err := os.RemoveAll(c.faultDir); err != nil {
			errs = append(errs, fmt.Errorf("faultfs: remove %s: %w", c.faultDir, err))
		}
		c.faultDir = ""
	}
	return errors.Join(errs...)
}

// sweepFaultFS unmounts the faultfs mounts of dead kchaos processes and removes their runs' dirs.
// Mounts of live processes are left alone (faultfs.Sweep checks the serving pid).
func sweepFaultFS(logf func(string, ...any)) {
	stale, err := faultfs.Sweep()
	if err != nil {
		logf("could not unmount stale faultfs mounts: %v", err)
	}
	if len(stale) == 0 {
		return
	}
	logf("unmounted %d stale faultfs mounts of earlier runs", len(stale))
	dirs := map[string]bool{}
	for _, s := range stale {
		// A mount point is RUNDIR/NODE/mnt.
		run := filepath.Dir(filepath.Dir(s.Mountpoint))
		if strings.HasPrefix(filepath.Base(run), faultDirPrefix) {
			dirs[run] = true
		}
	}
	for dir := range dirs {
		if stillMounted(dir) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			logf("could not remove %s: %v", dir, err)
		}
	}
}

// stillMounted reports whether anything is mounted under dir, from /proc/self/mountinfo.
func stillMounted(dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return true // not knowing, keep the dir rather than walk into a mount
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			return true
		}
	}
	return false
}
