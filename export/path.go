package export

import "strings"

// EscapePathSegment returns s as a file name segment of ASCII letters,
// digits, '.', '-' and '_' only: every other byte, and '_' itself, becomes
// '_' followed by two lower-case hex digits. Distinct inputs give distinct
// outputs, and the result never contains '/' or '\\'. Package paths are
// built from category names (already safe) and Go field names passed
// through it, never from record content.
func EscapePathSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}
