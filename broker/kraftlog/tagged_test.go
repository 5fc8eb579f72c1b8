package kraftlog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker/kraftlog"
)

// tag encodes one tagged field: tag, size, bytes.
func tag(t byte, value ...byte) []byte { return append([]byte{t, byte(len(value))}, value...) }

// TestDecodeTaggedFields decodes hand-written records whose tagged fields the captured log does
// not carry: ELR, last known ELR and leader recovery state in a PartitionRecord, every tagged
// field of a PartitionChangeRecord, tags a version does not define (skipped), and a tagged field
// with bytes left over (an error on the record, not on the log).
func TestDecodeTaggedFields(t *testing.T) {
	id := kraftlog.UUID{7, 7}
	dir := kraftlog.UUID{9}
	partitionHead := cat(be32(3), id[:], []byte{3}, be32(1), be32(2), []byte{2}, be32(1), []byte{1}, []byte{1},
		be32(1), be32(5), be32(6))
	tests := []struct {
		name  string
		value []byte
		want  any
		err   string
	}{
		{"partition v2 with ELR, last known ELR, recovery state and an unknown tag",
			metadataValue(3, 2, cat(partitionHead, []byte{1}, []byte{4},
				tag(0, 1), tag(1, cat([]byte{2}, be32(2))...), tag(2, cat([]byte{2}, be32(3))...), tag(9, 0xaa, 0xbb))...),
			&kraftlog.PartitionRecord{PartitionID: 3, TopicID: id, Replicas: []int32{1, 2}, ISR: []int32{1}, RemovingReplicas: []int32{},
				AddingReplicas: []int32{}, Leader: 1, LeaderRecoveryState: 1, LeaderEpoch: 5, PartitionEpoch: 6, Directories: []kraftlog.UUID{},
				ELR: []int32{2}, LastKnownELR: []int32{3}}, ""},
		{"partition v1 ignores the ELR tag", metadataValue(3, 1, cat(partitionHead, []byte{1}, []byte{1}, tag(1, cat([]byte{2}, be32(2))...))...),
			&kraftlog.PartitionRecord{PartitionID: 3, TopicID: id, Replicas: []int32{1, 2}, ISR: []int32{1}, RemovingReplicas: []int32{},
				AddingReplicas: []int32{}, Leader: 1, LeaderEpoch: 5, PartitionEpoch: 6, Directories: []kraftlog.UUID{}}, ""},
		{"partition v0 has no directories", metadataValue(3, 0, cat(partitionHead, []byte{0})...),
			&kraftlog.PartitionRecord{PartitionID: 3, TopicID: id, Replicas: []int32{1, 2}, ISR: []int32{1}, RemovingReplicas: []int32{},
				AddingReplicas: []int32{}, Leader: 1, LeaderEpoch: 5, PartitionEpoch: 6}, ""},
		{"partition change with every tag",
			metadataValue(5, 2, cat(be32(0), id[:], []byte{9},
				tag(0, 0), tag(1, be32(-1)...), tag(2, cat([]byte{4}, be32(1), be32(2), be32(3))...), tag(3, cat([]byte{2}, be32(3))...),
				tag(4, cat([]byte{2}, be32(4))...), tag(5, 0), tag(6, 1), tag(7, 1), tag(8, append([]byte{2}, dir[:]...)...))...),
			&kraftlog.PartitionChangeRecord{TopicID: id, ISR: nil, Leader: kraftlog.NoLeader, Replicas: []int32{1, 2, 3},
				RemovingReplicas: []int32{3}, AddingReplicas: []int32{4}, LeaderRecoveryState: 0, ELR: []int32{}, LastKnownELR: []int32{},
				Directories: []kraftlog.UUID{dir}}, ""},
		{"partition change v0 skips ELR tags", metadataValue(5, 0, cat(be32(0), id[:], []byte{2}, tag(6, 1), tag(7, 1))...),
			&kraftlog.PartitionChangeRecord{TopicID: id, Leader: kraftlog.NoLeaderChange, LeaderRecoveryState: -1}, ""},
		{"broker registration change v2", metadataValue(17, 2, cat(be32(4), be64(9), []byte{3}, tag(0, 1), tag(1, 1), tag(2, append([]byte{2}, dir[:]...)...))...),
			&kraftlog.BrokerRegistrationChangeRecord{BrokerID: 4, BrokerEpoch: 9, Fenced: 1, InControlledShutdown: 1, LogDirs: []kraftlog.UUID{dir}}, ""},
		{"broker registration change v3 with cordoned log dirs (Kafka 4.4)",
			metadataValue(17, 3, cat(be32(4), be64(9), []byte{2}, tag(2, append([]byte{2}, dir[:]...)...), tag(3, append([]byte{2}, dir[:]...)...))...),
			&kraftlog.BrokerRegistrationChangeRecord{BrokerID: 4, BrokerEpoch: 9, LogDirs: []kraftlog.UUID{dir}, CordonedLogDirs: []kraftlog.UUID{dir}}, ""},
		{"broker registration change v2 skips the cordoned tag",
			metadataValue(17, 2, cat(be32(4), be64(9), []byte{1}, tag(3, append([]byte{2}, dir[:]...)...))...),
			&kraftlog.BrokerRegistrationChangeRecord{BrokerID: 4, BrokerEpoch: 9}, ""},
		{"register broker v4 with log dirs and cordoned log dirs (Kafka 4.4)",
			metadataValue(0, 4, cat(be32(4), []byte{0}, dir[:], be64(9), []byte{2, 2, 'P', 2, 'h'}, be16(9092), be16(0), []byte{0},
				[]byte{1}, []byte{0}, []byte{1}, []byte{0}, []byte{2}, tag(0, append([]byte{2}, dir[:]...)...), tag(1, []byte{1}...))...),
			&kraftlog.RegisterBrokerRecord{BrokerID: 4, IncarnationID: dir, BrokerEpoch: 9, EndPoints: []kraftlog.Endpoint{{Name: "P", Host: "h", Port: 9092}},
				Features: []kraftlog.Feature{}, Fenced: true, LogDirs: []kraftlog.UUID{dir}, CordonedLogDirs: []kraftlog.UUID{}}, ""},
		{"register broker v3 skips the cordoned tag",
			metadataValue(0, 3, cat(be32(4), []byte{0}, dir[:], be64(9), []byte{2, 2, 'P', 2, 'h'}, be16(9092), be16(0), []byte{0},
				[]byte{1}, []byte{0}, []byte{1}, []byte{0}, []byte{1}, tag(1, append([]byte{2}, dir[:]...)...))...),
			&kraftlog.RegisterBrokerRecord{BrokerID: 4, IncarnationID: dir, BrokerEpoch: 9, EndPoints: []kraftlog.Endpoint{{Name: "P", Host: "h", Port: 9092}},
				Features: []kraftlog.Feature{}, Fenced: true}, ""},
		{"register broker v5 is a version this package does not read", metadataValue(0, 5, be32(4)...), nil, "reads up to 4"},
		{"broker registration change v0 skips the shutdown tag", metadataValue(17, 0, cat(be32(4), be64(9), []byte{1}, tag(1, 1))...),
			&kraftlog.BrokerRegistrationChangeRecord{BrokerID: 4, BrokerEpoch: 9}, ""},
		{"register broker v0", metadataValue(0, 0, cat(be32(4), dir[:], be64(9), []byte{2, 2, 'P', 2, 'h'}, be16(9092), be16(0), []byte{0},
			[]byte{1}, []byte{0}, []byte{1}, []byte{0})...),
			&kraftlog.RegisterBrokerRecord{BrokerID: 4, IncarnationID: dir, BrokerEpoch: 9, EndPoints: []kraftlog.Endpoint{{Name: "P", Host: "h", Port: 9092}},
				Features: []kraftlog.Feature{}, Fenced: true}, ""},
		{"tagged field with a byte left over", metadataValue(5, 2, cat(be32(0), id[:], []byte{1}, tag(1, 0, 0, 0, 1, 0))...),
			nil, "1 bytes left in tagged field 1"},
		{"array longer than the record", metadataValue(5, 2, cat(be32(0), id[:], []byte{1}, tag(0, 100))...),
			nil, "exceeds"},
		{"truncated uuid", metadataValue(2, 0, 2, 'x', 1, 2, 3), nil, "unexpected end of data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := kraftlog.Decode(encodeBatch(t, 0, 1, false, 0, 1, testRecord{value: tt.value}), 0)
			require.NoError(t, err, "a bad record never fails the log")
			r := l.Records[0]
			if tt.err != "" {
				require.ErrorContains(t, r.Err, tt.err)
				require.Nil(t, r.Message)
				return
			}
			require.NoError(t, r.Err)
			require.Equal(t, tt.want, r.Message)
		})
	}
}
