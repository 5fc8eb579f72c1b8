package kraftlog

import (
	"errors"
	"fmt"
)

// Record is one record of the metadata log or of a snapshot.
type Record struct {
	// Offset is the record's offset in the log (in a snapshot: its position in the snapshot).
	Offset int64
	// TimeMs is the record's CreateTime in milliseconds since the Unix epoch: the time the active
	// controller appended its batch.
	TimeMs int64
	// Epoch is the batch's partition leader epoch: the KRaft epoch of the controller that
	// appended it.
	Epoch int32
	// Control is true for KRaft control records (LeaderChange, SnapshotHeader, ...).
	Control bool
	// Type is the metadata record's API key (see the Type* constants), or for a control record
	// its control type (see the Control* constants).
	Type int16
	// Version is the record's schema version.
	Version int16
	// Message is the decoded record: one of *RegisterBrokerRecord, *UnregisterBrokerRecord,
	// *TopicRecord, *PartitionRecord, *ConfigRecord, *PartitionChangeRecord,
	// *FenceBrokerRecord, *UnfenceBrokerRecord, *RemoveTopicRecord, *FeatureLevelRecord,
	// *ProducerIdsRecord, *BrokerRegistrationChangeRecord, *NoOpRecord,
	// *BeginTransactionRecord, *EndTransactionRecord, *RegisterControllerRecord,
	// *ClearElrRecord, *LeaderChange, *SnapshotHeader, *SnapshotFooter, *KRaftVersion.
	// It is nil for a type this package skips or does not know, and when Err is set.
	Message any
	// Err says why a record of a known type could not be decoded (a schema version newer than
	// this package knows, bytes that do not parse). Such a record does not stop the log's
	// decoding, but the caller must not treat the log's state as complete past it.
	Err error
	// Key and Value are the record's raw bytes (they alias the decoded data).
	Key, Value []byte
}

// Metadata record types (API keys), from metadata/src/main/resources/common/metadata/*.json.
const (
	TypeRegisterBroker            int16 = 0
	TypeUnregisterBroker          int16 = 1
	TypeTopic                     int16 = 2
	TypePartition                 int16 = 3
	TypeConfig                    int16 = 4
	TypePartitionChange           int16 = 5
	TypeAccessControlEntry        int16 = 6
	TypeFenceBroker               int16 = 7
	TypeUnfenceBroker             int16 = 8
	TypeRemoveTopic               int16 = 9
	TypeDelegationToken           int16 = 10
	TypeUserScramCredential       int16 = 11
	TypeFeatureLevel              int16 = 12
	TypeClientQuota               int16 = 14
	TypeProducerIds               int16 = 15
	TypeRemoveAccessControlEntry  int16 = 16
	TypeBrokerRegistrationChange  int16 = 17
	TypeRemoveDelegationToken     int16 = 18
	TypeRemoveUserScramCredential int16 = 19
	TypeNoOp                      int16 = 20
	TypeZkMigrationState          int16 = 21
	TypeBeginTransaction          int16 = 23
	TypeEndTransaction            int16 = 24
	TypeAbortTransaction          int16 = 25
	TypeRegisterController        int16 = 27
	TypeClearElr                  int16 = 28
)

// Control record types, from clients/.../record/ControlRecordType.java.
const (
	ControlAbort          int16 = 0
	ControlCommit         int16 = 1
	ControlLeaderChange   int16 = 2
	ControlSnapshotHeader int16 = 3
	ControlSnapshotFooter int16 = 4
	ControlKRaftVersion   int16 = 5
	ControlKRaftVoters    int16 = 6
)

var metadataNames = map[int16]string{
	TypeRegisterBroker:            "REGISTER_BROKER_RECORD",
	TypeUnregisterBroker:          "UNREGISTER_BROKER_RECORD",
	TypeTopic:                     "TOPIC_RECORD",
	TypePartition:                 "PARTITION_RECORD",
	TypeConfig:                    "CONFIG_RECORD",
	TypePartitionChange:           "PARTITION_CHANGE_RECORD",
	TypeAccessControlEntry:        "ACCESS_CONTROL_ENTRY_RECORD",
	TypeFenceBroker:               "FENCE_BROKER_RECORD",
	TypeUnfenceBroker:             "UNFENCE_BROKER_RECORD",
	TypeRemoveTopic:               "REMOVE_TOPIC_RECORD",
	TypeDelegationToken:           "DELEGATION_TOKEN_RECORD",
	TypeUserScramCredential:       "USER_SCRAM_CREDENTIAL_RECORD",
	TypeFeatureLevel:              "FEATURE_LEVEL_RECORD",
	TypeClientQuota:               "CLIENT_QUOTA_RECORD",
	TypeProducerIds:               "PRODUCER_IDS_RECORD",
	TypeRemoveAccessControlEntry:  "REMOVE_ACCESS_CONTROL_ENTRY_RECORD",
	TypeBrokerRegistrationChange:  "BROKER_REGISTRATION_CHANGE_RECORD",
	TypeRemoveDelegationToken:     "REMOVE_DELEGATION_TOKEN_RECORD",
	TypeRemoveUserScramCredential: "REMOVE_USER_SCRAM_CREDENTIAL_RECORD",
	TypeNoOp:                      "NO_OP_RECORD",
	TypeZkMigrationState:          "ZK_MIGRATION_STATE_RECORD",
	TypeBeginTransaction:          "BEGIN_TRANSACTION_RECORD",
	TypeEndTransaction:            "END_TRANSACTION_RECORD",
	TypeAbortTransaction:          "ABORT_TRANSACTION_RECORD",
	TypeRegisterController:        "REGISTER_CONTROLLER_RECORD",
	TypeClearElr:                  "CLEAR_ELR_RECORD",
}

var controlNames = map[int16]string{
	ControlAbort:          "ABORT",
	ControlCommit:         "COMMIT",
	ControlLeaderChange:   "LeaderChange",
	ControlSnapshotHeader: "SnapshotHeader",
	ControlSnapshotFooter: "SnapshotFooter",
	ControlKRaftVersion:   "KRaftVersion",
	ControlKRaftVoters:    "KRaftVoters",
}

// Name is the record type's name as kafka.tools.DumpLogSegments prints it
// ("PARTITION_CHANGE_RECORD", "LeaderChange", ...), or "UNKNOWN_METADATA_<n>" /
// "UNKNOWN_CONTROL_<n>" for a type this package does not know.
func (r *Record) Name() string {
	names, kind := metadataNames, "METADATA"
	if r.Control {
		names, kind = controlNames, "CONTROL"
	}
	if n, ok := names[r.Type]; ok {
		return n
	}
	return fmt.Sprintf("UNKNOWN_%s_%d", kind, r.Type)
}

// errVersion marks a record whose schema version is newer than this package reads.
var errVersion = errors.New("unsupported record version")

// metadataFrameVersion is the only frame version Kafka writes (AbstractApiMessageSerde).
const metadataFrameVersion = 1

// decodeMetadata decodes r.Value: unsigned varint frame version, API key and record version,
// then the record in Kafka's flexible message format.
func (r *Record) decodeMetadata() {
	rd := &reader{b: r.Value}
	frame := rd.uvarint()
	apiKey := rd.uvarint()
	version := rd.uvarint()
	if rd.err() != nil {
		r.Type, r.Err = -1, fmt.Errorf("metadata record frame: %w", rd.err())
		return
	}
	if apiKey > 0x7fff || version > 0x7fff {
		r.Type, r.Err = -1, fmt.Errorf("metadata record frame: api key %d, version %d out of range", apiKey, version)
		return
	}
	r.Type, r.Version = int16(apiKey), int16(version)
	if frame != metadataFrameVersion {
		r.Err = fmt.Errorf("metadata record frame version %d, want %d", frame, metadataFrameVersion)
		return
	}
	dec, ok := metadataDecoders[r.Type]
	if !ok {
		return // unknown or skipped type: kept with its API key
	}
	if r.Version > dec.maxVersion {
		r.Err = fmt.Errorf("%s version %d: %w (this package reads up to %d)", r.Name(), r.Version, errVersion, dec.maxVersion)
		return
	}
	msg := dec.decode(rd, r.Version)
	if rd.err() == nil && rd.remaining() != 0 {
		rd.fail("%d bytes left over", rd.remaining())
	}
	if rd.err() != nil {
		r.Err = fmt.Errorf("%s version %d: %w", r.Name(), r.Version, rd.err())
		return
	}
	r.Message = msg
}

type metadataDecoder struct {
	maxVersion int16
	decode     func(rd *reader, v int16) any
}

var metadataDecoders = map[int16]metadataDecoder{
	TypeRegisterBroker:           {4, decodeRegisterBroker},
	TypeUnregisterBroker:         {0, decodeUnregisterBroker},
	TypeTopic:                    {0, decodeTopic},
	TypePartition:                {2, decodePartition},
	TypeConfig:                   {0, decodeConfig},
	TypePartitionChange:          {2, decodePartitionChange},
	TypeFenceBroker:              {0, func(rd *reader, _ int16) any { return &FenceBrokerRecord{ID: rd.int32(), Epoch: rd.int64Tagged()} }},
	TypeUnfenceBroker:            {0, func(rd *reader, _ int16) any { return &UnfenceBrokerRecord{ID: rd.int32(), Epoch: rd.int64Tagged()} }},
	TypeRemoveTopic:              {0, decodeRemoveTopic},
	TypeFeatureLevel:             {0, decodeFeatureLevel},
	TypeProducerIds:              {0, decodeProducerIds},
	TypeBrokerRegistrationChange: {3, decodeBrokerRegistrationChange},
	TypeNoOp:                     {0, func(rd *reader, _ int16) any { rd.skipTagged(); return &NoOpRecord{} }},
	TypeBeginTransaction:         {0, decodeBeginTransaction},
	TypeEndTransaction:           {0, func(rd *reader, _ int16) any { rd.skipTagged(); return &EndTransactionRecord{} }},
	TypeRegisterController:       {0, decodeRegisterController},
	TypeClearElr:                 {0, decodeClearElr},
}

// int64Tagged reads an int64 that ends a struct, then the struct's tagged fields.
func (r *reader) int64Tagged() int64 {
	v := r.int64()
	r.skipTagged()
	return v
}

// Endpoint is a listener of a broker or controller registration.
type Endpoint struct {
	Name             string
	Host             string
	Port             uint16
	SecurityProtocol int16
}

// Feature is the range of levels of one feature a node supports.
type Feature struct {
	Name                string
	MinSupportedVersion int16
	MaxSupportedVersion int16
}

// RegisterBrokerRecord (API key 0) registers a broker incarnation; a new one replaces the old.
type RegisterBrokerRecord struct {
	BrokerID             int32
	IsMigratingZkBroker  bool // version 2+
	IncarnationID        UUID
	BrokerEpoch          int64
	EndPoints            []Endpoint
	Features             []Feature
	Rack                 *string
	Fenced               bool
	InControlledShutdown bool   // version 1+
	LogDirs              []UUID // version 3+, tag 0
	// CordonedLogDirs are the log dirs that take no new partitions (version 4+, tag 1; Kafka 4.3 on).
	CordonedLogDirs []UUID
}

func decodeEndpoints(rd *reader) []Endpoint {
	n := rd.compactLen(6)
	if n < 0 {
		return nil
	}
	out := make([]Endpoint, n)
	for i := range out {
		out[i] = Endpoint{Name: rd.compactString(), Host: rd.compactString(), Port: rd.uint16(), SecurityProtocol: rd.int16()}
		rd.skipTagged()
	}
	return out
}

func decodeFeatures(rd *reader) []Feature {
	n := rd.compactLen(6)
	if n < 0 {
		return nil
	}
	out := make([]Feature, n)
	for i := range out {
		out[i] = Feature{Name: rd.compactString(), MinSupportedVersion: rd.int16(), MaxSupportedVersion: rd.int16()}
		rd.skipTagged()
	}
	return out
}

func decodeRegisterBroker(rd *reader, v int16) any {
	m := &RegisterBrokerRecord{BrokerID: rd.int32()}
	if v >= 2 {
		m.IsMigratingZkBroker = rd.bool()
	}
	m.IncarnationID = rd.uuid()
	m.BrokerEpoch = rd.int64()
	m.EndPoints = decodeEndpoints(rd)
	m.Features = decodeFeatures(rd)
	if rack, null := rd.compactNullableString(); !null {
		m.Rack = &rack
	}
	m.Fenced = rd.bool()
	if v >= 1 {
		m.InControlledShutdown = rd.bool()
	}
	rd.taggedFields(func(tag uint32, fr *reader) bool {
		switch {
		case tag == 0 && v >= 3:
			m.LogDirs = fr.compactUUIDs()
		case tag == 1 && v >= 4:
			m.CordonedLogDirs = fr.compactUUIDs()
		default:
			return false
		}
		return true
	})
	return m
}

// UnregisterBrokerRecord (API key 1) removes a broker's registration.
type UnregisterBrokerRecord struct {
	BrokerID    int32
	BrokerEpoch int64
}

func decodeUnregisterBroker(rd *reader, _ int16) any {
	return &UnregisterBrokerRecord{BrokerID: rd.int32(), BrokerEpoch: rd.int64Tagged()}
}

// TopicRecord (API key 2) creates a topic: its name and ID.
type TopicRecord struct {
	Name    string
	TopicID UUID
}

func decodeTopic(rd *reader, _ int16) any {
	m := &TopicRecord{Name: rd.compactString(), TopicID: rd.uuid()}
	rd.skipTagged()
	return m
}

// PartitionRecord (API key 3) creates a partition with its full state.
type PartitionRecord struct {
	PartitionID         int32
	TopicID             UUID
	Replicas            []int32
	ISR                 []int32
	RemovingReplicas    []int32
	AddingReplicas      []int32
	Leader              int32 // -1: no leader
	LeaderRecoveryState int8  // tag 0: 1 while recovering from an unclean election
	LeaderEpoch         int32
	PartitionEpoch      int32
	Directories         []UUID  // version 1+
	ELR                 []int32 // version 2+, tag 1: eligible leader replicas (KIP-966)
	LastKnownELR        []int32 // version 2+, tag 2
}

func decodePartition(rd *reader, v int16) any {
	m := &PartitionRecord{
		PartitionID:      rd.int32(),
		TopicID:          rd.uuid(),
		Replicas:         rd.compactInt32s(),
		ISR:              rd.compactInt32s(),
		RemovingReplicas: rd.compactInt32s(),
		AddingReplicas:   rd.compactInt32s(),
		Leader:           rd.int32(),
		LeaderEpoch:      rd.int32(),
		PartitionEpoch:   rd.int32(),
	}
	if v >= 1 {
		m.Directories = rd.compactUUIDs()
	}
	rd.taggedFields(func(tag uint32, fr *reader) bool {
		switch {
		case tag == 0:
			m.LeaderRecoveryState = fr.int8()
		case tag == 1 && v >= 2:
			m.ELR = fr.compactInt32s()
		case tag == 2 && v >= 2:
			m.LastKnownELR = fr.compactInt32s()
		default:
			return false
		}
		return true
	})
	return m
}

// ConfigRecord (API key 4) sets (or, with a nil Value, removes) one configuration entry.
type ConfigRecord struct {
	ResourceType int8 // 2: topic, 4: broker (ConfigResource.Type)
	ResourceName string
	Name         string
	Value        *string
}

func decodeConfig(rd *reader, _ int16) any {
	m := &ConfigRecord{ResourceType: rd.int8(), ResourceName: rd.compactString(), Name: rd.compactString()}
	if v, null := rd.compactNullableString(); !null {
		m.Value = &v
	}
	rd.skipTagged()
	return m
}

// Special values of PartitionChangeRecord.Leader.
const (
	// NoLeader means the partition has no leader.
	NoLeader int32 = -1
	// NoLeaderChange means the record leaves the leader as it was (the field was absent).
	NoLeaderChange int32 = -2
)

// PartitionChangeRecord (API key 5) changes a partition. Every field but the IDs is tagged: a
// nil slice means "unchanged" (an empty non-nil slice sets an empty list), Leader is
// NoLeaderChange when unchanged, LeaderRecoveryState is -1 when unchanged.
type PartitionChangeRecord struct {
	PartitionID         int32
	TopicID             UUID
	ISR                 []int32 // tag 0
	Leader              int32   // tag 1
	Replicas            []int32 // tag 2
	RemovingReplicas    []int32 // tag 3
	AddingReplicas      []int32 // tag 4
	LeaderRecoveryState int8    // tag 5
	ELR                 []int32 // version 2+, tag 6
	LastKnownELR        []int32 // version 2+, tag 7
	Directories         []UUID  // version 1+, tag 8
}

func decodePartitionChange(rd *reader, v int16) any {
	m := &PartitionChangeRecord{PartitionID: rd.int32(), TopicID: rd.uuid(), Leader: NoLeaderChange, LeaderRecoveryState: -1}
	rd.taggedFields(func(tag uint32, fr *reader) bool {
		switch {
		case tag == 0:
			m.ISR = fr.compactInt32s()
		case tag == 1:
			m.Leader = fr.int32()
		case tag == 2:
			m.Replicas = fr.compactInt32s()
		case tag == 3:
			m.RemovingReplicas = fr.compactInt32s()
		case tag == 4:
			m.AddingReplicas = fr.compactInt32s()
		case tag == 5:
			m.LeaderRecoveryState = fr.int8()
		case tag == 6 && v >= 2:
			m.ELR = fr.compactInt32s()
		case tag == 7 && v >= 2:
			m.LastKnownELR = fr.compactInt32s()
		case tag == 8 && v >= 1:
			m.Directories = fr.compactUUIDs()
		default:
			return false
		}
		return true
	})
	return m
}

// FenceBrokerRecord (API key 7) fences a broker (metadata versions before 3.3-IV3; later ones
// use BrokerRegistrationChangeRecord).
type FenceBrokerRecord struct {
	ID    int32
	Epoch int64
}

// UnfenceBrokerRecord (API key 8) unfences a broker (metadata versions before 3.3-IV3).
type UnfenceBrokerRecord struct {
	ID    int32
	Epoch int64
}

// RemoveTopicRecord (API key 9) deletes a topic and all its partitions.
type RemoveTopicRecord struct {
	TopicID UUID
}

func decodeRemoveTopic(rd *reader, _ int16) any {
	m := &RemoveTopicRecord{TopicID: rd.uuid()}
	rd.skipTagged()
	return m
}

// FeatureLevelRecord (API key 12) finalizes a feature's level (metadata.version,
// eligible.leader.replicas.version, ...).
type FeatureLevelRecord struct {
	Name         string
	FeatureLevel int16
}

func decodeFeatureLevel(rd *reader, _ int16) any {
	m := &FeatureLevelRecord{Name: rd.compactString(), FeatureLevel: rd.int16()}
	rd.skipTagged()
	return m
}

// ProducerIdsRecord (API key 15) allocates a block of producer IDs to a broker.
type ProducerIdsRecord struct {
	BrokerID       int32
	BrokerEpoch    int64
	NextProducerID int64
}

func decodeProducerIds(rd *reader, _ int16) any {
	m := &ProducerIdsRecord{BrokerID: rd.int32(), BrokerEpoch: rd.int64(), NextProducerID: rd.int64()}
	rd.skipTagged()
	return m
}

// BrokerRegistrationChangeRecord (API key 17) changes a registered broker: Fenced is -1 when the
// broker was unfenced, 1 when fenced, 0 for no change; InControlledShutdown is 1 when the broker
// began a controlled shutdown, 0 for no change.
type BrokerRegistrationChangeRecord struct {
	BrokerID             int32
	BrokerEpoch          int64
	Fenced               int8   // tag 0
	InControlledShutdown int8   // version 1+, tag 1
	LogDirs              []UUID // version 2+, tag 2
	// CordonedLogDirs are the log dirs that take no new partitions (version 3+, tag 3; Kafka 4.3 on).
	CordonedLogDirs []UUID
}

func decodeBrokerRegistrationChange(rd *reader, v int16) any {
	m := &BrokerRegistrationChangeRecord{BrokerID: rd.int32(), BrokerEpoch: rd.int64()}
	rd.taggedFields(func(tag uint32, fr *reader) bool {
		switch {
		case tag == 0:
			m.Fenced = fr.int8()
		case tag == 1 && v >= 1:
			m.InControlledShutdown = fr.int8()
		case tag == 2 && v >= 2:
			m.LogDirs = fr.compactUUIDs()
		case tag == 3 && v >= 3:
			m.CordonedLogDirs = fr.compactUUIDs()
		default:
			return false
		}
		return true
	})
	return m
}

// NoOpRecord (API key 20) is written by the active controller when idle
// (metadata.max.idle.interval.ms), so followers see the log advance.
type NoOpRecord struct{}

// BeginTransactionRecord (API key 23) opens a metadata transaction (e.g. the bootstrap records).
type BeginTransactionRecord struct {
	Name *string // tag 0
}

func decodeBeginTransaction(rd *reader, _ int16) any {
	m := &BeginTransactionRecord{}
	rd.taggedFields(func(tag uint32, fr *reader) bool {
		if tag != 0 {
			return false
		}
		if s, null := fr.compactNullableString(); !null {
			m.Name = &s
		}
		return true
	})
	return m
}

// EndTransactionRecord (API key 24) closes a metadata transaction.
type EndTransactionRecord struct{}

// RegisterControllerRecord (API key 27) registers a controller.
type RegisterControllerRecord struct {
	ControllerID     int32
	IncarnationID    UUID
	ZkMigrationReady bool
	EndPoints        []Endpoint
	Features         []Feature
}

func decodeRegisterController(rd *reader, _ int16) any {
	m := &RegisterControllerRecord{ControllerID: rd.int32(), IncarnationID: rd.uuid(), ZkMigrationReady: rd.bool()}
	m.EndPoints = decodeEndpoints(rd)
	m.Features = decodeFeatures(rd)
	rd.skipTagged()
	return m
}

// ClearElrRecord (API key 28) clears the ELR and last known ELR of every partition of a topic,
// or of every topic when TopicName is empty (written when min.insync.replicas changes or ELR is
// turned off).
type ClearElrRecord struct {
	TopicName string
}

func decodeClearElr(rd *reader, _ int16) any {
	m := &ClearElrRecord{TopicName: rd.compactString()}
	rd.skipTagged()
	return m
}

// LeaderChange is the control record a new KRaft leader (the active controller) writes first
// in its epoch.
type LeaderChange struct {
	Version        int16
	LeaderID       int32
	Voters         []int32
	GrantingVoters []int32
}

// SnapshotHeader is the control record that opens a snapshot.
type SnapshotHeader struct {
	Version int16
	// LastContainedLogTimeMs is the append time of the last log record the snapshot contains.
	LastContainedLogTimeMs int64
}

// SnapshotFooter is the control record that closes a snapshot.
type SnapshotFooter struct {
	Version int16
}

// KRaftVersion is the control record that sets kraft.version.
type KRaftVersion struct {
	Version      int16
	KRaftVersion int16
}

// controlKeySize is the size of a control record's key: int16 version, int16 type.
const controlKeySize = 4

// decodeControl decodes a control record: its key names the type, its value is the message
// (whose first field is its own version).
func (r *Record) decodeControl() {
	kr := &reader{b: r.Key}
	_ = kr.int16() // key version
	r.Type = kr.int16()
	if kr.err() != nil || len(r.Key) < controlKeySize {
		r.Type, r.Err = -1, fmt.Errorf("control record key of %d bytes", len(r.Key))
		return
	}
	rd := &reader{b: r.Value}
	var msg any
	switch r.Type {
	case ControlLeaderChange:
		m := &LeaderChange{Version: rd.int16(), LeaderID: rd.int32()}
		if m.Version > 1 {
			r.Version, r.Err = m.Version, fmt.Errorf("LeaderChange version %d: %w (this package reads up to 1)", m.Version, errVersion)
			return
		}
		m.Voters = decodeVoters(rd, m.Version)
		m.GrantingVoters = decodeVoters(rd, m.Version)
		rd.skipTagged()
		msg, r.Version = m, m.Version
	case ControlSnapshotHeader:
		m := &SnapshotHeader{Version: rd.int16(), LastContainedLogTimeMs: rd.int64()}
		rd.skipTagged()
		msg, r.Version = m, m.Version
	case ControlSnapshotFooter:
		m := &SnapshotFooter{Version: rd.int16()}
		rd.skipTagged()
		msg, r.Version = m, m.Version
	case ControlKRaftVersion:
		m := &KRaftVersion{Version: rd.int16(), KRaftVersion: rd.int16()}
		rd.skipTagged()
		msg, r.Version = m, m.Version
	default:
		return // KRaftVoters, transaction markers, unknown: kept by type, not decoded
	}
	if rd.err() == nil && rd.remaining() != 0 {
		rd.fail("%d bytes left over", rd.remaining())
	}
	if rd.err() != nil {
		r.Err = fmt.Errorf("%s: %w", r.Name(), rd.err())
		return
	}
	r.Message = msg
}

func decodeVoters(rd *reader, v int16) []int32 {
	n := rd.compactLen(5)
	if n < 0 {
		return nil
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = rd.int32()
		if v >= 1 {
			rd.uuid() // VoterDirectoryId
		}
		rd.skipTagged()
	}
	return out
}
