package consenthttp_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consenthttp"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock shared by the ledger and the handler.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	secret1 = bytes.Repeat([]byte{1}, 32)
	secret2 = bytes.Repeat([]byte{2}, 32)
)

var testPurposes = []consent.Purpose{
	{ID: "newsletter", Description: "Monthly newsletter", Basis: personaldata.Consent, DirectMarketing: true},
	{ID: "product-tips", Description: "Tips about products you use", Basis: personaldata.LegitimateInterests},
	{ID: "service-announcements", Description: "Service announcements", Basis: personaldata.Contract},
	{ID: "invoices", Description: "Invoices", Basis: personaldata.LegalObligation},
}

func describeTest(p consent.Purpose, lang string) (string, string) {
	if lang == "nl" {
		switch p.ID {
		case "newsletter":
			return "Maandelijkse nieuwsbrief", "Nieuws over onze diensten, eens per maand."
		case "service-announcements":
			return "Servicemeldingen", "Berichten over onderhoud en storingen."
		}
	}
	switch p.ID {
	case "newsletter":
		return "Monthly newsletter", "News about our services, once a month."
	case "service-announcements":
		return "Service announcements", "Messages about maintenance and outages."
	}
	return p.Description, ""
}

type fixture struct {
	t      testing.TB
	clock  *clock
	ledger *consent.Ledger
	h      *consenthttp.Handler
	srv    http.Handler
	log    *bytes.Buffer
}

type fixtureOpt func(*consenthttp.Options)

func newFixture(t testing.TB, keys []consenthttp.Key, mods ...fixtureOpt) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: start}
	ps := make([]consent.Purpose, len(testPurposes))
	copy(ps, testPurposes)
	for i := range ps {
		ps[i].Since = start.AddDate(0, -2, 0)
	}
	l, err := consent.New(ctx, consent.NewMemoryStore(), &consent.Options{
		Clock:    clk.Now,
		Entropy:  rand.NewChaCha8([32]byte{}),
		Purposes: ps,
		Notices: []consent.Notice{{
			Version: "2026-01", URL: "https://example.nl/privacy/2026-01", Language: "nl",
			ContentHash: sha256.Sum256([]byte("privacy statement")),
			AnnouncedAt: start.Add(-time.Hour), EffectiveAt: start.Add(-time.Hour),
			Purposes: []consent.PurposeID{"newsletter", "product-tips", "service-announcements", "invoices"},
		}},
	})
	require.NoError(t, err)
	if keys == nil {
		keys = []consenthttp.Key{{ID: 1, Secret: secret1}}
	}
	logs := &bytes.Buffer{}
	opts := &consenthttp.Options{
		BaseURL:  "https://example.nl/consent/",
		Service:  "Example Mail",
		Describe: describeTest,
		Clock:    clk.Now,
		Rand:     rand.NewChaCha8([32]byte{7}),
		Logger:   slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil)),
		Identify: consenthttp.IdentifierFunc(func(r *http.Request) (personaldata.SubjectID, error) {
			if c, err := r.Cookie("session"); err == nil {
				return personaldata.SubjectID(c.Value), nil
			}
			return "", consenthttp.ErrNotIdentified
		}),
	}
	for _, m := range mods {
		m(opts)
	}
	h, err := consenthttp.New(l, keys, opts)
	require.NoError(t, err)
	return &fixture{t: t, clock: clk, ledger: l, h: h, srv: h, log: logs}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// grant records a grant of purpose by subject through a form.
func (f *fixture) grant(subject personaldata.SubjectID, purpose consent.PurposeID) {
	f.t.Helper()
	_, err := f.ledger.Record(context.Background(), consent.Change{Type: consent.EventGrant, Subject: subject,
		Purpose: purpose, Method: consent.MethodForm, Actor: consent.ActorSubject})
	require.NoError(f.t, err)
}

func (f *fixture) allowed(subject personaldata.SubjectID, purpose consent.PurposeID) bool {
	f.t.Helper()
	d, err := f.ledger.Decide(context.Background(), subject, purpose, f.clock.Now())
	require.NoError(f.t, err)
	return d.Allowed
}

func (f *fixture) history(subject personaldata.SubjectID) []consent.Event {
	f.t.Helper()
	h, err := f.ledger.History(context.Background(), subject)
	require.NoError(f.t, err)
	return h
}

// path returns the path of a link made by the handler.
func (f *fixture) path(link string) string {
	f.t.Helper()
	u, err := url.Parse(link)
	require.NoError(f.t, err)
	return u.Path
}

func (f *fixture) unsubscribePath(subject personaldata.SubjectID, purpose consent.PurposeID) string {
	f.t.Helper()
	u, err := f.h.UnsubscribeURL(subject, purpose)
	require.NoError(f.t, err)
	return f.path(u)
}

func (f *fixture) preferencesPath(subject personaldata.SubjectID) string {
	f.t.Helper()
	u, err := f.h.PreferencesURL(subject)
	require.NoError(f.t, err)
	return f.path(u)
}

// do serves req and returns the response.
func (f *fixture) do(req *http.Request) *http.Response {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec.Result()
}

func (f *fixture) get(path string, hdr ...string) *http.Response {
	req := httptest.NewRequest(http.MethodGet, "https://example.nl"+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return f.do(req)
}

func (f *fixture) postForm(path string, form url.Values, hdr ...string) *http.Response {
	req := httptest.NewRequest(http.MethodPost, "https://example.nl"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return f.do(req)
}

func body(t testing.TB, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

var oneClick = url.Values{"List-Unsubscribe": {"One-Click"}}

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
