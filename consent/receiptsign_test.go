package consent_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/consent"
)

func signedReceipt(t *testing.T) (*consent.Receipt, ed25519.PrivateKey, string) {
	t.Helper()
	f := newFixture(t, func(o *consent.Options) { o.Receipts = receiptOptions() })
	e := f.record(t, consent.Change{Type: consent.EventGrant, Subject: "customer-1017", Purpose: senderAcme,
		EffectiveAt: day(1), EvidenceHash: sha256.Sum256([]byte("form"))})
	r, err := f.l.Receipt(context.Background(), "customer-1017", e.ID)
	require.NoError(t, err)
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	tok, err := r.Sign(key, "receipts-2026")
	require.NoError(t, err)
	return r, key, tok
}

func TestReceiptSignVerify(t *testing.T) {
	t.Parallel()
	r, key, tok := signedReceipt(t)

	got, kid, err := consent.VerifyReceipt(tok, key.Public().(ed25519.PublicKey))
	require.NoError(t, err)
	assert.Equal(t, "receipts-2026", kid)
	assert.Equal(t, r, got)

	again, err := r.Sign(key, "receipts-2026")
	require.NoError(t, err)
	assert.Equal(t, tok, again, "Ed25519 is deterministic")
}

// The token is checked here without the library: base64url parts, the
// header bytes, the payload as the receipt's JSON and the Ed25519
// signature over the signing input, as any JOSE library checks it.
func TestReceiptTokenByHand(t *testing.T) {
	t.Parallel()
	r, key, tok := signedReceipt(t)
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	assert.Equal(t, `{"alg":"EdDSA","kid":"receipts-2026","typ":"JWT"}`, string(header))
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	want, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(payload))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	assert.True(t, ed25519.Verify(key.Public().(ed25519.PublicKey), []byte(parts[0]+"."+parts[1]), sig))
}

func TestVerifyReceiptRejects(t *testing.T) {
	t.Parallel()
	_, key, tok := signedReceipt(t)
	pub := key.Public().(ed25519.PublicKey)
	other := ed25519.NewKeyFromSeed(append(make([]byte, ed25519.SeedSize-1), 1))
	parts := strings.Split(tok, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	resign := func(header, payload string) string {
		in := b64([]byte(header)) + "." + b64([]byte(payload))
		return in + "." + b64(ed25519.Sign(key, []byte(in)))
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"garbage", "not a token"},
		{"other key", func() string { s, _ := (&consent.Receipt{Version: consent.ReceiptVersion}).Sign(other, ""); return s }()},
		{"payload edited", parts[0] + "." + b64([]byte(strings.Replace(string(payload), "customer-1017", "customer-1018", 1))) + "." + parts[2]},
		{"signature cut", tok[:len(tok)-4]},
		{"typ not JWT", resign(`{"alg":"EdDSA","typ":"erasure-receipt+jwt"}`, string(payload))},
		{"payload not a receipt", resign(`{"alg":"EdDSA","typ":"JWT"}`, `[1,2,3]`)},
		{"unknown member", resign(`{"alg":"EdDSA","typ":"JWT"}`, `{"version":"KI-CR-v1.1.0","extra":1}`)},
		{"trailing data", resign(`{"alg":"EdDSA","typ":"JWT"}`, `{"version":"KI-CR-v1.1.0"} {}`)},
		{"other version", resign(`{"alg":"EdDSA","typ":"JWT"}`, `{"version":"KI-CR-v1.0.0"}`)},
		{"huge", strings.Repeat("a", 2<<20)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, _, err := consent.VerifyReceipt(tc.token, pub)
			require.ErrorIs(t, err, consent.ErrInvalidReceipt)
			assert.Nil(t, r)
			assert.Less(t, len(err.Error()), 200, "no input echoed")
			assert.NotContains(t, err.Error(), "customer-10")
		})
	}
}

func FuzzVerifyReceipt(f *testing.F) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	good, err := (&consent.Receipt{Version: consent.ReceiptVersion, PIIPrincipalID: "s"}).Sign(key, "k")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(good[:len(good)/2])
	pub := key.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, token string) {
		r, _, err := consent.VerifyReceipt(token, pub)
		if err != nil {
			if r != nil {
				t.Fatal("a receipt with an error")
			}
			return
		}
		again, err := r.Sign(key, "k")
		if err != nil || again == "" {
			t.Fatalf("a verified receipt does not sign again: %v", err)
		}
	})
}
