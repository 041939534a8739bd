package quote_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/personaldata/personaldata/internal/quote"
)

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"short", "newsletter", `"newsletter"`},
		{"control characters", "a\nb\x00", `"a\nb\x00"`},
		{"exactly max", strings.Repeat("a", quote.Max), `"` + strings.Repeat("a", quote.Max) + `"`},
		{"one over", strings.Repeat("a", quote.Max+1), `"` + strings.Repeat("a", quote.Max) + `"…(+1 bytes)`},
		{"ten MiB", strings.Repeat("x", 10<<20), `"` + strings.Repeat("x", quote.Max) + `"…(+10485696 bytes)`},
		{"rune on the boundary", strings.Repeat("a", quote.Max-1) + "é" + "z", `"` + strings.Repeat("a", quote.Max-1) + `"…(+3 bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := quote.String(tt.in); got != tt.want {
				t.Errorf("String = %s, want %s", got, tt.want)
			}
			if got := quote.Bytes([]byte(tt.in)); got != tt.want {
				t.Errorf("Bytes = %s, want %s", got, tt.want)
			}
		})
	}
}

func FuzzString(f *testing.F) {
	f.Add("newsletter")
	f.Add(strings.Repeat("é", 40))
	f.Add(string([]byte{0xff, 0xfe}) + strings.Repeat("a", 70))
	f.Fuzz(func(t *testing.T, s string) {
		got := quote.String(s)
		if len(got) > 6*quote.Max+32 {
			t.Fatalf("len %d for input of %d bytes", len(got), len(s))
		}
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		if b := quote.Bytes([]byte(s)); b != got {
			t.Fatalf("Bytes %s != String %s", b, got)
		}
	})
}
