package erasure_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
)

type customer struct {
	ID         string `pii:"subject"`
	Name       string `pii:"name,redact=[erased]"`
	Email      string `pii:"email,index=EmailIndex,normalize=email"`
	EmailIndex string
}

type invoice struct {
	Customer string `pii:"subject"`
	Number   string
	BillTo   string `pii:"billing,scope=fiscal-2026"`
}

// TestEndToEnd follows one customer from sign-up to erasure and, seven
// years later, to the erasure of the invoices kept for tax law.
func TestEndToEnd(t *testing.T) {
	f := newFixture(t, nil)
	ctx := f.ctx
	const subj personaldata.SubjectID = "c-1001"
	f.scopes[subj] = []erasure.ScopeFacts{
		{Scope: personaldata.DefaultScope, Facts: erasure.RetentionFacts{Category: "profile", Collected: day(2026, 1, 5)}},
		{Scope: "fiscal-2026", Facts: erasure.RetentionFacts{Category: "billing", Kind: "invoice", Collected: day(2026, 2, 1)}},
	}
	f.crm.put(subj, 3, 1)

	// Sign-up: a profile, an invoice and a newsletter grant.
	c := customer{ID: string(subj), Name: "Jan Jansen", Email: "Jan@Example.nl"}
	inv := invoice{Customer: string(subj), Number: "2026-0042", BillTo: "Jan Jansen, Dorpsstraat 1"}
	require.NoError(t, f.prot.Protect(ctx, &c))
	require.NoError(t, f.prot.Protect(ctx, &inv))
	_, err := f.ledger.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: subj, Purpose: "newsletter",
		Method: consent.MethodForm, Actor: consent.ActorSubject, Personal: &consent.PersonalData{Contact: "jan@example.nl"}})
	require.NoError(t, err)
	backupCustomer, backupInvoice := c, inv // a copy taken before the erasure
	history, err := f.ledger.History(ctx, subj)
	require.NoError(t, err)

	// The request: received, identity verified, planned, executed.
	f.clk.Add(time.Hour)
	req := f.submitVerified(t, subj, erasure.Email(" jan@example.NL"))
	plan, err := f.svc.Plan(ctx, subj)
	require.NoError(t, err)
	require.Len(t, plan.Scopes, 2)
	assert.True(t, plan.Scopes[0].Now)
	assert.False(t, plan.Scopes[1].Now)
	assert.Equal(t, day(2034, 1, 1), plan.Scopes[1].Until)
	assert.Equal(t, "AWR art. 52 lid 4", plan.Scopes[1].Citation)
	assert.False(t, plan.ForgetSubject)

	f.clk.Add(time.Hour)
	req, rc, err := f.svc.Execute(ctx, req.ID, "staff-7")
	require.NoError(t, err)
	assert.Equal(t, erasure.StateCompleted, req.State)
	assert.Zero(t, f.crm.count(subj))

	// The profile and the consent evidence are erased, from the old copy too.
	err = f.prot.Reveal(ctx, &backupCustomer)
	assert.ErrorIs(t, err, pii.ErrErased)
	assert.Equal(t, "[erased]", backupCustomer.Name)
	_, err = f.ledger.Reveal(ctx, history[0])
	assert.Error(t, err)
	// The invoice is kept, readable, for tax law.
	require.NoError(t, f.prot.Reveal(ctx, &backupInvoice))
	assert.Equal(t, "Jan Jansen, Dorpsstraat 1", backupInvoice.BillTo)
	// The newsletter is no longer allowed.
	d, err := f.ledger.Decide(ctx, subj, "newsletter", f.clk.Now())
	require.NoError(t, err)
	assert.False(t, d.Allowed)

	// The receipt explains what was kept, and verifies.
	require.NotNil(t, rc)
	got, err := erasure.Verify(rc.Token, f.svc.PublicKey())
	require.NoError(t, err)
	assert.Equal(t, []personaldata.Scope{personaldata.DefaultScope}, got.Erased.Scopes)
	require.Len(t, got.Kept, 1)
	assert.Equal(t, personaldata.Scope("fiscal-2026"), got.Kept[0].Scope)
	assert.Equal(t, "AWR art. 52 lid 4", got.Kept[0].Citation)
	assert.Equal(t, day(2034, 1, 1), got.Kept[0].Until)
	assert.Equal(t, 3, got.Erased.Systems[0].Removed)
	assert.Equal(t, f.svc.SubjectRef(subj), got.SubjectRef)
	assert.NotContains(t, rc.Token, "c-1001")

	// Nothing is due before the retention ends.
	rep, err := f.svc.RunDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, rep.Shredded)

	// Seven years later the due step erases the invoices too.
	f.clk.Set(day(2034, 1, 2))
	rep, err = f.svc.RunDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, erasure.DueReport{Requests: 1, Shredded: 1, Forgotten: 1, Receipts: 1}, rep)
	inv2 := inv
	assert.ErrorIs(t, f.prot.Reveal(ctx, &inv2), pii.ErrErased)
	rcs, err := f.svc.Receipts(ctx, req.ID)
	require.NoError(t, err)
	require.Len(t, rcs, 2)
	assert.True(t, rcs[1].Supplement)
	assert.Equal(t, []personaldata.Scope{"fiscal-2026"}, rcs[1].Erased.Scopes)
	assert.True(t, rcs[1].Erased.SubjectForgotten)
	n, err := f.svc.VerifyReceipts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	rep, err = f.svc.RunDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, rep)

	// Re-importing the person is flagged.
	hits, err := f.svc.Suppressed(ctx, erasure.Email("JAN@example.nl "), erasure.Email("piet@example.nl"))
	require.NoError(t, err)
	require.Len(t, hits, 1)
	assert.Equal(t, req.ID, hits[0].RequestID)
}
