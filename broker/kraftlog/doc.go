// Package kraftlog reads KRaft's metadata log, the __cluster_metadata-0 directory every Kafka
// controller keeps, into the exact history of the cluster's metadata: every leader, ISR, ELR and
// last known ELR each partition had, every broker registration and fencing, every active
// controller, each with its log offset and append time.
//
// It is pure Go with no Kafka client: copy the directory off a controller, then
//
//	d, err := kraftlog.ReadDir(dir)              // newest snapshot + all segments, checked
//	m, err := kraftlog.Fold(nil, d.Log.Records)  // or Fold(d.Snapshot, d.Log.Records)
//	for _, s := range m.Partitions["kchaos/0"] { ... s.Offset, s.TimeMs, s.Leader, s.ISR, s.ELR ... }
//
// Decode reads record batches (format v2): it verifies each batch's CRC-32C and that offsets run
// on without a gap, and stops with a *DecodeError (ErrTornTail, ErrCRC, ErrGap, ErrMalformed,
// ErrCompression) at the first batch that fails, returning the records before it. Metadata
// records are decoded from Kafka's message schemas (metadata/src/main/resources/common/metadata
// in apache/kafka), flexible versions with tagged fields; the types that bear on partitions,
// brokers and features are decoded, others are kept by type with their raw bytes. Control
// records: LeaderChange, SnapshotHeader, SnapshotFooter and KRaftVersion are decoded, others kept
// by type.
//
// Fold replays records into states the way Kafka's controller does
// (PartitionRegistration.merge): an absent PartitionChangeRecord field leaves the value as it
// was, a leader of NoLeaderChange (-2) keeps leader and leader epoch, any other leader (NoLeader,
// -1, included) bumps the leader epoch, every change bumps the partition epoch, and
// ClearElrRecord empties ELR and last known ELR. Agree checks that several controllers' logs hold
// the same records on their common offsets.
//
// A log copied off a controller can end with records that were never committed (written by a
// leader that lost its quorum before replicating them); they are decoded like any other. Compare
// the controllers' logs with Agree, and trust offsets that a majority holds.
package kraftlog
