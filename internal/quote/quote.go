// Package quote formats outside input for error messages: quoted, and cut
// to a fixed length so that a megabyte of input never becomes a megabyte of
// error text. Every package of the module quotes echoed input through it.
package quote

import (
	"strconv"
	"unicode/utf8"
)

// Max is the number of input bytes an echoed value keeps at most.
const Max = 64

// String returns s quoted as Go source (strconv.Quote). When s is longer
// than [Max] bytes it is cut at a rune boundary at or before Max, and the
// result says how many bytes were left out: "abc"…(+1000 bytes).
func String(s string) string {
	if len(s) <= Max {
		return strconv.Quote(s)
	}
	cut := Max
	for cut > Max-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…(+" + strconv.Itoa(len(s)-cut) + " bytes)"
}

// Bytes is [String] for a byte slice; it copies at most Max+3 bytes.
func Bytes(b []byte) string {
	if len(b) <= Max {
		return strconv.Quote(string(b))
	}
	head := String(string(b[:Max+1]))
	// head reports the bytes cut from the Max+1 prefix; report them from b.
	cut := Max
	for cut > Max-utf8.UTFMax && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return head[:len(head)-len("…(+"+strconv.Itoa(Max+1-cut)+" bytes)")] + "…(+" + strconv.Itoa(len(b)-cut) + " bytes)"
}
