package consent_test

import (
	"context"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// TestRestartAnswersAsBefore: notices and purposes live in the store, so a
// ledger restarted over it, even without any Options.Purposes, answers every
// past question the same, and the archive of notice versions is whole.
func TestRestartAnswersAsBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := consent.NewMemoryStore()
	clk := &testClock{t: startAt}
	registered := startAt.Add(-24 * time.Hour)
	clk.Set(registered)
	opts := &consent.Options{Clock: clk.Now, Purposes: seedPurposes(), Notices: seedNotices()}
	l, err := consent.New(ctx, st, opts)
	require.NoError(t, err)
	// A purpose registered with a zero Since exists from its registration.
	require.NoError(t, l.AddPurpose(ctx, consent.Purpose{ID: "late", Basis: personaldata.LegitimateInterests}))
	text := "Privacy statement, version 2016-09."
	require.NoError(t, l.AddNotice(ctx, consent.Notice{Version: "2016-09", Language: "en", Text: text,
		AnnouncedAt: registered, EffectiveAt: registered.Add(40 * 24 * time.Hour), Purposes: []consent.PurposeID{newsletter, "late"}}))
	clk.Set(startAt)
	f := &fixture{l: l, store: st, clock: clk}
	f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, EffectiveAt: day(1)})
	f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: testimonials, EffectiveAt: day(2)})

	questions := []struct {
		subject personaldata.SubjectID
		purpose consent.PurposeID
		at      time.Time
	}{
		{"s", newsletter, day(3)}, {"s", testimonials, day(3)}, {"s", "late", registered.Add(-time.Hour)},
		{"s", "late", registered.Add(time.Hour)}, {"x", "late", startAt}, {"x", announcements, startAt},
	}
	answer := func(l *consent.Ledger) []consent.Decision {
		var out []consent.Decision
		for _, q := range questions {
			d, err := l.Decide(ctx, q.subject, q.purpose, q.at)
			require.NoError(t, err)
			out = append(out, d)
		}
		return out
	}
	before := answer(l)
	assert.Equal(t, consent.ReasonBeforePurpose, before[2].Reason)
	assert.Equal(t, consent.ReasonLegitimateInterests, before[3].Reason)

	clk.Set(startAt.Add(365 * 24 * time.Hour))
	for _, o := range []*consent.Options{{Clock: clk.Now}, {Clock: clk.Now, Purposes: seedPurposes(), Notices: seedNotices()}} {
		l2, err := consent.New(ctx, st, o)
		require.NoError(t, err)
		assert.Equal(t, before, answer(l2))
		assert.Equal(t, l.Purposes(), l2.Purposes())
		assert.Equal(t, l.Notices(), l2.Notices())
		n, err := l2.NoticeVersion("2016-09")
		require.NoError(t, err)
		assert.Equal(t, text, n.Text)
		assert.Equal(t, sha256.Sum256([]byte(text)), n.ContentHash)
		// Re-registering with a zero Since keeps the stored one.
		require.NoError(t, l2.AddPurpose(ctx, consent.Purpose{ID: "late", Basis: personaldata.LegitimateInterests}))
		p, _ := l2.Purpose("late")
		assert.True(t, p.Since.Equal(registered))
	}
	// Another definition under a stored ID is refused, by a ledger that
	// did not know it, too.
	l3, err := consent.New(ctx, st, &consent.Options{Clock: clk.Now})
	require.NoError(t, err)
	err = l3.AddPurpose(ctx, consent.Purpose{ID: "late", Basis: personaldata.Consent, Since: t0})
	require.ErrorIs(t, err, consent.ErrInvalidPurpose)
	_, err = l3.NoticeVersion("2099")
	require.ErrorIs(t, err, consent.ErrUnknownNotice)
	assert.True(t, slices.ContainsFunc(l3.Notices(), func(n consent.Notice) bool { return n.Version == "2015-03" }))
}

func TestBadStoredDefinitionFailsNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range []consent.StoredDefinition{
		{Kind: consent.DefinitionPurpose, ID: "p", Data: []byte(`{"v":1,"id":"p","basis":"consent","default":1,"since":"2020-01-01T00:00:00Z","extra":1}`)},
		{Kind: consent.DefinitionPurpose, ID: "q", Data: []byte(`{"v":1,"id":"p","basis":"consent","default":1,"since":"2020-01-01T00:00:00Z"}`)},
		{Kind: consent.DefinitionNotice, ID: "v", Data: []byte(`{"v":1,"version":"v"}`)},
		{Kind: "other", ID: "x", Data: []byte(`{}`)},
	} {
		st := consent.NewMemoryStore()
		require.NoError(t, st.Define(ctx, d))
		_, err := consent.New(ctx, st, nil)
		require.ErrorIs(t, err, consent.ErrTampered, "%s", d.Data)
	}
}
