package kraftlog

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// ErrDisagree marks controllers whose logs hold different records at the same offset.
var ErrDisagree = errors.New("controllers disagree")

// ErrNoOverlap marks logs that have no offset in common, so nothing could be compared.
var ErrNoOverlap = errors.New("logs share no offset")

// Range is a half-open range of offsets [From, To).
type Range struct {
	From, To int64
}

// Agree checks that the controllers' logs, keyed by a name for each controller, hold the same
// records on the offsets they all have: the same KRaft epoch, append time, control flag, key and
// value. It returns that common range. Records of the committed log never differ between
// controllers; a log cut from a deposed leader can still hold an uncommitted tail that the next
// leader overwrote, so read the logs after the quorum has settled. A difference is an error
// wrapping ErrDisagree that names the offset and the controllers; logs with no offset in common
// give an error wrapping ErrNoOverlap.
func Agree(logs map[string]*Log) (Range, error) {
	names := make([]string, 0, len(logs))
	for name := range logs {
		names = append(names, name)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return Range{}, fmt.Errorf("kraftlog: %w: no logs", ErrNoOverlap)
	}
	rng := Range{From: logs[names[0]].StartOffset, To: logs[names[0]].NextOffset}
	for _, name := range names[1:] {
		rng.From = max(rng.From, logs[name].StartOffset)
		rng.To = min(rng.To, logs[name].NextOffset)
	}
	if rng.From >= rng.To {
		return rng, fmt.Errorf("kraftlog: %w: common range [%d, %d)", ErrNoOverlap, rng.From, rng.To)
	}
	ref := logs[names[0]]
	for _, name := range names[1:] {
		l := logs[name]
		for off := rng.From; off < rng.To; off++ {
			a, err := recordAt(ref, off)
			if err != nil {
				return rng, fmt.Errorf("kraftlog: log of %s: %w", names[0], err)
			}
			b, err := recordAt(l, off)
			if err != nil {
				return rng, fmt.Errorf("kraftlog: log of %s: %w", name, err)
			}
			if d := differ(a, b); d != "" {
				return rng, fmt.Errorf("kraftlog: %w at offset %d: %s has %s, %s has %s (%s)",
					ErrDisagree, off, names[0], describe(a), name, describe(b), d)
			}
		}
	}
	return rng, nil
}

// recordAt returns the record at offset off of a log whose records are contiguous from
// StartOffset.
func recordAt(l *Log, off int64) (*Record, error) {
	i := off - l.StartOffset
	if i < 0 || i >= int64(len(l.Records)) || l.Records[i].Offset != off {
		return nil, fmt.Errorf("%w: no record at offset %d", ErrGap, off)
	}
	return &l.Records[i], nil
}

func differ(a, b *Record) string {
	switch {
	case a.Epoch != b.Epoch:
		return "epoch"
	case a.TimeMs != b.TimeMs:
		return "append time"
	case a.Control != b.Control:
		return "control flag"
	case !bytes.Equal(a.Key, b.Key):
		return "key"
	case !bytes.Equal(a.Value, b.Value):
		return "value"
	}
	return ""
}

func describe(r *Record) string {
	return fmt.Sprintf("%s (epoch %d, time %d)", r.Name(), r.Epoch, r.TimeMs)
}
