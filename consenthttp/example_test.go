package consenthttp_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consenthttp"
)

// exampleSetup returns a ledger with a newsletter (consent) and service
// announcements (contract), and a Handler over it, with a fixed clock and
// deterministic randomness.
func exampleSetup() (*consent.Ledger, *consenthttp.Handler) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ledger, err := consent.New(context.Background(), consent.NewMemoryStore(), &consent.Options{
		Clock:   clock,
		Entropy: rand.NewChaCha8([32]byte{}), // crypto/rand when omitted
		Purposes: []consent.Purpose{
			{ID: "newsletter", Description: "Monthly newsletter", Basis: personaldata.Consent,
				DirectMarketing: true, Since: now.AddDate(0, -1, 0)},
			{ID: "service-announcements", Description: "Service announcements", Basis: personaldata.Contract,
				Since: now.AddDate(0, -1, 0)},
		},
		Notices: []consent.Notice{{
			Version: "2026-01", URL: "https://example.nl/privacy/2026-01", Language: "nl",
			ContentHash: sha256.Sum256([]byte("privacy statement")),
			AnnouncedAt: now.Add(-time.Hour), EffectiveAt: now.Add(-time.Hour),
			Purposes: []consent.PurposeID{"newsletter", "service-announcements"},
		}},
	})
	if err != nil {
		panic(err)
	}
	// The secret comes from the host's secret store; 32 random bytes.
	secret := []byte("0123456789abcdef0123456789abcdef")
	h, err := consenthttp.New(ledger, []consenthttp.Key{{ID: 1, Secret: secret}}, &consenthttp.Options{
		BaseURL: "https://example.nl/consent/",
		Service: "Example Mail",
		Clock:   clock,
		Rand:    rand.NewChaCha8([32]byte{1}), // crypto/rand when omitted
	})
	if err != nil {
		panic(err)
	}
	return ledger, h
}

func ExampleHandler_MessageHeader() {
	_, h := exampleSetup()
	hdr, err := h.MessageHeader("customer-1017", "newsletter")
	if err != nil {
		panic(err)
	}
	lu := hdr.Get("List-Unsubscribe")
	fmt.Println(lu[:40] + "…>")
	fmt.Println(strings.Contains(lu, "customer-1017"))
	fmt.Println(hdr.Get("List-Unsubscribe-Post"))

	// Service announcements rest on the contract: no unsubscribe link.
	_, err = h.MessageHeader("customer-1017", "service-announcements")
	fmt.Println(err)
	// Output:
	// <https://example.nl/consent/unsubscribe/…>
	// false
	// List-Unsubscribe=One-Click
	// consenthttp: UnsubscribeURL: consent: withdrawal refused: purpose "service-announcements" rests on contract
}

// A mail provider's unsubscribe button POSTs to the link (RFC 8058); a
// link scanner's GET changes nothing.
func Example_oneClickUnsubscribe() {
	ctx := context.Background()
	ledger, h := exampleSetup()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if _, err := ledger.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "customer-1017",
		Purpose: "newsletter", Method: consent.MethodForm, Actor: consent.ActorSubject}); err != nil {
		panic(err)
	}
	link, _ := h.UnsubscribeURL("customer-1017", "newsletter")

	scan := httptest.NewRecorder()
	h.ServeHTTP(scan, httptest.NewRequest(http.MethodGet, link, nil))
	d, _ := ledger.Decide(ctx, "customer-1017", "newsletter", now)
	fmt.Println("GET:", scan.Code, d.Allowed)

	click := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, link, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(click, req)
	d, _ = ledger.Decide(ctx, "customer-1017", "newsletter", now)
	fmt.Println("POST:", click.Code, d.Allowed, d.Reason)

	events, _ := ledger.History(ctx, "customer-1017")
	last := events[len(events)-1]
	fmt.Println(last.Type, last.Method, last.NoticeVersion)
	// Output:
	// GET: 200 true
	// POST: 204 false withdrawn
	// withdraw email-link 2026-01
}

// The preference centre shows what a person may switch, and what they
// cannot and why, in their language.
func Example_preferenceCentre() {
	_, h := exampleSetup()
	link, _ := h.PreferencesURL("customer-1017")
	u, _ := url.Parse(link)

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, u.String(), nil)
	req.Header.Set("Accept-Language", "nl-NL,nl;q=0.9,en;q=0.5")
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Content-Language"))
	for line := range strings.Lines(rec.Body.String()) {
		if strings.Contains(line, "<label") || strings.Contains(line, "<li><strong>") {
			fmt.Print(line)
		}
	}
	// Output:
	// 200 nl
	// <label for="p-newsletter">Monthly newsletter</label>
	// <li><strong>Service announcements</strong>: Dit hebben wij nodig om de dienst te leveren die u met ons bent overeengekomen (AVG art. 6 lid 1 onder b). U kunt dit daarom niet uitzetten.</li>
}
