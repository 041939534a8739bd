package retention_test

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

func validRule() retention.Rule {
	return retention.Rule{
		ID: "r1", Category: "email", Trigger: retention.TriggerCollected,
		Period: retention.Period{Years: 1}, Action: retention.Delete, Basis: personaldata.Consent,
	}
}

func TestNewPolicyValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*retention.Rule)
		want error
	}{
		{"unknown trigger", func(r *retention.Rule) { r.Trigger = 99 }, retention.ErrUnknownTrigger},
		{"zero trigger", func(r *retention.Rule) { r.Trigger = 0 }, retention.ErrUnknownTrigger},
		{"negative period", func(r *retention.Rule) { r.Period.Days = -1 }, retention.ErrInvalidPeriod},
		{"over-long period", func(r *retention.Rule) { r.Period.Years = 5000 }, retention.ErrInvalidPeriod},
		{"keep is not an action", func(r *retention.Rule) { r.Action = retention.Keep }, retention.ErrUnknownAction},
		{"zero action", func(r *retention.Rule) { r.Action = 0 }, retention.ErrUnknownAction},
		{"no basis", func(r *retention.Rule) { r.Basis = 0 }, personaldata.ErrInvalidLegalBasis},
		{"empty ID", func(r *retention.Rule) { r.ID = "" }, retention.ErrInvalidRule},
		{"ID with a space", func(r *retention.Rule) { r.ID = "a b" }, retention.ErrInvalidRule},
		{"bad category", func(r *retention.Rule) { r.Category = "E-mail" }, personaldata.ErrInvalidCategory},
		{"bad kind", func(r *retention.Rule) { r.Kind = "Invoice!" }, retention.ErrInvalidRule},
		{"event without name", func(r *retention.Rule) { r.Trigger = retention.TriggerEvent }, retention.ErrInvalidRule},
		{"event name without event trigger", func(r *retention.Rule) { r.Event = "x" }, retention.ErrInvalidRule},
		{"legal obligation without citation", func(r *retention.Rule) { r.Basis = personaldata.LegalObligation }, retention.ErrInvalidRule},
		{"erasure rule that retains", func(r *retention.Rule) {
			r.Trigger, r.Retain = retention.TriggerErasureRequested, true
		}, retention.ErrInvalidRule},
		{"erasure rule as legal retention", func(r *retention.Rule) {
			r.Trigger, r.Basis, r.Citation = retention.TriggerErasureRequested, personaldata.LegalObligation, "x"
		}, retention.ErrInvalidRule},
		{"control character in summary", func(r *retention.Rule) { r.Summary = "a\nb" }, retention.ErrInvalidRule},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok := validRule()
			bad := validRule()
			bad.ID = "r2"
			tc.edit(&bad)
			_, err := retention.NewPolicy(retention.PolicySpec{Rules: []retention.Rule{ok, bad}})
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			var re *retention.RuleError
			require.True(t, errors.As(err, &re), "error %v is a *RuleError", err)
			assert.Equal(t, 1, re.Index)
			assert.Contains(t, err.Error(), "retention: rule ")
		})
	}
}

func TestNewPolicyErrors(t *testing.T) {
	t.Parallel()
	_, err := retention.NewPolicy(retention.PolicySpec{})
	assert.ErrorIs(t, err, retention.ErrInvalidPolicy)

	r := validRule()
	_, err = retention.NewPolicy(retention.PolicySpec{Rules: []retention.Rule{r, r}})
	assert.ErrorIs(t, err, retention.ErrDuplicateRule)
	var re *retention.RuleError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "r1", re.RuleID)
	assert.Equal(t, `retention: rule "r1" (#1): retention: duplicate rule ID: also rule #0`, err.Error())

	_, err = retention.NewPolicy(retention.PolicySpec{FiscalYearEnd: retention.MonthDay{Month: 2, Day: 30}, Rules: []retention.Rule{r}})
	assert.ErrorIs(t, err, retention.ErrInvalidPolicy)

	many := make([]retention.Rule, retention.MaxRules+1)
	for i := range many {
		many[i] = r
	}
	_, err = retention.NewPolicy(retention.PolicySpec{Rules: many})
	assert.ErrorIs(t, err, retention.ErrInvalidPolicy)
}

func TestPolicyHash(t *testing.T) {
	t.Parallel()
	spec := retention.ExamplePolicySpec()
	base, err := retention.NewPolicy(spec)
	require.NoError(t, err)

	// Stable across rule order.
	rev := retention.ExamplePolicySpec()
	slices.Reverse(rev.Rules)
	p, err := retention.NewPolicy(rev)
	require.NoError(t, err)
	assert.Equal(t, base.Hash(), p.Hash())

	// Changed by any change of any field.
	edits := map[string]func(*retention.PolicySpec){
		"name":          func(s *retention.PolicySpec) { s.Name = "other" },
		"fiscal year":   func(s *retention.PolicySpec) { s.FiscalYearEnd = retention.MonthDay{Month: 6, Day: 30} },
		"id":            func(s *retention.PolicySpec) { s.Rules[0].ID = "account2" },
		"category":      func(s *retention.PolicySpec) { s.Rules[0].Category = "profile" },
		"kind":          func(s *retention.PolicySpec) { s.Rules[0].Kind = "user" },
		"trigger":       func(s *retention.PolicySpec) { s.Rules[0].Trigger = retention.TriggerContractEnded },
		"event":         func(s *retention.PolicySpec) { s.Rules[0].Trigger, s.Rules[0].Event = retention.TriggerEvent, "x" },
		"period years":  func(s *retention.PolicySpec) { s.Rules[0].Period.Years = 1 },
		"period months": func(s *retention.PolicySpec) { s.Rules[0].Period.Months = 1 },
		"period days":   func(s *retention.PolicySpec) { s.Rules[0].Period.Days = 31 },
		"action":        func(s *retention.PolicySpec) { s.Rules[0].Action = retention.Anonymise },
		"retain":        func(s *retention.PolicySpec) { s.Rules[0].Retain = true },
		"basis":         func(s *retention.PolicySpec) { s.Rules[0].Basis = personaldata.Consent },
		"citation":      func(s *retention.PolicySpec) { s.Rules[0].Citation = "x" },
		"summary":       func(s *retention.PolicySpec) { s.Rules[0].Summary += "!" },
		"rule removed":  func(s *retention.PolicySpec) { s.Rules = s.Rules[1:] },
	}
	seen := map[retention.Hash]string{base.Hash(): "base"}
	for name, edit := range edits {
		s := retention.ExamplePolicySpec()
		edit(&s)
		p, err := retention.NewPolicy(s)
		require.NoError(t, err, name)
		if other, dup := seen[p.Hash()]; dup {
			t.Errorf("edit %q gives the same hash as %q", name, other)
		}
		seen[p.Hash()] = name
	}
	assert.Len(t, base.Hash().String(), 64)
}

func TestParsePolicyExampleFile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/example-policy.json")
	require.NoError(t, err)
	p, err := retention.ParsePolicy(data)
	require.NoError(t, err)
	ex := retention.ExamplePolicy()
	assert.Equal(t, ex.Hash(), p.Hash(), "testdata/example-policy.json matches ExamplePolicySpec")
	if diff := cmp.Diff(ex.Spec(), p.Spec()); diff != "" {
		t.Errorf("spec mismatch (-Go +JSON):\n%s", diff)
	}
}

func TestPolicyJSONRoundTrip(t *testing.T) {
	t.Parallel()
	spec := retention.ExamplePolicySpec()
	spec.FiscalYearEnd = retention.MonthDay{Month: 6, Day: 30}
	spec.Rules = append(spec.Rules, retention.Rule{
		ID: "domain", Category: "domain", Trigger: retention.TriggerEvent, Event: "domain-expired",
		Period: retention.Period{Months: 1, Days: 15}, Action: retention.Anonymise, Basis: personaldata.Contract,
	})
	p, err := retention.NewPolicy(spec)
	require.NoError(t, err)
	data, err := json.Marshal(p)
	require.NoError(t, err)
	q, err := retention.ParsePolicy(data)
	require.NoError(t, err)
	assert.Equal(t, p.Hash(), q.Hash())
	if diff := cmp.Diff(p.Spec(), q.Spec()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	assert.Contains(t, string(data), `"fiscal_year_end":"06-30"`)
	assert.Contains(t, string(data), `"period":"P1M15D"`)
}

func TestParsePolicyErrors(t *testing.T) {
	t.Parallel()
	rule := `{"id":"a","trigger":"collected","period":"P1Y","action":"delete","basis":"consent"}`
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"empty", ``, retention.ErrInvalidPolicy},
		{"not an object", `[]`, retention.ErrInvalidPolicy},
		{"unknown field", `{"rules":[` + rule + `],"extra":1}`, retention.ErrInvalidPolicy},
		{"unknown rule field", `{"rules":[{"id":"a","trigger":"collected","period":"P1Y","action":"delete","basis":"consent","keep":true}]}`, retention.ErrInvalidRule},
		{"trailing data", `{"rules":[` + rule + `]} {}`, retention.ErrInvalidPolicy},
		{"no rules", `{"rules":[]}`, retention.ErrInvalidPolicy},
		{"unknown trigger", `{"rules":[{"id":"a","trigger":"birthday","period":"P1Y","action":"delete","basis":"consent"}]}`, retention.ErrUnknownTrigger},
		{"unknown action", `{"rules":[{"id":"a","trigger":"collected","period":"P1Y","action":"shred","basis":"consent"}]}`, retention.ErrUnknownAction},
		{"negative period", `{"rules":[{"id":"a","trigger":"collected","period":"P-1Y","action":"delete","basis":"consent"}]}`, retention.ErrInvalidPeriod},
		{"period with hours", `{"rules":[{"id":"a","trigger":"collected","period":"PT1H","action":"delete","basis":"consent"}]}`, retention.ErrInvalidPeriod},
		{"bad basis", `{"rules":[{"id":"a","trigger":"collected","period":"P1Y","action":"delete","basis":"because"}]}`, personaldata.ErrInvalidLegalBasis},
		{"missing basis", `{"rules":[{"id":"a","trigger":"collected","period":"P1Y","action":"delete"}]}`, retention.ErrInvalidRule},
		{"duplicate IDs", `{"rules":[` + rule + `,` + rule + `]}`, retention.ErrDuplicateRule},
		{"bad fiscal year end", `{"fiscal_year_end":"02-30","rules":[` + rule + `]}`, retention.ErrInvalidPolicy},
		{"too large", `{"name":"` + string(make([]byte, 1<<20)) + `"}`, retention.ErrInvalidPolicy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := retention.ParsePolicy([]byte(tc.in))
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestPolicyAccessors(t *testing.T) {
	t.Parallel()
	p := retention.ExamplePolicy()
	assert.Equal(t, "example-mail-and-hosting", p.Name())
	assert.Equal(t, "12-31", p.FiscalYearEnd().String())
	r, ok := p.Rule("invoices")
	require.True(t, ok)
	assert.Equal(t, "AWR art. 52 lid 4", r.Citation)
	_, ok = p.Rule("nope")
	assert.False(t, ok)
	rules := p.Rules()
	rules[0].ID = "changed"
	_, ok = p.Rule("changed")
	assert.False(t, ok, "Rules returns a copy")
	assert.Contains(t, p.String(), `"example-mail-and-hosting", 7 rules`)
}

func TestTriggerAndActionText(t *testing.T) {
	t.Parallel()
	for tr := retention.TriggerCollected; tr <= retention.TriggerEvent; tr++ {
		got, err := retention.ParseTrigger(tr.String())
		require.NoError(t, err)
		assert.Equal(t, tr, got)
	}
	_, err := retention.ParseTrigger("never")
	assert.ErrorIs(t, err, retention.ErrUnknownTrigger)
	assert.Equal(t, "Trigger(0)", retention.Trigger(0).String())
	for a := retention.Keep; a <= retention.Review; a++ {
		got, err := retention.ParseAction(a.String())
		require.NoError(t, err)
		assert.Equal(t, a, got)
	}
	a, err := retention.ParseAction("anonymize")
	require.NoError(t, err)
	assert.Equal(t, retention.Anonymise, a)
	_, err = retention.Action(9).MarshalText()
	assert.ErrorIs(t, err, retention.ErrUnknownAction)
}
