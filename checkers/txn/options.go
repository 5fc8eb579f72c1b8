package txn

import (
	"fmt"
)

// Isolation is the isolation.level the run's consumers used.
type Isolation string

// The consumer isolation levels.
const (
	// ReadCommitted consumers read only committed records, up to the last stable offset.
	ReadCommitted Isolation = "read_committed"
	// ReadUncommitted consumers read every record written, aborted and open transactions' too.
	ReadUncommitted Isolation = "read_uncommitted"
)

// Producer is the kind of producer the run's clients used.
type Producer string

// The producer kinds.
const (
	// Plain producers retry without sequence numbers: a retry may write a value twice.
	Plain Producer = "plain"
	// Idempotent producers (enable.idempotence) write each value once per partition.
	Idempotent Producer = "idempotent"
	// Transactional producers (transactional.id) commit or abort their sends atomically.
	Transactional Producer = "transactional"
)

// ParseIsolation returns the Isolation named s ("read_committed", "read_uncommitted"; "" is
// ReadCommitted).
func ParseIsolation(s string) (Isolation, error) {
	switch i := Isolation(s); i {
	case "":
		return ReadCommitted, nil
	case ReadCommitted, ReadUncommitted:
		return i, nil
	}
	return "", fmt.Errorf("isolation %q: want %s or %s", s, ReadCommitted, ReadUncommitted)
}

// ParseProducer returns the Producer named s ("plain", "idempotent", "transactional"; "" is
// Transactional).
func ParseProducer(s string) (Producer, error) {
	switch p := Producer(s); p {
	case "":
		return Transactional, nil
	case Plain, Idempotent, Transactional:
		return p, nil
	}
	return "", fmt.Errorf("producer %q: want %s, %s or %s", s, Plain, Idempotent, Transactional)
}

// DefaultMaxEntries is the number of entries per anomaly type Result.Anomalies lists when
// Options.MaxEntries is zero.
const DefaultMaxEntries = 32

// Options say what the run promised. The zero Options expect what Kafka promises most:
// transactional producers and read_committed consumers.
type Options struct {
	// Isolation is the consumers' isolation.level; "" is ReadCommitted.
	Isolation Isolation
	// Producer is the producers' kind; "" is Transactional.
	Producer Producer
	// MaxEntries bounds the entries of each anomaly type listed in Result.Anomalies (Counts still
	// counts them all): 0 is DefaultMaxEntries, a negative number lists every entry.
	MaxEntries int
}

// normalize fills in the defaults and checks the names.
func (o Options) normalize() (Options, error) {
	var err error
	if o.Isolation, err = ParseIsolation(string(o.Isolation)); err != nil {
		return o, fmt.Errorf("txn options: %w", err)
	}
	if o.Producer, err = ParseProducer(string(o.Producer)); err != nil {
		return o, fmt.Errorf("txn options: %w", err)
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	return o, nil
}

// transactional reports whether the sends of one operation commit or abort together.
func (o Options) transactional() bool { return o.Producer == Transactional }

// readCommitted reports whether consumers read committed transactional records only. Isolation
// only concerns transactional records: without transactional producers every record is
// committed when written.
func (o Options) readCommitted() bool { return o.transactional() && o.Isolation == ReadCommitted }

// Allowed reports whether an anomaly of type typ is allowed (expected, not a failure) under o.
// For the G1c types (G1c, G1c-process, G1c-realtime) it speaks of cycles without a ww edge: one
// with a ww edge is always allowed (see CycleCase.WWEdges). README.md holds the table.
func (o Options) Allowed(typ string) bool {
	switch typ {
	case AbortedRead:
		// Read_uncommitted consumers read aborted transactions' records by design. Without
		// transactions, a failed send certainly had no effect: reading it is an anomaly.
		return o.transactional() && !o.readCommitted()
	case PrecommittedRead:
		// Only read_committed consumers promise not to see a transaction's records, their own
		// included, before it commits; without transactions an op's sends are visible once
		// acknowledged.
		return !o.readCommitted()
	case Duplicate:
		// Plain producers retry without sequence numbers; idempotence exists to stop that.
		return o.Producer == Plain
	case TornTransaction:
		// Without transactions an operation's sends are not atomic (a lost one is the queue
		// checker's lost-write).
		return !o.transactional()
	case G1b:
		// A poll returns a prefix of the log: a transaction's records may arrive over several
		// polls, so a read that ends inside a transaction is how Kafka works.
		return true
	}
	if isCycleType(typ) {
		// G0: writes are never isolated in Kafka: transactions interleave their sends on a
		// partition. G-single, G2: a poll reads a prefix of the log, so not seeing a later write
		// contradicts nothing. G1c: a read_committed consumer reads only what committed, so a
		// cycle of wr, process and realtime edges alone orders commits in a circle.
		if cycleBase(typ) == G1c {
			return !o.readCommitted()
		}
		return true
	}
	return false
}
