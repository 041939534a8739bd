package consent_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/consent"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func receiptOptions() consent.ReceiptOptions {
	return consent.ReceiptOptions{
		Jurisdiction: "NL",
		Service:      "Example Mail",
		Termination:  "withdraw at any time with the unsubscribe link in every mailing",
		Controllers: []consent.ReceiptController{{
			Name: "Example B.V.", Contact: "Privacy desk", Email: "privacy@example.nl", Phone: "+31 20 000 0000",
			Address: consent.ReceiptAddress{StreetAddress: "Voorbeeldstraat 1", PostalCode: "1000 AA", AddressLocality: "Amsterdam", AddressCountry: "NL"},
			URL:     "https://example.nl",
		}},
	}
}

func TestReceiptGolden(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *consent.Options) { o.Receipts = receiptOptions() })
	ctx := context.Background()
	e := f.record(t, consent.Change{Type: consent.EventGrant, Subject: "customer-1017", Purpose: senderAcme,
		EffectiveAt: day(1), ExpiresAt: day(366), EvidenceHash: sha256.Sum256([]byte("form"))})
	r, err := f.l.Receipt(ctx, "customer-1017", e.ID)
	require.NoError(t, err)
	got, err := json.MarshalIndent(r, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	golden := filepath.Join("testdata", "receipt.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test -run TestReceiptGolden -update to create it")
	assert.JSONEq(t, string(want), string(got))
	assert.Equal(t, string(want), string(got))

	// The Kantara fields are all there.
	var m map[string]any
	require.NoError(t, json.Unmarshal(got, &m))
	for _, k := range []string{"version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID",
		"language", "piiPrincipalId", "piiControllers", "policyUrl", "services", "sensitive", "spiCat"} {
		assert.Contains(t, m, k)
	}
	p := m["services"].([]any)[0].(map[string]any)["purposes"].([]any)[0].(map[string]any)
	for _, k := range []string{"purpose", "purposeCategory", "consentType", "piiCategory", "primaryPurpose", "termination", "thirdPartyDisclosure"} {
		assert.Contains(t, p, k)
	}
	assert.Equal(t, true, p["thirdPartyDisclosure"])
}

func TestReceiptErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	w := f.record(t, consent.Change{Type: consent.EventWithdraw, Subject: "s", Purpose: newsletter, EffectiveAt: day(1)})
	_, err := f.l.Receipt(ctx, "s", w.ID)
	require.ErrorIs(t, err, consent.ErrNotFound, "a withdrawal has no receipt")
	_, err = f.l.Receipt(ctx, "s", ulid.MustNew(ulid.Timestamp(time.Now()), nil))
	require.ErrorIs(t, err, consent.ErrNotFound)
	_, err = f.l.Receipt(ctx, "other", w.ID)
	require.ErrorIs(t, err, consent.ErrNotFound)
}
