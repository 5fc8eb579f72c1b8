package queue

import (
	"errors"
	"net"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/fetch"
	"github.com/segmentio/kafka-go/protocol/produce"

	"github.com/kchaos/kchaos/history"
)

// certainFailures are broker answers that say the request was refused before anything was
// appended: the operation certainly had no effect. NOT_LEADER_OR_FOLLOWER is not one of them: a
// leader that appended a record and lost its leadership while the request waited for the ISR
// answers it too, and the record may survive on the new leader (seen here under pauses).
var certainFailures = []kafka.Error{
	kafka.NotEnoughReplicas, // checked before the append; unlike NOT_ENOUGH_REPLICAS_AFTER_APPEND
	kafka.UnknownTopicOrPartition,
	kafka.InvalidTopic,
	kafka.MessageSizeTooLarge,
	kafka.RecordListTooLarge,
	kafka.InvalidRequiredAcks,
	kafka.TopicAuthorizationFailed,
	kafka.OffsetOutOfRange,
}

// Classify says what an error means for the history: Fail when the operation certainly had no
// effect (the broker refused it, no leader was known to send it to, or no connection was ever
// made), Info when its outcome is
// unknown (timeouts, NOT_ENOUGH_REPLICAS_AFTER_APPEND, a connection lost mid-request, and anything
// not known to be safe).
func Classify(err error) history.Type {
	// kafka-go routes a produce or fetch request to the partition's leader from its metadata; when
	// the metadata has no such topic, partition or leader (every broker down, an election under
	// way), it answers these errors without sending anything. The same "topic not found" read
	// from a broker's response is a plain protocol error, and stays unknown.
	var unroutedProduce *produce.Error
	var unroutedFetch *fetch.Error
	if errors.As(err, &unroutedProduce) || errors.As(err, &unroutedFetch) {
		return history.Fail
	}
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		for _, certain := range certainFailures {
			if kerr == certain {
				return history.Fail
			}
		}
		return history.Info
	}
	// A dial that failed never carried the request.
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return history.Fail
	}
	return history.Info
}
