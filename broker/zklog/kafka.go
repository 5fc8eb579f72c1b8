package zklog

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The znodes of Kafka in ZooKeeper mode that the election checker reads.
const (
	// ControllerPath is the ephemeral znode of the active controller.
	ControllerPath = "/controller"
	// BrokerIDsPath holds each live broker's ephemeral registration, /brokers/ids/N.
	BrokerIDsPath = "/brokers/ids"
)

// PartitionState is the content of /brokers/topics/T/partitions/P/state. Leader -1 is no leader.
type PartitionState struct {
	ControllerEpoch int   `json:"controller_epoch"`
	Leader          int   `json:"leader"`
	Version         int   `json:"version"`
	LeaderEpoch     int   `json:"leader_epoch"`
	ISR             []int `json:"isr"`
}

// PartitionKey returns the key "T/P" of a partition state znode's path
// (/brokers/topics/T/partitions/P/state), and whether path is one.
func PartitionKey(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/brokers/topics/")
	if !ok {
		return "", false
	}
	topic, rest, ok := strings.Cut(rest, "/partitions/")
	if !ok || topic == "" || strings.Contains(topic, "/") {
		return "", false
	}
	part, ok := strings.CutSuffix(rest, "/state")
	if !ok {
		return "", false
	}
	if n, err := strconv.Atoi(part); err != nil || n < 0 || strconv.Itoa(n) != part {
		return "", false
	}
	return topic + "/" + part, true
}

// ParsePartitionState decodes a partition state znode's data.
func ParsePartitionState(data []byte) (PartitionState, error) {
	var s PartitionState
	if err := json.Unmarshal(data, &s); err != nil {
		return PartitionState{}, fmt.Errorf("partition state %q: %w", data, err)
	}
	if s.ISR == nil {
		s.ISR = []int{}
	}
	return s, nil
}

// ParseController decodes /controller's data ({"version":2,"brokerid":3,...}) into the
// controller's broker id.
func ParseController(data []byte) (int, error) {
	var c struct {
		BrokerID *int `json:"brokerid"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return 0, fmt.Errorf("controller %q: %w", data, err)
	}
	if c.BrokerID == nil {
		return 0, fmt.Errorf("controller %q: no brokerid", data)
	}
	return *c.BrokerID, nil
}

// BrokerID returns N of a broker registration's path, /brokers/ids/N, and whether path is one.
func BrokerID(path string) (int, bool) {
	id, ok := strings.CutPrefix(path, BrokerIDsPath+"/")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(id)
	if err != nil || strconv.Itoa(n) != id {
		return 0, false
	}
	return n, true
}

// KafkaChange is a change of a znode the election checker reads, decoded: a partition state, the
// controller, or a broker registration.
type KafkaChange struct {
	Change
	// Key is the partition "T/P" of a partition state change, "" otherwise.
	Key string
	// State is a partition's state after a create or setData of its state znode.
	State PartitionState
	// Controller is the controller's broker id after a change of /controller, -1 once deleted.
	Controller int
	// Broker is the broker id N of a change of /brokers/ids/N.
	Broker int
}

// KafkaChanges picks the changes of partition states, of /controller and of broker registrations
// out of changes, in their order. A znode whose data does not decode is an error naming its zxid.
func KafkaChanges(changes []Change) ([]KafkaChange, error) {
	var out []KafkaChange
	for _, c := range changes {
		k := KafkaChange{Change: c, Controller: -1}
		if key, ok := PartitionKey(c.Path); ok {
			k.Key = key
			if c.Kind != Deleted {
				s, err := ParsePartitionState(c.Data)
				if err != nil {
					return out, fmt.Errorf("zxid %#x: %w", c.Zxid, err)
				}
				k.State = s
			}
		} else if c.Path == ControllerPath {
			if c.Kind != Deleted {
				id, err := ParseController(c.Data)
				if err != nil {
					return out, fmt.Errorf("zxid %#x: %w", c.Zxid, err)
				}
				k.Controller = id
			}
		} else if id, ok := BrokerID(c.Path); ok {
			k.Broker = id
		} else {
			continue
		}
		out = append(out, k)
	}
	return out, nil
}
