package consent_test

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// Purposes from the seed privacy statements.
const (
	newsletter    consent.PurposeID = "newsletter"            // 004: opt-in only
	announcements consent.PurposeID = "service-announcements" // 002: cannot be opted out of
	testimonials  consent.PurposeID = "testimonials"          // 002: only after prior consent
	offers        consent.PurposeID = "offers"                // direct marketing to customers, legitimate interests
	statistics    consent.PurposeID = "statistics"            // 000, 002: legitimate interests
	invoices      consent.PurposeID = "invoices"              // 001, 004: tax law
	senderAcme    consent.PurposeID = "newsletter.acme"       // 003: preferences per sender
)

var (
	t0      = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC) // purposes exist
	v1At    = time.Date(2015, 3, 4, 0, 0, 0, 0, time.UTC) // first notice in force
	v2Ann   = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	v2At    = v2Ann.Add(30 * 24 * time.Hour) // 2016-01-31
	startAt = time.Date(2016, 6, 1, 12, 0, 0, 0, time.UTC)
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func seedPurposes() []consent.Purpose {
	return []consent.Purpose{
		{ID: newsletter, Description: "Newsletter about products and services", Basis: personaldata.Consent,
			DirectMarketing: true, Categories: []personaldata.Category{"email"}, Since: t0},
		{ID: announcements, Description: "Service announcements", Basis: personaldata.Contract,
			Categories: []personaldata.Category{"email"}, Since: t0},
		{ID: testimonials, Description: "Testimonials on the web site", Basis: personaldata.Consent,
			Categories: []personaldata.Category{"name", "address", "phone"}, Since: t0},
		{ID: offers, Description: "Offers to existing customers", Basis: personaldata.LegitimateInterests,
			DirectMarketing: true, Categories: []personaldata.Category{"email"}, Since: t0},
		{ID: statistics, Description: "Usage statistics", Basis: personaldata.LegitimateInterests, Since: t0},
		{ID: invoices, Description: "Invoices kept for tax law", Basis: personaldata.LegalObligation, Since: t0},
		{ID: senderAcme, Description: "Mail from Acme", Basis: personaldata.Consent, Recipient: "Acme B.V.", Since: t0},
	}
}

func seedNotices() []consent.Notice {
	all := []consent.PurposeID{newsletter, announcements, testimonials, offers, statistics, invoices, senderAcme}
	return []consent.Notice{
		{Version: "2015-03", URL: "https://example.nl/privacy/2015-03", Language: "nl",
			ContentHash: sha256.Sum256([]byte("privacy statement 2015-03")),
			AnnouncedAt: v1At, EffectiveAt: v1At, Purposes: all},
		{Version: "2016-01", URL: "https://example.nl/privacy/2016-01", Language: "nl",
			ContentHash: sha256.Sum256([]byte("privacy statement 2016-01")),
			AnnouncedAt: v2Ann, EffectiveAt: v2At, Purposes: all,
			FreshConsent: []consent.PurposeID{testimonials}},
	}
}

type fixture struct {
	l     *consent.Ledger
	store *consent.MemoryStore
	clock *testClock
}

// newFixture returns a ledger over a fresh memory store with the seed
// purposes and notices, a clock at startAt and deterministic IDs.
func newFixture(t testing.TB, mod ...func(*consent.Options)) *fixture {
	t.Helper()
	clk := &testClock{t: startAt}
	opts := &consent.Options{
		Clock:    clk.Now,
		Entropy:  rand.NewChaCha8([32]byte{1}),
		Purposes: seedPurposes(),
		Notices:  seedNotices(),
	}
	for _, m := range mod {
		m(opts)
	}
	st := consent.NewMemoryStore()
	l, err := consent.New(context.Background(), st, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return &fixture{l: l, store: st, clock: clk}
}

func (f *fixture) record(t testing.TB, c consent.Change) consent.Event {
	t.Helper()
	if c.Method == 0 {
		c.Method = consent.MethodForm
	}
	if c.Actor == 0 {
		c.Actor = consent.ActorSubject
	}
	e, err := f.l.Record(context.Background(), c)
	require.NoError(t, err)
	return e
}

func (f *fixture) decide(t testing.TB, s personaldata.SubjectID, p consent.PurposeID, at time.Time) consent.Decision {
	t.Helper()
	d, err := f.l.Decide(context.Background(), s, p, at)
	require.NoError(t, err)
	return d
}

func day(n int) time.Time { return time.Date(2016, 2, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
