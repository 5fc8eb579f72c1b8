// Package checkers judges a kchaos history: pure functions, history in, verdict out.
//
// Check runs every checker and returns a Result that marshals to results.json (see
// shared/HISTORY.md); ReadResult reads results.json back into the same typed Result, and
// DescribeAnomaly says what any anomaly entry names. The checkers, also usable one by one on an Analysis (Analyze):
//
//   - CheckQueue: the anomalies of Jepsen's Kafka queue checker (jepsen.tests.kafka), with the
//     same names and meanings: lost-write, unseen, duplicate, inconsistent-offsets, G1a,
//     poll-skip, nonmonotonic-poll, nonmonotonic-send, int-poll-skip, int-nonmonotonic-poll,
//     int-send-skip, int-nonmonotonic-send. As in Jepsen, int-send-skip is allowed, and so are
//     poll-skip and nonmonotonic-poll of a subscribed consumer.
//   - CheckLinearizable: not-linearizable, each key's log checked with porcupine, with a timeout
//     per key (unknown when it runs out). LinearizableResult.Visualize draws porcupine's view of
//     a failing key as HTML.
//   - CheckLeaderElection: unclean-leader-election, from the observer's partition-state lines:
//     every new leader must have been in the ISR of the state before it. States the observer
//     missed where an election may hide make it unknown; a history without observer lines has
//     nothing to check and does not decide the verdict.
//   - checkers/txn, run on histories with txn operations and for producers that are not plain:
//     transactions' anomalies (aborted-read, torn-transaction, ...) and dependency cycles (G0,
//     G1c, G-single, G2); its Result is Result.Txn, read back typed by ReadResult too.
//   - ComputeStats: counts per second, latency quantiles, windows without a leader and of
//     refused writes, for the report. It decides nothing.
//
// The run is invalid when any anomaly outside the allowed ones is found; unknown when none is
// but a checker could not decide; valid otherwise. Lost writes, duplicates and inconsistent
// offsets carry the operations involved and, from the observer's lines, who led the partition
// when the write was acknowledged and which election followed.
package checkers
