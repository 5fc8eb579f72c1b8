package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kchaos/kchaos/faultfs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
)

// Role says what a node runs.
type Role int

// The roles of nodes.
const (
	RoleZooKeeper Role = iota + 1
	// RoleBroker is a Kafka broker: in ZooKeeper mode every Kafka node, in KRaft mode a node with
	// process.roles=broker.
	RoleBroker
	// RoleController is a dedicated KRaft controller (process.roles=controller): c1, c2, ...
	RoleController
	// RoleCombined is a KRaft node that is both a broker and a controller voter
	// (process.roles=broker,controller).
	RoleCombined
)

func (r Role) String() string {
	switch r {
	case RoleZooKeeper:
		return "zookeeper"
	case RoleBroker:
		return "broker"
	case RoleController:
		return "controller"
	case RoleCombined:
		return "broker,controller"
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// IsBroker reports whether the node serves clients and holds partitions: a broker or a combined node.
func (r Role) IsBroker() bool { return r == RoleBroker || r == RoleCombined }

// IsController reports whether the node is a KRaft controller voter: dedicated or combined.
func (r Role) IsController() bool { return r == RoleController || r == RoleCombined }

// Node is one container of the cluster: a ZooKeeper server, a Kafka broker, a KRaft controller or
// a combined broker and controller.
type Node struct {
	// Name is stable and is also the node's host name on the cluster network: zk1.., n1.. for
	// brokers and combined nodes, c1.. for dedicated controllers.
	Name string
	Role Role
	// ID is the ZooKeeper server id, the broker.id, or the KRaft node.id (brokers 1.., dedicated
	// controllers ControllerIDBase+1..).
	ID int
	// IP is the node's fixed address on the cluster network.
	IP netip.Addr
	// HostPort is the port on 127.0.0.1 where the node serves clients on the host (Kafka or
	// ZooKeeper); 0 for a dedicated controller, which serves no clients.
	HostPort int

	cluster   *Cluster
	container *testcontainers.DockerContainer
	// fs serves the broker's log dir when the cluster runs with FaultFS.
	fs *faultfs.FS
}

// HostAddr is the node's client address as seen from the host, 127.0.0.1:HostPort.
func (n *Node) HostAddr() string { return "127.0.0.1:" + strconv.Itoa(n.HostPort) }

func (n *Node) containerID() string { return n.container.GetContainerID() }

// Kill sends SIGKILL to the node's process: no shutdown, no flush. Its data stays in the container.
func (n *Node) Kill(ctx context.Context) error {
	if _, err := n.cluster.docker.ContainerKill(ctx, n.containerID(), client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("kill %s: %w", n.Name, err)
	}
	return n.waitState(ctx, func(s stateSummary) bool { return !s.running })
}

// Stop shuts the node down gracefully (SIGTERM, then SIGKILL after timeout).
func (n *Node) Stop(ctx context.Context, timeout time.Duration) error {
	secs := int(timeout.Seconds())
	if _, err := n.cluster.docker.ContainerStop(ctx, n.containerID(), client.ContainerStopOptions{Timeout: &secs}); err != nil {
		return fmt.Errorf("stop %s: %w", n.Name, err)
	}
	return nil
}

// Start starts a killed or stopped node again with its data and configuration. It returns once the
// process runs; use Cluster.WaitBrokerRegistered to wait for a broker to rejoin.
func (n *Node) Start(ctx context.Context) error {
	if _, err := n.cluster.docker.ContainerStart(ctx, n.containerID(), client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", n.Name, err)
	}
	return nil
}

// Pause freezes every process of the node (Docker pause, the cgroup freezer): the kernel keeps
// its connections open but nothing answers.
//
// runc gives up with "unable to freeze" when the cgroup does not settle frozen in time, as a busy
// JVM on a loaded machine can make it, and thaws the container again; Pause then tries again, a
// few times, before it reports the error.
func (n *Node) Pause(ctx context.Context) error {
	var err error
	for attempt := 1; ; attempt++ {
		_, err = n.cluster.docker.ContainerPause(ctx, n.containerID(), client.ContainerPauseOptions{})
		if err == nil || attempt == pauseAttempts || !strings.Contains(err.Error(), "unable to freeze") {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pause %s: %w", n.Name, errors.Join(err, ctx.Err()))
		case <-time.After(time.Duration(attempt) * 250 * time.Millisecond):
		}
	}
	if err != nil {
		if strings.Contains(err.Error(), "unable to freeze") {
			return fmt.Errorf("pause %s: %w: %w", n.Name, ErrUnableToFreeze, err)
		}
		return fmt.Errorf("pause %s: %w", n.Name, err)
	}
	return nil
}

// ErrUnableToFreeze says that Docker could not freeze a node after every attempt of Pause; runc
// thawed it again, so the node runs as before.
var ErrUnableToFreeze = errors.New("docker could not freeze the node")

// pauseAttempts is how many times Pause asks Docker to freeze a node.
const pauseAttempts = 5

// Resume thaws a paused node.
func (n *Node) Resume(ctx context.Context) error {
	if _, err := n.cluster.docker.ContainerUnpause(ctx, n.containerID(), client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("resume %s: %w", n.Name, err)
	}
	return nil
}

// Running reports whether the node's process runs, and whether it is paused.
func (n *Node) Running(ctx context.Context) (running, paused bool, err error) {
	s, err := n.state(ctx)
	return s.running, s.paused, err
}

type stateSummary struct{ running, paused bool }

func (n *Node) state(ctx context.Context) (stateSummary, error) {
	st, err := n.container.State(ctx)
	if err != nil {
		return stateSummary{}, fmt.Errorf("inspect %s: %w", n.Name, err)
	}
	return stateSummary{running: st.Running, paused: st.Paused}, nil
}

func (n *Node) waitState(ctx context.Context, ok func(stateSummary) bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		s, err := n.state(ctx)
		if err == nil && ok(s) {
			return nil
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return fmt.Errorf("%s did not reach the expected state: %w", n.Name, err)
		}
	}
}

// ExecError is a command run in a node that exited with a non-zero status.
type ExecError struct {
	Node     string
	Cmd      []string
	ExitCode int
	Output   string
}

func (e *ExecError) Error() string {
	return fmt.Sprintf("%s: %q exited with status %d: %s", e.Node, e.Cmd, e.ExitCode, bytes.TrimSpace([]byte(e.Output)))
}

// Exec runs cmd inside the node (its network namespace, with NET_ADMIN: iptables and tc work) and
// returns its combined output. A non-zero exit is an *ExecError.
func (n *Node) Exec(ctx context.Context, cmd ...string) (string, error) {
	code, r, err := n.container.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		return "", fmt.Errorf("exec %q in %s: %w", cmd, n.Name, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("read output of %q in %s: %w", cmd, n.Name, err)
	}
	if code != 0 {
		return string(out), &ExecError{Node: n.Name, Cmd: cmd, ExitCode: code, Output: string(out)}
	}
	return string(out), nil
}

// logFiles are the files the image's log4j configuration writes.
var logFiles = []string{"server.log", "controller.log", "state-change.log"}

// CollectLogs copies the node's logs into dir/<node name>/: stdout.log (what the process printed)
// and, where present, server.log, controller.log and state-change.log. A paused node is resumed
// first so that Docker can read it. Missing log files are not an error (ZooKeeper has no
// controller log).
func (n *Node) CollectLogs(ctx context.Context, dir string) error {
	dest := filepath.Join(dir, n.Name)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("collect logs of %s: %w", n.Name, err)
	}
	var errs []error
	if rc, err := n.container.Logs(ctx); err != nil {
		errs = append(errs, fmt.Errorf("read stdout of %s: %w", n.Name, err))
	} else {
		errs = append(errs, writeFrom(filepath.Join(dest, "stdout.log"), rc))
	}
	for _, name := range logFiles {
		rc, err := n.container.CopyFileFromContainer(ctx, "/var/log/kafka/"+name)
		if err != nil {
			continue // the node never wrote it
		}
		errs = append(errs, writeFrom(filepath.Join(dest, name), rc))
	}
	return errors.Join(errs...)
}

func writeFrom(path string, rc io.ReadCloser) error {
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
