package zklog

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPartitionKey(t *testing.T) {
	for _, tc := range []struct {
		path string
		key  string
		ok   bool
	}{
		{"/brokers/topics/t/partitions/0/state", "t/0", true},
		{"/brokers/topics/kchaos-1.x/partitions/12/state", "kchaos-1.x/12", true},
		{"/brokers/topics/t/partitions/0", "", false},
		{"/brokers/topics/t/partitions", "", false},
		{"/brokers/topics/t", "", false},
		{"/brokers/topics/t/partitions/x/state", "", false},
		{"/brokers/topics/t/partitions/-1/state", "", false},
		{"/brokers/topics/t/partitions/01/state", "", false},
		{"/brokers/topics//partitions/0/state", "", false},
		{"/brokers/topics/a/b/partitions/0/state", "", false},
		{"/admin/brokers/topics/t/partitions/0/state", "", false},
	} {
		key, ok := PartitionKey(tc.path)
		require.Equal(t, tc.ok, ok, tc.path)
		require.Equal(t, tc.key, key, tc.path)
	}
}

func TestBrokerID(t *testing.T) {
	for _, tc := range []struct {
		path string
		id   int
		ok   bool
	}{
		{"/brokers/ids/1", 1, true},
		{"/brokers/ids/1001", 1001, true},
		{"/brokers/ids", 0, false},
		{"/brokers/ids/", 0, false},
		{"/brokers/ids/x", 0, false},
		{"/brokers/ids/1/x", 0, false},
		{"/brokers/idsx/1", 0, false},
	} {
		id, ok := BrokerID(tc.path)
		require.Equal(t, tc.ok, ok, tc.path)
		require.Equal(t, tc.id, id, tc.path)
	}
}

func TestParseKafkaData(t *testing.T) {
	st, err := ParsePartitionState([]byte(`{"controller_epoch":1,"leader":-1,"version":1,"leader_epoch":4,"isr":[3]}`))
	require.NoError(t, err)
	require.Equal(t, PartitionState{ControllerEpoch: 1, Leader: -1, Version: 1, LeaderEpoch: 4, ISR: []int{3}}, st)
	st, err = ParsePartitionState([]byte(`{"leader":2}`))
	require.NoError(t, err)
	require.Equal(t, []int{}, st.ISR)
	_, err = ParsePartitionState([]byte(`{`))
	require.Error(t, err)

	id, err := ParseController([]byte(`{"version":2,"brokerid":3,"timestamp":"1795983681705","kraftControllerEpoch":-1}`))
	require.NoError(t, err)
	require.Equal(t, 3, id)
	_, err = ParseController([]byte(`{"version":2}`))
	require.ErrorContains(t, err, "no brokerid")
	_, err = ParseController(nil)
	require.Error(t, err)
}

func TestKafkaChanges(t *testing.T) {
	changes := []Change{
		{Zxid: 1, Path: "/brokers/topics/t/partitions/0/state", Kind: Created, Data: []byte(`{"leader":1,"isr":[1,2]}`)},
		{Zxid: 2, Path: "/controller", Kind: Created, Data: []byte(`{"brokerid":2}`)},
		{Zxid: 3, Path: "/brokers/ids/2", Kind: Created, Data: []byte(`{}`)},
		{Zxid: 4, Path: "/config/topics/t", Kind: Created},
		{Zxid: 5, Path: "/controller", Kind: Deleted, SessionEnded: true},
		{Zxid: 6, Path: "/brokers/topics/t/partitions/0/state", Kind: Deleted},
	}
	got, err := KafkaChanges(changes)
	require.NoError(t, err)
	require.Equal(t, []KafkaChange{
		{Change: changes[0], Key: "t/0", State: PartitionState{Leader: 1, ISR: []int{1, 2}}, Controller: -1},
		{Change: changes[1], Controller: 2},
		{Change: changes[2], Broker: 2, Controller: -1},
		{Change: changes[4], Controller: -1},
		{Change: changes[5], Key: "t/0", Controller: -1},
	}, got)

	_, err = KafkaChanges([]Change{{Zxid: 9, Path: "/controller", Kind: Updated, Data: []byte("x")}})
	require.ErrorContains(t, err, "zxid 0x9")
}

func TestParseName(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind string
		zxid int64
	}{
		{"log.1", "log", 1},
		{"version-2/log.10000000a", "log", 0x10000000a},
		{"snapshot.0", "snapshot", 0},
		{"snapshot.6c.gz", "snapshot", 0x6c},
		{"snapshot.6c.snappy", "snapshot", 0x6c},
		{"snapshot.6c.tmp", "", 0},
		{"log.1.gz", "", 0},
		{"log.xyz", "", 0},
		{"acceptedEpoch", "", 0},
		{"log", "", 0},
	} {
		kind, zxid, ok := ParseName(tc.name)
		require.Equal(t, tc.kind != "", ok, tc.name)
		require.Equal(t, tc.kind, kind, tc.name)
		require.Equal(t, tc.zxid, zxid, tc.name)
	}
}
