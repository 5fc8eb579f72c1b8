package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kchaos/kchaos/broker"
)

func init() {
	commands["cluster"] = command{summary: "start, inspect and remove a Kafka cluster (up, status, down)", run: runCluster}
}

const clusterUsage = `usage:
  kchaos cluster up [flags]        start a cluster; stays in the foreground and removes it on Ctrl-C
  kchaos cluster up --detach ...   start a cluster that outlives the command
  kchaos cluster status [RUN_ID]   nodes, registered brokers, controller, partition leaders and ISR
  kchaos cluster down [RUN_ID]     remove a cluster (every kchaos cluster when no RUN_ID is given)
`

func runCluster(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, clusterUsage)
		return exitError
	}
	switch args[0] {
	case "up":
		return clusterUp(args[1:])
	case "status":
		return clusterStatus(args[1:], os.Stdout)
	case "down":
		return clusterDown(args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(os.Stdout, clusterUsage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "kchaos cluster: unknown subcommand %q\n%s", args[0], clusterUsage)
	return exitError
}

func clusterUp(args []string) int {
	fs := flag.NewFlagSet("kchaos cluster up", flag.ContinueOnError)
	spec := clusterFlags(fs)
	detach := fs.Bool("detach", false, "leave the cluster running when the command ends (remove it with kchaos cluster down)")
	topic := fs.String("topic", "", "also create this topic (partitions and replication from --partitions and --replication-factor)")
	partitions := fs.Int("partitions", 4, "partitions of --topic")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	c, err := broker.Start(ctx, spec(), broker.Options{Detached: *detach, Logf: progressf})
	if err != nil {
		fmt.Fprintln(os.Stderr, "kchaos cluster up:", err)
		return exitError
	}
	// Ctrl-C from here on tears the cluster down; a detached one is left alone once up.
	closeCluster := func() {
		if err := c.Close(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "kchaos cluster: removing the cluster:", err)
		}
	}
	if *topic != "" {
		err := c.CreateTopic(ctx, broker.TopicSpec{Name: *topic, Partitions: *partitions, ReplicationFactor: c.Spec.ReplicationFactor})
		if err != nil {
			fmt.Fprintln(os.Stderr, "kchaos cluster up:", err)
			closeCluster()
			return exitError
		}
	}
	fmt.Printf("cluster %s ready in %s\n", c.RunID, time.Since(started).Round(100*time.Millisecond))
	fmt.Printf("bootstrap servers: %s\nzookeeper: %s\n\n", strings.Join(c.BootstrapAddrs(), ","), strings.Join(c.ZooKeeperAddrs(), ","))
	clusterStatus([]string{c.RunID}, os.Stdout)
	if *detach {
		fmt.Printf("\nleft running; remove it with: kchaos cluster down %s\n", c.RunID)
		return 0
	}
	fmt.Println("\nrunning; press Ctrl-C to remove it")
	<-ctx.Done()
	fmt.Println("\nremoving the cluster")
	closeCluster()
	return 0
}

func clusterStatus(args []string, out io.Writer) int {
	runs, err := broker.ListRuns(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "kchaos cluster status:", err)
		return exitError
	}
	if len(args) > 0 {
		runs = filterRuns(runs, args[0])
		if len(runs) == 0 {
			fmt.Fprintf(os.Stderr, "kchaos cluster status: no cluster with run id %q\n", args[0])
			return exitError
		}
	}
	if len(runs) == 0 {
		fmt.Fprintln(out, "no kchaos cluster is running")
		return 0
	}
	for i, r := range runs {
		if i > 0 {
			fmt.Fprintln(out)
		}
		printRun(out, r)
	}
	return 0
}

func printRun(out io.Writer, r broker.RunInfo) {
	owner := "detached"
	if !r.Detached {
		owner = fmt.Sprintf("owned by pid %d", r.OwnerPID)
	}
	fmt.Fprintf(out, "run %s (%s)\n", r.RunID, owner)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NODE\tSTATE\tADDRESS")
	for _, n := range r.Nodes {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", n.Name, n.State, n.HostAddr)
	}
	tw.Flush()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	snap, err := broker.DescribeZooKeeper(ctx, r.ZooKeeperAddrs())
	if err != nil {
		fmt.Fprintf(out, "  ZooKeeper does not answer: %v\n", err)
		return
	}
	fmt.Fprintf(out, "  registered brokers: %v\n", snap.Registered)
	if snap.Controller.Broker < 0 {
		fmt.Fprintf(out, "  controller: none (epoch %d)\n", snap.Controller.Epoch)
	} else {
		fmt.Fprintf(out, "  controller: n%d (epoch %d)\n", snap.Controller.Broker, snap.Controller.Epoch)
	}
	if len(snap.Partitions) == 0 {
		return
	}
	tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PARTITION\tLEADER\tEPOCH\tISR")
	for _, p := range snap.Partitions {
		leader := "none"
		if p.Leader >= 0 {
			leader = broker.BrokerName(p.Leader)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%v\n", p.Key, leader, p.LeaderEpoch, p.ISR)
	}
	tw.Flush()
}

func filterRuns(runs []broker.RunInfo, id string) []broker.RunInfo {
	var out []broker.RunInfo
	for _, r := range runs {
		if r.RunID == id {
			out = append(out, r)
		}
	}
	return out
}

func clusterDown(args []string) int {
	ctx := context.Background()
	runs, err := broker.ListRuns(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kchaos cluster down:", err)
		return exitError
	}
	if len(args) > 0 {
		if runs = filterRuns(runs, args[0]); len(runs) == 0 {
			fmt.Fprintf(os.Stderr, "kchaos cluster down: no cluster with run id %q\n", args[0])
			return exitError
		}
	}
	var errs []error
	for _, r := range runs {
		n, err := broker.RemoveAll(ctx, r.RunID)
		errs = append(errs, err)
		fmt.Printf("removed run %s (%d containers and networks)\n", r.RunID, n)
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, "kchaos cluster down:", err)
		return exitError
	}
	if len(runs) == 0 {
		fmt.Println("no kchaos cluster to remove")
	}
	return 0
}

// progressf prints a progress line with the time of day, for long steps.
func progressf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
