package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consenthttp"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/export"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/retention"
)

// clock is the tour's "now": fixed, and moved forward by the story. It is read
// from the HTTP server's goroutines too.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

func (c *clock) set(t time.Time) { c.ns.Store(t.UnixNano()) }

// at moves the clock to 09:00 UTC on day ("2026-01-05").
func (c *clock) at(day string) time.Time {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		panic(err) // a typo in the story
	}
	t = t.Add(9 * time.Hour)
	c.ns.Store(t.UnixNano())
	return t
}

// secret derives the tour's fixed secrets. A real host keeps each in its
// secret manager, as 32 random bytes.
func secret(name string) []byte {
	s := sha256.Sum256([]byte("mailservice example secret: " + name))
	return s[:]
}

// seeded returns deterministic randomness for IDs; omit it in production to
// get crypto/rand.
func seeded(name string) *rand.ChaCha8 { return rand.NewChaCha8([32]byte(secret("entropy " + name))) }

// tour holds the provider's systems.
type tour struct {
	out    io.Writer
	log    *slog.Logger
	clk    *clock
	cfg    config
	broken []string
	gen    int // process generation: a restart starts a new one

	st        *stores
	data      *dataDB
	protector *pii.Protector
	evaluator *retention.Evaluator

	// Rebuilt by a restart:
	ledger   *consent.Ledger
	web      atomic.Pointer[consenthttp.Handler] // read by the web server's goroutines
	srv      *httptest.Server
	exporter *export.Exporter
	erasure  *erasure.Service

	firstAccess ulid.ULID // the first access request, evidence for refusing its repeat
	backupAt    time.Time // when the backup of the data database was taken
	backupPath  string
	checkpoint  []byte // the consent ledger's last signed checkpoint, kept apart from its store
}

func newTour(ctx context.Context, out io.Writer, cfg config) (_ *tour, err error) {
	t := &tour{out: out, clk: &clock{}, cfg: cfg}
	t.clk.at("2025-11-01")
	t.log = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	defer func() {
		if err != nil {
			t.Close()
		}
	}()

	if t.st, err = openStores(ctx, cfg); err != nil {
		return nil, err
	}
	if t.data, err = openData(ctx, cfg.dbPath); err != nil {
		return nil, err
	}
	wrapper, err := pii.NewLocalKeyWrapper("kek-2025", secret("master key"))
	if err != nil {
		return nil, err
	}
	t.protector, err = pii.New(t.st.keys, wrapper, &pii.Options{Clock: t.clk.Now, IndexKey: secret("blind index key")})
	if err != nil {
		return nil, err
	}
	policy, err := retention.ParsePolicy([]byte(policyJSON))
	if err != nil {
		return nil, err
	}
	t.evaluator, err = retention.New(policy, t.st.holds, &retention.Options{Clock: t.clk.Now, Entropy: seeded("holds")})
	if err != nil {
		return nil, err
	}
	// The provider's web site, on a loopback address; the consent handler
	// is mounted at BaseURL's path, and replaced by a restart.
	mux := http.NewServeMux()
	mux.Handle("/consent/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.web.Load().ServeHTTP(w, r) }))
	t.srv = httptest.NewServer(mux)
	if err := t.start(ctx, true); err != nil {
		return nil, err
	}
	return t, nil
}

// policyJSON is the provider's retention policy, written down from its
// privacy statement.
const policyJSON = `{
  "name": "example-mail",
  "rules": [
    {"id": "account", "category": "account", "trigger": "account-closed", "period": "P30D",
     "action": "delete", "basis": "contract",
     "summary": "Account data is kept while your account exists and deleted 30 days after it is closed"},
    {"id": "invoices", "category": "billing", "kind": "invoice", "trigger": "fiscal-year-end", "period": "P7Y",
     "action": "delete", "basis": "legal-obligation", "citation": "AWR art. 52 lid 4",
     "summary": "Invoices are kept for 7 years after the end of the fiscal year, as Dutch tax law requires"},
    {"id": "erasure", "trigger": "erasure-requested", "period": "P0D",
     "action": "delete", "basis": "legitimate-interests", "citation": "GDPR Art. 17",
     "summary": "When you ask us to erase your data, data that no law requires us to keep is erased at once"}
  ]
}`

// Purposes and notice versions of the privacy statement.
var (
	purposes = []consent.Purpose{
		{ID: "service-announcements", Description: "Announcements about your service, such as maintenance",
			Basis: personaldata.Contract, Since: day("2025-11-01")},
		{ID: "newsletter", Description: "Monthly newsletter", Basis: personaldata.Consent, Default: consent.OptIn,
			DirectMarketing: true, Categories: []personaldata.Category{"email"}, Since: day("2025-11-01")},
		{ID: "testimonials", Description: "Publishing your review with your name on our site", Basis: personaldata.Consent,
			Default: consent.OptIn, Categories: []personaldata.Category{"name", "testimonial"}, Since: day("2025-11-01")},
	}
	notice2025 = consent.Notice{
		Version: "2025-11", URL: "https://mail.example.nl/privacy/2025-11", Language: "nl",
		Text:        "Privacyverklaring 2025-11. De nieuwsbrief ontvangt u alleen als u zich aanmeldt; u meldt zich af met de link onder elke nieuwsbrief. ...",
		AnnouncedAt: day("2025-11-01"), EffectiveAt: day("2025-11-01"),
		Purposes: []consent.PurposeID{"service-announcements", "newsletter", "testimonials"},
	}
)

// dutchNames name the purposes on the Dutch pages of the preference centre.
var dutchNames = map[consent.PurposeID]string{
	"service-announcements": "Berichten over uw dienst, zoals onderhoud",
	"newsletter":            "Maandelijkse nieuwsbrief",
	"testimonials":          "Uw recensie met uw naam op onze site",
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// start builds the parts of the provider that a restart builds again: the
// consent ledger (over its store), the web handler, the exporter and the
// request service.
func (t *tour) start(ctx context.Context, define bool) error {
	t.gen++
	opts := &consent.Options{
		Clock:         t.clk.Now,
		Entropy:       seeded(fmt.Sprint("consent ", t.gen)),
		Sealer:        t.protector,
		CheckpointKey: ed25519.NewKeyFromSeed(secret("checkpoint key")),
		Checkpoint:    t.checkpoint,
		Receipts: consent.ReceiptOptions{Jurisdiction: "NL", Service: "Example Mail",
			Controllers: []consent.ReceiptController{{Name: "Example Mail B.V.", Email: "privacy@mail.example.nl"}}},
	}
	if define {
		opts.Purposes, opts.Notices = purposes, []consent.Notice{notice2025}
	}
	var err error
	if t.ledger, err = consent.New(ctx, t.st.consent, opts); err != nil {
		return err
	}
	web, err := consenthttp.New(t.ledger, []consenthttp.Key{{ID: 1, Secret: secret("link key")}}, &consenthttp.Options{
		BaseURL: t.srv.URL + "/consent/",
		Service: "Example Mail",
		Clock:   t.clk.Now,
		Rand:    seeded(fmt.Sprint("links ", t.gen)),
		Logger:  t.log,
		Describe: func(p consent.Purpose, lang string) (name, description string) {
			if n, ok := dutchNames[p.ID]; ok && lang == "nl" {
				return n, ""
			}
			return p.Description, ""
		},
	})
	if err != nil {
		return err
	}
	t.web.Store(web)
	t.exporter, err = export.New(export.Controller{Name: "Example Mail B.V.", Contact: "privacy@mail.example.nl",
		Authority: "Autoriteit Persoonsgegevens, https://autoriteitpersoonsgegevens.nl"}, &export.Options{
		Now: t.clk.Now, Entropy: seeded(fmt.Sprint("export ", t.gen)), SubjectKey: secret("export subject key"),
		Revealer: t.protector, Retention: t.evaluator, Consent: t.ledger,
	})
	if err != nil {
		return err
	}
	if err := t.registerExports(); err != nil {
		return err
	}
	t.erasure, err = erasure.New(t.st.erasure, t.protector,
		erasure.Keys{Signing: ed25519.NewKeyFromSeed(secret("receipt key")), Hash: secret("suppression key")},
		&erasure.Options{
			Now: t.clk.Now, Entropy: seeded(fmt.Sprint("requests ", t.gen)),
			PromiseDays:  30,                  // "Uw verzoeken zullen binnen 30 dagen worden behandeld" (001)
			RepeatWindow: 90 * 24 * time.Hour, // "verzoeken ... die onredelijkerwijs worden herhaald" (003)
			Systems: []erasure.System{{Name: "customers", Does: "delete the customer row and its e-mail blind index; keep the invoices",
				Eraser: erasure.EraserFunc(t.data.customerEraser)}},
			Inventory:  erasure.InventoryFunc(t.data.scopes),
			Retention:  t.evaluator,
			Consent:    t.ledger,
			Recipients: []string{"ECL Direct SAS (accounting)"},
			Notifier:   notifier{t.log},
			Issuer:     "Example Mail B.V.", KeyID: "receipts-2025",
		})
	return err
}

// stop closes what start built.
func (t *tour) stop() {
	if t.erasure != nil {
		t.erasure.Close()
	}
	if t.exporter != nil {
		t.exporter.Close()
	}
	if t.ledger != nil {
		t.ledger.Close()
	}
}

// Close closes everything that was opened.
func (t *tour) Close() {
	t.stop()
	if t.srv != nil {
		t.srv.Close()
	}
	if t.protector != nil {
		t.protector.Close()
	}
	if t.data != nil {
		t.data.Close()
	}
	if t.st != nil {
		t.st.close()
	}
}

// notifier tells recipients of the data about an erasure (GDPR Art. 19);
// here it logs, without personal data.
type notifier struct{ log *slog.Logger }

func (n notifier) Notify(ctx context.Context, recipient string, id ulid.ULID, subject personaldata.SubjectID) error {
	n.log.Info("erasure notified", "recipient", recipient, "request", id.String(), "subject", string(subject))
	return nil
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// step starts a step of the tour.
func (t *tour) step(day, title string) {
	t.clk.at(day)
	fmt.Fprintf(t.out, "\n== %s  %s\n", day, title)
}

// say narrates one line.
func (t *tour) say(format string, args ...any) {
	fmt.Fprintf(t.out, "   "+format+"\n", args...)
}

// check states a promise and whether it was kept.
func (t *tour) check(kept bool, promise string) {
	if kept {
		fmt.Fprintf(t.out, " ✓ %s\n", promise)
		return
	}
	fmt.Fprintf(t.out, " ✗ BROKEN: %s\n", promise)
	t.broken = append(t.broken, promise)
}

func (t *tour) verdict() error {
	if len(t.broken) > 0 {
		fmt.Fprintf(t.out, "\n%d promise(s) broken.\n", len(t.broken))
		return &brokenError{t.broken}
	}
	fmt.Fprintln(t.out, "\nEvery promise kept.")
	return nil
}

// decide asks the ledger, for narration.
func (t *tour) decide(ctx context.Context, subject personaldata.SubjectID, purpose consent.PurposeID) (consent.Decision, error) {
	return t.ledger.Decide(ctx, subject, purpose, t.clk.Now())
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// short cuts a long value for narration.
func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// errOffPath reports a story that went another way than told.
var errOffPath = errors.New("the story went off its path")

func offPath(what string) error { return fmt.Errorf("%w: %s", errOffPath, what) }
