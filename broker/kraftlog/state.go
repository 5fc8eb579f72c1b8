package kraftlog

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// ErrInconsistent marks metadata that cannot be replayed into a state: a change to a partition,
// topic or broker never created, or a record of a state-bearing type that could not be decoded.
// Folding stops there rather than report states it cannot know.
var ErrInconsistent = errors.New("metadata cannot be replayed")

// PartitionState is a partition's full state after one metadata record changed it.
type PartitionState struct {
	// Key names the partition as the history does: "<topic>/<partition>".
	Key       string
	TopicID   UUID
	Partition int32
	// Offset and TimeMs are the metadata log offset and append time (ms since the Unix epoch) of
	// the record that produced this state. A state taken from a snapshot has the snapshot's last
	// offset (EndOffset-1) and its last contained log time, and FromSnapshot set.
	Offset       int64
	TimeMs       int64
	FromSnapshot bool
	// Leader is the leader's broker ID, or NoLeader (-1).
	Leader         int32
	LeaderEpoch    int32
	PartitionEpoch int32
	Replicas       []int32
	ISR            []int32
	// ELR are the eligible leader replicas (KIP-966): replicas that left the ISR while it was
	// below min.insync.replicas and may still be elected cleanly.
	ELR []int32
	// LastKnownELR holds the last ELR members removed for an unclean shutdown or, when the ISR
	// and ELR became empty, the last leader.
	LastKnownELR []int32
	// LeaderRecoveryState is 1 while the leader recovers from an unclean election, else 0.
	LeaderRecoveryState int8
	// Deleted is set on the last state of a partition whose topic was removed at Offset.
	Deleted bool
}

// BrokerState is a broker's registration after one metadata record changed it.
type BrokerState struct {
	BrokerID int32
	// Offset and TimeMs locate the record that produced this state; see PartitionState.
	Offset       int64
	TimeMs       int64
	FromSnapshot bool
	// Registered is false once the broker was unregistered.
	Registered bool
	// BrokerEpoch is the epoch of the registration (a new one at every broker start).
	BrokerEpoch          int64
	Fenced               bool
	InControlledShutdown bool
}

// ControllerChange is a KRaft leader election read from a LeaderChange control record: from
// Offset on, Leader is the active controller.
type ControllerChange struct {
	Offset int64
	TimeMs int64
	// Epoch is the KRaft leader epoch.
	Epoch          int32
	Leader         int32
	Voters         []int32
	GrantingVoters []int32
}

// Metadata is what Fold replays out of the metadata records: every state each partition and
// broker went through, and each active controller, in offset order.
type Metadata struct {
	// Partitions maps "<topic>/<partition>" to its states in offset order.
	Partitions map[string][]PartitionState
	// Brokers maps a broker ID to its registration states in offset order.
	Brokers map[int32][]BrokerState
	// Controllers are the KRaft leader elections in offset order.
	Controllers []ControllerChange
	// Features are the finalized feature levels at the end (metadata.version as its numeric
	// level, e.g. 27 for 4.1-IV1).
	Features map[string]int16
	// NextOffset is the offset after the last record folded.
	NextOffset int64
}

// Partitions folds records, a metadata log from offset 0, into each partition's successive
// states. It is Fold(nil, records).Partitions.
func Partitions(records []Record) (map[string][]PartitionState, error) {
	m, err := Fold(nil, records)
	if err != nil {
		return nil, err
	}
	return m.Partitions, nil
}

type folder struct {
	m        *Metadata
	topics   map[UUID]string  // topic ID -> name
	byName   map[string]UUID  // topic name -> ID
	parts    map[UUID][]int32 // topic ID -> its partitions, in creation order
	offset   int64
	timeMs   int64
	snapshot bool
}

// Fold replays the records of a metadata log into Metadata. With snap nil the records must start
// at offset 0; with a snapshot, the snapshot's records give the starting state and records must
// continue the log from no later than snap.EndOffset (records before it are skipped, being in
// the snapshot already). Offsets must be contiguous: a gap is an error wrapping ErrGap. A change
// to something never created, or an undecodable record that bears on partition or broker state,
// is an error wrapping ErrInconsistent.
func Fold(snap *Snapshot, records []Record) (*Metadata, error) {
	f := &folder{
		m: &Metadata{
			Partitions: map[string][]PartitionState{},
			Brokers:    map[int32][]BrokerState{},
			Features:   map[string]int16{},
		},
		topics: map[UUID]string{},
		byName: map[string]UUID{},
		parts:  map[UUID][]int32{},
	}
	if snap != nil {
		f.snapshot, f.offset, f.timeMs = true, snap.EndOffset-1, snap.LastContainedLogTimeMs
		for i := range snap.Records {
			if err := f.apply(&snap.Records[i]); err != nil {
				return f.m, fmt.Errorf("kraftlog: snapshot %d-%d record %d: %w", snap.EndOffset, snap.Epoch, i, err)
			}
		}
		f.snapshot = false
		f.m.NextOffset = snap.EndOffset
		for len(records) > 0 && records[0].Offset < snap.EndOffset {
			records = records[1:]
		}
	}
	for i := range records {
		r := &records[i]
		if r.Offset != f.m.NextOffset {
			return f.m, fmt.Errorf("kraftlog: %w: record at offset %d where %d was expected", ErrGap, r.Offset, f.m.NextOffset)
		}
		f.offset, f.timeMs = r.Offset, r.TimeMs
		if err := f.apply(r); err != nil {
			return f.m, fmt.Errorf("kraftlog: offset %d: %w", r.Offset, err)
		}
		f.m.NextOffset = r.Offset + 1
	}
	return f.m, nil
}

// bearsState says whether a record of this metadata type changes partition or broker state.
func bearsState(t int16) bool {
	switch t {
	case TypeRegisterBroker, TypeUnregisterBroker, TypeTopic, TypePartition, TypePartitionChange,
		TypeFenceBroker, TypeUnfenceBroker, TypeRemoveTopic, TypeBrokerRegistrationChange, TypeClearElr:
		return true
	}
	return false
}

func (f *folder) apply(r *Record) error {
	if r.Control {
		if lc, ok := r.Message.(*LeaderChange); ok {
			f.m.Controllers = append(f.m.Controllers, ControllerChange{
				Offset: r.Offset, TimeMs: r.TimeMs, Epoch: r.Epoch, Leader: lc.LeaderID,
				Voters: lc.Voters, GrantingVoters: lc.GrantingVoters,
			})
		}
		return nil
	}
	if r.Err != nil {
		if bearsState(r.Type) {
			return fmt.Errorf("%w: %v", ErrInconsistent, r.Err)
		}
		return nil
	}
	switch m := r.Message.(type) {
	case *TopicRecord:
		f.topics[m.TopicID] = m.Name
		f.byName[m.Name] = m.TopicID
	case *PartitionRecord:
		name, ok := f.topics[m.TopicID]
		if !ok {
			return fmt.Errorf("%w: partition %d of unknown topic ID %s", ErrInconsistent, m.PartitionID, m.TopicID)
		}
		key := name + "/" + strconv.Itoa(int(m.PartitionID))
		if _, exists := f.m.Partitions[key]; !exists || f.last(key).Deleted {
			f.parts[m.TopicID] = append(f.parts[m.TopicID], m.PartitionID)
		}
		f.push(PartitionState{
			Key: key, TopicID: m.TopicID, Partition: m.PartitionID,
			Leader: m.Leader, LeaderEpoch: m.LeaderEpoch, PartitionEpoch: m.PartitionEpoch,
			Replicas: list(m.Replicas), ISR: list(m.ISR), ELR: list(m.ELR), LastKnownELR: list(m.LastKnownELR),
			LeaderRecoveryState: m.LeaderRecoveryState,
		})
	case *PartitionChangeRecord:
		name, ok := f.topics[m.TopicID]
		key := name + "/" + strconv.Itoa(int(m.PartitionID))
		if !ok || len(f.m.Partitions[key]) == 0 || f.last(key).Deleted {
			return fmt.Errorf("%w: change to partition %d of topic ID %s, which was never created", ErrInconsistent, m.PartitionID, m.TopicID)
		}
		s := f.last(key)
		if m.Replicas != nil {
			s.Replicas = list(m.Replicas)
		}
		if m.ISR != nil {
			s.ISR = list(m.ISR)
		}
		if m.ELR != nil {
			s.ELR = list(m.ELR)
		}
		if m.LastKnownELR != nil {
			s.LastKnownELR = list(m.LastKnownELR)
		}
		if m.Leader != NoLeaderChange {
			s.Leader = m.Leader
			s.LeaderEpoch++
		}
		if m.LeaderRecoveryState >= 0 {
			s.LeaderRecoveryState = m.LeaderRecoveryState
		}
		s.PartitionEpoch++
		f.push(s)
	case *ClearElrRecord:
		ids := make([]UUID, 0, len(f.topics))
		if m.TopicName != "" {
			id, ok := f.byName[m.TopicName]
			if !ok {
				return fmt.Errorf("%w: ClearElrRecord for unknown topic %q", ErrInconsistent, m.TopicName)
			}
			ids = append(ids, id)
		} else {
			for id := range f.topics {
				ids = append(ids, id)
			}
			slices.SortFunc(ids, func(a, b UUID) int { return slices.Compare(a[:], b[:]) })
		}
		for _, id := range ids {
			for _, p := range f.parts[id] {
				key := f.topics[id] + "/" + strconv.Itoa(int(p))
				s := f.last(key)
				if len(s.ELR) == 0 && len(s.LastKnownELR) == 0 {
					continue
				}
				s.ELR, s.LastKnownELR = []int32{}, []int32{}
				s.PartitionEpoch++
				f.push(s)
			}
		}
	case *RemoveTopicRecord:
		name, ok := f.topics[m.TopicID]
		if !ok {
			return fmt.Errorf("%w: removal of unknown topic ID %s", ErrInconsistent, m.TopicID)
		}
		for _, p := range f.parts[m.TopicID] {
			s := f.last(name + "/" + strconv.Itoa(int(p)))
			s.Deleted = true
			f.push(s)
		}
		delete(f.topics, m.TopicID)
		delete(f.parts, m.TopicID)
		if f.byName[name] == m.TopicID {
			delete(f.byName, name)
		}
	case *FeatureLevelRecord:
		f.m.Features[m.Name] = m.FeatureLevel
	case *RegisterBrokerRecord:
		f.pushBroker(BrokerState{BrokerID: m.BrokerID, Registered: true, BrokerEpoch: m.BrokerEpoch,
			Fenced: m.Fenced, InControlledShutdown: m.InControlledShutdown})
	case *UnregisterBrokerRecord:
		s, err := f.lastBroker(m.BrokerID, m.BrokerEpoch, "UnregisterBrokerRecord")
		if err != nil {
			return err
		}
		s.Registered, s.Fenced, s.InControlledShutdown = false, true, false
		f.pushBroker(s)
	case *FenceBrokerRecord:
		s, err := f.lastBroker(m.ID, m.Epoch, "FenceBrokerRecord")
		if err != nil {
			return err
		}
		s.Fenced = true
		f.pushBroker(s)
	case *UnfenceBrokerRecord:
		s, err := f.lastBroker(m.ID, m.Epoch, "UnfenceBrokerRecord")
		if err != nil {
			return err
		}
		s.Fenced = false
		f.pushBroker(s)
	case *BrokerRegistrationChangeRecord:
		s, err := f.lastBroker(m.BrokerID, m.BrokerEpoch, "BrokerRegistrationChangeRecord")
		if err != nil {
			return err
		}
		switch m.Fenced {
		case -1:
			s.Fenced = false
		case 1:
			s.Fenced = true
		}
		if m.InControlledShutdown == 1 {
			s.InControlledShutdown = true
		}
		f.pushBroker(s)
	}
	return nil
}

// last returns a copy of the partition's latest state.
func (f *folder) last(key string) PartitionState {
	states := f.m.Partitions[key]
	return states[len(states)-1]
}

func (f *folder) push(s PartitionState) {
	s.Offset, s.TimeMs, s.FromSnapshot = f.offset, f.timeMs, f.snapshot
	f.m.Partitions[s.Key] = append(f.m.Partitions[s.Key], s)
}

// lastBroker returns a copy of the broker's latest state, which must be a registration with
// the given broker epoch.
func (f *folder) lastBroker(id int32, epoch int64, what string) (BrokerState, error) {
	states := f.m.Brokers[id]
	if len(states) == 0 || !states[len(states)-1].Registered {
		return BrokerState{}, fmt.Errorf("%w: %s for broker %d, which is not registered", ErrInconsistent, what, id)
	}
	s := states[len(states)-1]
	if s.BrokerEpoch != epoch {
		return BrokerState{}, fmt.Errorf("%w: %s for broker %d epoch %d, registered with epoch %d", ErrInconsistent, what, id, epoch, s.BrokerEpoch)
	}
	return s, nil
}

func (f *folder) pushBroker(s BrokerState) {
	s.Offset, s.TimeMs, s.FromSnapshot = f.offset, f.timeMs, f.snapshot
	f.m.Brokers[s.BrokerID] = append(f.m.Brokers[s.BrokerID], s)
}

// list copies a replica list, reading an absent one as empty, so states never share or hold nil
// slices.
func list(s []int32) []int32 {
	out := make([]int32, len(s))
	copy(out, s)
	return out
}
