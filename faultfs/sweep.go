package faultfs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// mountInfo is one line of /proc/self/mountinfo, as far as Sweep needs it.
type mountInfo struct {
	// Dev is the minor device number; FUSE devices have major 0.
	Dev        uint64
	Mountpoint string
	FsType     string
	Source     string
}

// Stale is a mount that Sweep found.
type Stale struct {
	// Mountpoint is where it was mounted.
	Mountpoint string
	// Pid is the dead process that served it.
	Pid int
}

// Sweep unmounts the kchaos faultfs mounts whose serving process is dead,
// as a killed test or run leaves them, and returns them. It aborts their
// FUSE connections first so that nothing waits on a server that is gone.
func Sweep() ([]Stale, error) {
	mounts, err := readMountInfo("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var found []Stale
	var errs []error
	for _, m := range mounts {
		pid, ok := ownerPid(m)
		if !ok || alive(pid) {
			continue
		}
		_ = abortConn(m.Dev) // best effort: a dead server's connection answers nothing
		if err := lazyUnmount(m.Mountpoint); err != nil {
			errs = append(errs, fmt.Errorf("faultfs: sweep %s: %w", m.Mountpoint, err))
			continue
		}
		found = append(found, Stale{Mountpoint: m.Mountpoint, Pid: pid})
	}
	return found, errors.Join(errs...)
}

// ownerPid returns the pid that serves a faultfs mount.
func ownerPid(m mountInfo) (int, bool) {
	if m.FsType != "fuse."+fsType || !strings.HasPrefix(m.Source, fsNamePrefix) {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(m.Source, fsNamePrefix))
	return pid, err == nil && pid > 0
}

// alive reports whether process pid exists (and is not a zombie).
func alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// readMountInfo parses a mountinfo file.
func readMountInfo(path string) ([]mountInfo, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("faultfs: read mounts: %w", err)
	}
	defer file.Close()
	var out []mountInfo
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m, ok := parseMountInfo(sc.Text()); ok {
			out = append(out, m)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("faultfs: read mounts: %w", err)
	}
	return out, nil
}

// parseMountInfo parses one line:
// "36 35 0:52 / /mnt rw,relatime shared:1 - fuse.kchaos-faultfs kchaos-faultfs:pid=7 rw,...".
func parseMountInfo(line string) (mountInfo, bool) {
	fields := strings.Fields(line)
	sep := -1
	for i := 6; i < len(fields); i++ {
		if fields[i] == "-" {
			sep = i
			break
		}
	}
	if len(fields) < 5 || sep < 0 || sep+2 >= len(fields) {
		return mountInfo{}, false
	}
	var m mountInfo
	if _, minor, ok := strings.Cut(fields[2], ":"); ok {
		m.Dev, _ = strconv.ParseUint(minor, 10, 64)
	}
	m.Mountpoint = unescapeOctal(fields[4])
	m.FsType = fields[sep+1]
	m.Source = unescapeOctal(fields[sep+2])
	return m, true
}

// unescapeOctal undoes the \040-style escapes of mountinfo.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
