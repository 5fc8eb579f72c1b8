package results

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Printable returns s with every character that would not show as itself written as a Go escape
// (\x1b, \u202e): control characters but newline and tab, format characters such as those that
// reorder text (bidirectional overrides and isolates, which can make a key read as another), and
// bytes that are not UTF-8. It escapes in place where history.Printable quotes the whole
// string, so that multi-line text (an entry's JSON, the re-run command) keeps its lines. Text from a history is shown through it, in the report and on a terminal, so
// that it can neither hide nor pass for other text, nor drive a terminal with escape sequences.
func Printable(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case hidden(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r) && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || hidden(r) {
			return true
		}
		i += size
	}
	return false
}

// hidden reports whether r does not show as itself: what strconv.IsPrint (and so
// history.Printable) calls unprintable, that is control characters, format characters such as
// the bidirectional overrides and isolates, and spaces other than U+0020; newline and tab aside,
// since the report shows multi-line text.
func hidden(r rune) bool {
	return r != '\n' && r != '\t' && !strconv.IsPrint(r)
}

// printableStrings rewrites, with Printable, every string reachable from v (a pointer to a view):
// fields, slices and maps of structs and pointers. The views hold only what the templates show,
// so every text from the run goes through it, whichever field it lands in.
func printableStrings(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			printableStrings(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				printableStrings(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			printableStrings(v.Index(i))
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(Printable(v.String()))
		}
	}
}
