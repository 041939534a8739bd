package retention_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

func TestPolicyStatement(t *testing.T) {
	t.Parallel()
	p := retention.ExamplePolicy()
	for _, tc := range []struct {
		category personaldata.Category
		kind     string
		rules    []string
		basis    personaldata.LegalBasis
		citation string
	}{
		{"billing", "invoice", []string{"invoices", "erasure"}, personaldata.LegalObligation, "AWR art. 52 lid 4; GDPR Art. 12(3), 17"},
		{"account", "", []string{"account", "erasure", "account-inactive"}, personaldata.Contract, "GDPR Art. 12(3), 17"},
		{"contact", "", []string{"contact", "erasure"}, personaldata.LegitimateInterests, "GDPR Art. 12(3), 17"},
		{"ip-address", "registration", []string{"registration-ip", "erasure"}, personaldata.LegitimateInterests, "GDPR Art. 6(1)(f); GDPR Art. 12(3), 17"},
		{"ip-address", "login", []string{"erasure"}, personaldata.LegitimateInterests, "GDPR Art. 12(3), 17"},
	} {
		t.Run(string(tc.category)+"/"+tc.kind, func(t *testing.T) {
			t.Parallel()
			st, err := p.Statement(tc.category, tc.kind)
			require.NoError(t, err)
			assert.Equal(t, tc.rules, st.RuleIDs)
			assert.Equal(t, tc.basis, st.Basis)
			assert.Equal(t, tc.citation, st.Citation)
			assert.True(t, st.EarliestDisposal.IsZero())
			assert.Equal(t, p.Hash(), st.PolicyHash)
			assert.NotEmpty(t, st.Summary)
		})
	}
	st, err := p.Statement("billing", "")
	require.NoError(t, err)
	assert.Equal(t, "Invoices and payment data are kept for 7 years after the end of the fiscal year, as Dutch tax law requires (AWR art. 52 lid 4). "+
		"When you ask us to erase your data, data that no law requires us to keep is deleted within 30 days (GDPR Art. 12(3), 17).", st.Summary)

	q, err := retention.NewPolicy(retention.PolicySpec{Rules: []retention.Rule{validRule()}})
	require.NoError(t, err)
	_, err = q.Statement("photo", "")
	assert.ErrorIs(t, err, retention.ErrNoRule)
	st, err = q.Statement("email", "")
	require.NoError(t, err)
	assert.Equal(t, "Email data is kept for 1 year after it was collected, then deleted.", st.Summary, "described from the fields")
}

func TestEvaluatorStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	// An erasure refusal: the invoice stays until the law lets it go.
	st, err := ev.Statement(ctx, "invoice-1", retention.Facts{Category: "billing", Collected: day(2024, 3, 15), ErasureRequested: now})
	require.NoError(t, err)
	assert.True(t, st.EarliestDisposal.Equal(day(2032, 1, 1)), "%s", st.EarliestDisposal)
	assert.Equal(t, personaldata.LegalObligation, st.Basis)
	data, err := json.Marshal(st)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"earliest_disposal":"2032-01-01T00:00:00Z"`)
	assert.Contains(t, string(data), `"basis":"legal-obligation"`)
	var back retention.Statement
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, st.PolicyHash, back.PolicyHash)
	assert.Equal(t, st.RuleIDs, back.RuleIDs)
	assert.ErrorIs(t, back.PolicyHash.UnmarshalText([]byte("zz")), retention.ErrInvalidPolicy)
	assert.ErrorIs(t, back.PolicyHash.UnmarshalText(make([]byte, 64)), retention.ErrInvalidPolicy)

	// Under a hold, no date can be promised.
	st, err = ev.Statement(ctx, "invoice-2", retention.Facts{Category: "billing", Collected: day(2018, 3, 15), Holds: []retention.Hold{activeHold()}})
	require.NoError(t, err)
	assert.True(t, st.EarliestDisposal.IsZero())

	// Not started: no date either.
	st, err = ev.Statement(ctx, "account-1", retention.Facts{Category: "account", Collected: day(2018, 3, 15)})
	require.NoError(t, err)
	assert.True(t, st.EarliestDisposal.IsZero())

	_, err = newEvaluator(t, mustPolicy(t, validRule()), nil).Statement(ctx, "photo-1", retention.Facts{Category: "photo"})
	assert.ErrorIs(t, err, retention.ErrNoRule)
}

func mustPolicy(t *testing.T, rules ...retention.Rule) *retention.Policy {
	t.Helper()
	p, err := retention.NewPolicy(retention.PolicySpec{Rules: rules})
	require.NoError(t, err)
	return p
}

// A statement about a record reads the hold store, as Decide does: under a
// legal hold no disposal date may be promised.
func TestEvaluatorStatementHonoursStoredHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	f := retention.Facts{Subject: "customer-4", Category: "billing", Collected: day(2018, 3, 15)}
	st, err := ev.Statement(ctx, "invoice-4", f)
	require.NoError(t, err)
	assert.True(t, st.EarliestDisposal.Equal(day(2026, 1, 1)), "%s", st.EarliestDisposal)

	_, err = ev.PlaceHold(ctx, retention.Hold{Subject: "customer-4", Reason: "dispute 9"})
	require.NoError(t, err)
	st, err = ev.Statement(ctx, "invoice-4", f)
	require.NoError(t, err)
	assert.True(t, st.EarliestDisposal.IsZero(), "held: %s", st.EarliestDisposal)
	d, err := ev.Decide(ctx, "invoice-4", f)
	require.NoError(t, err)
	assert.Equal(t, retention.ReasonHold, d.Reason)
	assert.False(t, ev.EvaluateIgnoringHolds(f, now).Reason == retention.ReasonHold, "the hold-free evaluation does not see the store")
}
