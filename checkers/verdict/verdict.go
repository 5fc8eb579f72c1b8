// Package verdict holds what every checker's result is written in: the verdict (Validity) and
// the reference to an operation that an anomaly names as its evidence (OpRef). Package checkers
// and package checkers/txn (which checkers imports, and so cannot import it back) both use these
// types, under their own names as aliases, so that a verdict or an operation is one type with one
// JSON form wherever it is written.
package verdict

import (
	"fmt"

	"github.com/kchaos/kchaos/history"
)

// Validity is a verdict: valid, invalid, or unknown (a checker could not decide). It is written
// as true, false or "unknown".
type Validity int8

// The verdicts.
const (
	Valid Validity = iota
	Invalid
	Unknown
)

// String returns "valid", "invalid" or "unknown".
func (v Validity) String() string {
	switch v {
	case Valid:
		return "valid"
	case Invalid:
		return "invalid"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Validity(%d)", int8(v))
}

// MarshalJSON writes true, false or "unknown".
func (v Validity) MarshalJSON() ([]byte, error) {
	switch v {
	case Valid:
		return []byte("true"), nil
	case Invalid:
		return []byte("false"), nil
	case Unknown:
		return []byte(`"unknown"`), nil
	}
	return nil, fmt.Errorf("invalid Validity %d", int8(v))
}

// UnmarshalJSON reads true, false or "unknown".
func (v *Validity) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*v = Valid
	case "false":
		*v = Invalid
	case `"unknown"`:
		*v = Unknown
	default:
		return fmt.Errorf("validity %s: want true, false or \"unknown\"", b)
	}
	return nil
}

// OpRef names an operation in an anomaly: its completion line (its invocation if it never
// completed) and its invocation line, process, function, outcome and times.
type OpRef struct {
	Index       int64           `json:"index"`
	InvokeIndex int64           `json:"invoke_index"`
	Process     history.Process `json:"process"`
	F           string          `json:"f"`
	Type        history.Type    `json:"type"` // invoke: it never completed
	InvokeTime  int64           `json:"invoke_time"`
	Time        int64           `json:"time"` // of the completion; of the invocation if none
}

// Ref names the operation whose invocation is inv and whose completion is done (done is inv if
// it never completed).
func Ref(inv, done *history.Op) OpRef {
	return OpRef{Index: done.Index, InvokeIndex: inv.Index, Process: done.Process, F: done.F, Type: done.Type,
		InvokeTime: inv.Time, Time: done.Time}
}
