package consent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

type check struct {
	purpose consent.PurposeID
	at      time.Time
	allowed bool
	reason  consent.Reason
	event   int // index into the scenario's events the decision rests on, -1 for none
}

func TestDecideScenarios(t *testing.T) {
	t.Parallel()
	const s = personaldata.SubjectID("customer-1017")
	tests := []struct {
		name    string
		changes []consent.Change
		checks  []check
	}{
		{
			name: "newsletter is opt-in: not allowed until granted",
			changes: []consent.Change{
				{Type: consent.EventGrant, Purpose: statistics, EffectiveAt: day(0)}, // makes the subject known
				{Type: consent.EventGrant, Purpose: newsletter, EffectiveAt: day(10)},
			},
			checks: []check{
				{newsletter, day(5), false, consent.ReasonNoConsent, -1},
				{newsletter, day(10), true, consent.ReasonGranted, 1},
				{newsletter, day(100), true, consent.ReasonGranted, 1},
			},
		},
		{
			name: "withdrawal is not retroactive",
			changes: []consent.Change{
				{Type: consent.EventGrant, Purpose: newsletter, EffectiveAt: day(1)},
				{Type: consent.EventWithdraw, Purpose: newsletter, EffectiveAt: day(20), Method: consent.MethodEmailLink},
			},
			checks: []check{
				{newsletter, day(19), true, consent.ReasonGranted, 0},
				{newsletter, day(20), false, consent.ReasonWithdrawn, 1},
				{newsletter, day(21), false, consent.ReasonWithdrawn, 1},
			},
		},
		{
			name: "backdated import lands in effective-time order",
			changes: []consent.Change{
				{Type: consent.EventWithdraw, Purpose: newsletter, EffectiveAt: day(20)},
				{Type: consent.EventGrant, Purpose: newsletter, EffectiveAt: day(1), Method: consent.MethodImport, Actor: consent.ActorAdministrator},
			},
			checks: []check{
				{newsletter, day(0), false, consent.ReasonNoConsent, -1},
				{newsletter, day(5), true, consent.ReasonGranted, 1},
				{newsletter, day(25), false, consent.ReasonWithdrawn, 0},
			},
		},
		{
			name: "service announcements rest on the contract",
			changes: []consent.Change{
				{Type: consent.EventGrant, Purpose: newsletter, EffectiveAt: day(1)},
			},
			checks: []check{
				{announcements, day(2), true, consent.ReasonContract, -1},
				{invoices, day(2), true, consent.ReasonLegalObligation, -1},
			},
		},
		{
			name: "testimonials only after prior consent, and fresh consent under the new notice",
			changes: []consent.Change{
				{Type: consent.EventGrant, Purpose: testimonials, EffectiveAt: time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC), NoticeVersion: "2015-03"},
				{Type: consent.EventGrant, Purpose: newsletter, EffectiveAt: time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC), NoticeVersion: "2015-03"},
				{Type: consent.EventGrant, Purpose: testimonials, EffectiveAt: day(10)},
			},
			checks: []check{
				{testimonials, time.Date(2015, 5, 1, 0, 0, 0, 0, time.UTC), false, consent.ReasonNoConsent, -1},
				{testimonials, time.Date(2015, 7, 1, 0, 0, 0, 0, time.UTC), true, consent.ReasonGranted, 0},
				{testimonials, v2At.Add(-time.Nanosecond), true, consent.ReasonGranted, 0},
				{testimonials, v2At, false, consent.ReasonFreshConsentRequired, 0},
				{newsletter, v2At, true, consent.ReasonGranted, 1}, // not changed by 2016-01
				{testimonials, day(10), true, consent.ReasonGranted, 2},
			},
		},
		{
			name: "privacy signal does not override an explicit grant",
			changes: []consent.Change{
				{Type: consent.EventGrant, Purpose: newsletter, EffectiveAt: day(1)},
				{Type: consent.EventObject, Purpose: newsletter, EffectiveAt: day(2), Method: consent.MethodPrivacySignal},
				{Type: consent.EventObject, Purpose: offers, EffectiveAt: day(2), Method: consent.MethodPrivacySignal},
			},
			checks: []check{
				{newsletter, day(3), true, consent.ReasonGranted, 0},
				{offers, day(1), true, consent.ReasonLegitimateInterests, -1},
				{offers, day(3), false, consent.ReasonPrivacySignal, 2},
			},
		},
		{
			name: "a later explicit grant overrides a privacy signal",
			changes: []consent.Change{
				{Type: consent.EventObject, Purpose: offers, EffectiveAt: day(2), Method: consent.MethodPrivacySignal},
				{Type: consent.EventGrant, Purpose: offers, EffectiveAt: day(3)},
			},
			checks: []check{
				{offers, day(2), false, consent.ReasonPrivacySignal, 0},
				{offers, day(3), true, consent.ReasonLegitimateInterests, 1},
			},
		},
		{
			name: "a child's grant counts only from a guardian",
			changes: []consent.Change{
				{Type: consent.EventGrant, Purpose: newsletter, EffectiveAt: day(1), BirthDate: time.Date(2002, 5, 1, 0, 0, 0, 0, time.UTC)},
				{Type: consent.EventGrant, Purpose: testimonials, EffectiveAt: day(1), BirthDate: time.Date(2002, 5, 1, 0, 0, 0, 0, time.UTC), Actor: consent.ActorGuardian},
				{Type: consent.EventGrant, Purpose: senderAcme, EffectiveAt: day(1), BirthDate: time.Date(2000, 2, 2, 0, 0, 0, 0, time.UTC)}, // 16 on day 1
			},
			checks: []check{
				{newsletter, day(2), false, consent.ReasonGuardianRequired, 0},
				{testimonials, day(2), true, consent.ReasonGranted, 1},
				{senderAcme, day(2), true, consent.ReasonGranted, 2},
			},
		},
		{
			name: "objection to direct marketing is absolute",
			changes: []consent.Change{
				{Type: consent.EventObject, Purpose: offers, EffectiveAt: day(1)},
				{Type: consent.EventGrant, Purpose: offers, EffectiveAt: day(2), Actor: consent.ActorAdministrator, Method: consent.MethodAdministrator},
				{Type: consent.EventObject, Purpose: statistics, EffectiveAt: day(1)},
				{Type: consent.EventGrant, Purpose: statistics, EffectiveAt: day(2), Actor: consent.ActorAdministrator, Method: consent.MethodAdministrator},
				{Type: consent.EventGrant, Purpose: offers, EffectiveAt: day(5)},
			},
			checks: []check{
				{offers, day(0), true, consent.ReasonLegitimateInterests, -1},
				{offers, day(1), false, consent.ReasonObjected, 0},
				{offers, day(3), false, consent.ReasonObjected, 0},               // the administrator cannot override it
				{statistics, day(3), true, consent.ReasonLegitimateInterests, 3}, // compelling grounds, not direct marketing
				{offers, day(5), true, consent.ReasonLegitimateInterests, 4},     // the subject's own choice
			},
		},
		{
			name: "restriction stops everything until lifted",
			changes: []consent.Change{
				{Type: consent.EventGrant, Purpose: newsletter, EffectiveAt: day(1)},
				{Type: consent.EventRestrict, EffectiveAt: day(5)},
				{Type: consent.EventLiftRestriction, EffectiveAt: day(9)},
				{Type: consent.EventRestrict, Purpose: testimonials, EffectiveAt: day(9)},
			},
			checks: []check{
				{newsletter, day(4), true, consent.ReasonGranted, 0},
				{newsletter, day(6), false, consent.ReasonRestricted, 1},
				{announcements, day(6), false, consent.ReasonRestricted, 1},
				{newsletter, day(9), true, consent.ReasonGranted, 0},
				{testimonials, day(9), false, consent.ReasonRestricted, 3},
			},
		},
		{
			name: "a grant expires",
			changes: []consent.Change{
				{Type: consent.EventGrant, Purpose: newsletter, EffectiveAt: day(1), ExpiresAt: day(31)},
				{Type: consent.EventGrant, Purpose: senderAcme, EffectiveAt: day(1)},
				{Type: consent.EventExpire, Purpose: senderAcme, EffectiveAt: day(7), Actor: consent.ActorAdministrator, Method: consent.MethodAPI},
			},
			checks: []check{
				{newsletter, day(30), true, consent.ReasonGranted, 0},
				{newsletter, day(31), false, consent.ReasonExpired, 0},
				{senderAcme, day(7), false, consent.ReasonExpired, 2},
			},
		},
		{
			name: "erasure ends everything but legal obligations",
			changes: []consent.Change{
				{Type: consent.EventGrant, Purpose: newsletter, EffectiveAt: day(1)},
				{Type: consent.EventErase, EffectiveAt: day(3), Actor: consent.ActorAdministrator, Method: consent.MethodAdministrator},
			},
			checks: []check{
				{newsletter, day(2), true, consent.ReasonGranted, 0},
				{newsletter, day(3), false, consent.ReasonErased, 1},
				{announcements, day(3), false, consent.ReasonErased, 1},
				{invoices, day(3), true, consent.ReasonLegalObligation, -1},
			},
		},
		{
			name:    "purpose that did not exist yet",
			changes: []consent.Change{{Type: consent.EventGrant, Purpose: newsletter, EffectiveAt: day(1)}},
			checks:  []check{{announcements, t0.Add(-time.Hour), false, consent.ReasonBeforePurpose, -1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			var evs []consent.Event
			for _, c := range tc.changes {
				c.Subject = s
				evs = append(evs, f.record(t, c))
			}
			for _, c := range tc.checks {
				d := f.decide(t, s, c.purpose, c.at)
				assert.Equal(t, c.allowed, d.Allowed, "%s at %s: allowed (reason %s)", c.purpose, c.at, d.Reason)
				assert.Equal(t, c.reason, d.Reason, "%s at %s: reason", c.purpose, c.at)
				if c.event >= 0 {
					assert.Equal(t, evs[c.event].ID, d.EventID, "%s at %s: event", c.purpose, c.at)
					assert.Equal(t, evs[c.event].NoticeVersion, d.NoticeVersion)
				} else {
					assert.Zero(t, d.EventID, "%s at %s: event", c.purpose, c.at)
				}
			}
			require.NoError(t, f.l.Verify(context.Background(), s))
		})
	}
}

func TestDecideDetails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()

	d := f.decide(t, "nobody", newsletter, startAt)
	assert.Equal(t, consent.Decision{Subject: "nobody", Purpose: newsletter, At: startAt,
		Basis: personaldata.Consent, Reason: consent.ReasonNoConsent}, d)

	e := f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s1", Purpose: testimonials,
		EffectiveAt: time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)})
	d = f.decide(t, "s1", testimonials, time.Date(2015, 7, 1, 0, 0, 0, 0, time.UTC))
	assert.True(t, d.Allowed)
	assert.Equal(t, "2015-03", d.NoticeVersion, "defaults to the version in force")
	assert.Equal(t, e.ID, d.EventID)
	assert.Equal(t, v2At, d.Until, "lapses when fresh consent is required, before the expiry")

	_, err := f.l.Decide(ctx, "s1", "no-such-purpose", startAt)
	require.ErrorIs(t, err, consent.ErrUnknownPurpose)
}

func TestPurposeValidity(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *consent.Options) { o.Notices = nil })
	require.NoError(t, f.l.AddPurpose(context.Background(), consent.Purpose{ID: "survey", Basis: personaldata.Consent, Validity: 24 * time.Hour, Since: t0}))
	e := f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: "survey", EffectiveAt: day(1)})
	assert.Equal(t, day(2), e.ExpiresAt)
	assert.True(t, f.decide(t, "s", "survey", day(1).Add(time.Hour)).Allowed)
	assert.Equal(t, consent.ReasonExpired, f.decide(t, "s", "survey", day(2)).Reason)
}

// TestManyPurposesAndLateRegistration covers the decision index past its
// fast path: more purposes than it indexes directly, and a purpose
// registered after a subject already has events.
func TestManyPurposesAndLateRegistration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *consent.Options) { o.Notices = nil })
	var ids []consent.PurposeID
	for i := range 20 {
		id := consent.PurposeID(fmt.Sprintf("extra-%02d", i))
		require.NoError(t, f.l.AddPurpose(context.Background(), consent.Purpose{ID: id, Basis: personaldata.Consent, Since: t0}))
		ids = append(ids, id)
	}
	for i, id := range ids {
		if i%2 == 0 {
			f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: id, EffectiveAt: day(1)})
		}
	}
	require.NoError(t, f.l.AddPurpose(context.Background(), consent.Purpose{ID: "late", Basis: personaldata.Consent, Since: t0}))
	for i, id := range ids {
		d := f.decide(t, "s", id, day(2))
		assert.Equal(t, i%2 == 0, d.Allowed, "purpose %s", id)
	}
	assert.Equal(t, consent.ReasonNoConsent, f.decide(t, "s", "late", day(2)).Reason)
	f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: "late", EffectiveAt: day(3)})
	assert.True(t, f.decide(t, "s", "late", day(4)).Allowed)
	assert.False(t, f.decide(t, "s", "late", day(2)).Allowed, "not retroactive")
}
