package retention_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

// The words a data subject reads: one test per reason and unit.
func TestExplainWords(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)

	// Rules cover the data but no clock has started: not "no rule".
	d := ev.EvaluateIgnoringHolds(retention.Facts{Category: "ip-address", Kind: "login", Collected: day(2026, 1, 10)}, now)
	require.Equal(t, retention.ReasonNotStarted, d.Reason)
	assert.Equal(t, "This data is kept for now: none of the retention periods that apply to it has started yet, so no deletion is scheduled.", d.Explain())

	// One hold applies; two holds apply.
	h := activeHold()
	d = ev.EvaluateIgnoringHolds(retention.Facts{Category: "mail-log", Collected: day(2026, 1, 1), Holds: []retention.Hold{h}}, now)
	assert.True(t, strings.HasPrefix(d.Explain(), "This data is kept for now: 1 legal hold applies to it, "), d.Explain())
	d = ev.EvaluateIgnoringHolds(retention.Facts{Category: "mail-log", Collected: day(2026, 1, 1), Holds: []retention.Hold{h, h}}, now)
	assert.True(t, strings.HasPrefix(d.Explain(), "This data is kept for now: 2 legal holds apply to it, "), d.Explain())
}

func TestDescribeZeroPeriod(t *testing.T) {
	t.Parallel()
	r := validRule()
	r.Period = retention.Period{}
	st, err := mustPolicy(t, r).Statement("email", "")
	require.NoError(t, err)
	assert.Equal(t, "Email data is deleted at once after it was collected.", st.Summary)

	r.Trigger, r.Action = retention.TriggerAccountClosed, retention.Anonymise
	st, err = mustPolicy(t, r).Statement("email", "")
	require.NoError(t, err)
	assert.Equal(t, "Email data is anonymised at once after the account is closed.", st.Summary)

	r.Period = retention.Period{Months: 1, Days: 1}
	st, err = mustPolicy(t, r).Statement("email", "")
	require.NoError(t, err)
	assert.Equal(t, "Email data is kept for 1 month and 1 day after the account is closed, then anonymised.", st.Summary)
}

// ExamplePolicy is modelled on a Dutch provider: every citation is Dutch
// or European law, and a rule says "the law requires" only when a law
// does.
func TestExamplePolicyCitesItsBasis(t *testing.T) {
	t.Parallel()
	for _, r := range retention.ExamplePolicy().Rules() {
		assert.NotContains(t, r.Citation, "(FR)", "rule %s", r.ID)
		assert.NotContains(t, r.Citation, "CPCE", "rule %s", r.ID)
	}
	r, ok := retention.ExamplePolicy().Rule("registration-ip")
	require.True(t, ok)
	assert.Equal(t, personaldata.LegitimateInterests, r.Basis, "no Dutch law requires keeping a registration's IP address")
	assert.Equal(t, "GDPR Art. 6(1)(f)", r.Citation)
	st, err := retention.ExamplePolicy().Statement("ip-address", "registration")
	require.NoError(t, err)
	assert.Equal(t, "The IP address a registration was made from is kept for 1 year to investigate fraud and abuse and to answer lawful requests of the authorities (GDPR Art. 6(1)(f)). "+
		"When you ask us to erase your data, data that no law requires us to keep is deleted within 30 days (GDPR Art. 12(3), 17).", st.Summary)
}
