package consent_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/pii"
)

func newProtector(t testing.TB) *pii.Protector {
	t.Helper()
	w, err := pii.NewLocalKeyWrapper("kek-1", bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	p, err := pii.New(pii.NewMemoryKeyStore(), w, nil)
	require.NoError(t, err)
	return p
}

// TestErasureKeepsProof: personal data in events is sealed under the
// subject's key; after the key is shredded the chain still verifies,
// decisions still answer, and nothing personal reads back.
func TestErasureKeepsProof(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prot := newProtector(t)
	f := newFixture(t, func(o *consent.Options) { o.Sealer = prot })
	const email, note = "jan.jansen@example.nl", "signed up at the stand, IP 192.0.2.44"
	const s = personaldata.SubjectID("customer-1017")

	grant := f.record(t, consent.Change{Type: consent.EventGrant, Subject: s, Purpose: newsletter, EffectiveAt: day(1),
		Personal: &consent.PersonalData{Contact: email, Evidence: note}})
	f.record(t, consent.Change{Type: consent.EventGrant, Subject: s, Purpose: testimonials, EffectiveAt: day(2)})
	other := f.record(t, consent.Change{Type: consent.EventGrant, Subject: "customer-2", Purpose: newsletter, EffectiveAt: day(1),
		Personal: &consent.PersonalData{Contact: "piet@example.nl"}})

	// Nothing personal is stored in the clear, or hashed in the clear.
	for _, subj := range []personaldata.SubjectID{s, "customer-2"} {
		recs, err := f.store.Events(ctx, subj)
		require.NoError(t, err)
		for _, r := range recs {
			for _, secret := range []string{email, "192.0.2.44", "piet@"} {
				assert.NotContains(t, string(r.Data), secret)
			}
		}
	}
	require.NotEmpty(t, grant.Sealed)
	got, err := f.l.Reveal(ctx, grant)
	require.NoError(t, err)
	assert.Equal(t, consent.PersonalData{Contact: email, Evidence: note}, got)

	// Erase: the ledger records it, the host shreds the key.
	f.record(t, consent.Change{Type: consent.EventErase, Subject: s, EffectiveAt: day(5),
		Method: consent.MethodAdministrator, Actor: consent.ActorAdministrator})
	require.NoError(t, prot.ForgetSubject(ctx, s))

	require.NoError(t, f.l.Verify(ctx, s), "the chain still verifies")
	d := f.decide(t, s, newsletter, day(6))
	assert.False(t, d.Allowed)
	assert.Equal(t, consent.ReasonErased, d.Reason)
	assert.True(t, f.decide(t, s, newsletter, day(3)).Allowed, "the past is still provable")

	h, err := f.l.History(ctx, s)
	require.NoError(t, err)
	require.Len(t, h, 3)
	_, err = f.l.Reveal(ctx, h[0])
	require.ErrorIs(t, err, consent.ErrErased)
	_, err = prot.Open(ctx, s, personaldata.DefaultScope, consent.DefaultCategory, h[0].Sealed)
	require.ErrorIs(t, err, pii.ErrErased, "the key is gone, not only the ledger's answer")

	// A second ledger loading the store knows of the erasure too.
	l2, err := consent.New(ctx, f.store, &consent.Options{Sealer: prot, Purposes: seedPurposes(), Notices: seedNotices()})
	require.NoError(t, err)
	require.NoError(t, l2.Verify(ctx, s))
	_, err = l2.Reveal(ctx, grant)
	require.ErrorIs(t, err, consent.ErrErased)

	// Other subjects are untouched.
	got, err = f.l.Reveal(ctx, other)
	require.NoError(t, err)
	assert.Equal(t, "piet@example.nl", got.Contact)

	// Receipts carry no personal data and still come out.
	r, err := f.l.Receipt(ctx, s, grant.ID)
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprint(r), email)
}

func TestShreddedKeyWithoutEraseEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prot := newProtector(t)
	f := newFixture(t, func(o *consent.Options) { o.Sealer = prot })
	e := f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, EffectiveAt: day(1),
		Personal: &consent.PersonalData{Contact: "a@example.nl"}})
	require.NoError(t, prot.ForgetSubject(ctx, "s"))
	_, err := f.l.Reveal(ctx, e)
	require.ErrorIs(t, err, pii.ErrErased)
	assert.NotContains(t, err.Error(), "a@example.nl")
	require.NoError(t, f.l.Verify(ctx, "s"))
	// Sealing for a forgotten subject fails, and nothing is appended.
	_, err = f.l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: testimonials, EffectiveAt: day(2),
		Method: consent.MethodForm, Actor: consent.ActorSubject, Personal: &consent.PersonalData{Contact: "a@example.nl"}})
	require.Error(t, err)
	assert.Equal(t, 1, f.store.Len())
}

func TestRevealErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prot := newProtector(t)
	f := newFixture(t, func(o *consent.Options) { o.Sealer = prot })
	e := f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, EffectiveAt: day(1)})
	_, err := f.l.Reveal(ctx, e)
	require.ErrorIs(t, err, consent.ErrNotFound)

	e = f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: testimonials, EffectiveAt: day(1),
		Personal: &consent.PersonalData{Evidence: "x"}})
	f.record(t, consent.Change{Type: consent.EventGrant, Subject: "someone-else", Purpose: testimonials, EffectiveAt: day(1),
		Personal: &consent.PersonalData{Evidence: "y"}})
	e.Subject = "someone-else" // ciphertext moved to another subject does not open
	_, err = f.l.Reveal(ctx, e)
	require.ErrorIs(t, err, pii.ErrTampered)

	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("event", "event", e)
	assert.NotContains(t, buf.String(), string(e.Sealed))
}
