package erasure_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
)

// flaky is an eraser that misbehaves while broken is set.
type flaky struct {
	mode   string // "error", "panic", "hang"
	broken atomic.Bool
	calls  atomic.Int32
}

func (e *flaky) Erase(ctx context.Context, c erasure.EraseCall) (erasure.EraseResult, error) {
	e.calls.Add(1)
	if e.broken.Load() {
		switch e.mode {
		case "error":
			return erasure.EraseResult{}, errors.New("archive unreachable")
		case "panic":
			panic("nil map in eraser")
		case "hang":
			<-ctx.Done()
			time.Sleep(5 * time.Millisecond) // returns late, ignoring the deadline at first
			return erasure.EraseResult{}, nil
		}
	}
	return erasure.EraseResult{Removed: 1, Retained: []erasure.Retained{{Count: 2, Reason: "open dispute"}}}, nil
}

type notifier struct{ told []string }

func (n *notifier) Notify(_ context.Context, to string, _ ulid.ULID, _ personaldata.SubjectID) error {
	n.told = append(n.told, to)
	return nil
}

func TestExecutePartialFailureThenRetry(t *testing.T) {
	t.Parallel()
	bad := &flaky{mode: "error"}
	boom := &flaky{mode: "panic"}
	slow := &flaky{mode: "hang"}
	for _, e := range []*flaky{bad, boom, slow} {
		e.broken.Store(true)
	}
	n := &notifier{}
	f := newFixture(t, func(o *erasure.Options) {
		o.Systems = append(o.Systems,
			erasure.System{Name: "archive", Eraser: bad},
			erasure.System{Name: "search", Eraser: boom},
			erasure.System{Name: "billing-export", Eraser: slow, Timeout: 20 * time.Millisecond})
		o.Recipients = []string{"mail-provider"}
		o.Notifier = n
	})
	ctx := f.ctx
	f.scopes["s-1"] = []erasure.ScopeFacts{{Scope: personaldata.DefaultScope}}
	f.crm.put("s-1", 2, 1)
	var c customer = customer{ID: "s-1", Name: "Jan", Email: "jan@example.nl"}
	require.NoError(t, f.prot.Protect(ctx, &c))
	r := f.submitVerified(t, "s-1")

	r, rc, err := f.svc.Execute(ctx, r.ID, "staff")
	require.Error(t, err)
	assert.Nil(t, rc)
	var xe *erasure.ExecuteError
	require.ErrorAs(t, err, &xe)
	assert.Len(t, xe.Steps, 3)
	assert.ErrorIs(t, err, erasure.ErrEraserPanicked)
	assert.ErrorIs(t, err, erasure.ErrTimeout)
	assert.NotContains(t, err.Error(), "nil map") // the panic value is not kept
	assert.Equal(t, erasure.StateInProgress, r.State)

	// The shred happened anyway, and the working systems did their part.
	c2 := c
	assert.ErrorIs(t, f.prot.Reveal(ctx, &c2), pii.ErrErased)
	assert.Zero(t, f.crm.count("s-1"))
	assert.Equal(t, []string{"mail-provider"}, n.told)
	stored, err := f.svc.Get(ctx, r.ID)
	require.NoError(t, err)
	failed := 0
	for _, st := range stored.Steps {
		if st.State == erasure.StepFailed {
			failed++
			assert.Len(t, st.Failures, 1)
		}
	}
	assert.Equal(t, 3, failed)

	// Fixed; the retry runs only the failed steps.
	crmCalls := f.crm.calls
	for _, e := range []*flaky{bad, boom, slow} {
		e.broken.Store(false)
	}
	f.clk.Add(time.Hour)
	r, rc, err = f.svc.Execute(ctx, r.ID, "staff")
	require.NoError(t, err)
	assert.Equal(t, erasure.StateCompleted, r.State)
	assert.Equal(t, crmCalls, f.crm.calls)
	assert.Equal(t, []string{"mail-provider"}, n.told)
	assert.Equal(t, int32(2), bad.calls.Load())

	// The receipt shows the failures met on the way.
	var archive erasure.SystemOutcome
	for _, so := range rc.Erased.Systems {
		if so.Name == "archive" {
			archive = so
		}
	}
	assert.Equal(t, 2, archive.Attempts)
	require.Len(t, archive.Failures, 1)
	assert.Contains(t, archive.Failures[0], "archive unreachable")
	assert.Equal(t, []erasure.Retained{{Count: 2, Reason: "open dispute"}}, archive.Retained)
	assert.Equal(t, []erasure.RecipientOutcome{{Name: "mail-provider", Notified: true}}, rc.Recipients)
	assert.True(t, rc.Erased.SubjectForgotten)

	// Executing again changes nothing and returns the same receipt.
	_, rc2, err := f.svc.Execute(ctx, r.ID, "staff")
	require.NoError(t, err)
	assert.Equal(t, rc.ID, rc2.ID)
}

func TestExecutePages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *erasure.Options) { o.PageSize = 500 })
	f.scopes["s-1"] = []erasure.ScopeFacts{{Scope: personaldata.DefaultScope}}
	f.crm.put("s-1", 1200, 3)
	r := f.submitVerified(t, "s-1")
	_, rc, err := f.svc.Execute(f.ctx, r.ID, "staff")
	require.NoError(t, err)
	assert.Equal(t, 3, f.crm.calls)
	assert.Equal(t, 1200, rc.Erased.Systems[0].Removed)
	assert.Equal(t, 3, rc.Erased.Systems[0].IndexEntries)
}

func TestPlanHasNoSideEffects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.scopes["s-1"] = []erasure.ScopeFacts{{Scope: personaldata.DefaultScope}}
	f.crm.put("s-1", 2, 0)
	c := customer{ID: "s-1", Name: "Jan"}
	require.NoError(t, f.prot.Protect(f.ctx, &c))
	p, err := f.svc.Plan(f.ctx, "s-1")
	require.NoError(t, err)
	assert.True(t, p.ForgetSubject)
	assert.Equal(t, []erasure.SystemPlan{{Name: "crm", Does: "delete the customer row and its e-mail blind index"}}, p.Systems)
	require.NoError(t, f.prot.Reveal(f.ctx, &c))
	assert.Equal(t, 2, f.crm.count("s-1"))
	rs, err := f.store.List(f.ctx, erasure.Filter{})
	require.NoError(t, err)
	assert.Empty(t, rs)
}

// TestRestoreGuard restores an old copy of the key store and shows that
// nothing erased since decrypts once Reapply has run.
func TestRestoreGuard(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := f.ctx
	for _, s := range []personaldata.SubjectID{"s-1", "s-2", "s-3"} {
		f.scopes[s] = []erasure.ScopeFacts{{Scope: personaldata.DefaultScope}}
		f.crm.put(s, 1, 1)
	}
	enc := func(s string) customer {
		c := customer{ID: s, Name: "name of " + s}
		require.NoError(t, f.prot.Protect(ctx, &c))
		return c
	}
	c1, c2, c3 := enc("s-1"), enc("s-2"), enc("s-3")

	// s-1 is erased before the backup.
	r1 := f.submitVerified(t, "s-1")
	_, _, err := f.svc.Execute(ctx, r1.ID, "staff")
	require.NoError(t, err)

	// The backup: a copy of the key store and the CRM.
	f.clk.Add(time.Hour)
	backupAt := f.clk.Now()
	oldKeys := pii.NewMemoryKeyStore()
	for k, err := range f.keys.Keys(ctx) {
		require.NoError(t, err)
		_, err = oldKeys.CreateKey(ctx, k.Ref, k.Wrapped, k.CreatedAt)
		require.NoError(t, err)
	}
	require.NoError(t, oldKeys.ShredKeys(ctx, "s-1", []personaldata.Scope{personaldata.DefaultScope}, backupAt)) // the backup has the tombstone

	// s-2 is erased after it.
	f.clk.Add(time.Hour)
	r2 := f.submitVerified(t, "s-2")
	_, _, err = f.svc.Execute(ctx, r2.ID, "staff")
	require.NoError(t, err)

	// Disaster: the old key store and CRM rows come back.
	w, _ := pii.NewLocalKeyWrapper("kek-1", make([]byte, 32))
	restored, err := pii.New(oldKeys, w, nil)
	require.NoError(t, err)
	f.crm.put("s-2", 1, 1)
	x := c2
	require.NoError(t, restored.Reveal(ctx, &x), "before the guard, the restored key opens s-2's data")

	svc2, err := erasure.New(f.store.Stores(), restored, erasure.Keys{Signing: signingKey, Hash: hashKey},
		&erasure.Options{Now: f.clk.Now, Consent: f.ledger, Systems: []erasure.System{{Name: "crm", Eraser: f.crm}}})
	require.NoError(t, err)
	rep, err := svc2.Reapply(ctx, backupAt)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Requests)

	for _, c := range []customer{c1, c2} {
		assert.ErrorIs(t, restored.Reveal(ctx, &c), pii.ErrErased)
	}
	require.NoError(t, restored.Reveal(ctx, &c3), "a subject never erased is untouched")
	assert.Equal(t, "name of s-3", c3.Name)
	assert.Zero(t, f.crm.count("s-2"))
	assert.Equal(t, 2, f.crm.count("s-3"))
}

func TestRunDueHonoursNewHold(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := f.ctx
	f.scopes["s-1"] = []erasure.ScopeFacts{
		{Scope: personaldata.DefaultScope},
		{Scope: "fiscal-2025", Facts: erasure.RetentionFacts{Category: "billing", Kind: "invoice", Collected: day(2025, 6, 1)}},
		{Scope: "fiscal-2026", Facts: erasure.RetentionFacts{Category: "billing", Kind: "invoice", Collected: day(2026, 2, 1)}},
	}
	r := f.submitVerified(t, "s-1")
	_, rc, err := f.svc.Execute(ctx, r.ID, "staff")
	require.NoError(t, err)
	require.Len(t, rc.Kept, 2)
	assert.Equal(t, day(2033, 1, 1), rc.Kept[0].Until) // each year's invoices go at their own time
	assert.Equal(t, day(2034, 1, 1), rc.Kept[1].Until)

	f.clk.Set(day(2033, 1, 2))
	rep, err := f.svc.RunDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Shredded)
	assert.Zero(t, rep.Forgotten)
	kept, err := f.svc.Kept(ctx, "s-1")
	require.NoError(t, err)
	require.Len(t, kept, 1)
	assert.Equal(t, personaldata.Scope("fiscal-2026"), kept[0].Scope)

	// A legal hold placed since keeps the 2026 invoices past their date.
	_, err = f.eval.PlaceHold(ctx, holdOn("s-1"))
	require.NoError(t, err)
	f.clk.Set(day(2034, 1, 2))
	rep, err = f.svc.RunDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Rescheduled)
	assert.Zero(t, rep.Shredded)
}
