package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Labels on every container and network kchaos creates. A run whose owner process is gone from
// this host is stale, and the next start removes what it left.
const (
	labelRun       = "kchaos.run"
	labelOwnerPID  = "kchaos.owner-pid"
	labelOwnerHost = "kchaos.owner-host"
	labelNode      = "kchaos.node"

	// detachedOwner is the owner-pid label of a cluster started to outlive its process
	// (kchaos cluster up --detach): never stale, removed only by RemoveAll.
	detachedOwner = "detached"
)

// NewRunID returns a fresh run id: the time and a random suffix, short enough for container names.
func NewRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102t150405") + "-" + hex.EncodeToString(b[:])
}

// removeByLabel force-removes the containers (with their volumes), then the networks, that carry
// the label filter ("key" or "key=value"). It returns how many it removed.
func removeByLabel(ctx context.Context, docker *testcontainers.DockerClient, label string) (int, error) {
	filter := make(client.Filters).Add("label", label)
	removed := 0
	var errs []error
	list, err := docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return 0, fmt.Errorf("list containers labelled %s: %w", label, err)
	}
	for _, ctr := range list.Items {
		if _, err := docker.ContainerRemove(ctx, ctr.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			// Another kchaos process sweeping stale runs at the same moment may have removed it.
			if !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove container %s: %w", ctr.ID[:12], err))
			}
			continue
		}
		removed++
	}
	nets, err := docker.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		return removed, errors.Join(append(errs, fmt.Errorf("list networks labelled %s: %w", label, err))...)
	}
	for _, nw := range nets.Items {
		if _, err := docker.NetworkRemove(ctx, nw.ID, client.NetworkRemoveOptions{}); err != nil {
			if !cerrdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove network %s: %w", nw.Name, err))
			}
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// RemoveStale removes the containers and networks of kchaos runs whose owning process no longer
// exists on this host (a run killed with SIGKILL, a crashed test). Runs of live processes, and of
// other hosts sharing the engine, are left alone. It returns how many objects it removed.
func RemoveStale(ctx context.Context) (int, error) {
	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return 0, fmt.Errorf("connect to the Docker engine: %w", err)
	}
	defer docker.Close()
	host, _ := os.Hostname()
	stale := map[string]bool{}
	list, err := docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", labelRun)})
	if err != nil {
		return 0, fmt.Errorf("list kchaos containers: %w", err)
	}
	for _, ctr := range list.Items {
		if isStale(ctr.Labels, host) {
			stale[ctr.Labels[labelRun]] = true
		}
	}
	nets, err := docker.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("label", labelRun)})
	if err != nil {
		return 0, fmt.Errorf("list kchaos networks: %w", err)
	}
	for _, nw := range nets.Items {
		if isStale(nw.Labels, host) {
			stale[nw.Labels[labelRun]] = true
		}
	}
	total := 0
	var errs []error
	for run := range stale {
		n, err := removeByLabel(ctx, docker, labelRun+"="+run)
		total += n
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}

func isStale(labels map[string]string, host string) bool {
	if labels[labelOwnerHost] != host {
		return false
	}
	if labels[labelOwnerPID] == detachedOwner {
		return false
	}
	pid, err := strconv.Atoi(labels[labelOwnerPID])
	if err != nil || pid <= 0 {
		return true
	}
	return !processAlive(pid)
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// RemoveAll removes every container and network of the run with the given id, whoever owns it
// (kchaos cluster down).
func RemoveAll(ctx context.Context, runID string) (int, error) {
	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return 0, fmt.Errorf("connect to the Docker engine: %w", err)
	}
	defer docker.Close()
	return removeByLabel(ctx, docker, labelRun+"="+runID)
}

// RunObjects lists the containers and networks of the run with the given id that still exist,
// as "container NAME" and "network NAME".
func RunObjects(ctx context.Context, runID string) ([]string, error) {
	return objectsByLabel(ctx, labelRun+"="+runID)
}

// OwnedObjects lists the containers and networks this process owns that still exist: what it
// would leave behind if it exited now (a test binary checks it is empty at the end).
func OwnedObjects(ctx context.Context) ([]string, error) {
	return objectsByLabel(ctx, labelOwnerPID+"="+strconv.Itoa(os.Getpid()))
}

func objectsByLabel(ctx context.Context, label string) ([]string, error) {
	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to the Docker engine: %w", err)
	}
	defer docker.Close()
	filter := make(client.Filters).Add("label", label)
	ctrs, err := docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return nil, fmt.Errorf("list containers labelled %s: %w", label, err)
	}
	nets, err := docker.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		return nil, fmt.Errorf("list networks labelled %s: %w", label, err)
	}
	var out []string
	for _, c := range ctrs.Items {
		out = append(out, "container "+strings.TrimPrefix(c.Names[0], "/"))
	}
	for _, n := range nets.Items {
		out = append(out, "network "+n.Name)
	}
	return out, nil
}

// live holds the clusters of this process that are not closed yet, for CloseAll.
var live = struct {
	sync.Mutex
	clusters map[*Cluster]bool
}{clusters: map[*Cluster]bool{}}

func track(c *Cluster) {
	live.Lock()
	defer live.Unlock()
	live.clusters[c] = true
}

func untrack(c *Cluster) {
	live.Lock()
	defer live.Unlock()
	delete(live.clusters, c)
}

// CloseAll closes every cluster this process started and has not closed: what a signal handler
// calls before the process exits.
func CloseAll(ctx context.Context) error {
	live.Lock()
	clusters := make([]*Cluster, 0, len(live.clusters))
	for c := range live.clusters {
		clusters = append(clusters, c)
	}
	live.Unlock()
	var errs []error
	for _, c := range clusters {
		errs = append(errs, c.Close(ctx))
	}
	return errors.Join(errs...)
}
