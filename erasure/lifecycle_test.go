package erasure_test

import (
	"errors"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
)

func TestTransitions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := f.ctx
	r, err := f.svc.Submit(ctx, erasure.Submission{Subject: "s-1", Kind: erasure.KindErasure, Actor: "subject"})
	require.NoError(t, err)

	// Executing before the identity is verified records nothing.
	_, _, err = f.svc.Execute(ctx, r.ID, "staff")
	assert.ErrorIs(t, err, erasure.ErrWrongState)
	_, err = f.svc.Start(ctx, r.ID, "staff")
	assert.ErrorIs(t, err, erasure.ErrWrongState)
	got, err := f.svc.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, r.Version, got.Version)
	assert.Empty(t, got.Steps)

	f.clk.Add(time.Minute)
	r, err = f.svc.VerifyIdentity(ctx, r.ID, "staff")
	require.NoError(t, err)
	r, err = f.svc.Extend(ctx, r.ID, "staff", 2, "backups on tape")
	require.NoError(t, err)
	_, err = f.svc.Extend(ctx, r.ID, "staff", 1, "again")
	assert.ErrorIs(t, err, erasure.ErrWrongState)
	_, err = f.svc.Extend(ctx, r.ID, "staff", 3, "too long")
	assert.ErrorIs(t, err, erasure.ErrInvalidRequest)

	// Completing an erasure by hand is not how it is done.
	_, _, err = f.svc.Complete(ctx, r.ID, "staff")
	assert.ErrorIs(t, err, erasure.ErrWrongKind)

	// A clock that goes backwards records nothing.
	f.clk.Add(-time.Hour)
	_, err = f.svc.Start(ctx, r.ID, "staff")
	assert.ErrorIs(t, err, erasure.ErrClockBackwards)
	_, _, err = f.svc.Execute(ctx, r.ID, "staff")
	assert.ErrorIs(t, err, erasure.ErrClockBackwards)
	got, err = f.svc.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, r.Version, got.Version)
	f.clk.Add(2 * time.Hour)

	r, rc, err := f.svc.Refuse(ctx, r.ID, "staff", "no data held", "search log 17")
	require.NoError(t, err)
	assert.Equal(t, erasure.StateRefused, r.State)
	assert.Equal(t, &erasure.Refusal{Reason: "no data held", Evidence: "search log 17"}, rc.Refusal)
	assert.Equal(t, "backups on tape", rc.Extension)
	var states []erasure.State
	for _, tr := range r.History {
		states = append(states, tr.To)
		assert.NotEmpty(t, tr.Actor)
	}
	assert.Equal(t, []erasure.State{erasure.StateReceived, erasure.StateIdentityVerified, erasure.StateExtended, erasure.StateRefused}, states)
	_, _, err = f.svc.Refuse(ctx, r.ID, "staff", "twice", "")
	assert.ErrorIs(t, err, erasure.ErrWrongState)
}

func TestUnknown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	_, err := f.svc.Get(f.ctx, ulid.Make())
	assert.ErrorIs(t, err, erasure.ErrNotFound)
	_, _, err = f.svc.Execute(f.ctx, ulid.Make(), "staff")
	assert.ErrorIs(t, err, erasure.ErrNotFound)
	_, err = f.svc.Plan(f.ctx, "nobody")
	assert.ErrorIs(t, err, erasure.ErrUnknownSubject)
	_, err = f.svc.Submit(f.ctx, erasure.Submission{Subject: "", Kind: erasure.KindErasure, Actor: "subject"})
	assert.ErrorIs(t, err, erasure.ErrUnknownSubject)
	_, err = f.svc.Submit(f.ctx, erasure.Submission{Subject: "s", Kind: 99, Actor: "subject"})
	assert.ErrorIs(t, err, erasure.ErrInvalidRequest)
	_, err = f.svc.Submit(f.ctx, erasure.Submission{Subject: "s", Kind: erasure.KindObjection, Actor: "subject"})
	assert.ErrorIs(t, err, erasure.ErrInvalidRequest)

	// An erasure of a subject the host does not know fails in planning
	// and stays verified, with nothing half done.
	r := f.submitVerified(t, "nobody")
	_, _, err = f.svc.Execute(f.ctx, r.ID, "staff")
	assert.ErrorIs(t, err, erasure.ErrUnknownSubject)
	got, _ := f.svc.Get(f.ctx, r.ID)
	assert.Equal(t, erasure.StateIdentityVerified, got.State)
	assert.Empty(t, got.Steps)
}

func TestRepeatedRequestRefusedAsExcessive(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *erasure.Options) { o.RepeatWindow = 90 * 24 * time.Hour })
	ctx := f.ctx
	sub := erasure.Submission{Subject: "s-1", Kind: erasure.KindAccess, Actor: "subject"}
	first, err := f.svc.Submit(ctx, sub)
	require.NoError(t, err)
	assert.Zero(t, first.RepeatOf)
	_, err = f.svc.VerifyIdentity(ctx, first.ID, "staff")
	require.NoError(t, err)
	_, _, err = f.svc.Complete(ctx, first.ID, "staff")
	require.NoError(t, err)

	f.clk.Add(10 * 24 * time.Hour)
	again, err := f.svc.Submit(ctx, sub)
	require.NoError(t, err)
	assert.Equal(t, first.ID, again.RepeatOf)
	again, rc, err := f.svc.RefuseExcessive(ctx, again.ID, "staff")
	require.NoError(t, err)
	assert.Equal(t, erasure.StateRefused, again.State)
	assert.Contains(t, rc.Refusal.Evidence, first.ID.String())
	assert.Contains(t, rc.Refusal.Reason, "Art. 12(5)")

	// Outside the window it is a new request.
	f.clk.Add(100 * 24 * time.Hour)
	later, err := f.svc.Submit(ctx, sub)
	require.NoError(t, err)
	assert.Zero(t, later.RepeatOf)
	_, _, err = f.svc.RefuseExcessive(ctx, later.ID, "staff")
	assert.ErrorIs(t, err, erasure.ErrWrongState)
}

func TestDueSoonAndOverdue(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := f.ctx
	a, err := f.svc.Submit(ctx, erasure.Submission{Subject: "s-1", Kind: erasure.KindAccess, Actor: "subject"})
	require.NoError(t, err)
	f.clk.Add(20 * 24 * time.Hour)
	b, err := f.svc.Submit(ctx, erasure.Submission{Subject: "s-2", Kind: erasure.KindPortability, Actor: "subject"})
	require.NoError(t, err)

	soon, err := f.svc.DueSoon(ctx, 14*24*time.Hour)
	require.NoError(t, err)
	require.Len(t, soon, 1)
	assert.Equal(t, a.ID, soon[0].ID)

	f.clk.Add(15 * 24 * time.Hour)
	over, err := f.svc.Overdue(ctx)
	require.NoError(t, err)
	require.Len(t, over, 1)
	assert.Equal(t, a.ID, over[0].ID)
	soon, err = f.svc.DueSoon(ctx, 30*24*time.Hour)
	require.NoError(t, err)
	require.Len(t, soon, 1)
	assert.Equal(t, b.ID, soon[0].ID)
}

func TestRestrictionAndObjection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := f.ctx
	_, err := f.ledger.Record(ctx, consentGrant("s-1"))
	require.NoError(t, err)

	r, err := f.svc.Submit(ctx, erasure.Submission{Subject: "s-1", Kind: erasure.KindObjection, Purposes: []string{"newsletter"}, Actor: "subject"})
	require.NoError(t, err)
	_, err = f.svc.VerifyIdentity(ctx, r.ID, "staff")
	require.NoError(t, err)
	r, rc, err := f.svc.Complete(ctx, r.ID, "staff")
	require.NoError(t, err)
	assert.Equal(t, erasure.StateCompleted, r.State)
	assert.Equal(t, erasure.KindObjection, rc.Kind)
	d, err := f.ledger.Decide(ctx, "s-1", "newsletter", f.clk.Now())
	require.NoError(t, err)
	assert.False(t, d.Allowed)

	f2 := newFixture(t, func(o *erasure.Options) { o.Consent = nil })
	r, err = f2.svc.Submit(ctx, erasure.Submission{Subject: "s-1", Kind: erasure.KindRestriction, Actor: "subject"})
	require.NoError(t, err)
	_, err = f2.svc.VerifyIdentity(ctx, r.ID, "staff")
	require.NoError(t, err)
	_, _, err = f2.svc.Complete(ctx, r.ID, "staff")
	assert.ErrorIs(t, err, erasure.ErrNoConsent)

	_, err = f.ledger.Record(ctx, consentGrant("s-2"))
	require.NoError(t, err)
	r, err = f.svc.Submit(ctx, erasure.Submission{Subject: "s-2", Kind: erasure.KindRestriction, Actor: "subject"})
	require.NoError(t, err)
	_, err = f.svc.VerifyIdentity(ctx, r.ID, "staff")
	require.NoError(t, err)
	_, _, err = f.svc.Complete(ctx, r.ID, "staff")
	require.NoError(t, err)
	d, err = f.ledger.Decide(ctx, "s-2", "newsletter", f.clk.Now())
	require.NoError(t, err)
	assert.False(t, d.Allowed)
}

func TestClosed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	require.NoError(t, f.svc.Close())
	require.NoError(t, f.svc.Close())
	_, err := f.svc.Submit(f.ctx, erasure.Submission{Subject: "s", Kind: erasure.KindAccess, Actor: "subject"})
	assert.True(t, errors.Is(err, erasure.ErrClosed))
}

func TestNewNilDependencies(t *testing.T) {
	t.Parallel()
	m := erasure.NewMemoryStore()
	keys := erasure.Keys{Signing: signingKey, Hash: hashKey}
	_, err := erasure.New(erasure.Stores{Receipts: m, Suppression: m}, new(pii.Protector), keys, nil)
	assert.EqualError(t, err, "erasure: New: nil RequestStore")
	_, err = erasure.New(m.Stores(), nil, keys, nil)
	assert.EqualError(t, err, "erasure: New: nil KeyShredder")
	_, err = erasure.New(m.Stores(), new(pii.Protector), erasure.Keys{Signing: signingKey}, nil)
	assert.Error(t, err)
	_, err = erasure.New(m.Stores(), new(pii.Protector), keys, &erasure.Options{Recipients: []string{"mailer"}})
	assert.Error(t, err)
}

func TestRectificationToldToRecipients(t *testing.T) {
	t.Parallel()
	n := &notifier{}
	f := newFixture(t, func(o *erasure.Options) {
		o.Recipients = []string{"accountant", "mail-provider"}
		o.Notifier = n
	})
	r, err := f.svc.Submit(f.ctx, erasure.Submission{Subject: "s-1", Kind: erasure.KindRectification, Actor: "subject"})
	require.NoError(t, err)
	_, err = f.svc.VerifyIdentity(f.ctx, r.ID, "staff")
	require.NoError(t, err)
	r, rc, err := f.svc.Complete(f.ctx, r.ID, "staff")
	require.NoError(t, err)
	assert.Equal(t, erasure.StateCompleted, r.State)
	assert.Equal(t, []string{"accountant", "mail-provider"}, n.told)
	assert.Equal(t, []erasure.RecipientOutcome{{Name: "accountant", Notified: true}, {Name: "mail-provider", Notified: true}}, rc.Recipients)
}

func TestReceiptRetriedAfterClockBehindChain(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := f.ctx
	a, err := f.svc.Submit(ctx, erasure.Submission{Subject: "s-1", Kind: erasure.KindAccess, Actor: "subject"})
	require.NoError(t, err)
	b, err := f.svc.Submit(ctx, erasure.Submission{Subject: "s-2", Kind: erasure.KindAccess, Actor: "subject"})
	require.NoError(t, err)
	f.clk.Add(time.Hour)
	_, _, err = f.svc.Refuse(ctx, a.ID, "staff", "identity not verified", "")
	require.NoError(t, err)

	// The clock falls behind the chain's head: the outcome is recorded, the
	// receipt is not, and nothing is chained out of order.
	f.clk.Add(-30 * time.Minute)
	_, _, err = f.svc.Refuse(ctx, b.ID, "staff", "identity not verified", "")
	require.ErrorIs(t, err, erasure.ErrClockBackwards)
	_, err = f.svc.Receipt(ctx, b.ID)
	require.ErrorIs(t, err, erasure.ErrClockBackwards)

	f.clk.Add(time.Hour)
	rc, err := f.svc.Receipt(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), rc.Seq)
	again, err := f.svc.Receipt(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, rc.ID, again.ID)
	n, err := f.svc.VerifyReceipts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	open, err := f.svc.Submit(ctx, erasure.Submission{Subject: "s-3", Kind: erasure.KindAccess, Actor: "subject"})
	require.NoError(t, err)
	_, err = f.svc.Receipt(ctx, open.ID)
	assert.ErrorIs(t, err, erasure.ErrWrongState)
}
