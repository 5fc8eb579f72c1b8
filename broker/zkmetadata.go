package broker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kchaos/kchaos/broker/zklog"
	"github.com/kchaos/kchaos/history"
)

// controllerEpochPath is the znode holding the controller epoch, bumped with each new controller.
const controllerEpochPath = "/controller_epoch"

// readZooKeeperHistory is ReadMetadataHistory in ZooKeeper mode: every version of every
// partition's state, the controllers and the broker registrations from ZooKeeper's transaction
// logs, then the metadata-log line. A log that cannot be read at all gives that line with the
// reason, and the error.
func (c *Cluster) readZooKeeperHistory(ctx context.Context, runStart time.Time) ([]history.Op, error) {
	names := make([]string, 0, c.Spec.ZooKeeperNodes)
	for _, n := range c.Nodes() {
		if n.Role == RoleZooKeeper {
			names = append(names, n.Name)
		}
	}
	h, err := c.ZooKeeperHistory(ctx)
	if err != nil {
		op := history.ObserveMetadataLog(history.MetadataLog{Source: history.SourceZooKeeperLog, Nodes: names,
			Reason: fmt.Sprintf("reading the transaction logs failed: %v", err), ClockOffset: -runStart.UnixNano()})
		return []history.Op{op}, fmt.Errorf("read the metadata history: %w", err)
	}
	return ZooKeeperMetadataLines(h, names, runStart), nil
}

// ZooKeeperMetadataLines turns a replayed ZooKeeper history into observer lines: a partition-state
// line per create or setData of a partition's state znode, a controller line per change of
// /controller, a broker-state line per create or delete of /brokers/ids/N, all in zxid order with
// their time on the history's clock, and a closing metadata-log line.
func ZooKeeperMetadataLines(h *zklog.History, nodes []string, runStart time.Time) []history.Op {
	offset := -runStart.UnixNano()
	logTime := func(ms int64) int64 { return ms*int64(time.Millisecond) + offset }
	var out []history.Op
	meta := history.MetadataLog{Source: history.SourceZooKeeperLog, Complete: h.Complete(), Nodes: nodes,
		First: h.Snapshot + 1, Last: h.Last(), ClockOffset: offset}
	if err := h.Err(); err != nil {
		meta.Reason = err.Error()
	}
	if len(h.Torn) > 0 {
		// A torn last entry was never acknowledged by ZooKeeper: it changed nothing.
		meta.Reason = strings.TrimPrefix(meta.Reason+"; ", "; ") + "torn last entry (never acknowledged) in " + strings.Join(h.Torn, ", ")
	}
	changes, err := zklog.KafkaChanges(h.Changes)
	if err != nil {
		meta.Complete = false
		meta.Reason = strings.TrimPrefix(meta.Reason+"; ", "; ") + err.Error()
	}
	epochAt := controllerEpochs(h.Changes)
	for _, ch := range changes {
		t := logTime(ch.Time)
		switch {
		case ch.Key != "":
			if ch.Kind == zklog.Deleted {
				continue // a deleted topic: its partitions elect no one any more
			}
			out = append(out, history.ObservePartitionState(history.PartitionState{Key: ch.Key, Leader: ch.State.Leader,
				LeaderEpoch: ch.State.LeaderEpoch, ISR: slices.Clone(ch.State.ISR), ZkVersion: int(ch.Version),
				Source: history.SourceZooKeeperLog, Zxid: ch.Zxid, LogTime: t}))
			meta.States++
		case ch.Path == zklog.ControllerPath:
			out = append(out, history.ObserveController(history.Controller{Broker: ch.Controller, Epoch: epochAt(ch.Zxid),
				Source: history.SourceZooKeeperLog, Zxid: ch.Zxid, LogTime: t}))
		case ch.Kind == zklog.Updated:
			continue // a registration rewritten (e.g. its endpoints), not a new one
		default:
			// A broker's registration: its znode's czxid is its broker epoch in ZooKeeper mode.
			out = append(out, history.ObserveBrokerState(history.BrokerState{Broker: ch.Broker, Registered: ch.Kind != zklog.Deleted,
				Epoch: ch.Zxid, Source: history.SourceZooKeeperLog, Zxid: ch.Zxid, LogTime: t}))
		}
	}
	return append(out, history.ObserveMetadataLog(meta))
}

// controllerEpochs returns the epoch of the controller that took /controller at a zxid: the
// controller writes /controller_epoch just after it wins /controller, so it is the first epoch
// written after that zxid and before the next change of /controller, else the one in force (-1
// before the first).
func controllerEpochs(changes []zklog.Change) func(zxid int64) int {
	type epochAt struct {
		zxid  int64
		epoch int
	}
	var epochs []epochAt
	var takeovers []int64
	for _, c := range changes {
		switch {
		case c.Path == zklog.ControllerPath && c.Kind != zklog.Deleted:
			takeovers = append(takeovers, c.Zxid)
		case c.Path == controllerEpochPath && c.Kind != zklog.Deleted:
			if e, err := strconv.Atoi(strings.TrimSpace(string(c.Data))); err == nil {
				epochs = append(epochs, epochAt{c.Zxid, e})
			}
		}
	}
	return func(zxid int64) int {
		next := int64(1<<63 - 1)
		if i, found := slices.BinarySearch(takeovers, zxid); found && i+1 < len(takeovers) {
			next = takeovers[i+1]
		}
		e := -1
		for _, x := range epochs {
			switch {
			case x.zxid <= zxid:
				e = x.epoch
			case x.zxid < next:
				return x.epoch
			default:
				return e
			}
		}
		return e
	}
}
