// Package history is the typed model of kchaos histories (history.jsonl, see shared/HISTORY.md)
// and their fast reading and writing.
//
// # The model
//
// A history is a []Op, one Op per line. An Op's value lives in one of three fields, chosen by its
// function F:
//
//   - send, poll, txn: Mops, a list of micro-operations (Mop). A send micro-op has a Key, a Value
//     and the Offset it took (NoOffset when not known); a poll micro-op has, once completed, the
//     Reads it received per key, in order.
//   - assign, subscribe: Keys.
//   - anything else, which includes every nemesis and observer line: Raw, the JSON text. The
//     observer's values decode with Op.PartitionState, Op.Controller, Op.ObserverGap and
//     Op.FinalRead; a nemesis value's nodes with DecodeNemesisValue.
//
// A line's f must be one its writer may write (a client f, an observer f of the closed list, a
// nemesis name), and nemesis and observer lines are info; reading fails on any other line. An
// error is any JSON: Error is its text, ErrorRaw keeps it when it is not a string.
//
// Message values are JSON scalars held in a Value: integers cheaply, anything else as canonical
// JSON text. Processes are a Process: a client number, NemesisProcess or ObserverProcess.
//
// # Writing (the recorder)
//
// Build ops with the constructors, set Index (the line's position from 0) and Time (nanoseconds
// since the test started, monotonic), and write them with a Writer (or AppendJSON):
//
//	w := history.NewWriter(f)
//	inv := history.SendInvoke(3, "kchaos/0", history.IntValue(17))
//	inv.Index, inv.Time = 0, 1200
//	w.Write(&inv)
//	done := history.SendOK(3, "kchaos/0", 42, history.IntValue(17)) // took offset 42
//	done.Index, done.Time = 1, 5400
//	w.Write(&done)
//	w.Flush()
//
// The constructors: SendInvoke, SendOK, SendFail, SendInfo; PollInvoke, PollOK (with
// []KeyReads), PollFail, PollInfo; AssignInvoke, SubscribeInvoke and Op.Complete for their
// completions (and for any completion that carries its invocation's value); Nemesis for fault
// lines; ObservePartitionState, ObserveController, ObserveGap, ObserveFinalRead for the observer. Micro-ops for
// multi-key sends and txns: Send, SendAt, Poll, PollResult. A process whose operation ended
// Info must never invoke again: the worker goes on under a new process number.
//
// # Reading (the checkers, the report)
//
// Read and ReadFile parse a whole history on all CPUs with a hand-written scanner for the
// shapes above, falling back to encoding/json for anything else; Decoder reads one line at a
// time. A malformed line is a *LineError naming the line. Pair matches invocations with their
// completions; FaultWindows pairs the nemesis lines into faults. Printable makes any history
// text (a key, a value, an error) safe to print.
package history
