package jws_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/personaldata/personaldata/internal/jws"
)

// RFC 8037 Appendix A.1 (key) and A.4 (signature).
const (
	rfcD     = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
	rfcX     = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	rfcToken = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

func rfcKey(t testing.TB) ed25519.PrivateKey {
	d, err := base64.RawURLEncoding.DecodeString(rfcD)
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(d)
}

func TestRFC8037Vector(t *testing.T) {
	key := rfcKey(t)
	x, _ := base64.RawURLEncoding.DecodeString(rfcX)
	if !key.Public().(ed25519.PublicKey).Equal(ed25519.PublicKey(x)) {
		t.Fatal("public key of A.1 does not match x")
	}
	got, err := jws.Sign(key, "", "", []byte("Example of Ed25519 signing"))
	if err != nil {
		t.Fatal(err)
	}
	if got != rfcToken {
		t.Fatalf("Sign = %s\nwant  %s", got, rfcToken)
	}
	tok, err := jws.Verify(rfcToken, ed25519.PublicKey(x))
	if err != nil {
		t.Fatal(err)
	}
	if string(tok.Payload) != "Example of Ed25519 signing" || tok.Header.Alg != "EdDSA" {
		t.Fatalf("Verify = %+v", tok)
	}
}

// TestIndependentVerification checks a token the way any JOSE library
// would, with nothing but crypto/ed25519 and base64url.
func TestIndependentVerification(t *testing.T) {
	key := rfcKey(t)
	tok, err := jws.Sign(key, "receipts-2026", "erasure-receipt+jwt", []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatal(tok)
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(h) != `{"alg":"EdDSA","kid":"receipts-2026","typ":"erasure-receipt+jwt"}` {
		t.Fatalf("header %s", h)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(key.Public().(ed25519.PublicKey), []byte(parts[0]+"."+parts[1]), sig) {
		t.Fatal("signature does not verify by hand")
	}
}

func TestRejects(t *testing.T) {
	key := rfcKey(t)
	pub := key.Public().(ed25519.PublicKey)
	enc := base64.RawURLEncoding.EncodeToString
	parts := strings.Split(rfcToken, ".")
	other := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	flipped := []byte(parts[1])
	flipped[3] ^= 1
	tests := []struct {
		name  string
		token string
		pub   ed25519.PublicKey
		want  error
	}{
		{"edited payload", parts[0] + "." + string(flipped) + "." + parts[2], pub, jws.ErrSignature},
		{"other key", rfcToken, other, jws.ErrSignature},
		{"two parts", parts[0] + "." + parts[1], pub, jws.ErrMalformed},
		{"four parts", rfcToken + ".x", pub, jws.ErrMalformed},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2], pub, jws.ErrMalformed},
		{"standard alphabet", parts[0] + "." + parts[1] + "." + strings.ReplaceAll(strings.ReplaceAll(parts[2], "_", "/"), "-", "+"), pub, jws.ErrMalformed},
		{"alg none", enc([]byte(`{"alg":"none"}`)) + "." + parts[1] + "." + parts[2], pub, jws.ErrAlgorithm},
		{"alg HS256", enc([]byte(`{"alg":"HS256"}`)) + "." + parts[1] + "." + parts[2], pub, jws.ErrAlgorithm},
		{"no alg", enc([]byte(`{"kid":"a"}`)) + "." + parts[1] + "." + parts[2], pub, jws.ErrMalformed},
		{"duplicate alg", enc([]byte(`{"alg":"none","alg":"EdDSA"}`)) + "." + parts[1] + "." + parts[2], pub, jws.ErrMalformed},
		{"crit", enc([]byte(`{"alg":"EdDSA","crit":["x"]}`)) + "." + parts[1] + "." + parts[2], pub, jws.ErrMalformed},
		{"embedded key", enc([]byte(`{"alg":"EdDSA","jwk":{}}`)) + "." + parts[1] + "." + parts[2], pub, jws.ErrMalformed},
		{"header array", enc([]byte(`["alg"]`)) + "." + parts[1] + "." + parts[2], pub, jws.ErrMalformed},
		{"short signature", parts[0] + "." + parts[1] + "." + parts[2][:40], pub, jws.ErrMalformed},
		{"too long", strings.Repeat("a", jws.MaxLen+1), pub, jws.ErrMalformed},
		{"bad public key", rfcToken, pub[:31], jws.ErrKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := jws.Verify(tc.token, tc.pub); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignBadKey(t *testing.T) {
	if _, err := jws.Sign(ed25519.PrivateKey(make([]byte, 10)), "", "", nil); !errors.Is(err, jws.ErrKey) {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(rfcToken)
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := jws.Parse(s)
		if err != nil {
			return
		}
		if tok.Header.Alg != jws.Alg || len(tok.Signature) != ed25519.SignatureSize {
			t.Fatalf("accepted %+v", tok)
		}
		// A parsed token re-encodes to the text it came from.
		parts := strings.Split(s, ".")
		if base64.RawURLEncoding.EncodeToString(tok.Payload) != parts[1] || tok.SigningInput != parts[0]+"."+parts[1] {
			t.Fatal("round trip differs")
		}
	})
}
