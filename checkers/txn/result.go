package txn

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kchaos/kchaos/checkers/verdict"
	"github.com/kchaos/kchaos/history"
)

// Validity is a verdict: valid, invalid or unknown. It is verdict.Validity, checkers.Validity
// too.
type Validity = verdict.Validity

// The verdicts.
const (
	Valid   = verdict.Valid
	Invalid = verdict.Invalid
	Unknown = verdict.Unknown
)

// The anomaly names, as in results.json.
const (
	// AbortedRead: a poll read a value sent by a transaction that failed (aborted). Jepsen's
	// kafka workload calls it G1a when the reader committed; every G1a is an aborted-read.
	AbortedRead = "aborted-read"
	// PrecommittedRead: a transaction read a value it sent itself, before it committed (Jepsen's
	// precommitted-read).
	PrecommittedRead = "precommitted-read"
	// Duplicate: one value at more than one offset of a key.
	Duplicate = "duplicate"
	// TornTransaction: a committed transaction some of whose sends were read while another is
	// missing from reads of its key that went past where it should be.
	TornTransaction = "torn-transaction"
	// G1b: an intermediate read (Elle): a transaction's last read of a key is a value another
	// transaction sent to that key before sending it another.
	G1b = "G1b"

	// The dependency cycles (Elle), by the edges they need: G0 ww only; G1c ww and wr, at least
	// one wr; G-single exactly one rw; G2 two or more rw. The -process and -realtime variants
	// need process order or real-time order edges besides.
	G0       = "G0"
	G1c      = "G1c"
	GSingle  = "G-single"
	G2       = "G2"
	process  = "-process"
	realtime = "-realtime"
)

var cycleBases = []string{G0, G1c, GSingle, G2}

// cycleBase returns the cycle type without its -process or -realtime variant.
func cycleBase(typ string) string {
	typ, _ = strings.CutSuffix(typ, process)
	typ, _ = strings.CutSuffix(typ, realtime)
	return typ
}

func isCycleType(typ string) bool {
	b := cycleBase(typ)
	for _, c := range cycleBases {
		if b == c {
			return true
		}
	}
	return false
}

// OpRef names an operation in an anomaly: its completion line (its invocation if it never
// completed) and its invocation line, process, function, outcome and times. It is verdict.OpRef,
// checkers.OpRef too.
type OpRef = verdict.OpRef

// Result is the verdict of Check. It marshals like the checkers' results: valid, anomaly_types
// (sorted, [] when none), anomalies (per type, its entries), and details.
type Result struct {
	Valid Validity `json:"valid"`
	// AnomalyTypes lists every anomaly type found, allowed ones too, sorted.
	AnomalyTypes []string `json:"anomaly_types"`
	// Anomalies holds the entries of each type, at most Options.MaxEntries of each, in a fixed
	// order: each names the operations involved and explains itself.
	Anomalies map[string][]any `json:"anomalies"`
	// BadAnomalyTypes are the types found with entries the options do not allow, sorted.
	BadAnomalyTypes []string `json:"bad_anomaly_types"`
	// Counts gives the number of entries of each type found.
	Counts map[string]int `json:"counts"`
	// Reason says why the verdict is unknown: the search ran out of time, or nothing was tested.
	Reason string `json:"reason,omitempty"`
	// Errors say what the checker could not read (a malformed final-read line).
	Errors []string `json:"errors,omitempty"`
	// Options are the options the history was judged by, defaults filled in.
	Isolation Isolation `json:"isolation"`
	Producer  Producer  `json:"producer"`
	Stats     Stats     `json:"stats"`

	// The entries, all of them, by type.
	AbortedReads      []AbortedReadCase      `json:"-"`
	PrecommittedReads []PrecommittedReadCase `json:"-"`
	Duplicates        []DuplicateCase        `json:"-"`
	TornTransactions  []TornTransactionCase  `json:"-"`
	IntermediateReads []G1bCase              `json:"-"`
	Cycles            []CycleCase            `json:"-"` // sorted by type, then by first transaction
}

// Stats counts what the history held and what the cycle search looked at.
type Stats struct {
	// Transactions counts the send, poll and txn operations; Committed those that took effect
	// (ok, or info and seen), Aborted those that failed, Indeterminate the others.
	Transactions  int `json:"transactions"`
	Committed     int `json:"committed"`
	Aborted       int `json:"aborted"`
	Indeterminate int `json:"indeterminate"`
	// Sends and Reads count the committed transactions' sends and every record polled.
	Sends int `json:"sends"`
	Reads int `json:"reads"`
	// Edges counts the dependency graph's edges between committed transactions, by kind (an
	// edge of two kinds counts for both).
	Edges EdgeStats `json:"edges"`
	// Components counts the strongly connected components of two or more transactions in the
	// whole graph, and Largest the transactions of the largest.
	Components int `json:"components"`
	Largest    int `json:"largest"`
}

// EdgeStats counts edges by kind.
type EdgeStats struct {
	WW       int `json:"ww"`
	WR       int `json:"wr"`
	RW       int `json:"rw"`
	Process  int `json:"process"`
	Realtime int `json:"realtime"`
}

// AbortedReadCase is an aborted-read: a poll read a value whose transaction failed.
type AbortedReadCase struct {
	Key         string        `json:"key"`
	Value       history.Value `json:"value"`
	Offset      int64         `json:"offset"` // where the reader read it; -1 unknown
	Writer      OpRef         `json:"writer"`
	Reader      OpRef         `json:"reader"`
	Explanation string        `json:"explanation"`
}

// PrecommittedReadCase is a precommitted-read: a transaction polled a value it sent itself.
// Count is the number of such values it read; Key and Value are the first.
type PrecommittedReadCase struct {
	Op          OpRef         `json:"op"`
	Key         string        `json:"key"`
	Value       history.Value `json:"value"`
	Offset      int64         `json:"offset"`
	Count       int           `json:"count"`
	Explanation string        `json:"explanation"`
}

// DuplicateCase is a duplicate: one value at more than one offset of a key.
type DuplicateCase struct {
	Key         string        `json:"key"`
	Value       history.Value `json:"value"`
	Offsets     []int64       `json:"offsets"`
	Writer      *OpRef        `json:"writer,omitempty"`
	Explanation string        `json:"explanation"`
}

// TornTransactionCase is a torn-transaction: a committed transaction whose Seen sends were read
// while its Missing ones were not, though reads of their keys went past where they belong.
type TornTransactionCase struct {
	Txn         OpRef        `json:"txn"`
	Seen        []SeenSend   `json:"seen"`
	Missing     []MissedSend `json:"missing"`
	Explanation string       `json:"explanation"`
}

// SeenSend is a send of a torn transaction that was read, and the first operation to read it.
type SeenSend struct {
	Key    string        `json:"key"`
	Value  history.Value `json:"value"`
	Offset int64         `json:"offset"`
	Reader OpRef         `json:"reader"`
}

// MissedSend is a send of a torn transaction no poll read. Its key was read past its offset
// (ReadPast, at ReadPastOffset), or the key's final reads read its whole log (FinalRead).
type MissedSend struct {
	Key            string        `json:"key"`
	Value          history.Value `json:"value"`
	Offset         int64         `json:"offset"` // -1 unknown
	ReadPast       *OpRef        `json:"read_past,omitempty"`
	ReadPastOffset int64         `json:"read_past_offset,omitempty"`
	FinalRead      bool          `json:"final_read,omitempty"`
}

// G1bCase is an intermediate read: Reader's last read of Key was Value, which Writer sent before
// sending Later to the same key, and Reader did not read Later.
type G1bCase struct {
	Key         string        `json:"key"`
	Value       history.Value `json:"value"`
	Offset      int64         `json:"offset"`
	Later       history.Value `json:"later"`
	Writer      OpRef         `json:"writer"`
	Reader      OpRef         `json:"reader"`
	Explanation string        `json:"explanation"`
}

// CycleCase is a dependency cycle: Txns[i] must precede Txns[i+1] (and the last the first) for
// the reason Steps[i] gives, so no order of the transactions explains the history.
type CycleCase struct {
	Type  string  `json:"type"`
	Txns  []OpRef `json:"txns"`
	Steps []Step  `json:"steps"`
	// WWEdges counts the steps that are ww edges. Kafka does not isolate writes, so a G1c cycle
	// with one is allowed, and one without is not under read_committed.
	WWEdges     int    `json:"ww_edges"`
	Explanation string `json:"explanation"`
}

// Step is one edge of a cycle: why transaction From (an index into the cycle's Txns) precedes
// To. Type is ww, wr, rw, process or realtime.
//
//   - ww: From sent Key=Value at Offset, To sent NextValue at the next offset of Key, NextOffset.
//   - wr: From sent Key=Value and To read it, at Offset.
//   - rw: From's last read of Key was Value at Offset; To sent NextValue at the next offset,
//     NextOffset, which From did not read.
//   - process: Process completed From before invoking To.
//   - realtime: From completed before To was invoked.
type Step struct {
	Type        string           `json:"type"`
	From        int              `json:"from"`
	To          int              `json:"to"`
	Key         string           `json:"key,omitempty"`
	Value       *history.Value   `json:"value,omitempty"`
	Offset      *int64           `json:"offset,omitempty"`
	NextValue   *history.Value   `json:"next_value,omitempty"`
	NextOffset  *int64           `json:"next_offset,omitempty"`
	Process     *history.Process `json:"process,omitempty"`
	Explanation string           `json:"explanation"`
}

// JSON returns the result as indented JSON with a final newline.
func (r *Result) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal txn result: %w", err)
	}
	return append(b, '\n'), nil
}
