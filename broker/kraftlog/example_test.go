package kraftlog_test

import (
	"fmt"

	"github.com/kchaos/kchaos/broker/kraftlog"
)

// Read a controller's metadata directory and print what happened to one partition.
func ExampleFold() {
	d, err := kraftlog.ReadDir("testdata/n1")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := kraftlog.Fold(nil, d.Log.Records)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range m.Partitions["elr/0"][:6] {
		fmt.Printf("offset %d: leader %d epoch %d isr %v elr %v last known elr %v\n",
			s.Offset, s.Leader, s.LeaderEpoch, s.ISR, s.ELR, s.LastKnownELR)
	}
	// Output:
	// offset 87: leader 4 epoch 0 isr [4 5 1] elr [] last known elr []
	// offset 93: leader 5 epoch 1 isr [5 1] elr [] last known elr []
	// offset 103: leader 1 epoch 2 isr [1] elr [5] last known elr []
	// offset 109: leader -1 epoch 3 isr [] elr [1 5] last known elr [1]
	// offset 117: leader -1 epoch 3 isr [] elr [5] last known elr [1]
	// offset 131: leader 1 epoch 4 isr [1] elr [] last known elr []
}
