package kraftlog_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kchaos/kchaos/broker/kraftlog"
)

// The testdata come from a Kafka 4.1.1 cluster of three combined controller+broker nodes (1, 2,
// 3) and two brokers (4, 5), taken through: topic kchaos (2 partitions on 4,1,2 and 1,2,4,
// min.insync.replicas 2), kill of 4 then 1 (ELR [1]), restarts; topic elr (1 partition on 4,5,1):
// kill 4, 5, 1 (ISR empty, ELR [1 5], last known ELR [1]), restarts (leader 1 from the last known
// ELR, leader recovery state 1); a clean stop of 5; a kill of the active controller; deletion of
// topic elr; unregistration of broker 5. dump-*.txt are kafka.tools.DumpLogSegments
// --cluster-metadata-decoder outputs of the same files.
const (
	logN1      = "testdata/n1/00000000000000000000.log"
	snapshotN1 = "testdata/n1/00000000000000000232-0000000011.checkpoint"
	bootstrap  = "testdata/bootstrap.checkpoint"
)

// ints converts replica lists for JSON comparison.
func ints(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

func uuids(s []kraftlog.UUID) []string {
	out := []string{}
	for _, u := range s {
		out = append(out, u.String())
	}
	return out
}

func endpoints(eps []kraftlog.Endpoint) []map[string]any {
	out := []map[string]any{}
	for _, e := range eps {
		out = append(out, map[string]any{"name": e.Name, "host": e.Host, "port": e.Port, "securityProtocol": e.SecurityProtocol})
	}
	return out
}

func features(fs []kraftlog.Feature) []map[string]any {
	out := []map[string]any{}
	for _, f := range fs {
		out = append(out, map[string]any{"name": f.Name, "minSupportedVersion": f.MinSupportedVersion, "maxSupportedVersion": f.MaxSupportedVersion})
	}
	return out
}

func voters(ids []int32) []map[string]any {
	out := []map[string]any{}
	for _, id := range ids {
		out = append(out, map[string]any{"voterId": id})
	}
	return out
}

// view renders a decoded record the way DumpLogSegments prints it as JSON: tagged fields only
// when present (PartitionChangeRecord) or not at their default.
func view(t *testing.T, r *kraftlog.Record) map[string]any {
	t.Helper()
	require.NoError(t, r.Err, "record at offset %d", r.Offset)
	v := map[string]any{}
	switch m := r.Message.(type) {
	case *kraftlog.RegisterBrokerRecord:
		v = map[string]any{"brokerId": m.BrokerID, "isMigratingZkBroker": m.IsMigratingZkBroker, "incarnationId": m.IncarnationID.String(),
			"brokerEpoch": m.BrokerEpoch, "endPoints": endpoints(m.EndPoints), "features": features(m.Features), "rack": m.Rack,
			"fenced": m.Fenced, "inControlledShutdown": m.InControlledShutdown, "logDirs": uuids(m.LogDirs)}
	case *kraftlog.UnregisterBrokerRecord:
		v = map[string]any{"brokerId": m.BrokerID, "brokerEpoch": m.BrokerEpoch}
	case *kraftlog.TopicRecord:
		v = map[string]any{"name": m.Name, "topicId": m.TopicID.String()}
	case *kraftlog.PartitionRecord:
		v = map[string]any{"partitionId": m.PartitionID, "topicId": m.TopicID.String(), "replicas": ints(m.Replicas), "isr": ints(m.ISR),
			"removingReplicas": ints(m.RemovingReplicas), "addingReplicas": ints(m.AddingReplicas), "leader": m.Leader,
			"leaderEpoch": m.LeaderEpoch, "partitionEpoch": m.PartitionEpoch, "directories": uuids(m.Directories)}
		if m.LeaderRecoveryState != 0 {
			v["leaderRecoveryState"] = m.LeaderRecoveryState
		}
		if m.ELR != nil {
			v["eligibleLeaderReplicas"] = m.ELR
		}
		if m.LastKnownELR != nil {
			v["lastKnownElr"] = m.LastKnownELR
		}
	case *kraftlog.ConfigRecord:
		v = map[string]any{"resourceType": m.ResourceType, "resourceName": m.ResourceName, "name": m.Name, "value": m.Value}
	case *kraftlog.PartitionChangeRecord:
		v = map[string]any{"partitionId": m.PartitionID, "topicId": m.TopicID.String()}
		for name, l := range map[string][]int32{"isr": m.ISR, "replicas": m.Replicas, "removingReplicas": m.RemovingReplicas,
			"addingReplicas": m.AddingReplicas, "eligibleLeaderReplicas": m.ELR, "lastKnownElr": m.LastKnownELR} {
			if l != nil {
				v[name] = l
			}
		}
		if m.Leader != kraftlog.NoLeaderChange {
			v["leader"] = m.Leader
		}
		if m.LeaderRecoveryState != -1 {
			v["leaderRecoveryState"] = m.LeaderRecoveryState
		}
		if m.Directories != nil {
			v["directories"] = uuids(m.Directories)
		}
	case *kraftlog.RemoveTopicRecord:
		v = map[string]any{"topicId": m.TopicID.String()}
	case *kraftlog.FeatureLevelRecord:
		v = map[string]any{"name": m.Name, "featureLevel": m.FeatureLevel}
	case *kraftlog.ProducerIdsRecord:
		v = map[string]any{"brokerId": m.BrokerID, "brokerEpoch": m.BrokerEpoch, "nextProducerId": m.NextProducerID}
	case *kraftlog.BrokerRegistrationChangeRecord:
		v = map[string]any{"brokerId": m.BrokerID, "brokerEpoch": m.BrokerEpoch}
		if m.Fenced != 0 {
			v["fenced"] = m.Fenced
		}
		if m.InControlledShutdown != 0 {
			v["inControlledShutdown"] = m.InControlledShutdown
		}
	case *kraftlog.NoOpRecord, *kraftlog.EndTransactionRecord:
	case *kraftlog.BeginTransactionRecord:
		v = map[string]any{"name": m.Name}
	case *kraftlog.RegisterControllerRecord:
		v = map[string]any{"controllerId": m.ControllerID, "incarnationId": m.IncarnationID.String(), "zkMigrationReady": m.ZkMigrationReady,
			"endPoints": endpoints(m.EndPoints), "features": features(m.Features)}
	case *kraftlog.ClearElrRecord:
		v = map[string]any{"topicName": m.TopicName}
	case *kraftlog.LeaderChange:
		v = map[string]any{"version": m.Version, "leaderId": m.LeaderID, "voters": voters(m.Voters), "grantingVoters": voters(m.GrantingVoters)}
	case *kraftlog.SnapshotHeader:
		v = map[string]any{"version": m.Version, "lastContainedLogTimestamp": m.LastContainedLogTimeMs}
	case *kraftlog.SnapshotFooter:
		v = map[string]any{"version": m.Version}
	default:
		t.Fatalf("offset %d: no view for %s (%T)", r.Offset, r.Name(), r.Message)
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// TestDecodeMatchesDumpLogSegments decodes each captured file and checks every record against
// what Kafka's own DumpLogSegments printed for it: offset, append time, epoch, type, and every
// field of the record.
func TestDecodeMatchesDumpLogSegments(t *testing.T) {
	tests := []struct {
		file, reference string
	}{
		{logN1, "testdata/dump-n1-log.txt"},
		{snapshotN1, "testdata/dump-n1-00000000000000000232-0000000011.checkpoint.txt"},
		{bootstrap, "testdata/dump-bootstrap.checkpoint.txt"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			ref := readReference(t, tt.reference)
			l, err := kraftlog.Decode(readFile(t, tt.file), 0)
			require.NoError(t, err)
			require.Len(t, l.Records, len(ref))
			require.Equal(t, int64(len(ref)), l.NextOffset)
			for i, want := range ref {
				got := &l.Records[i]
				require.Equal(t, want.Offset, got.Offset)
				require.Equal(t, want.TimeMs, got.TimeMs, "offset %d", got.Offset)
				require.Equal(t, want.Epoch, got.Epoch, "offset %d", got.Offset)
				require.Equal(t, want.Name, got.Name(), "offset %d", got.Offset)
				require.Equal(t, want.Data, view(t, got), "offset %d: %s", got.Offset, got.Name())
			}
		})
	}
}

// TestDecodeCountsEachType pins the number of records of each type in the captured log, as
// DumpLogSegments counted them.
func TestDecodeCountsEachType(t *testing.T) {
	l, err := kraftlog.Decode(readFile(t, logN1), 0)
	require.NoError(t, err)
	counts := map[string]int{}
	for _, r := range l.Records {
		counts[r.Name()]++
	}
	refCounts := map[string]int{}
	for _, r := range readReference(t, "testdata/dump-n1-log.txt") {
		refCounts[r.Name]++
	}
	require.Equal(t, refCounts, counts)
	require.Equal(t, map[string]int{
		"LeaderChange":                      8,
		"BEGIN_TRANSACTION_RECORD":          1,
		"END_TRANSACTION_RECORD":            1,
		"FEATURE_LEVEL_RECORD":              4,
		"CONFIG_RECORD":                     3,
		"REGISTER_BROKER_RECORD":            14,
		"REGISTER_CONTROLLER_RECORD":        6,
		"BROKER_REGISTRATION_CHANGE_RECORD": 22,
		"UNREGISTER_BROKER_RECORD":          1,
		"TOPIC_RECORD":                      2,
		"CLEAR_ELR_RECORD":                  2,
		"PARTITION_RECORD":                  3,
		"PARTITION_CHANGE_RECORD":           30,
		"REMOVE_TOPIC_RECORD":               1,
		"PRODUCER_IDS_RECORD":               1,
		"NO_OP_RECORD":                      133,
	}, counts)
	require.Equal(t, 195, l.Batches)
	require.Equal(t, int64(232), l.NextOffset)
}
