package zklog_test

import (
	"fmt"
	"os"

	"github.com/kchaos/kchaos/broker/zklog"
)

// The states of partition t/0 in a captured run where its leader, broker 2, was killed (SIGKILL
// at 20:21:24.75), its session expired 18 s later, and it was restarted at 20:21:50.
func Example() {
	d, err := zklog.ReadDir(os.DirFS("testdata/killrestart"))
	if err != nil {
		panic(err)
	}
	h, err := d.Replay()
	if err != nil {
		panic(err)
	}
	if !h.Complete() {
		panic(h.Err())
	}
	changes, err := zklog.KafkaChanges(h.Changes)
	if err != nil {
		panic(err)
	}
	for _, c := range changes {
		switch {
		case c.Key == "t/0":
			fmt.Printf("%#x %s %s version %d leader %d isr %v\n", c.Zxid, c.Timestamp().Format("15:04:05.000"),
				c.Kind, c.Version, c.State.Leader, c.State.ISR)
		case c.Broker == 2:
			fmt.Printf("%#x %s %s /brokers/ids/2 session ended %v\n", c.Zxid, c.Timestamp().Format("15:04:05.000"),
				c.Kind, c.SessionEnded)
		}
	}
	// Output:
	// 0x40 20:21:23.485 create /brokers/ids/2 session ended false
	// 0x40 20:21:23.485 setData /brokers/ids/2 session ended false
	// 0x48 20:21:24.010 create version 0 leader 2 isr [2 3 1]
	// 0x4e 20:21:43.780 delete /brokers/ids/2 session ended true
	// 0x4f 20:21:43.836 setData version 1 leader 3 isr [3 1]
	// 0x63 20:21:54.607 create /brokers/ids/2 session ended false
	// 0x63 20:21:54.607 setData /brokers/ids/2 session ended false
	// 0x6a 20:21:56.501 setData version 2 leader 3 isr [3 1 2]
}
