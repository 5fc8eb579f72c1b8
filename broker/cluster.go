package broker

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
)

//go:embed assets/log4j.properties
var log4jProperties string

//go:embed assets/log4j2.properties
var log4j2Properties string

// Options are the parts of a start that are not the cluster itself.
type Options struct {
	// RunID labels every container and network; a fresh one is made when empty.
	RunID string
	// Logf receives progress lines ("starting zk1", "n2 registered"); nil discards them.
	Logf func(format string, args ...any)
	// Detached marks the cluster as meant to outlive this process: it is never removed as stale,
	// only by Close or RemoveAll (kchaos cluster up --detach).
	Detached bool
	// ReadyTimeout bounds the wait for ZooKeeper, broker registration and a controller (default 3
	// min; 5 min in KRaft mode, where each node runs two JVMs in turn, the storage format and then
	// Kafka, and on a loaded 2-core machine a quorum took over 3 min to form).
	ReadyTimeout time.Duration
}

// Cluster is a running ZooKeeper ensemble or KRaft quorum and Kafka brokers on a private Docker
// network.
// Close removes every container and the network; it is safe to call more than once.
type Cluster struct {
	// RunID is the value of the kchaos.run label on every container and network of this cluster.
	RunID string
	// Spec is the spec the cluster was started from, with defaults applied.
	Spec ClusterSpec

	docker    *testcontainers.DockerClient
	network   *testcontainers.DockerNetwork
	subnet    netip.Prefix
	gateway   netip.Addr
	zooKeeper []*Node
	brokers   []*Node // brokers and combined nodes
	// controllers are the dedicated KRaft controllers; combined nodes are among brokers.
	controllers []*Node
	// clusterID is the KRaft cluster id every node's storage is formatted with.
	clusterID string
	admin     *kraftAdmin
	logf      func(string, ...any)
	detached  bool
	// starting is true while Start waits for readiness; startRestarts counts, per broker, the
	// restarts of a broker that exited while starting.
	starting      bool
	startRestarts map[string]int
	// faultDir holds the brokers' faultfs backing dirs and mount points (FaultFS).
	faultDir string

	closeOnce sync.Once
	closeErr  error
}

// Start validates spec, then starts ZooKeeper and the brokers and waits until every broker is
// registered in ZooKeeper and a controller is elected; in KRaft mode it starts the controllers and
// brokers together and waits until the quorum has a leader and every broker is registered and
// unfenced. A spec error returns before anything starts. An image the Docker engine lacks is
// had first: kchaos/kafka:VERSION is built (package images, progress through Options.Logf), any
// other image is pulled.
// On any later error everything started so far is removed.
func Start(ctx context.Context, spec ClusterSpec, opts Options) (*Cluster, error) {
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := faultFSOptions(spec, opts); err != nil {
		return nil, err
	}
	if opts.RunID == "" {
		opts.RunID = NewRunID()
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 3 * time.Minute
		if spec.KRaft() {
			opts.ReadyTimeout = 5 * time.Minute
		}
	}
	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to the Docker engine (run scripts/setup): %w", err)
	}
	if _, err := docker.Ping(ctx, client.PingOptions{}); err != nil {
		docker.Close()
		return nil, fmt.Errorf("the Docker engine does not answer (run scripts/setup): %w", err)
	}
	if err := ensureImage(ctx, docker, spec, opts.Logf); err != nil {
		docker.Close()
		return nil, err
	}
	if n, err := RemoveStale(ctx); err != nil {
		opts.Logf("could not remove stale kchaos containers: %v", err)
	} else if n > 0 {
		opts.Logf("removed %d stale containers and networks of earlier runs", n)
	}
	sweepFaultFS(opts.Logf)

	c := &Cluster{RunID: opts.RunID, Spec: spec, docker: docker, logf: opts.Logf, detached: opts.Detached}
	track(c)
	if err := c.start(ctx, opts.ReadyTimeout); err != nil {
		closeErr := c.Close(context.WithoutCancel(ctx))
		return nil, errors.Join(err, closeErr)
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, readyTimeout time.Duration) error {
	started := time.Now()
	if err := c.createNetwork(ctx); err != nil {
		return err
	}
	if c.Spec.KRaft() {
		return c.startKRaft(ctx, readyTimeout, started)
	}
	ports, err := freePorts(c.Spec.ZooKeeperNodes + c.Spec.Brokers)
	if err != nil {
		return err
	}
	for i := range c.Spec.ZooKeeperNodes {
		c.zooKeeper = append(c.zooKeeper, &Node{Name: ZooKeeperName(i + 1), Role: RoleZooKeeper, ID: i + 1,
			IP: c.nodeIP(10 + i), HostPort: ports[i], cluster: c})
	}
	for i := range c.Spec.Brokers {
		c.brokers = append(c.brokers, &Node{Name: BrokerName(i + 1), Role: RoleBroker, ID: i + 1,
			IP: c.nodeIP(20 + i), HostPort: ports[c.Spec.ZooKeeperNodes+i], cluster: c})
	}

	if err := c.mountFaultFS(); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := c.createAll(ctx, c.zooKeeper); err != nil {
		return err
	}
	if err := c.waitZooKeeper(ctx); err != nil {
		return err
	}
	c.logf("ZooKeeper answers after %s", time.Since(started).Round(100*time.Millisecond))
	if err := c.createAll(ctx, c.brokers); err != nil {
		return err
	}
	if err := c.waitStarted(ctx); err != nil {
		return err
	}
	c.logf("cluster ready after %s: %s", time.Since(started).Round(100*time.Millisecond), c.Spec.Topology())
	return nil
}

// createNetwork makes the private network on a subnet of its own, so that nodes get static
// addresses that survive restarts (iptables rules name them).
func (c *Cluster) createNetwork(ctx context.Context) error {
	var lastErr error
	for attempt := range 20 {
		third := (int(time.Now().UnixNano()/1000) + attempt*37) % 250
		subnet := netip.MustParsePrefix(fmt.Sprintf("172.30.%d.0/24", third))
		gateway := subnet.Addr().Next()
		nw, err := tcnetwork.New(ctx,
			tcnetwork.WithLabels(c.labels()),
			tcnetwork.WithIPAM(&network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: subnet, Gateway: gateway}}}),
		)
		if err == nil {
			c.network, c.subnet, c.gateway = nw, subnet, gateway
			return nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "overlap") && !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	return fmt.Errorf("create the cluster network: %w", lastErr)
}

func (c *Cluster) nodeIP(host int) netip.Addr {
	a := c.subnet.Addr().As4()
	a[3] = byte(host)
	return netip.AddrFrom4(a)
}

// createAll starts the containers of nodes in parallel.
func (c *Cluster) createAll(ctx context.Context, nodes []*Node) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = c.create(ctx, n) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *Cluster) create(ctx context.Context, n *Node) error {
	c.logf("starting %s (%s)", n.Name, n.IP)
	files := []testcontainers.ContainerFile{
		{Reader: strings.NewReader(log4jProperties), ContainerFilePath: "/etc/kchaos/log4j.properties", FileMode: 0o644},
		{Reader: strings.NewReader(log4j2Properties), ContainerFilePath: "/etc/kchaos/log4j2.properties", FileMode: 0o644},
	}
	var script string
	containerPort := zkClientPort
	switch n.Role {
	case RoleZooKeeper:
		files = append(files, testcontainers.ContainerFile{Reader: strings.NewReader(c.Spec.zooConfig(n.ID)),
			ContainerFilePath: "/etc/kchaos/zoo.cfg", FileMode: 0o644})
		script = fmt.Sprintf(`mkdir -p /var/lib/zookeeper /var/log/kafka && echo %d > /var/lib/zookeeper/myid && `+
			`exec java -Xms%[2]dm -Xmx%[2]dm -Djava.awt.headless=true -Dlog4j.configuration=file:/etc/kchaos/log4j.properties `+
			`-cp '/opt/kafka/libs/*' org.apache.zookeeper.server.quorum.QuorumPeerMain /etc/kchaos/zoo.cfg`,
			n.ID, c.Spec.ZooKeeperHeapMB)
	case RoleBroker, RoleCombined, RoleController:
		containerPort = externalPort
		props := c.Spec.serverProperties(n.ID, n.HostPort)
		if c.Spec.KRaft() {
			props = c.Spec.kraftProperties(n, c.ControllerNodes())
		}
		files = append(files, testcontainers.ContainerFile{Reader: strings.NewReader(props),
			ContainerFilePath: "/etc/kchaos/server.properties", FileMode: 0o644})
		script = c.Spec.kafkaCommand(c.clusterID)
	}
	port := network.MustParsePort(fmt.Sprintf("%d/tcp", containerPort))
	exposed := []string{port.String()}
	bindings := network.PortMap{port: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(n.HostPort)}}}
	if n.HostPort == 0 { // a dedicated controller serves no clients on the host
		exposed, bindings = nil, nil
	}
	netName := c.network.Name
	ctr, err := testcontainers.Run(ctx, c.Spec.Image,
		testcontainers.WithName(fmt.Sprintf("kchaos-%s-%s", c.RunID, n.Name)),
		testcontainers.WithLabels(c.labels()),
		testcontainers.WithLabels(map[string]string{labelNode: n.Name}),
		tcnetwork.WithNetworkName([]string{n.Name}, netName),
		testcontainers.WithEndpointSettingsModifier(func(settings map[string]*network.EndpointSettings) {
			if s, ok := settings[netName]; ok {
				s.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: n.IP}
			}
		}),
		testcontainers.WithFiles(files...),
		// testcontainers drops port bindings of ports that are not exposed.
		testcontainers.WithExposedPorts(exposed...),
		testcontainers.WithEntrypoint("sh", "-c", script),
		testcontainers.WithConfigModifier(func(cfg *container.Config) {
			cfg.Hostname = n.Name
			cfg.User = "root" // the official image runs as appuser; kchaos needs iptables and its own dirs
		}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.CapAdd = append(hc.CapAdd, "NET_ADMIN")
			hc.PortBindings = bindings
			hc.Binds = append(hc.Binds, n.faultFSBinds()...)
		}),
	)
	if ctr != nil {
		n.container = ctr
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", n.Name, err)
	}
	return nil
}

// waitZooKeeper waits until every ZooKeeper server answers a session from the host.
func (c *Cluster) waitZooKeeper(ctx context.Context) error {
	for _, n := range c.zooKeeper {
		for {
			conn, err := c.dialZooKeeper([]string{n.HostAddr()}, 4*time.Second)
			if err == nil {
				_, _, err = conn.Exists("/")
				conn.Close()
				if err == nil {
					break
				}
			}
			if err := sleepCtx(ctx, 300*time.Millisecond); err != nil {
				return fmt.Errorf("ZooKeeper %s never answered: %w%s", n.Name, err, c.tailLogs(n))
			}
		}
	}
	return nil
}

// waitStarted waits for the nodes just created to be ready, in the start-up mode in which a
// node that dies is restarted (startRestarts counts them).
func (c *Cluster) waitStarted(ctx context.Context) error {
	c.starting, c.startRestarts = true, map[string]int{}
	defer func() { c.starting = false }()
	return c.WaitReady(ctx)
}

// WaitReady waits until every broker is registered in ZooKeeper and a controller exists. It fails
// at once when a broker that is not registered has exited (while Start waits, such a broker is
// first restarted, twice at most).
//
// In KRaft mode it waits until the quorum has a leader and every broker, asked itself, lists every
// broker as registered and unfenced.
func (c *Cluster) WaitReady(ctx context.Context) error {
	if c.Spec.KRaft() {
		return c.waitReadyKRaft(ctx)
	}
	conn, err := c.dialZooKeeper(c.ZooKeeperAddrs(), 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	var missing []string
	for {
		missing = missing[:0]
		ids, _, err := conn.Children("/brokers/ids")
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			missing = append(missing, "/brokers/ids: "+err.Error())
		}
		for _, b := range c.brokers {
			if !slices.Contains(ids, strconv.Itoa(b.ID)) {
				missing = append(missing, b.Name)
			}
		}
		if ok, _, err := conn.Exists("/controller"); err != nil || !ok {
			missing = append(missing, "controller")
		}
		if len(missing) == 0 {
			return nil
		}
		if err := c.checkRunning(ctx, missing); err != nil {
			return err
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			var tails strings.Builder
			for _, b := range c.brokers {
				if slices.Contains(missing, b.Name) {
					tails.WriteString(c.tailLogs(b))
				}
			}
			return fmt.Errorf("cluster not ready, still waiting for %s: %w%s", strings.Join(missing, ", "), err, tails.String())
		}
	}
}

// maxStartRestarts bounds the restarts of a broker that exits while the cluster starts.
const maxStartRestarts = 2

// checkRunning fails fast when a node that is not ready (its name in missing) has already exited
// (a config Kafka rejects, a port in use), with its last log lines.
func (c *Cluster) checkRunning(ctx context.Context, missing []string) error {
	for _, b := range c.kafkaNodes() {
		if !slices.Contains(missing, b.Name) || b.container == nil {
			continue
		}
		running, _, err := b.Running(ctx)
		if err != nil || running {
			continue
		}
		if c.starting && c.startRestarts[b.Name] < maxStartRestarts {
			// Starved of CPU (another cluster on a 2-core machine), a broker can lose its first
			// ZooKeeper session while it starts, and exits. A config Kafka rejects exits again.
			c.startRestarts[b.Name]++
			c.logf("%s exited while starting; restarting it (%d of %d)%s", b.Name, c.startRestarts[b.Name], maxStartRestarts, c.tailLogs(b))
			if err := b.Start(ctx); err != nil {
				return err
			}
			continue
		}
		if c.Spec.KRaft() {
			return fmt.Errorf("%s %s exited before the cluster was ready%s", b.Role, b.Name, c.tailLogs(b))
		}
		return fmt.Errorf("broker %s exited before it registered in ZooKeeper%s", b.Name, c.tailLogs(b))
	}
	return nil
}

// WaitBrokerRegistered waits until broker id has registered itself in ZooKeeper; in KRaft mode,
// until it is registered and unfenced.
func (c *Cluster) WaitBrokerRegistered(ctx context.Context, id int) error {
	if c.Spec.KRaft() {
		return c.waitBrokerUnfenced(ctx, id)
	}
	conn, err := c.dialZooKeeper(c.ZooKeeperAddrs(), 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	for {
		if ok, _, err := conn.Exists("/brokers/ids/" + strconv.Itoa(id)); err == nil && ok {
			return nil
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			return fmt.Errorf("broker %s did not register in ZooKeeper: %w", BrokerName(id), err)
		}
	}
}

// tailLogs returns the last lines a node printed, for error messages about it.
func (c *Cluster) tailLogs(n *Node) string {
	if n.container == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := n.container.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return fmt.Sprintf("\n--- last lines of %s ---\n%s", n.Name, strings.Join(lines, "\n"))
}

// Brokers returns the broker nodes, n1 first: in KRaft mode combined nodes too.
func (c *Cluster) Brokers() []*Node { return c.brokers }

// ZooKeeper returns the ZooKeeper nodes, zk1 first; none in KRaft mode.
func (c *Cluster) ZooKeeper() []*Node { return c.zooKeeper }

// ControllerNodes returns the KRaft controller voters in node id order: the combined nodes n1..nK,
// or the dedicated controllers c1..cK. None in ZooKeeper mode.
func (c *Cluster) ControllerNodes() []*Node {
	var out []*Node
	for _, n := range c.kafkaNodes() {
		if n.Role.IsController() {
			out = append(out, n)
		}
	}
	return out
}

// Nodes returns every node: ZooKeeper first, then brokers, then dedicated controllers.
func (c *Cluster) Nodes() []*Node {
	return append(append([]*Node(nil), c.zooKeeper...), c.kafkaNodes()...)
}

// kafkaNodes returns the nodes that run Kafka: brokers (combined nodes among them), then
// dedicated controllers.
func (c *Cluster) kafkaNodes() []*Node {
	return append(append([]*Node(nil), c.brokers...), c.controllers...)
}

// NodeByID returns the Kafka node with node id (broker.id) id, a dedicated controller included,
// or nil: what a controller line of the history names.
func (c *Cluster) NodeByID(id int) *Node {
	for _, n := range c.kafkaNodes() {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// Node returns the node with the given name (zk1, n2, ...), or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes() {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Broker returns the broker with broker.id id, or nil.
func (c *Cluster) Broker(id int) *Node {
	if id < 1 || id > len(c.brokers) {
		return nil
	}
	return c.brokers[id-1]
}

// BootstrapAddrs are the brokers' addresses for clients on the host.
func (c *Cluster) BootstrapAddrs() []string {
	addrs := make([]string, len(c.brokers))
	for i, b := range c.brokers {
		addrs[i] = b.HostAddr()
	}
	return addrs
}

// ZooKeeperAddrs are the ZooKeeper servers' addresses for clients on the host.
func (c *Cluster) ZooKeeperAddrs() []string {
	addrs := make([]string, len(c.zooKeeper))
	for i, n := range c.zooKeeper {
		addrs[i] = n.HostAddr()
	}
	return addrs
}

// Gateway is the address on the cluster network from which the host's traffic (clients, the
// observer) reaches the nodes; a partition that cuts clients drops it.
func (c *Cluster) Gateway() netip.Addr { return c.gateway }

// Close removes every container and the network of the cluster. It returns the errors met, and is
// safe to call more than once and from a signal handler.
func (c *Cluster) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		defer untrack(c)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if c.admin != nil {
			c.admin.close()
		}
		_, err := removeByLabel(ctx, c.docker, "kchaos.run="+c.RunID)
		// The containers are gone, so nothing holds the mounts any more.
		c.closeErr = errors.Join(err, c.unmountFaultFS())
		c.docker.Close()
	})
	return c.closeErr
}

func (c *Cluster) dialZooKeeper(addrs []string, sessionTimeout time.Duration) (*zk.Conn, error) {
	conn, _, err := zk.Connect(addrs, sessionTimeout, zk.WithLogInfo(false), zk.WithLogger(silentLogger{}))
	if err != nil {
		return nil, fmt.Errorf("connect to ZooKeeper %s: %w", strings.Join(addrs, ","), err)
	}
	return conn, nil
}

type silentLogger struct{}

func (silentLogger) Printf(string, ...any) {}

func (c *Cluster) labels() map[string]string {
	host, _ := os.Hostname()
	owner := strconv.Itoa(os.Getpid())
	if c.detached {
		owner = detachedOwner
	}
	return map[string]string{
		labelRun:       c.RunID,
		labelOwnerPID:  owner,
		labelOwnerHost: host,
	}
}

// freePorts finds n distinct free TCP ports on 127.0.0.1. They are fixed for the life of the
// cluster, so a restarted broker keeps the address it advertises.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free host port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
