package txn

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kchaos/kchaos/history"
)

// certainFailures are broker answers that refuse a produce before anything is appended. franz-go
// does not retry them, so they reach the caller as they were answered.
var certainFailures = []error{
	kerr.NotEnoughReplicas, // checked before the append, unlike NOT_ENOUGH_REPLICAS_AFTER_APPEND
	kerr.MessageTooLarge,
	kerr.RecordListTooLarge,
	kerr.InvalidRecord,
	kerr.InvalidRequiredAcks,
	kerr.InvalidTopicException,
	kerr.TopicAuthorizationFailed,
	kerr.TransactionalIDAuthorizationFailed,
	kerr.ClusterAuthorizationFailed,
}

// Classify says what a produce error means for the history: Fail when the record certainly was
// not appended (the broker refused it before appending, or the client refused it before sending),
// Info when its outcome is unknown: timeouts, NOT_ENOUGH_REPLICAS_AFTER_APPEND, connections lost
// mid-request, and anything not known to be safe.
func Classify(err error) history.Type {
	for _, certain := range certainFailures {
		if errors.Is(err, certain) {
			return history.Fail
		}
	}
	switch {
	case errors.Is(err, kgo.ErrClientClosed), errors.Is(err, kgo.ErrMaxBuffered),
		errors.Is(err, kerr.OperationNotAttempted):
		// The client refused the record or request before anything went out.
		return history.Fail
	}
	return history.Info
}
