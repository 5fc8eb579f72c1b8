package history

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Process identifies who wrote a line: a client process (a non-negative integer), the nemesis or
// the observer.
type Process int64

// The processes that are not clients.
const (
	// NemesisProcess is written as "nemesis": the lines of the fault injector.
	NemesisProcess Process = -1
	// ObserverProcess is written as "observer": what the cluster itself reported.
	ObserverProcess Process = -2
)

// IsClient reports whether p is a client process.
func (p Process) IsClient() bool { return p >= 0 }

// String returns "nemesis", "observer" or the client's number.
func (p Process) String() string {
	switch p {
	case NemesisProcess:
		return "nemesis"
	case ObserverProcess:
		return "observer"
	}
	return strconv.FormatInt(int64(p), 10)
}

// AppendJSON appends p as written in a history line: an integer, "nemesis" or "observer".
func (p Process) AppendJSON(dst []byte) []byte {
	switch p {
	case NemesisProcess:
		return append(dst, `"nemesis"`...)
	case ObserverProcess:
		return append(dst, `"observer"`...)
	}
	return strconv.AppendInt(dst, int64(p), 10)
}

// MarshalJSON implements json.Marshaler.
func (p Process) MarshalJSON() ([]byte, error) {
	if p < ObserverProcess {
		return nil, fmt.Errorf("invalid process %d", int64(p))
	}
	return p.AppendJSON(nil), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *Process) UnmarshalJSON(b []byte) error {
	x, err := parseProcess(b)
	if err != nil {
		return err
	}
	*p = x
	return nil
}

func parseProcess(b []byte) (Process, error) {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, fmt.Errorf("process: %w", err)
		}
		switch s {
		case "nemesis":
			return NemesisProcess, nil
		case "observer":
			return ObserverProcess, nil
		}
		return 0, fmt.Errorf("process %q: want an integer, \"nemesis\" or \"observer\"", s)
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return 0, fmt.Errorf("process %s: want an integer, \"nemesis\" or \"observer\"", truncate(b))
	}
	if n < 0 {
		return 0, fmt.Errorf("process %d: client processes are not negative", n)
	}
	return Process(n), nil
}

// Type is the kind of a line: the invocation of an operation or one of its three completions.
type Type uint8

// The line types. The zero Type is not valid.
const (
	// Invoke starts an operation.
	Invoke Type = iota + 1
	// OK completes an operation that took effect.
	OK
	// Fail completes an operation that certainly had no effect.
	Fail
	// Info completes an operation whose outcome is unknown; nemesis and observer lines are Info too.
	Info
)

var typeNames = [...]string{Invoke: "invoke", OK: "ok", Fail: "fail", Info: "info"}

// String returns the type as written in a history: "invoke", "ok", "fail" or "info".
func (t Type) String() string {
	if t >= Invoke && t <= Info {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// MarshalJSON implements json.Marshaler.
func (t Type) MarshalJSON() ([]byte, error) {
	if t < Invoke || t > Info {
		return nil, fmt.Errorf("invalid type %d", t)
	}
	return strconv.AppendQuote(nil, typeNames[t]), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Type) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("type: %w", err)
	}
	x, ok := parseType(s)
	if !ok {
		return fmt.Errorf("type %q: want invoke, ok, fail or info", s)
	}
	*t = x
	return nil
}

func parseType(s string) (Type, bool) {
	switch s {
	case "invoke":
		return Invoke, true
	case "ok":
		return OK, true
	case "fail":
		return Fail, true
	case "info":
		return Info, true
	}
	return 0, false
}

// Function names (Op.F) with a typed value.
const (
	FSend      = "send"      // Mops: send micro-ops
	FPoll      = "poll"      // Mops: poll micro-ops
	FTxn       = "txn"       // Mops: send and poll micro-ops
	FAssign    = "assign"    // Keys: the partitions a consumer assigns itself
	FSubscribe = "subscribe" // Keys: the partitions whose topics a consumer subscribes to
)

// Observer function names (Op.F of ObserverProcess lines; the value is in Op.Raw). They are a
// closed list (see IsObserverF): a checker must know what every observer line means.
const (
	FPartitionState = "partition-state" // see PartitionState
	FController     = "controller"      // see Controller
	FObserverGap    = "observer-gap"    // see ObserverGap
	FFinalRead      = "final-read"      // see FinalRead
	FBrokerState    = "broker-state"    // see BrokerState
	FMetadataLog    = "metadata-log"    // see MetadataLog
)

// NoOffset stands for an offset that is not known, e.g. that of a send whose outcome is unknown.
const NoOffset int64 = -1

// Op is one line of a history.
//
// Its value is held in one of three fields, chosen by F: Mops for send, poll and txn; Keys for
// assign and subscribe; Raw (the JSON text) for every other F, which includes all nemesis and
// observer lines. A nil field stands for a JSON null (or an absent value).
type Op struct {
	Index   int64   // position of the line in the history, from 0
	Time    int64   // nanoseconds since the test started
	Process Process // the client, NemesisProcess or ObserverProcess
	Type    Type
	F       string
	Mops    []Mop           // F is FSend, FPoll or FTxn
	Keys    []string        // F is FAssign or FSubscribe
	Raw     json.RawMessage // any other F
	// Error says why a Fail or Info completion failed; "" for none. An error written as a JSON
	// string is that string. Any other JSON (Jepsen writes vectors such as
	// ["network","Disconnected"]) is kept, compacted, in ErrorRaw, and Error is its JSON text, a
	// readable form for explanations.
	Error    string
	ErrorRaw json.RawMessage // the error when it is not a JSON string; nil otherwise
}

// HasMops reports whether f's value is a list of micro-operations.
func HasMops(f string) bool { return f == FSend || f == FPoll || f == FTxn }

// HasKeys reports whether f's value is a list of keys.
func HasKeys(f string) bool { return f == FAssign || f == FSubscribe }

// MopKind is the kind of a micro-operation.
type MopKind uint8

// The micro-operation kinds.
const (
	// MopSend appends a value to a key: ["send", key, value] or, completed with a known offset,
	// ["send", key, [offset, value]].
	MopSend MopKind = iota + 1
	// MopPoll reads from the consumer's partitions: ["poll"] or, completed,
	// ["poll", {key: [[offset, value], ...], ...}].
	MopPoll
)

// String returns "send" or "poll".
func (k MopKind) String() string {
	switch k {
	case MopSend:
		return "send"
	case MopPoll:
		return "poll"
	}
	return "MopKind(" + strconv.Itoa(int(k)) + ")"
}

// Mop is one micro-operation of a send, poll or txn.
type Mop struct {
	Kind MopKind
	// Send: the key, the value, and the offset the value took (NoOffset when not known).
	Key    string
	Value  Value
	Offset int64
	// Poll: whether a result is present (false in ["poll"]), and the result: per key, the records
	// the consumer received, in the order written.
	Polled bool
	Reads  []KeyReads
}

// KeyReads is the part of a poll's result for one key.
type KeyReads struct {
	Key     string
	Records []Record
}

// Record is one message read: its offset (NoOffset when not known) and its value.
type Record struct {
	Offset int64
	Value  Value
}

// Send returns the micro-operation ["send", key, v]: an invoked send, or a completed one whose
// offset is not known.
func Send(key string, v Value) Mop {
	return Mop{Kind: MopSend, Key: key, Value: v, Offset: NoOffset}
}

// SendAt returns the micro-operation ["send", key, [offset, v]]: a send that took offset.
func SendAt(key string, offset int64, v Value) Mop {
	return Mop{Kind: MopSend, Key: key, Value: v, Offset: offset}
}

// Poll returns the micro-operation ["poll"] of an invoked poll.
func Poll() Mop { return Mop{Kind: MopPoll} }

// PollResult returns the micro-operation ["poll", {...}] of a poll that received reads. A nil
// reads is written as {}.
func PollResult(reads []KeyReads) Mop { return Mop{Kind: MopPoll, Polled: true, Reads: reads} }

// SendInvoke returns the invocation of a send of v to key by p.
func SendInvoke(p Process, key string, v Value) Op {
	return Op{Process: p, Type: Invoke, F: FSend, Mops: []Mop{Send(key, v)}}
}

// SendOK returns the completion of a send of v to key that took offset (NoOffset if the client
// does not know it).
func SendOK(p Process, key string, offset int64, v Value) Op {
	return Op{Process: p, Type: OK, F: FSend, Mops: []Mop{SendAt(key, offset, v)}}
}

// SendFail returns the completion of a send of v to key that certainly had no effect.
func SendFail(p Process, key string, v Value, err string) Op {
	return Op{Process: p, Type: Fail, F: FSend, Mops: []Mop{Send(key, v)}, Error: err}
}

// SendInfo returns the completion of a send of v to key whose outcome is unknown. p must not
// invoke anything afterwards.
func SendInfo(p Process, key string, v Value, err string) Op {
	return Op{Process: p, Type: Info, F: FSend, Mops: []Mop{Send(key, v)}, Error: err}
}

// PollInvoke returns the invocation of a poll by p.
func PollInvoke(p Process) Op {
	return Op{Process: p, Type: Invoke, F: FPoll, Mops: []Mop{Poll()}}
}

// PollOK returns the completion of a poll that received reads (nil or empty: nothing).
func PollOK(p Process, reads []KeyReads) Op {
	return Op{Process: p, Type: OK, F: FPoll, Mops: []Mop{PollResult(reads)}}
}

// PollFail returns the completion of a poll that failed.
func PollFail(p Process, err string) Op {
	return Op{Process: p, Type: Fail, F: FPoll, Mops: []Mop{Poll()}, Error: err}
}

// PollInfo returns the completion of a poll whose outcome is unknown. p must not invoke anything
// afterwards.
func PollInfo(p Process, err string) Op {
	return Op{Process: p, Type: Info, F: FPoll, Mops: []Mop{Poll()}, Error: err}
}

// AssignInvoke returns the invocation of an assign of keys by p.
func AssignInvoke(p Process, keys []string) Op {
	return Op{Process: p, Type: Invoke, F: FAssign, Keys: keys}
}

// SubscribeInvoke returns the invocation of a subscribe to keys' topics by p.
func SubscribeInvoke(p Process, keys []string) Op {
	return Op{Process: p, Type: Invoke, F: FSubscribe, Keys: keys}
}

// Complete returns the completion of the invocation op with type t and error err, carrying the
// invocation's value: e.g. inv.Complete(history.OK, "") for an assign. Index and Time are zero,
// for the recorder to set.
func (op Op) Complete(t Type, err string) Op {
	return Op{Process: op.Process, Type: t, F: op.F, Mops: op.Mops, Keys: op.Keys, Raw: op.Raw, Error: err}
}

// Nemesis returns a nemesis line (type info) with function f and value v, marshaled with
// encoding/json (nil is written as null). f must be a name Read accepts (see Op.Validate).
func Nemesis(f string, v any) (Op, error) {
	op := Op{Process: NemesisProcess, Type: Info, F: f}
	if err := checkLine(&op); err != nil {
		return Op{}, err
	}
	if err := op.setRaw(v); err != nil {
		return Op{}, fmt.Errorf("nemesis %s: %w", f, err)
	}
	return op, nil
}

func (op *Op) setRaw(v any) error {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if string(b) != "null" {
		op.Raw = b
	}
	return nil
}
