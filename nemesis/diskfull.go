package nemesis

import "github.com/kchaos/kchaos/faultfs"

// KindDiskFull makes a broker's log dir full.
const KindDiskFull Kind = "disk-full"

// DiskFullFailpoint fails a broker's writes to its log dir with ENOSPC (faultfs.DiskFull: writes,
// creations and growing truncates; reads, removals and fsyncs pass) until it stops. Kafka takes
// its log dir offline on an I/O error and, with one log dir, halts; the stop restarts it.
var DiskFullFailpoint Failpoint = diskFailpoint{kind: KindDiskFull, fault: faultfs.Fault{Kind: faultfs.DiskFull}}
