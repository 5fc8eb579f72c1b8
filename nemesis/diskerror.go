package nemesis

import "github.com/kchaos/kchaos/faultfs"

// KindDiskError makes a broker's log dir fail reads and writes.
const KindDiskError Kind = "disk-error"

// DiskErrorFailpoint fails a broker's reads and writes of its log dir with EIO
// (faultfs.DiskError over the whole mount) until it stops; lookups and listings pass. Kafka
// halts the broker, whose stop restarts it.
var DiskErrorFailpoint Failpoint = diskFailpoint{kind: KindDiskError, fault: faultfs.Fault{Kind: faultfs.DiskError, Ops: faultfs.ReadsAndWrites}}
