package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// PartitionState is the value of an observer "partition-state" line: the state ZooKeeper held
// for one partition (/brokers/topics/T/partitions/P/state) at version ZkVersion, or, in KRaft,
// the state the metadata log held after a PartitionRecord or PartitionChangeRecord.
//
// A state the live observer saw has no Source. A state read after the run from the system's own
// log (see MetadataLog) is exact: Source names the log, Zxid or MetadataOffset its position in
// it, and LogTime when the log wrote it, on the history's clock (the line's own time is when it
// was read, after the run).
type PartitionState struct {
	Key         string `json:"key"`
	Leader      int    `json:"leader"` // -1: no leader
	LeaderEpoch int    `json:"leader_epoch"`
	ISR         []int  `json:"isr"`
	// ZkVersion is the znode's data version (ZooKeeper mode).
	ZkVersion int `json:"zk_version"`
	// PartitionEpoch counts the partition's changes in KRaft, as ZkVersion does in ZooKeeper.
	PartitionEpoch int `json:"partition_epoch,omitempty"`
	// ELR and LastKnownELR are KRaft's eligible leader replicas (KIP-966) and the last known
	// ones, set when the ISR shrinks below min.insync.replicas or empties.
	ELR          []int `json:"elr,omitempty"`
	LastKnownELR []int `json:"last_known_elr,omitempty"`

	// Source is the log an exact state was read from: SourceZooKeeperLog or SourceKRaftLog.
	Source string `json:"source,omitempty"`
	// Zxid is the ZooKeeper transaction that wrote the state; MetadataOffset the KRaft metadata
	// log offset of its record.
	Zxid           int64 `json:"zxid,omitempty"`
	MetadataOffset int64 `json:"metadata_offset,omitempty"`
	// LogTime is when the log wrote the state, in nanoseconds on the history's clock.
	LogTime int64 `json:"log_time,omitempty"`
}

// The logs exact states are read from.
const (
	SourceZooKeeperLog = "zookeeper-log"
	SourceKRaftLog     = "kraft-log"
)

// Exact reports whether s was read from the system's log rather than seen live.
func (s PartitionState) Exact() bool { return s.Source != "" }

// NoLeader is the Leader of a partition without one.
const NoLeader = -1

// InISR reports whether broker is in s.ISR.
func (s PartitionState) InISR(broker int) bool {
	for _, b := range s.ISR {
		if b == broker {
			return true
		}
	}
	return false
}

// Controller is the value of an observer "controller" line: the broker that became controller
// and the controller epoch. Source, Zxid, MetadataOffset and LogTime are as in PartitionState
// for a controller read from the log.
type Controller struct {
	Broker         int    `json:"broker"`
	Epoch          int    `json:"epoch"`
	Source         string `json:"source,omitempty"`
	Zxid           int64  `json:"zxid,omitempty"`
	MetadataOffset int64  `json:"metadata_offset,omitempty"`
	LogTime        int64  `json:"log_time,omitempty"`
}

// BrokerState is the value of an observer "broker-state" line, read from the log: a broker's
// registration (/brokers/ids/N in ZooKeeper, RegisterBrokerRecord in KRaft), its end, or (KRaft)
// its fencing.
type BrokerState struct {
	Broker     int    `json:"broker"`
	Registered bool   `json:"registered"`
	Fenced     bool   `json:"fenced,omitempty"`
	Epoch      int64  `json:"epoch,omitempty"`
	Source     string `json:"source"`
	// Zxid, MetadataOffset and LogTime are as in PartitionState.
	Zxid           int64 `json:"zxid,omitempty"`
	MetadataOffset int64 `json:"metadata_offset,omitempty"`
	LogTime        int64 `json:"log_time,omitempty"`
}

// MetadataLog is the value of an observer "metadata-log" line, written once after the exact
// states read from a log: what was read, and whether it was complete. Exact states decide
// elections only when Complete; otherwise Reason says what is missing and the election checker
// answers unknown for what the live observer could not decide.
type MetadataLog struct {
	Source   string `json:"source"`
	Complete bool   `json:"complete"`
	Reason   string `json:"reason,omitempty"`
	// Nodes are the nodes whose logs were read (and agreed).
	Nodes []string `json:"nodes,omitempty"`
	// First and Last are the positions (zxid or offset) of the first and last entry read.
	First int64 `json:"first"`
	Last  int64 `json:"last"`
	// States counts the partition-state lines written from the log.
	States int `json:"states"`
	// ClockOffset is what was added to the log's wall-clock times (ms since the epoch, as
	// nanoseconds) to put them on the history's clock: minus the run's start.
	ClockOffset int64 `json:"clock_offset"`
	// Features are the KRaft feature levels finalized at the end of the log read (its
	// FeatureLevelRecords), by name: eligible.leader.replicas.version 1 means the controllers
	// kept eligible leader replicas (KIP-966). A feature the log never finalized is at level 0.
	// Absent in ZooKeeper mode.
	Features map[string]int `json:"features,omitempty"`
}

// FeatureELR is the KRaft feature of eligible leader replicas (KIP-966).
const FeatureELR = "eligible.leader.replicas.version"

// ELRLevel is the level of eligible.leader.replicas.version the log finalized (0 when it never
// did), and false when the line carries no feature levels (ZooKeeper, or a log not read).
func (m MetadataLog) ELRLevel() (int, bool) {
	if m.Features == nil {
		return 0, false
	}
	return m.Features[FeatureELR], true
}

// ObserverGap is the value of an observer "observer-gap" line: the observer saw version
// FromVersion of Key's state and then ToVersion, and missed the states in between.
type ObserverGap struct {
	Key         string `json:"key"`
	FromVersion int    `json:"from_version"`
	ToVersion   int    `json:"to_version"`
}

// ObservePartitionState returns the observer line reporting s.
func ObservePartitionState(s PartitionState) Op {
	return observerOp(FPartitionState, s)
}

// ObserveController returns the observer line reporting c.
func ObserveController(c Controller) Op {
	return observerOp(FController, c)
}

// ObserveBrokerState returns the observer line reporting b.
func ObserveBrokerState(b BrokerState) Op {
	return observerOp(FBrokerState, b)
}

// ObserveMetadataLog returns the observer line reporting m.
func ObserveMetadataLog(m MetadataLog) Op {
	return observerOp(FMetadataLog, m)
}

// ObserveGap returns the observer line reporting g.
func ObserveGap(g ObserverGap) Op {
	return observerOp(FObserverGap, g)
}

func observerOp(f string, v any) Op {
	op := Op{Process: ObserverProcess, Type: Info, F: f}
	// These plain structs always marshal.
	if err := op.setRaw(v); err != nil {
		panic(fmt.Sprintf("history: marshal %s: %v", f, err))
	}
	return op
}

// PartitionState decodes the value of a partition-state line.
func (op *Op) PartitionState() (PartitionState, error) {
	var s PartitionState
	if err := op.decodeObserved(FPartitionState, &s, []string{"key", "leader", "leader_epoch", "isr"}); err != nil {
		return s, err
	}
	// ZooKeeper states are versioned by zk_version; KRaft's by partition_epoch.
	if s.Source != SourceKRaftLog {
		if err := op.decodeObserved(FPartitionState, &struct{}{}, []string{"zk_version"}); err != nil {
			return s, err
		}
	}
	return s, nil
}

// BrokerState decodes the value of a broker-state line.
func (op *Op) BrokerState() (BrokerState, error) {
	var b BrokerState
	err := op.decodeObserved(FBrokerState, &b, []string{"broker", "registered", "source"})
	return b, err
}

// MetadataLog decodes the value of a metadata-log line.
func (op *Op) MetadataLog() (MetadataLog, error) {
	var m MetadataLog
	err := op.decodeObserved(FMetadataLog, &m, []string{"source", "complete"})
	return m, err
}

// Controller decodes the value of a controller line.
func (op *Op) Controller() (Controller, error) {
	var c Controller
	err := op.decodeObserved(FController, &c, []string{"broker", "epoch"})
	return c, err
}

// ObserverGap decodes the value of an observer-gap line.
func (op *Op) ObserverGap() (ObserverGap, error) {
	var g ObserverGap
	err := op.decodeObserved(FObserverGap, &g, []string{"key", "from_version", "to_version"})
	return g, err
}

// decodeObserved decodes op.Raw into v, requiring op to be an observer line with function f
// whose value holds every field in required.
func (op *Op) decodeObserved(f string, v any, required []string) error {
	if op.Process != ObserverProcess || op.F != f {
		return fmt.Errorf("index %d: process %s f %q is not an observer %s line", op.Index, op.Process, op.F, f)
	}
	if op.Raw == nil {
		return fmt.Errorf("index %d: %s value is null", op.Index, f)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(op.Raw, &fields); err != nil {
		return fmt.Errorf("index %d: %s value: %w", op.Index, f, err)
	}
	for _, name := range required {
		raw, ok := fields[name]
		if !ok || bytes.Equal(raw, []byte("null")) {
			return fmt.Errorf("index %d: %s value lacks %q", op.Index, f, name)
		}
	}
	if err := json.Unmarshal(op.Raw, v); err != nil {
		return fmt.Errorf("index %d: %s value: %w", op.Index, f, err)
	}
	return nil
}

// FinalRead is the value of an observer "final-read" line, which a kchaos run writes for each key
// after its final reads: whether they read the whole log, where they stopped, and which processes
// did the reading.
type FinalRead struct {
	Key string `json:"key"`
	// Complete is true when the reads have the whole log: they passed the marker, a write the
	// final reader made first (so everything the log held before it is below it). Without the
	// marker's offset (acks=0), they reached the high watermark and either passed the highest
	// offset any operation saw (Target) or saw the high watermark stand still below it for longer
	// than a follower may lag. When false, what was not read cannot be called lost or unseen with
	// certainty.
	Complete bool `json:"complete"`
	// Marker is the offset of the marker write, -1 when not known.
	Marker int64 `json:"marker"`
	// ReachedTarget is true when the reads passed Target.
	ReachedTarget bool `json:"reached_target"`
	// Position is the offset after the last record read.
	Position      int64 `json:"position"`
	HighWatermark int64 `json:"high_watermark"`
	Target        int64 `json:"target"`
	// Processes are the final readers: every value of the key they read is in the final log.
	Processes []int64 `json:"processes"`
	// Skipped says why there were no final reads at all (an interrupted or failed run).
	Skipped string `json:"skipped,omitempty"`
}

// ObserveFinalRead returns the observer line reporting fr.
func ObserveFinalRead(fr FinalRead) Op {
	return observerOp(FFinalRead, fr)
}

// FinalRead decodes the value of a final-read line. Only key and complete are required, so that
// hand-written histories may leave out what they do not know.
func (op *Op) FinalRead() (FinalRead, error) {
	var fr FinalRead
	err := op.decodeObserved(FFinalRead, &fr, []string{"key", "complete"})
	return fr, err
}

// IsObserverF reports whether f is one of the observer functions, FPartitionState, FController,
// FObserverGap and FFinalRead.
func IsObserverF(f string) bool { return slices.Contains(observerFs, f) }

// observerFs are the observer lines a history may hold.
var observerFs = []string{FPartitionState, FController, FObserverGap, FFinalRead, FBrokerState, FMetadataLog}
