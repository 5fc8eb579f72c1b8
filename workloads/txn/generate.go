package txn

import (
	"math/rand/v2"
	"slices"

	"github.com/kchaos/kchaos/history"
)

// MaxMops is the most micro-operations one txn holds.
const MaxMops = 4

// Next generates this client's next invocation: an assign first (and, rarely, a new one later),
// then txns of 1 to MaxMops micro-operations, each a send of a fresh value to a random key or a
// poll, in equal measure.
func (c *Client) Next(p history.Process, rng *rand.Rand) history.Op {
	keys := c.w.Keys()
	if c.needAssign || rng.IntN(100) == 0 {
		return history.AssignInvoke(p, randomKeys(keys, rng))
	}
	return c.nextTxn(p, rng, keys)
}

func (c *Client) nextTxn(p history.Process, rng *rand.Rand, keys []string) history.Op {
	mops := make([]history.Mop, 1+rng.IntN(MaxMops))
	for i := range mops {
		if rng.IntN(2) == 0 {
			mops[i] = history.Send(keys[rng.IntN(len(keys))], history.IntValue(c.w.value()))
		} else {
			mops[i] = history.Poll()
		}
	}
	// The choice is drawn here, from the worker's seeded generator, so that a run repeats.
	c.abortNext = c.opts.Producer == Transactional && rng.Float64() < c.abortRate
	return history.Op{Process: p, Type: history.Invoke, F: history.FTxn, Mops: mops}
}

// randomKeys returns a non-empty random subset of keys, in their order.
func randomKeys(keys []string, rng *rand.Rand) []string {
	perm := rng.Perm(len(keys))[:1+rng.IntN(len(keys))]
	slices.Sort(perm)
	out := make([]string, len(perm))
	for i, k := range perm {
		out[i] = keys[k]
	}
	return out
}
