package broker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// RunInfo describes a kchaos cluster found on the Docker engine by its labels, whoever started it.
type RunInfo struct {
	RunID string
	// Detached is true for clusters started to outlive their process (kchaos cluster up --detach).
	Detached bool
	// OwnerPID is the process that started it, 0 when detached.
	OwnerPID int
	Nodes    []NodeInfo
}

// NodeInfo is one node of a listed run.
type NodeInfo struct {
	Name  string
	State string // Docker's: running, paused, exited, ...
	// HostAddr is where the node serves clients on the host, "" when it publishes nothing.
	HostAddr string
}

// ZooKeeperAddrs are the host addresses of the run's ZooKeeper nodes.
func (r RunInfo) ZooKeeperAddrs() []string {
	var addrs []string
	for _, n := range r.Nodes {
		if strings.HasPrefix(n.Name, "zk") && n.HostAddr != "" {
			addrs = append(addrs, n.HostAddr)
		}
	}
	return addrs
}

// BootstrapAddrs are the host addresses of the run's brokers (n1, n2, ...), for Kafka clients.
func (r RunInfo) BootstrapAddrs() []string {
	var addrs []string
	for _, n := range r.Nodes {
		if strings.HasPrefix(n.Name, "n") && n.HostAddr != "" {
			addrs = append(addrs, n.HostAddr)
		}
	}
	return addrs
}

// ListRuns lists the kchaos clusters on the Docker engine, oldest run id first, nodes by name.
func ListRuns(ctx context.Context) ([]RunInfo, error) {
	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to the Docker engine: %w", err)
	}
	defer docker.Close()
	list, err := docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", labelRun)})
	if err != nil {
		return nil, fmt.Errorf("list kchaos containers: %w", err)
	}
	runs := map[string]*RunInfo{}
	for _, ctr := range list.Items {
		id := ctr.Labels[labelRun]
		r := runs[id]
		if r == nil {
			r = &RunInfo{RunID: id, Detached: ctr.Labels[labelOwnerPID] == detachedOwner}
			r.OwnerPID, _ = strconv.Atoi(ctr.Labels[labelOwnerPID])
			runs[id] = r
		}
		n := NodeInfo{Name: ctr.Labels[labelNode], State: string(ctr.State)}
		for _, p := range ctr.Ports {
			if p.PublicPort != 0 {
				n.HostAddr = fmt.Sprintf("127.0.0.1:%d", p.PublicPort)
			}
		}
		r.Nodes = append(r.Nodes, n)
	}
	out := make([]RunInfo, 0, len(runs))
	for _, r := range runs {
		slices.SortFunc(r.Nodes, func(a, b NodeInfo) int { return compareNodeNames(a.Name, b.Name) })
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b RunInfo) int { return strings.Compare(a.RunID, b.RunID) })
	return out, nil
}

// compareNodeNames puts ZooKeeper first, then brokers, then dedicated KRaft controllers, each by
// number.
func compareNodeNames(a, b string) int {
	ka, kb := nodeSortKey(a), nodeSortKey(b)
	if ka != kb {
		return ka - kb
	}
	return strings.Compare(a, b)
}

func nodeSortKey(name string) int {
	if n, ok := strings.CutPrefix(name, "zk"); ok {
		i, _ := strconv.Atoi(n)
		return i
	}
	if n, ok := strings.CutPrefix(name, "c"); ok {
		i, _ := strconv.Atoi(n)
		return 200 + i
	}
	i, _ := strconv.Atoi(strings.TrimPrefix(name, "n"))
	return 100 + i
}
