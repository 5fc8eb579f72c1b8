package history

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validate reports whether op is a line a history may hold, by the rules Read applies to every
// line (see checkLine): its f is one its process may write, and a nemesis or observer line is
// info. It is for ops that were not read, such as those built in memory; Read has already
// checked the ones it returns.
func (op *Op) Validate() error {
	if op.Type < Invoke || op.Type > Info {
		return fmt.Errorf("invalid type %d", op.Type)
	}
	if op.Process < ObserverProcess {
		return fmt.Errorf("invalid process %d", int64(op.Process))
	}
	return checkLine(op)
}

// checkLine enforces who may write which f, so that a line no checker understands is an error
// rather than silently ignored:
//
//   - A client line's f is one of the client functions: send, poll, txn (HasMops), assign and
//     subscribe (HasKeys). A checker that met another would not know what it did to the log.
//   - A nemesis line's f is open-ended: faults are added over time (start-X and stop-X bracket
//     fault X, and a fault may record steps of its own, such as isolate-jepsen-2013), and a
//     converted Jepsen history brings its own names (kill, start, bump-clock, ...). Checkers read
//     nemesis lines only for context, so an f they do not know costs nothing. It must still be a
//     name (see validNemesisF), not free text.
//   - An observer line's f is one of a closed list (IsObserverF): observer lines are evidence the
//     checkers decide from, so a new kind must be taught to them, not skipped.
//   - Nemesis and observer lines are info: they record what happened, they invoke nothing.
func checkLine(op *Op) error {
	switch op.Process {
	case NemesisProcess:
		if op.Type != Info {
			return fmt.Errorf("nemesis line %s of type %s: nemesis lines are info", strconv.Quote(op.F), op.Type)
		}
		if !validNemesisF(op.F) {
			return fmt.Errorf("nemesis f %s: want a name of letters, digits, '-', '_', '.' or '/' that is not a client f", strconv.Quote(op.F))
		}
	case ObserverProcess:
		if op.Type != Info {
			return fmt.Errorf("observer line %s of type %s: observer lines are info", strconv.Quote(op.F), op.Type)
		}
		if !IsObserverF(op.F) {
			return fmt.Errorf("unknown observer f %s: want one of %s", strconv.Quote(op.F), strings.Join(observerFs, ", "))
		}
	default:
		if !HasMops(op.F) && !HasKeys(op.F) {
			return fmt.Errorf("unknown client f %s: want %s, %s, %s, %s or %s", strconv.Quote(op.F), FSend, FPoll, FTxn, FAssign, FSubscribe)
		}
	}
	return nil
}

// maxNemesisF bounds the length of a nemesis f.
const maxNemesisF = 128

// validNemesisF reports whether f may name a nemesis function: a non-empty name of ASCII letters,
// digits, '-', '_', '.' and '/' (Clojure's namespaced keywords, in a converted Jepsen history),
// and not a client function (whose value would be read as one).
func validNemesisF(f string) bool {
	if f == "" || len(f) > maxNemesisF || HasMops(f) || HasKeys(f) {
		return false
	}
	for i := 0; i < len(f); i++ {
		switch c := f[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '/':
		default:
			return false
		}
	}
	return true
}

// Printable returns s in a form safe to show on a terminal or in a report: s itself when it is
// valid UTF-8 of printable characters and spaces, else s quoted as Go quotes strings
// (strconv.Quote), so that control characters, escape sequences, bidirectional overrides and
// invalid UTF-8 in a key, a value or an error message are shown escaped, never acted on.
//
// Histories are evidence, and a user's own history may name its keys as it likes: escaping what
// is printed keeps such a history checkable, where rejecting odd keys would refuse to judge it.
// Quoting the whole string, rather than escaping characters in place, keeps the printed form
// unambiguous.
func Printable(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
		i += size
	}
	return s
}
