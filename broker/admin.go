package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// TopicSpec is a topic to create.
type TopicSpec struct {
	Name              string
	Partitions        int
	ReplicationFactor int
	// Config holds topic-level configs, e.g. min.insync.replicas.
	Config map[string]string
	// Assignment, when set, places the replicas: Assignment[p] lists partition p's brokers, the
	// preferred leader first. It must have Partitions entries of ReplicationFactor brokers each.
	Assignment [][]int
}

// CreateTopic creates a topic and waits until every partition has a leader and a full ISR, so a
// workload starts against a healthy topic.
func (c *Cluster) CreateTopic(ctx context.Context, t TopicSpec) error {
	if t.Partitions < 1 {
		return fmt.Errorf("create topic %s: partitions must be at least 1, got %d", t.Name, t.Partitions)
	}
	if t.ReplicationFactor < 1 || t.ReplicationFactor > len(c.brokers) {
		return fmt.Errorf("create topic %s: replication factor %d is not within 1..%d brokers", t.Name, t.ReplicationFactor, len(c.brokers))
	}
	if t.Assignment != nil {
		if len(t.Assignment) != t.Partitions {
			return fmt.Errorf("create topic %s: assignment for %d partitions, want %d", t.Name, len(t.Assignment), t.Partitions)
		}
		for p, replicas := range t.Assignment {
			if len(replicas) != t.ReplicationFactor {
				return fmt.Errorf("create topic %s: partition %d assigned %d replicas, want %d", t.Name, p, len(replicas), t.ReplicationFactor)
			}
		}
	}
	entries := make([]kafka.ConfigEntry, 0, len(t.Config))
	for k, v := range t.Config {
		entries = append(entries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
	}
	cl := &kafka.Client{Addr: kafka.TCP(c.BootstrapAddrs()...), Timeout: 30 * time.Second}
	// Right after start the controller may not know every broker yet (BROKER_NOT_AVAILABLE):
	// retry what Kafka calls retriable until ctx ends.
	for {
		err := createTopic(ctx, cl, t, entries)
		if err == nil {
			break
		}
		var kerr kafka.Error
		// INVALID_REPLICATION_FACTOR too: the spec was validated against the broker count, so it
		// only means the controller has not seen every registration yet.
		retriable := errors.As(err, &kerr) &&
			(kerr.Temporary() || kerr == kafka.BrokerNotAvailable || kerr == kafka.InvalidReplicationFactor)
		if !retriable {
			return err
		}
		if serr := sleepCtx(ctx, 500*time.Millisecond); serr != nil {
			return errors.Join(err, serr)
		}
	}
	for {
		snap, err := c.Describe(ctx)
		if err == nil && topicHealthy(snap, t) {
			return nil
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("topic %s: partitions did not all get a leader and a full ISR: %w", t.Name, err)
		}
	}
}

func createTopic(ctx context.Context, cl *kafka.Client, t TopicSpec, entries []kafka.ConfigEntry) error {
	tc := kafka.TopicConfig{Topic: t.Name, NumPartitions: t.Partitions, ReplicationFactor: t.ReplicationFactor, ConfigEntries: entries}
	if t.Assignment != nil {
		// Kafka takes either counts or an assignment: -1 leaves the counts unset.
		tc.NumPartitions, tc.ReplicationFactor = -1, -1
		for p, replicas := range t.Assignment {
			tc.ReplicaAssignments = append(tc.ReplicaAssignments, kafka.ReplicaAssignment{Partition: p, Replicas: replicas})
		}
	}
	resp, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{tc}})
	if err != nil {
		return fmt.Errorf("create topic %s: %w", t.Name, err)
	}
	if err := resp.Errors[t.Name]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", t.Name, err)
	}
	return nil
}

func topicHealthy(snap Snapshot, t TopicSpec) bool {
	healthy := 0
	for _, p := range snap.Partitions {
		if strings.HasPrefix(p.Key, t.Name+"/") && p.Leader >= 0 && len(p.ISR) == t.ReplicationFactor {
			healthy++
		}
	}
	return healthy == t.Partitions
}
