package txn

import (
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Producer is the kind of producer a client runs.
type Producer string

// The producer kinds.
const (
	// Plain producers use the spec's acks without idempotence: a retry may write a record twice.
	Plain Producer = "plain"
	// Idempotent producers enable idempotence (acks=all): each record lands once per partition.
	Idempotent Producer = "idempotent"
	// Transactional producers run each txn as a Kafka transaction, committed or aborted.
	Transactional Producer = "transactional"
)

// Isolation is the consumers' isolation.level.
type Isolation string

// The isolation levels.
const (
	// ReadUncommitted consumers read every record, aborted and open transactions' too.
	ReadUncommitted Isolation = "read_uncommitted"
	// ReadCommitted consumers read committed records only, up to the last stable offset.
	ReadCommitted Isolation = "read_committed"
)

// ParseProducer returns the Producer named s.
func ParseProducer(s string) (Producer, error) {
	switch p := Producer(s); p {
	case Plain, Idempotent, Transactional:
		return p, nil
	}
	return "", fmt.Errorf("producer: want %s, %s or %s, got %q", Plain, Idempotent, Transactional, s)
}

// ParseIsolation returns the Isolation named s.
func ParseIsolation(s string) (Isolation, error) {
	switch i := Isolation(s); i {
	case ReadUncommitted, ReadCommitted:
		return i, nil
	}
	return "", fmt.Errorf("isolation: want %s or %s, got %q", ReadUncommitted, ReadCommitted, s)
}

// DefaultIsolation is the isolation of a run that names none: read_committed with transactional
// producers (the level at which transactions promise most), read_uncommitted otherwise (without
// transactions both read the same records).
func DefaultIsolation(p Producer) Isolation {
	if p == Transactional {
		return ReadCommitted
	}
	return ReadUncommitted
}

// Options configure the workload.
type Options struct {
	// Bootstrap are the brokers' addresses.
	Bootstrap []string
	// Topic holds the keys: "<Topic>/<partition>".
	Topic      string
	Partitions int
	// Producer is the producers' kind; "" is Plain.
	Producer Producer
	// Acks is the plain producers' acks: "all", "1" or "0" (idempotent and transactional
	// producers always use all).
	Acks string
	// Isolation is the consumers' isolation level; "" is DefaultIsolation(Producer).
	Isolation Isolation
	// AbortRate is the share of transactions a transactional client aborts, in [0, 1].
	AbortRate float64
	// OpTimeout bounds one operation; past it the outcome is unknown (info).
	OpTimeout time.Duration
	// TransactionTimeout is the producers' transaction.timeout.ms: how long an abandoned
	// transaction holds back the last stable offset. Zero is 15s.
	TransactionTimeout time.Duration
	// KeepProducer, with transactional producers only, hands the franz-go client of a client
	// retired after an info to the next client the workload opens, instead of closing it: the
	// successor produces under the same producer id, as a client that does not re-initialise its
	// producer on unknown outcomes would (see the package docs).
	KeepProducer bool
	// Logf receives a line about each key whose final reads fell short; nil discards them.
	Logf func(format string, args ...any)
}

// withDefaults fills in the zero fields and checks the names.
func (o Options) withDefaults() (Options, error) {
	if o.Producer == "" {
		o.Producer = Plain
	}
	if _, err := ParseProducer(string(o.Producer)); err != nil {
		return o, err
	}
	if o.Isolation == "" {
		o.Isolation = DefaultIsolation(o.Producer)
	}
	if _, err := ParseIsolation(string(o.Isolation)); err != nil {
		return o, err
	}
	if o.Acks == "" {
		o.Acks = "all"
	}
	if _, err := acks(o.Acks); err != nil {
		return o, err
	}
	if o.AbortRate < 0 || o.AbortRate > 1 {
		return o, fmt.Errorf("abort rate: want a share within [0, 1], got %g", o.AbortRate)
	}
	if o.KeepProducer && o.Producer != Transactional {
		return o, fmt.Errorf("keep producer: only with %s producers, got %s", Transactional, o.Producer)
	}
	if o.OpTimeout == 0 {
		o.OpTimeout = 5 * time.Second
	}
	if o.TransactionTimeout == 0 {
		o.TransactionTimeout = 15 * time.Second
	}
	if o.Partitions < 1 {
		return o, fmt.Errorf("partitions: want at least 1, got %d", o.Partitions)
	}
	return o, nil
}

// Keys returns the workload's keys, partition 0 first.
func (o Options) Keys() []string {
	keys := make([]string, o.Partitions)
	for p := range keys {
		keys[p] = o.Topic + "/" + strconv.Itoa(p)
	}
	return keys
}

// acks maps the acks option to franz-go's.
func acks(s string) (kgo.Acks, error) {
	switch s {
	case "all", "-1":
		return kgo.AllISRAcks(), nil
	case "1":
		return kgo.LeaderAck(), nil
	case "0":
		return kgo.NoAck(), nil
	}
	return kgo.Acks{}, fmt.Errorf("acks: want all, 1 or 0, got %q", s)
}
