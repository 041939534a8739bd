package retention_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

var now = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func newEvaluator(t testing.TB, p *retention.Policy, opts *retention.Options) *retention.Evaluator {
	t.Helper()
	if opts == nil {
		opts = &retention.Options{}
	}
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return now }
	}
	ev, err := retention.New(p, retention.NewMemoryHoldStore(), opts)
	require.NoError(t, err)
	return ev
}

func activeHold() retention.Hold {
	return retention.Hold{ID: ulid.MustParse("01KQS6WB800W3GE1R70W3GE1R7"), Subject: "customer-1", Reason: "case 17", PlacedAt: day(2026, 1, 1)}
}

func TestEvaluateExamplePolicy(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	released := activeHold()
	released.ReleasedAt = day(2026, 2, 1)
	for _, tc := range []struct {
		name       string
		facts      retention.Facts
		verdict    retention.Action
		reason     retention.Reason
		rule       string
		until      time.Time
		overridden []string
	}{
		{
			name:    "active account: kept until 24 months after the last activity",
			facts:   retention.Facts{Category: "account", Collected: day(2020, 1, 1), LastActivity: day(2026, 6, 1)},
			verdict: retention.Keep, reason: retention.ReasonDeletion, rule: "account-inactive", until: day(2028, 6, 1),
		},
		{
			name:    "inactive for 25 months: review",
			facts:   retention.Facts{Category: "account", Collected: day(2020, 1, 1), LastActivity: day(2024, 5, 1)},
			verdict: retention.Review, reason: retention.ReasonDeletion, rule: "account-inactive", until: day(2026, 5, 1),
		},
		{
			name:    "account closed 40 days ago: delete, whatever the activity",
			facts:   retention.Facts{Category: "account", LastActivity: day(2026, 5, 6), AccountClosed: day(2026, 5, 6)},
			verdict: retention.Delete, reason: retention.ReasonDeletion, rule: "account", until: day(2026, 6, 5),
			overridden: []string{"account-inactive"},
		},
		{
			name:    "closed and long inactive: delete beats review",
			facts:   retention.Facts{Category: "account", LastActivity: day(2023, 1, 1), AccountClosed: day(2026, 5, 6)},
			verdict: retention.Delete, reason: retention.ReasonDeletion, rule: "account", until: day(2026, 6, 5),
			overridden: []string{"account-inactive"},
		},
		{
			name:    "account closed 10 days ago: kept until the deadline",
			facts:   retention.Facts{Category: "account", LastActivity: day(2026, 6, 5), AccountClosed: day(2026, 6, 5)},
			verdict: retention.Keep, reason: retention.ReasonDeletion, rule: "account", until: day(2026, 7, 5),
			overridden: []string{"account-inactive"},
		},
		{
			name:    "erasure request on an active account: kept until the erasure deadline",
			facts:   retention.Facts{Category: "account", LastActivity: day(2026, 6, 1), ErasureRequested: day(2026, 6, 1)},
			verdict: retention.Keep, reason: retention.ReasonErasure, rule: "erasure", until: day(2026, 7, 1),
			overridden: []string{"account-inactive"},
		},
		{
			name:    "invoice: 7 years after the end of the fiscal year",
			facts:   retention.Facts{Category: "billing", Kind: "invoice", Collected: day(2024, 3, 15)},
			verdict: retention.Keep, reason: retention.ReasonLegalRetention, rule: "invoices", until: day(2032, 1, 1),
		},
		{
			name:    "invoice with an erasure request: the law wins",
			facts:   retention.Facts{Category: "billing", Collected: day(2024, 3, 15), ErasureRequested: day(2026, 1, 2)},
			verdict: retention.Keep, reason: retention.ReasonLegalRetention, rule: "invoices", until: day(2032, 1, 1),
			overridden: []string{"erasure"},
		},
		{
			name:    "old invoice: delete",
			facts:   retention.Facts{Category: "billing", Collected: day(2018, 5, 1)},
			verdict: retention.Delete, reason: retention.ReasonDeletion, rule: "invoices", until: day(2026, 1, 1),
		},
		{
			name:    "old invoice under a hold: kept indefinitely",
			facts:   retention.Facts{Category: "billing", Subject: "customer-1", Collected: day(2018, 5, 1), Holds: []retention.Hold{activeHold()}},
			verdict: retention.Keep, reason: retention.ReasonHold,
			overridden: []string{"invoices"},
		},
		{
			name:    "old invoice with a released hold: delete",
			facts:   retention.Facts{Category: "billing", Collected: day(2018, 5, 1), Holds: []retention.Hold{released}},
			verdict: retention.Delete, reason: retention.ReasonDeletion, rule: "invoices", until: day(2026, 1, 1),
		},
		{
			name:    "contact message: archived for 2 years",
			facts:   retention.Facts{Category: "contact", Collected: day(2025, 1, 1)},
			verdict: retention.Keep, reason: retention.ReasonRetention, rule: "contact", until: day(2027, 1, 1),
		},
		{
			name:    "contact message with an erasure request: the request beats the archive",
			facts:   retention.Facts{Category: "contact", Collected: day(2025, 1, 1), ErasureRequested: day(2026, 6, 1)},
			verdict: retention.Keep, reason: retention.ReasonErasure, rule: "erasure", until: day(2026, 7, 1),
			overridden: []string{"contact"},
		},
		{
			name:    "contact message, erasure deadline passed: delete",
			facts:   retention.Facts{Category: "contact", Collected: day(2025, 1, 1), ErasureRequested: day(2026, 5, 1)},
			verdict: retention.Delete, reason: retention.ReasonErasure, rule: "erasure", until: day(2026, 5, 31),
			overridden: []string{"contact"},
		},
		{
			name:    "old contact message: delete",
			facts:   retention.Facts{Category: "contact", Collected: day(2024, 1, 1)},
			verdict: retention.Delete, reason: retention.ReasonDeletion, rule: "contact", until: day(2026, 1, 1),
		},
		{
			name:    "spam-filter log after 30 days: delete",
			facts:   retention.Facts{Category: "mail-log", Collected: day(2026, 5, 1)},
			verdict: retention.Delete, reason: retention.ReasonDeletion, rule: "mail-log", until: day(2026, 5, 31),
		},
		{
			name:    "registration IP: kept a year",
			facts:   retention.Facts{Category: "ip-address", Kind: "registration", Collected: day(2026, 1, 10)},
			verdict: retention.Keep, reason: retention.ReasonRetention, rule: "registration-ip", until: day(2027, 1, 10),
		},
		{
			name:    "registration IP with an erasure request: no law requires it, the request wins",
			facts:   retention.Facts{Category: "ip-address", Kind: "registration", Collected: day(2026, 1, 10), ErasureRequested: day(2026, 2, 1)},
			verdict: retention.Delete, reason: retention.ReasonErasure, rule: "erasure", until: day(2026, 3, 3),
			overridden: []string{"registration-ip"},
		},
		{
			name:    "IP address of another kind: no retention clock started",
			facts:   retention.Facts{Category: "ip-address", Kind: "login", Collected: day(2026, 1, 10)},
			verdict: retention.Keep, reason: retention.ReasonNotStarted,
		},
		{
			name:    "IP address of another kind, erasure requested: deleted after 30 days",
			facts:   retention.Facts{Category: "ip-address", Kind: "login", ErasureRequested: day(2026, 5, 1)},
			verdict: retention.Delete, reason: retention.ReasonErasure, rule: "erasure", until: day(2026, 5, 31),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := ev.EvaluateIgnoringHolds(tc.facts, now)
			assert.Equal(t, tc.verdict, d.Verdict, "verdict; %s", d)
			assert.Equal(t, tc.reason, d.Reason, "reason; %s", d)
			assert.Equal(t, tc.rule, d.RuleID)
			assert.True(t, d.Until.Equal(tc.until), "until %s, want %s", d.Until, tc.until)
			var over []string
			for _, r := range d.Overridden() {
				over = append(over, r.ID)
			}
			assert.Equal(t, tc.overridden, over)
			assert.Equal(t, len(tc.overridden), d.OverriddenCount)
			assert.Equal(t, retention.ExamplePolicy().Hash(), d.PolicyHash)
			switch {
			case d.Verdict != retention.Keep:
				assert.True(t, d.NextReview.Equal(now), "act now")
				assert.True(t, d.Due())
			default:
				assert.True(t, d.NextReview.Equal(d.Until), "look again when keeping ends")
				assert.False(t, d.Due())
			}
			if r, ok := d.Rule(); ok {
				assert.Equal(t, tc.rule, r.ID)
			}
			assert.NotEmpty(t, d.Explain())
			assert.NotContains(t, d.String()+d.Explain(), "customer-1", "no subject in text")
		})
	}
}

func TestEvaluateHolds(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	h := activeHold()
	f := retention.Facts{Category: "mail-log", Collected: day(2026, 1, 1), Holds: []retention.Hold{h, h}}
	d := ev.EvaluateIgnoringHolds(f, now)
	assert.Equal(t, retention.Keep, d.Verdict)
	assert.True(t, d.Indefinite())
	assert.True(t, d.NextReview.IsZero())
	assert.Equal(t, 2, d.ActiveHolds)
	assert.Len(t, d.Holds(), 2)
	assert.Equal(t, "keep indefinitely (hold, 2 holds)", d.String())
	assert.Equal(t, `This data is kept for now: 2 legal holds apply to it, and nothing under a legal hold is deleted until the hold is released. This takes precedence over rule "mail-log".`, d.Explain())
	// A hold released after now still counts at now.
	h.ReleasedAt = now.Add(time.Hour)
	f.Holds = []retention.Hold{h}
	assert.Equal(t, retention.ReasonHold, ev.EvaluateIgnoringHolds(f, now).Reason)
	assert.Equal(t, retention.Delete, ev.EvaluateIgnoringHolds(f, now.Add(2*time.Hour)).Verdict)
}

func TestEvaluateExplain(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	d := ev.EvaluateIgnoringHolds(retention.Facts{Category: "billing", Collected: day(2024, 3, 15), ErasureRequested: day(2026, 1, 2)}, now)
	assert.Equal(t, `This data is kept until 1 January 2032 because the law requires it: Invoices and payment data are kept for 7 years after the end of the fiscal year, as Dutch tax law requires (AWR art. 52 lid 4). This takes precedence over rule "erasure".`, d.Explain())
	assert.Equal(t, `keep until 2032-01-01 (legal-retention, rule "invoices")`, d.String())

	d = ev.EvaluateIgnoringHolds(retention.Facts{Category: "mail-log", Collected: day(2026, 5, 1)}, now)
	assert.Equal(t, `The retention period of this data ended on 31 May 2026; it is to be deleted now: Spam-filter logs are deleted after 30 days.`, d.Explain())

	d = ev.EvaluateIgnoringHolds(retention.Facts{Category: "contact", Collected: day(2025, 1, 1), ErasureRequested: day(2026, 6, 1)}, now)
	assert.Equal(t, `Your erasure request is being carried out: this data is deleted on 1 July 2026 (When you ask us to erase your data, data that no law requires us to keep is deleted within 30 days (GDPR Art. 12(3), 17)). This takes precedence over rule "contact".`, d.Explain())
}

// rule builds a rule for the conflict tests.
func rule(id string, trig retention.Trigger, p retention.Period, a retention.Action, kind string) retention.Rule {
	r := retention.Rule{ID: id, Category: "data", Trigger: trig, Period: p, Action: a, Basis: personaldata.Contract}
	switch kind {
	case "legal":
		r.Basis, r.Citation = personaldata.LegalObligation, "Law art. 1"
	case "retain":
		r.Retain = true
	}
	return r
}

func TestEvaluateConflictOrder(t *testing.T) {
	t.Parallel()
	Y := func(n int) retention.Period { return retention.Period{Years: n} }
	for _, tc := range []struct {
		name    string
		rules   []retention.Rule
		facts   retention.Facts
		verdict retention.Action
		reason  retention.Reason
		winner  string
		until   time.Time
	}{
		{
			name: "longest legal retention wins",
			rules: []retention.Rule{
				rule("a", retention.TriggerCollected, Y(2), retention.Delete, "legal"),
				rule("b", retention.TriggerCollected, Y(5), retention.Delete, "legal"),
			},
			facts:   retention.Facts{Collected: day(2025, 1, 1)},
			verdict: retention.Keep, reason: retention.ReasonLegalRetention, winner: "b", until: day(2030, 1, 1),
		},
		{
			name: "legal retention not started keeps indefinitely",
			rules: []retention.Rule{
				rule("a", retention.TriggerContractEnded, Y(2), retention.Delete, "legal"),
				rule("b", retention.TriggerCollected, Y(0), retention.Delete, ""),
			},
			facts:   retention.Facts{Collected: day(2025, 1, 1)},
			verdict: retention.Keep, reason: retention.ReasonLegalRetention, winner: "a",
		},
		{
			name: "legal retention beats a longer ordinary retention only while it runs",
			rules: []retention.Rule{
				rule("a", retention.TriggerCollected, Y(1), retention.Delete, "legal"),
				rule("b", retention.TriggerCollected, Y(3), retention.Anonymise, "retain"),
			},
			facts:   retention.Facts{Collected: day(2025, 1, 1)},
			verdict: retention.Keep, reason: retention.ReasonRetention, winner: "b", until: day(2028, 1, 1),
		},
		{
			name: "longest other retention beats an earlier deadline",
			rules: []retention.Rule{
				rule("a", retention.TriggerCollected, Y(1), retention.Delete, ""),
				rule("b", retention.TriggerCollected, Y(3), retention.Delete, "retain"),
				rule("c", retention.TriggerCollected, Y(4), retention.Delete, "retain"),
			},
			facts:   retention.Facts{Collected: day(2025, 1, 1)},
			verdict: retention.Keep, reason: retention.ReasonRetention, winner: "c", until: day(2029, 1, 1),
		},
		{
			name: "earliest deadline when none is due",
			rules: []retention.Rule{
				rule("a", retention.TriggerCollected, Y(3), retention.Delete, ""),
				rule("b", retention.TriggerLastActivity, Y(1), retention.Review, ""),
			},
			facts:   retention.Facts{Collected: day(2025, 1, 1), LastActivity: day(2026, 1, 1)},
			verdict: retention.Keep, reason: retention.ReasonDeletion, winner: "b", until: day(2027, 1, 1),
		},
		{
			name: "equal deadlines: the stronger action",
			rules: []retention.Rule{
				rule("a", retention.TriggerCollected, Y(3), retention.Delete, ""),
				rule("b", retention.TriggerLastActivity, Y(2), retention.Review, ""),
			},
			facts:   retention.Facts{Collected: day(2025, 1, 1), LastActivity: day(2026, 1, 1)},
			verdict: retention.Keep, reason: retention.ReasonDeletion, winner: "a", until: day(2028, 1, 1),
		},
		{
			name: "strongest due action wins over an earlier one",
			rules: []retention.Rule{
				rule("a", retention.TriggerCollected, Y(1), retention.Anonymise, ""),
				rule("b", retention.TriggerCollected, Y(2), retention.Delete, ""),
			},
			facts:   retention.Facts{Collected: day(2020, 1, 1)},
			verdict: retention.Delete, reason: retention.ReasonDeletion, winner: "b", until: day(2022, 1, 1),
		},
		{
			name: "equal due, equal action: lower ID",
			rules: []retention.Rule{
				rule("z", retention.TriggerCollected, Y(1), retention.Delete, ""),
				rule("m", retention.TriggerLastActivity, Y(1), retention.Delete, ""),
			},
			facts:   retention.Facts{Collected: day(2020, 1, 1), LastActivity: day(2020, 1, 1)},
			verdict: retention.Delete, reason: retention.ReasonDeletion, winner: "m", until: day(2021, 1, 1),
		},
		{
			name: "the latest named event counts",
			rules: []retention.Rule{
				{ID: "e", Category: "data", Trigger: retention.TriggerEvent, Event: "domain-expired", Period: Y(1), Action: retention.Delete, Basis: personaldata.Contract},
			},
			facts: retention.Facts{Events: []retention.Event{
				{Name: "domain-expired", At: day(2020, 1, 1)}, {Name: "other", At: day(2026, 1, 1)}, {Name: "domain-expired", At: day(2026, 1, 1)},
			}},
			verdict: retention.Keep, reason: retention.ReasonDeletion, winner: "e", until: day(2027, 1, 1),
		},
		{
			name: "due ordinary retention and a due deadline: strongest action",
			rules: []retention.Rule{
				rule("a", retention.TriggerCollected, Y(1), retention.Review, "retain"),
				rule("b", retention.TriggerCollected, Y(1), retention.Anonymise, ""),
			},
			facts:   retention.Facts{Collected: day(2020, 1, 1)},
			verdict: retention.Anonymise, reason: retention.ReasonDeletion, winner: "b", until: day(2021, 1, 1),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.facts.Category = "data"
			// The order of the rules does not matter.
			var first retention.Decision
			for i := range 4 {
				rules := slices.Clone(tc.rules)
				rand.New(rand.NewPCG(uint64(i), 9)).Shuffle(len(rules), func(a, b int) { rules[a], rules[b] = rules[b], rules[a] })
				p, err := retention.NewPolicy(retention.PolicySpec{Rules: rules})
				require.NoError(t, err)
				d := newEvaluator(t, p, nil).EvaluateIgnoringHolds(tc.facts, now)
				assert.Equal(t, tc.verdict, d.Verdict, "%s", d)
				assert.Equal(t, tc.reason, d.Reason, "%s", d)
				assert.Equal(t, tc.winner, d.RuleID)
				assert.True(t, d.Until.Equal(tc.until), "until %s, want %s", d.Until, tc.until)
				if i == 0 {
					first = d
				} else {
					assert.Equal(t, first.Explain(), d.Explain())
				}
			}
		})
	}
}

func TestDecisionLogValue(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	f := retention.Facts{Subject: "customer-1", Category: "billing", Collected: day(2024, 3, 15)}
	log.Info("decided", "decision", ev.EvaluateIgnoringHolds(f, now))
	hash := retention.ExamplePolicy().Hash().String()[:12]
	assert.Equal(t, "level=INFO msg=decided decision.verdict=keep decision.reason=legal-retention decision.rule=invoices "+
		"decision.until=2032-01-01T00:00:00.000Z decision.next_review=2032-01-01T00:00:00.000Z decision.policy="+hash+"\n", buf.String())
}

func TestEvaluateNoRule(t *testing.T) {
	t.Parallel()
	p, err := retention.NewPolicy(retention.PolicySpec{Rules: []retention.Rule{validRule()}})
	require.NoError(t, err)
	d := newEvaluator(t, p, nil).EvaluateIgnoringHolds(retention.Facts{Category: "photo", Collected: day(2000, 1, 1)}, now)
	assert.Equal(t, retention.Keep, d.Verdict)
	assert.Equal(t, retention.ReasonNoRule, d.Reason)
	assert.True(t, d.Indefinite())
	_, ok := d.Rule()
	assert.False(t, ok)
	assert.Equal(t, "No retention rule covers this data, so no deletion is scheduled for it.", d.Explain())
}

func TestEvaluateOverriddenCapped(t *testing.T) {
	t.Parallel()
	var rules []retention.Rule
	for i := range 12 {
		rules = append(rules, rule(fmt.Sprintf("r%02d", i), retention.TriggerCollected, retention.Period{Years: i + 1}, retention.Delete, ""))
	}
	p, err := retention.NewPolicy(retention.PolicySpec{Rules: rules})
	require.NoError(t, err)
	d := newEvaluator(t, p, nil).EvaluateIgnoringHolds(retention.Facts{Category: "data", Collected: day(2026, 1, 1)}, now)
	assert.Equal(t, "r00", d.RuleID)
	assert.Equal(t, 11, d.OverriddenCount)
	var ids []string
	for _, r := range d.Overridden() {
		ids = append(ids, r.ID)
	}
	assert.Equal(t, []string{"r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08"}, ids)
	assert.Contains(t, d.Explain(), `rule "r08" and 3 more.`)
}

func TestEvaluateReviewEvery(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), &retention.Options{ReviewEvery: retention.Period{Months: 6}})
	d := ev.EvaluateIgnoringHolds(retention.Facts{Category: "billing", Subject: "customer-1", Collected: day(2018, 1, 1), Holds: []retention.Hold{activeHold()}}, now)
	assert.True(t, d.NextReview.Equal(time.Date(2026, 12, 15, 12, 0, 0, 0, time.UTC)), "%s", d.NextReview)
	d = ev.EvaluateIgnoringHolds(retention.Facts{Category: "mail-log", Collected: day(2026, 6, 10)}, now)
	assert.True(t, d.NextReview.Equal(day(2026, 7, 10)), "an earlier end is kept: %s", d.NextReview)

	_, err := retention.New(retention.ExamplePolicy(), retention.NewMemoryHoldStore(), &retention.Options{ReviewEvery: retention.Period{Days: -1}})
	assert.ErrorIs(t, err, retention.ErrInvalidPeriod)
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	_, err := retention.New(nil, retention.NewMemoryHoldStore(), nil)
	assert.ErrorIs(t, err, retention.ErrInvalidPolicy)
	_, err = retention.New(retention.ExamplePolicy(), nil, nil)
	assert.ErrorIs(t, err, retention.ErrNoHoldStore)
	ev, err := retention.New(retention.ExamplePolicy(), retention.NewMemoryHoldStore(), nil)
	require.NoError(t, err)
	assert.Equal(t, time.UTC, ev.Location())
}

func TestEvaluateInLocation(t *testing.T) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	require.NoError(t, err)
	ev := newEvaluator(t, retention.ExamplePolicy(), &retention.Options{Location: ams})
	// 31 December 2024 23:30 UTC is 1 January 2025 in Amsterdam: fiscal year 2025.
	d := ev.EvaluateIgnoringHolds(retention.Facts{Category: "billing", Collected: time.Date(2024, 12, 31, 23, 30, 0, 0, time.UTC)}, now)
	assert.True(t, d.Until.Equal(time.Date(2033, 1, 1, 0, 0, 0, 0, ams)), "%s", d.Until)
	assert.Equal(t, ams, d.Until.Location())
}

func TestEvaluatePureAndConcurrent(t *testing.T) {
	t.Parallel()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	facts := randomFacts(rand.New(rand.NewPCG(5, 5)), 500)
	want := make([]retention.Decision, len(facts))
	for i, f := range facts {
		want[i] = ev.EvaluateIgnoringHolds(f, now)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i, f := range facts {
				if d := ev.EvaluateIgnoringHolds(f, now); d.Verdict != want[i].Verdict || !d.Until.Equal(want[i].Until) ||
					d.RuleID != want[i].RuleID || d.Explain() != want[i].Explain() {
					t.Errorf("record %d: %s, earlier %s", i, d, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	ams, err := time.LoadLocation("Europe/Amsterdam")
	require.NoError(t, err)
	for _, loc := range []*time.Location{time.UTC, ams} {
		ev := newEvaluator(t, benchPolicy(t), &retention.Options{Location: loc})
		facts := randomFacts(rand.New(rand.NewPCG(1, 2)), 64)
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			_ = ev.EvaluateIgnoringHolds(facts[i%len(facts)], now)
			i++
		})
		assert.Zero(t, allocs, "allocations per Evaluate in %s", loc)
	}
}

// randomFacts returns facts spread over the categories of the benchmark
// policy, with triggers in the past dozen years.
func randomFacts(r *rand.Rand, n int) []retention.Facts {
	cats := []personaldata.Category{"account", "billing", "ip-address", "contact", "mail-log", "domain", "support", "photo"}
	kinds := []string{"", "registration", "invoice", "login"}
	ts := func(p int) time.Time {
		if r.IntN(100) >= p {
			return time.Time{}
		}
		return now.Add(-time.Duration(r.Int64N(int64(12 * 365 * 24 * time.Hour))))
	}
	out := make([]retention.Facts, n)
	for i := range out {
		out[i] = retention.Facts{
			Subject:          personaldata.SubjectID(fmt.Sprintf("customer-%d", r.IntN(1000))),
			Category:         cats[r.IntN(len(cats))],
			Kind:             kinds[r.IntN(len(kinds))],
			Collected:        ts(100),
			LastActivity:     ts(80),
			AccountClosed:    ts(20),
			ContractEnded:    ts(20),
			ErasureRequested: ts(5),
		}
		if r.IntN(4) == 0 {
			out[i].Events = []retention.Event{{Name: "domain-expired", At: ts(100)}}
		}
	}
	return out
}

func TestNewNilDependencies(t *testing.T) {
	t.Parallel()
	_, err := retention.New(nil, retention.NewMemoryHoldStore(), nil)
	assert.ErrorIs(t, err, retention.ErrInvalidPolicy)
	assert.EqualError(t, err, "retention: New: nil Policy")
	_, err = retention.New(retention.ExamplePolicy(), nil, nil)
	assert.ErrorIs(t, err, retention.ErrNoHoldStore)
	assert.EqualError(t, err, "retention: New: nil HoldStore")
	_, err = retention.New(retention.ExamplePolicy(), retention.NewMemoryHoldStore(), &retention.Options{ReviewEvery: retention.Period{Days: -1}})
	assert.ErrorIs(t, err, retention.ErrInvalidPeriod)
	assert.True(t, strings.HasPrefix(err.Error(), "retention: New: "), err.Error())
}
