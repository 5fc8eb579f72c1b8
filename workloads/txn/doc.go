// Package txn is Jepsen's transactional Kafka queue workload against a real cluster, on franz-go
// (kafka-go has neither idempotent nor transactional producers): each operation is a txn of one
// to four micro-operations, sends of unique integers pinned to one partition and polls of the
// consumer's assigned partitions from its positions. With transactional producers each txn is a
// Kafka transaction, committed or, for a share of them (Options.AbortRate), aborted.
//
// # Producers and consumers
//
//   - plain: acks from the spec, idempotence disabled; a txn's sends are independent records.
//   - idempotent: enable.idempotence, acks=all; each record lands once per partition.
//   - transactional: one transactional.id per client, drawn from a pool: a client that replaces a
//     retired one takes its id, so its InitProducerID fences the old producer and aborts the
//     transaction it left open (which would otherwise hold back the last stable offset, and every
//     read_committed consumer, until the transaction timeout).
//
// Consumers assign themselves partitions (assign ops, as in the queue workload) and read with
// the run's isolation level.
//
// # Outcomes
//
// A txn ends ok (committed; its sends carry their offsets), fail (certainly no effect) or info
// (unknown). The rules, and the errors behind them:
//
//	situation                                             type  why
//	transactional: every send acked, EndTxn(commit) ok    ok
//	transactional: chosen abort, EndTxn(abort) done       fail  aborted: no record of it is ever committed
//	transactional: a send failed, whatever the error,     fail  only an EndTxn(commit) commits; none was sent,
//	  then aborted (even if the abort itself failed)            so the coordinator aborts it (abort or timeout)
//	transactional: EndTxn(commit) not attempted           fail  kerr.OperationNotAttempted: the client had no
//	  (kerr.OperationNotAttempted), then aborted                producer ID to send the commit with
//	transactional: EndTxn(commit) answered an error,      info  the commit may have been written (timeouts,
//	  or timed out, or the connection broke                     UNKNOWN_SERVER_ERROR, transport errors)
//	plain/idempotent: every send acked                    ok
//	plain/idempotent: first send failed certainly         fail  see Classify: nothing was appended
//	plain/idempotent: a send failed after earlier sends   info  the earlier records are in the log
//	  were acked, or with an unknown outcome
//	polls                                                 -     reads never change the log: a poll returns
//	                                                            what it received, errors only shorten it
//
// Classify says which franz-go produce errors certainly had no effect. NOTES.md facts that apply:
// NOT_ENOUGH_REPLICAS is checked before the append (fail), NOT_ENOUGH_REPLICAS_AFTER_APPEND,
// REQUEST_TIMED_OUT and broken connections are unknown (info); NOT_LEADER_OR_FOLLOWER is not
// certain either (a leader may append and lose leadership while waiting for the ISR). franz-go
// retries retriable errors by itself until Options.OpTimeout (RecordDeliveryTimeout), so what
// reaches Classify is mostly kgo.ErrRecordTimeout or the last error: unknown.
//
// A client whose operation ended info is retired by the harness, which opens a new client under
// a new process: a new producer (and, transactional, a new producer epoch for the same id).
//
// # Kept producers
//
// Re-initialising the producer after an unknown outcome is the client-side defence Jepsen named
// against delayed EndTxn and produce requests landing in the next transaction of the same
// producer epoch (fixed in Kafka by KIP-890 part 2). Options.KeepProducer, with transactional
// producers only, drops that defence at the workload's level: a retired client that is not broken
// hands its franz-go client (transactional id, producer id and epoch; not its consumer, whose
// successor starts reading fresh) to the next worker's client, the longest idle first, instead of
// closing it. The history does not change: the retired process never invokes again, the
// successor is a new process. A broken client is closed and replaced as always, final readers
// never take a kept producer, and FinalReads and Close close the idle ones. franz-go keeps a
// defence of its own: an EndTxn that failed fails the producer id, and the successor's abort of
// the transaction left open re-runs InitProducerID with that id and epoch, bumping the epoch
// (franz-go's EndTransaction).
package txn
