package nemesis

import (
	"time"

	"github.com/kchaos/kchaos/faultfs"
)

// KindSlowDisk slows a broker's log dir.
const KindSlowDisk Kind = "slow-disk"

// SlowDiskLatency is what slow-disk adds to every write and fsync of the log dir: enough that a
// follower falls behind under load, and that an fsync per message (log.flush.interval.messages=1)
// throttles the leader.
const SlowDiskLatency = 50 * time.Millisecond

// SlowDiskFailpoint adds SlowDiskLatency to every write and fsync of a broker's log dir until it
// stops.
var SlowDiskFailpoint Failpoint = diskFailpoint{kind: KindSlowDisk, fault: faultfs.Fault{Kind: faultfs.SlowDisk, Latency: SlowDiskLatency}}
