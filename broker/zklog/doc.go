// Package zklog reads ZooKeeper's own record of every change: the transaction logs
// (dataDir/version-2/log.<zxid>) and snapshots (snapshot.<zxid>) of ZooKeeper 3.8, as run by
// Kafka 3.9 in ZooKeeper mode.
//
// Live watches miss versions of a znode under load; the transaction log does not. ReadLog decodes
// one log file, ReadSnapshot one snapshot, and Replay turns a snapshot and the transactions after
// it into the exact sequence of znode changes, in zxid order, telling apart a complete history
// from one with zxids missing. The Kafka helpers pick out the znodes the leader-election checker
// needs: partition states, /controller and broker registrations.
//
// The package is pure: it reads bytes and never touches the network, Docker or the clock.
//
// Times: a transaction's time is the ZooKeeper leader's wall clock, in milliseconds since the Unix
// epoch, when it accepted the request. kchaos's containers share the host's clock, so a history
// whose times count from a start read with time.Now places a change at
// time.UnixMilli(c.Time).Sub(start) — to the millisecond, and ordered within a millisecond by
// zxid. Zxids, not times, order changes.
//
// Completeness: within a leader epoch (the high 32 bits of a zxid) zxids follow one another by
// one, each epoch starts at counter 1, and epochs follow one another by one, so a missing
// transaction or a missing epoch shows as a gap (Gaps, IncompleteError, History.Missing). What
// cannot show is the end of an epoch or of the log: transactions after the last one read, and
// proposals a dead leader logged but never committed. An epoch in which no transaction was ever
// logged (a leader that died at once) reads as missing: unknown, never a false complete.
//
// Formats, as ZooKeeper 3.8 writes them (FileTxnLog, FileSnap, SerializeUtils, zookeeper.jute):
// integers are big-endian; a buffer or string is an int32 length (-1 for null) and its bytes; a
// vector is an int32 count (-1 for null) and its elements; a bool is one byte.
//
//	log file:  int32 magic "ZKLG", int32 version 2, int64 dbid, then entries, then zeros
//	entry:     int64 Adler-32 of the txn bytes, int32 length, the txn bytes, byte 'B'
//	txn bytes: TxnHeader (int64 session, int32 cxid, int64 zxid, int64 time in ms, int32 type),
//	           the record of that type, optionally a TxnDigest (int32 version, int64 digest)
//
// A snapshot is int32 magic "ZKSN", int32 version 2, int64 dbid, the sessions (int32 count, then
// int64 id and int32 timeout each), the ACL cache (int32 count, then int64 id and a vector of
// ACLs each), the nodes (string path, buffer data, int64 ACL id, StatPersisted) up to the path
// "/", an int64 Adler-32 of everything before it and the string "/", then, with digests enabled,
// the ZxidDigest (int64 zxid, int32 version, int64 digest) sealed the same way. The snapshot's
// zxid is in its file name only.
package zklog
