package results

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Printable returns s with every character that would not show as itself written as a Go escape
// (\x1b, \u202e): control characters but newline and tab, the controls that reorder text
// (bidirectional overrides and isolates, which can make a key read as another), and bytes that
// are not UTF-8. Text from a history is shown through it, in the report and on a terminal, so
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
		case hidden(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
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

// hidden reports whether r does not show as itself: C0 and C1 controls (newline and tab aside),
// DEL, and the bidirectional formatting characters.
func hidden(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
		r == 0x2028, r == 0x2029, r == 0xfeff:
		return true
	}
	return false
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
