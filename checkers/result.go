package checkers

import (
	"encoding/json"
	"fmt"

	"github.com/kchaos/kchaos/checkers/txn"
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

// worst combines verdicts: invalid beats unknown beats valid.
func worst(vs ...Validity) Validity {
	w := Valid
	for _, v := range vs {
		if v == Invalid {
			return Invalid
		}
		if v == Unknown {
			w = Unknown
		}
	}
	return w
}

// The anomaly names, as in results.json.
const (
	LostWrite             = "lost-write"
	Unseen                = "unseen"
	Duplicate             = "duplicate"
	InconsistentOffsets   = "inconsistent-offsets"
	G1a                   = "G1a"
	PollSkip              = "poll-skip"
	NonmonotonicPoll      = "nonmonotonic-poll"
	NonmonotonicSend      = "nonmonotonic-send"
	IntPollSkip           = "int-poll-skip"
	IntNonmonotonicPoll   = "int-nonmonotonic-poll"
	IntSendSkip           = "int-send-skip"
	IntNonmonotonicSend   = "int-nonmonotonic-send"
	NotLinearizable       = "not-linearizable"
	UncleanLeaderElection = "unclean-leader-election"
)

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

// Result is the outcome of Check, and marshals to results.json exactly as HISTORY.md says:
// valid, anomaly_types (sorted, [] when none), anomalies (per type, its entries), checkers (per
// checker, its verdict and details).
type Result struct {
	Valid Validity `json:"valid"`
	// AnomalyTypes lists every anomaly type found, allowed ones too (int-send-skip; poll-skip
	// and nonmonotonic-poll of subscribed consumers), as Jepsen does; the verdict counts only
	// the others.
	AnomalyTypes []string         `json:"anomaly_types"`
	Anomalies    map[string][]any `json:"anomalies"`
	Checkers     map[string]any   `json:"checkers"`

	// The checkers' own results, for the report.
	Queue          *QueueResult          `json:"-"`
	Linearizable   *LinearizableResult   `json:"-"`
	LeaderElection *LeaderElectionResult `json:"-"`
	Stats          *Stats                `json:"-"`
	Coverage       *CoverageResult       `json:"-"`
	Txn            *txn.Result           `json:"-"` // nil when the txn checker did not run
}

// JSON returns the results.json text, indented, with a final newline.
func (r *Result) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal results: %w", err)
	}
	return append(b, '\n'), nil
}
