// Package txn judges the transactions of a Kafka history: pure functions, history in, verdict
// out, no cluster.
//
// Every send, poll and txn operation is a transaction of micro-operations (history.Mop): sends,
// which an ok transaction completes with the offsets they took, and polls, which return per key
// the records read. A txn operation mixes both, as in Jepsen's kafka workload: ok means committed,
// fail aborted (certainly no effect), info unknown. Check looks for
//
//   - aborted-read: a poll read a value a failed transaction sent;
//   - precommitted-read: a transaction read a value it sent itself, before committing (Jepsen's
//     definition);
//   - duplicate: one value at more than one offset of a key;
//   - torn-transaction: a committed transaction some of whose sends were read while another is
//     missing from reads of its key that went past where it belongs;
//   - G1b: an intermediate read, Elle's;
//   - Elle's dependency cycles G0, G1c, G-single and G2, and their -process and -realtime
//     variants, over ww, wr and rw edges drawn from each key's version order (its offset order),
//     process order and real-time order.
//
// Which of them fail a run depends on the producers (plain, idempotent, transactional) and on
// the consumers' isolation (read_committed, read_uncommitted): see Options.Allowed and README.md.
// Each anomaly names its operations and explains itself; a cycle step by step, as Elle does.
//
// The cycle search finds the strongly connected components of the graph restricted to each
// anomaly's edges (Tarjan's algorithm on an explicit stack), then a shortest cycle of the right
// kind in each by breadth-first search over (transaction, edges taken so far). It is exact for
// what read_committed forbids (a cycle of wr, process and realtime edges) and bounded for the
// rest, which decides nothing. A context bounds its time: when it runs out the verdict is
// unknown, never valid. The same history always gives the same result, to the byte.
package txn
