package checkers

import (
	"encoding/json"
	"fmt"

	"github.com/kchaos/kchaos/checkers/txn"
	"github.com/kchaos/kchaos/checkers/verdict"
)

// Validity is a verdict: valid, invalid, or unknown (a checker could not decide). It is written
// as true, false or "unknown". It is verdict.Validity, which the txn checker's results use too.
type Validity = verdict.Validity

// The verdicts.
const (
	Valid   = verdict.Valid
	Invalid = verdict.Invalid
	Unknown = verdict.Unknown
)

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
// completed) and its invocation line, process, function, outcome and times. It is verdict.OpRef,
// which the txn checker's anomalies use too.
type OpRef = verdict.OpRef

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
