package erasure_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
)

// receipts makes a service with n refused requests and returns the tokens.
func receipts(t *testing.T, n int) (*fixture, []string) {
	f := newFixture(t, nil)
	var tokens []string
	for range n {
		r, err := f.svc.Submit(f.ctx, erasure.Submission{Subject: "s-1", Kind: erasure.KindAccess, Actor: "subject"})
		require.NoError(t, err)
		_, rc, err := f.svc.Refuse(f.ctx, r.ID, "staff", "identity not verified", "")
		require.NoError(t, err)
		tokens = append(tokens, rc.Token)
	}
	return f, tokens
}

// TestReceiptIndependentVerification checks a receipt with nothing but
// crypto/ed25519 and base64url, as any JOSE library would.
func TestReceiptIndependentVerification(t *testing.T) {
	t.Parallel()
	f, tokens := receipts(t, 2)
	parts := strings.Split(tokens[1], ".")
	require.Len(t, parts, 3)
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"alg":"EdDSA","kid":"receipts-1","typ":"erasure-receipt+jwt"}`, string(header))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	assert.True(t, ed25519.Verify(f.svc.PublicKey(), []byte(parts[0]+"."+parts[1]), sig))

	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	prev := sha256.Sum256([]byte(tokens[0]))
	assert.Equal(t, hex.EncodeToString(prev[:]), claims["prev"])
	assert.Equal(t, "https://example.nl", claims["iss"])
	assert.NotContains(t, string(payload), "s-1")
}

func TestReceiptForgeries(t *testing.T) {
	t.Parallel()
	f, tokens := receipts(t, 3)
	pub := f.svc.PublicKey()
	parts := strings.Split(tokens[1], ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	edited := strings.Replace(string(payload), `"outcome":"refused"`, `"outcome":"completed"`, 1)
	require.NotEqual(t, string(payload), edited)
	forger := ed25519.NewKeyFromSeed(make([]byte, 32))
	forger[0] ^= 1
	forger = ed25519.NewKeyFromSeed(forger[:32])
	resigned := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(edited))
	tests := []struct {
		name  string
		token string
	}{
		{"edited payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(edited)) + "." + parts[2]},
		{"signed by another key", resigned + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(forger, []byte(resigned)))},
		{"truncated", tokens[1][:len(tokens[1])-5]},
		{"not a token", "hello"},
		{"empty", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := erasure.Verify(tc.token, pub)
			assert.ErrorIs(t, err, erasure.ErrInvalidReceipt)
		})
	}

	// The chain: complete verifies; a receipt left out or swapped does not.
	_, err := erasure.VerifyChain(tokens, pub)
	require.NoError(t, err)
	_, err = erasure.VerifyChain([]string{tokens[0], tokens[2]}, pub)
	assert.ErrorIs(t, err, erasure.ErrInvalidReceipt)
	_, err = erasure.VerifyChain([]string{tokens[1], tokens[0]}, pub)
	assert.ErrorIs(t, err, erasure.ErrInvalidReceipt)
	n, err := f.svc.VerifyReceipts(f.ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
}

// TestReceiptWithoutPersonalData checks a completed erasure's receipt
// names neither the subject nor an identifier.
func TestReceiptWithoutPersonalData(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.scopes["jan-jansen-1001"] = []erasure.ScopeFacts{{Scope: personaldata.DefaultScope}}
	r := f.submitVerified(t, "jan-jansen-1001", erasure.Email("jan@example.nl"), erasure.Phone("+31 6 1234 5678"))
	_, rc, err := f.svc.Execute(f.ctx, r.ID, "staff")
	require.NoError(t, err)
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(rc.Token, ".")[1])
	require.NoError(t, err)
	for _, s := range []string{"jan", "jansen", "1234", "5678"} {
		assert.NotContains(t, strings.ToLower(string(payload)), s)
	}
	assert.Equal(t, 2, rc.Erased.Suppressed)
	hits, err := f.svc.Suppressed(f.ctx, erasure.Phone("0031612345678"))
	require.NoError(t, err)
	assert.Len(t, hits, 1, "phone numbers are normalised as the blind index does")
}

func FuzzVerify(f *testing.F) {
	fx := newFixture(f, nil)
	r, err := fx.svc.Submit(fx.ctx, erasure.Submission{Subject: "s-1", Kind: erasure.KindAccess, Actor: "subject"})
	if err != nil {
		f.Fatal(err)
	}
	_, rc, err := fx.svc.Refuse(fx.ctx, r.ID, "staff", "reason", "evidence")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rc.Token)
	pub := fx.svc.PublicKey()
	f.Fuzz(func(t *testing.T, token string) {
		got, err := erasure.Verify(token, pub)
		if err != nil {
			return
		}
		if got.Token != token || got.Seq == 0 {
			t.Fatalf("accepted %q", token)
		}
	})
}
