package broker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/kchaos/kchaos/broker/kraftlog"
	"github.com/kchaos/kchaos/history"
)

// ReadMetadataHistory reads the exact history of the cluster's metadata off its nodes after a
// run, as observer lines in log order: partition-state lines (with Source, the log position and
// LogTime, the log's append time on the history's clock: nanoseconds since runStart), broker-state
// lines, controller lines, and last one metadata-log line that says whether the history is
// complete and, if not, why. The recorder gives the lines their times and indexes as it appends
// them.
//
// In KRaft mode it reads the __cluster_metadata log of every controller (see readKRaftHistory).
// A history that could be read only in part is returned with a metadata-log line saying what is
// missing and a nil error; the error is for a history that could not be read at all, and then the
// lines hold the metadata-log line alone. Call it after healing: a paused node cannot be read.
func (c *Cluster) ReadMetadataHistory(ctx context.Context, runStart time.Time) ([]history.Op, error) {
	if c.Spec.KRaft() {
		return c.readKRaftHistory(ctx, runStart)
	}
	return c.readZooKeeperHistory(ctx, runStart)
}

// metadataDir is where a KRaft node keeps the metadata log.
const metadataDir = "/var/lib/kafka/data/__cluster_metadata-0"

// readKRaftHistory copies the metadata log (segments and snapshots) off every controller,
// decodes each, checks that they agree, and folds the offsets a majority of the voters holds into
// states. A copy taken while a controller appends may end inside a batch (a torn tail): the
// records before it stand, and a majority of the voters still decides how far the log reaches.
func (c *Cluster) readKRaftHistory(ctx context.Context, runStart time.Time) ([]history.Op, error) {
	ml := history.MetadataLog{Source: history.SourceKRaftLog, ClockOffset: -runStart.UnixNano()}
	var problems []string
	dirs := map[string]*kraftlog.Dir{}
	tmp, err := os.MkdirTemp("", "kchaos-metadata-")
	if err != nil {
		return incomplete(ml, "no temporary directory"), fmt.Errorf("read the metadata history: %w", err)
	}
	defer os.RemoveAll(tmp)
	controllers := c.ControllerNodes()
	for _, n := range controllers {
		dir := filepath.Join(tmp, n.Name)
		if err := n.copyMetadataLog(ctx, dir); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", n.Name, err))
			continue
		}
		d, err := decodeMetadataDir(dir)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", n.Name, err))
		}
		if d == nil {
			continue
		}
		dirs[n.Name] = d
	}
	return kraftHistory(dirs, len(controllers), problems, ml)
}

// decodeMetadataDir decodes a metadata directory copied off a controller. A copy taken while the
// controller appends may end inside a batch (a torn tail): the records before it are whole, and
// the log is taken as ending there, without an error. Any other damage is an error, returned
// beside what was decoded before it; the Dir is nil when nothing could be.
func decodeMetadataDir(dir string) (*kraftlog.Dir, error) {
	d, err := kraftlog.ReadDir(dir)
	if d == nil || d.Log == nil {
		return nil, err
	}
	if errors.Is(err, kraftlog.ErrTornTail) {
		return d, nil
	}
	return d, err
}

// kraftHistory folds the decoded metadata directories of the controllers (keyed by node name; of
// voters controllers in all, problems met reading them so far) into observer lines, the
// metadata-log line ml last. The offsets a majority of the voters holds are committed (or will
// be, by any leader the quorum can elect); what only a minority holds may yet be overwritten, and
// is left out.
func kraftHistory(dirs map[string]*kraftlog.Dir, voters int, problems []string, ml history.MetadataLog) ([]history.Op, error) {
	majority := voters/2 + 1
	if len(dirs) < majority {
		problems = append(problems, fmt.Sprintf("%d of %d controllers' logs read, a majority needs %d", len(dirs), voters, majority))
		return incomplete(ml, strings.Join(problems, "; ")), fmt.Errorf("read the metadata history: %s", strings.Join(problems, "; "))
	}
	names := make([]string, 0, len(dirs))
	for name := range dirs {
		names = append(names, name)
	}
	// Longest log first: the first `majority` of them reach the end a majority holds.
	slices.SortFunc(names, func(a, b string) int {
		if d := dirs[b].Log.NextOffset - dirs[a].Log.NextOffset; d != 0 {
			return int(min(max(d, -1), 1))
		}
		return strings.Compare(a, b)
	})
	end := dirs[names[majority-1]].Log.NextOffset
	ref := dirs[names[0]]
	logs := map[string]*kraftlog.Log{}
	for _, name := range names {
		logs[name] = dirs[name].Log
	}
	if _, err := kraftlog.Agree(logs); err != nil {
		problems = append(problems, err.Error())
	}
	slices.Sort(names)
	ml.Nodes = names

	records := ref.Log.Records
	for len(records) > 0 && records[len(records)-1].Offset >= end {
		records = records[:len(records)-1]
	}
	var snap *kraftlog.Snapshot
	if ref.Log.StartOffset > 0 {
		snap = ref.Snapshot
		problems = append(problems, fmt.Sprintf("the log starts at offset %d: the states before it come from a snapshot, their history is gone", ref.Log.StartOffset))
	}
	m, err := kraftlog.Fold(snap, records)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if m == nil {
		return incomplete(ml, strings.Join(problems, "; ")), fmt.Errorf("read the metadata history: %w", err)
	}
	ops := metadataOps(m, ml.ClockOffset)
	ml.Features = map[string]int{}
	for name, level := range m.Features {
		ml.Features[name] = int(level)
	}
	for _, op := range ops {
		if op.F == history.FPartitionState {
			ml.States++
		}
	}
	if len(records) > 0 {
		ml.First, ml.Last = records[0].Offset, records[len(records)-1].Offset
	}
	ml.Complete = len(problems) == 0
	ml.Reason = strings.Join(problems, "; ")
	return append(ops, history.ObserveMetadataLog(ml)), nil
}

// incomplete is the lines of a history that could not be read: the metadata-log line alone.
func incomplete(ml history.MetadataLog, reason string) []history.Op {
	ml.Complete, ml.Reason = false, reason
	return []history.Op{history.ObserveMetadataLog(ml)}
}

// metadataOps turns folded metadata into observer lines in log order; at one offset (a record
// that changed several partitions) by key. clockOffset (nanoseconds) puts the log's
// wall-clock times on the history's clock.
func metadataOps(m *kraftlog.Metadata, clockOffset int64) []history.Op {
	type line struct {
		offset int64
		kind   int // controller, broker, partition: the order at one offset
		key    string
		op     history.Op
	}
	var lines []line
	logTime := func(ms int64) int64 { return ms*int64(time.Millisecond) + clockOffset }
	for _, ch := range m.Controllers {
		lines = append(lines, line{ch.Offset, 0, "", history.ObserveController(history.Controller{
			Broker: int(ch.Leader), Epoch: int(ch.Epoch), Source: history.SourceKRaftLog,
			MetadataOffset: ch.Offset, LogTime: logTime(ch.TimeMs)})})
	}
	for _, states := range m.Brokers {
		for _, b := range states {
			lines = append(lines, line{b.Offset, 1, fmt.Sprintf("%09d", b.BrokerID), history.ObserveBrokerState(history.BrokerState{
				Broker: int(b.BrokerID), Registered: b.Registered, Fenced: b.Fenced, Epoch: b.BrokerEpoch,
				Source: history.SourceKRaftLog, MetadataOffset: b.Offset, LogTime: logTime(b.TimeMs)})})
		}
	}
	for key, states := range m.Partitions {
		for _, s := range states {
			lines = append(lines, line{s.Offset, 2, key, history.ObservePartitionState(history.PartitionState{
				Key: key, Leader: int(s.Leader), LeaderEpoch: int(s.LeaderEpoch), ISR: ints(s.ISR),
				PartitionEpoch: int(s.PartitionEpoch), ELR: optionalInts(s.ELR), LastKnownELR: optionalInts(s.LastKnownELR),
				Source: history.SourceKRaftLog, MetadataOffset: s.Offset, LogTime: logTime(s.TimeMs)})})
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int {
		switch {
		case a.offset != b.offset:
			return int(min(max(a.offset-b.offset, -1), 1))
		case a.kind != b.kind:
			return a.kind - b.kind
		case a.kind == 2:
			return compareKeys(a.key, b.key)
		}
		return strings.Compare(a.key, b.key)
	})
	ops := make([]history.Op, len(lines))
	for i, l := range lines {
		ops[i] = l.op
	}
	return ops
}

// copyMetadataLog copies the node's metadata log segments and snapshots into dir. It lists them
// inside the node when the node runs, and copies the whole directory (indexes included) when it
// does not (exec needs a running container; Docker copies out of a stopped one too). A copy
// that fails because a file grew while it was archived is tried again.
func (n *Node) copyMetadataLog(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sources := []string{metadataDir}
	if out, err := n.Exec(ctx, "ls", metadataDir); err == nil {
		sources = sources[:0]
		for _, name := range strings.Fields(out) {
			if strings.HasSuffix(name, ".log") || strings.HasSuffix(name, ".checkpoint") {
				sources = append(sources, path.Join(metadataDir, name))
			}
		}
	}
	for _, src := range sources {
		var err error
		for range 3 {
			if err = n.copyOut(ctx, src, dir); err == nil {
				break
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// copyOut extracts the regular files of src (a file or a directory) in the node into dir, flat.
func (n *Node) copyOut(ctx context.Context, src, dir string) error {
	res, err := n.cluster.docker.CopyFromContainer(ctx, n.containerID(), client.CopyFromContainerOptions{SourcePath: src})
	if err != nil {
		return fmt.Errorf("copy %s out of %s: %w", src, n.Name, err)
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("copy %s out of %s: %w", src, n.Name, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if err := writeFrom(filepath.Join(dir, path.Base(h.Name)), io.NopCloser(tr)); err != nil {
			return fmt.Errorf("copy %s out of %s: %w", src, n.Name, err)
		}
	}
}
