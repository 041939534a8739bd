package consenthttp

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fuzzRing(t testing.TB) *keyring {
	kr, err := newKeyring([]Key{{ID: 1, Secret: bytes.Repeat([]byte{1}, 32)}, {ID: 9, Secret: bytes.Repeat([]byte{9}, 32), RetiredAt: fuzzNow}})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// FuzzOpenToken feeds link tokens to the parser. It must never panic,
// never accept more than MaxTokenLen characters, and whatever it accepts
// must be a token it could have made: valid subject and purpose, right
// kind, not expired.
func FuzzOpenToken(f *testing.F) {
	kr := fuzzRing(f)
	rnd := rand.NewChaCha8([32]byte{})
	for _, c := range []claims{
		{kind: kindUnsubscribe, subject: "customer-1017", purpose: "newsletter"},
		{kind: kindPreferences, subject: "customer-1017"},
		{kind: kindUnsubscribe, subject: "s", purpose: "newsletter.acme"},
	} {
		c.issued, c.expires = fuzzNow, fuzzNow.Add(time.Hour)
		tok, err := kr.seal(rnd, c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		for _, kind := range []byte{kindUnsubscribe, kindPreferences} {
			c, err := kr.open(tok, kind, fuzzNow, time.Hour)
			if err != nil {
				continue
			}
			if len(tok) > MaxTokenLen {
				t.Fatalf("accepted a token of %d characters", len(tok))
			}
			if c.kind != kind || c.subject.Validate() != nil || !fuzzNow.Before(c.expires) {
				t.Fatalf("accepted %+v", c)
			}
			if kind == kindUnsubscribe && c.purpose.Validate() != nil || kind == kindPreferences && c.purpose != "" {
				t.Fatalf("accepted purpose %q for kind %d", c.purpose, kind)
			}
		}
	})
}

// FuzzFormToken checks that no input but a token made for the same subject
// and fields passes, and that nothing panics.
func FuzzFormToken(f *testing.F) {
	kr := fuzzRing(f)
	good := kr.formToken("customer-1017", fuzzNow, "en", "2026-01", "ab", "newsletter")
	f.Add(good)
	f.Add(strings.Repeat("A", formTokenLen))
	f.Fuzz(func(t *testing.T, tok string) {
		err := kr.checkFormToken(tok, "customer-1017", fuzzNow, time.Hour, "en", "2026-01", "ab", "newsletter")
		if err == nil && tok != good {
			t.Fatalf("accepted a form token that was not made: %q", tok)
		}
		if err := kr.checkFormToken(tok, "customer-2", fuzzNow, time.Hour, "en", "2026-01", "ab", "newsletter"); err == nil {
			t.Fatalf("accepted a form token of another subject")
		}
	})
}

// FuzzAcceptLanguage checks that any header yields one of the two
// languages.
func FuzzAcceptLanguage(f *testing.F) {
	for _, s := range []string{"", "nl", "en-GB,nl;q=0.9", "nl;q=0.5,en;q=0.6", "*", "nl;q=abc", strings.Repeat("nl;q=0.1,", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if l := acceptLanguage(h, "en"); l != "en" && l != "nl" {
			t.Fatalf("acceptLanguage(%q) = %q", h, l)
		}
	})
}
