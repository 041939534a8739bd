// Command mailservice walks through the life of one customer's personal data
// at a small mail and hosting provider, the kind of service whose privacy
// statement promises: opt-in newsletters, service announcements that cannot
// be switched off, invoices kept for the tax authority, erasure on request,
// and backups that do not bring erased data back.
//
// Everything runs in memory with a fixed clock, so the output is the same on
// every run:
//
//	go run ./examples/mailservice
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/retention"
)

// Customer is a row of the provider's own customers table. The pii tags say
// which columns are personal data, whose, and under which key scope.
type Customer struct {
	ID         string `pii:"subject"`
	Email      string `pii:"email,index=EmailIndex,normalize=email"`
	EmailIndex string // blind index: log in by e-mail address without decrypting
	Name       string `pii:"name,redact=(erased)"`
	SignupIP   string `pii:"ip-address,scope=legal"` // kept a year against fraud and abuse
	Plan       string
	Invoices   []Invoice
}

// Invoice data sits in a key scope of its own, so it can outlive the erasure
// of the rest for as long as tax law requires.
type Invoice struct {
	Number   string
	Issued   time.Time
	BillTo   string            `pii:"billing,scope=fiscal"`
	AmountCt pii.Sealed[int64] `pii:"billing,scope=fiscal"`
}

// clock is the example's fixed "now", moved forward by the story.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }
func (c *clock) advance(to string) {
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		panic(err)
	}
	c.now = t.Add(9 * time.Hour)
}

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mailservice:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	clk := &clock{}
	clk.advance("2026-01-05")
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{ReplaceAttr: dropTime}))

	// --- Set-up: keys, consent ledger, retention policy -----------------
	// A real host keeps the master key in a secret manager and the wrapped
	// data keys in its database (package sqlstore); here both are in memory.
	wrapper, err := pii.NewLocalKeyWrapper("kek-2026", []byte("example master key, 32 bytes!!!!"))
	if err != nil {
		return err
	}
	protector, err := pii.New(pii.NewMemoryKeyStore(), wrapper, &pii.Options{
		Clock:    clk.Now,
		IndexKey: []byte("example blind index key 32 bytes"),
	})
	if err != nil {
		return err
	}
	defer protector.Close()

	ledger, err := consent.New(ctx, consent.NewMemoryStore(), &consent.Options{
		Clock:   clk.Now,
		Entropy: rand.NewChaCha8([32]byte{}), // deterministic IDs for this demo; omit for crypto/rand
		Sealer:  protector,
		Purposes: []consent.Purpose{
			{ID: "service-announcements", Description: "Announcements about your service", Basis: personaldata.Contract, Since: clk.Now()},
			{ID: "newsletter", Description: "Monthly newsletter", Basis: personaldata.Consent, Default: consent.OptIn, DirectMarketing: true, Since: clk.Now()},
			{ID: "testimonials", Description: "Publishing your review on our site", Basis: personaldata.Consent, Default: consent.OptIn, Since: clk.Now()},
		},
		Notices: []consent.Notice{{
			Version: "2026-01", URL: "https://example.nl/privacy/2026-01", Language: "nl",
			ContentHash: sha256.Sum256([]byte("privacyverklaring 2026-01")),
			AnnouncedAt: clk.Now(), EffectiveAt: clk.Now(),
			Purposes: []consent.PurposeID{"service-announcements", "newsletter", "testimonials"},
		}},
	})
	if err != nil {
		return err
	}
	defer ledger.Close()

	holds := retention.NewMemoryHoldStore()
	evaluator, err := retention.New(retention.ExamplePolicy(), holds, &retention.Options{Clock: clk.Now})
	if err != nil {
		return err
	}

	// The host's own database: a map of rows, as they would be stored.
	db := map[string]Customer{}

	// --- 1. Sign-up ----------------------------------------------------
	say("== 1. Sign-up, %s", clk.now.Format(time.DateOnly))
	signups := []Customer{
		{ID: "c-1001", Email: "Anna.de.Vries@example.nl", Name: "Anna de Vries", SignupIP: "203.0.113.7", Plan: "mail-pro"},
		{ID: "c-1002", Email: "bram@example.com", Name: "Bram Bakker", SignupIP: "198.51.100.23", Plan: "hosting"},
		{ID: "c-1003", Email: "chris@example.org", Name: "Chris Jansen", SignupIP: "192.0.2.99", Plan: "mail-basic"},
	}
	for _, c := range signups {
		c.Invoices = []Invoice{{Number: "2026-" + c.ID[2:], Issued: clk.Now(), BillTo: c.Name + ", Utrecht", AmountCt: pii.Plain[int64](1250)}}
		log.Info("signup", "customer", pii.Redact(c)) // logs never carry personal data
		if err := protector.Protect(ctx, &c); err != nil {
			return err
		}
		db[c.ID] = c
	}
	row := db["c-1001"]
	say("stored row c-1001: Email=%s… (%d chars) Name=%s… (%d chars) Plan=%s", row.Email[:4], len(row.Email), row.Name[:4], len(row.Name), row.Plan)

	// Log-in by e-mail address: compute the blind index from the Email
	// field's own tag, no decryption.
	want, err := protector.BlindIndex(Customer{}, "Email", " anna.de.vries@EXAMPLE.nl")
	if err != nil {
		return err
	}
	for id, c := range db {
		if c.EmailIndex == want {
			say("log-in by e-mail address finds %s", id)
		}
	}

	// --- 2. Consent ----------------------------------------------------
	clk.advance("2026-01-10")
	say("\n== 2. Consent, %s", clk.now.Format(time.DateOnly))
	decide := func(subject personaldata.SubjectID, purpose consent.PurposeID) {
		d, err := ledger.Decide(ctx, subject, purpose, clk.Now())
		if err != nil {
			say("  %s %s: %v", subject, purpose, err)
			return
		}
		say("  %s may receive %s: %-5v (%s, %s)", subject, purpose, d.Allowed, d.Reason, d.Basis.Article())
	}
	// The newsletter is opt-in: before a grant the answer is no.
	decide("c-1001", "newsletter")
	for _, c := range []struct {
		subject personaldata.SubjectID
		method  consent.Method
	}{{"c-1001", consent.MethodForm}, {"c-1003", consent.MethodEmailLink}} {
		if _, err := ledger.Record(ctx, consent.Change{
			Type: consent.EventGrant, Subject: c.subject, Purpose: "newsletter",
			Method: c.method, Actor: consent.ActorSubject,
			EvidenceHash: sha256.Sum256([]byte("Ja, stuur mij de nieuwsbrief")),
			Personal:     &consent.PersonalData{Contact: "newsletter address of " + string(c.subject)},
		}); err != nil {
			return err
		}
	}
	decide("c-1001", "newsletter")
	decide("c-1001", "service-announcements")
	_, err = ledger.Record(ctx, consent.Change{Type: consent.EventWithdraw, Subject: "c-1002", Purpose: "service-announcements", Method: consent.MethodForm, Actor: consent.ActorSubject})
	say("  c-1002 opts out of service announcements: %v", err)
	// A browser privacy signal is recorded but never overrides the explicit
	// grant c-1003 made earlier.
	if _, err := ledger.Record(ctx, consent.Change{Type: consent.EventObject, Subject: "c-1003", Purpose: "newsletter", Method: consent.MethodPrivacySignal, Actor: consent.ActorSubject}); err != nil {
		return err
	}
	decide("c-1003", "newsletter")

	subjects := slices.Sorted(maps.Keys(db))
	var mailing []string
	for s, err := range ledger.Filter(ctx, "newsletter", seqOf(subjects), clk.Now()) {
		if err != nil {
			return err
		}
		mailing = append(mailing, string(s))
	}
	say("  newsletter mailing list: %s", strings.Join(mailing, ", "))

	// --- 3. Retention --------------------------------------------------
	clk.advance("2026-02-01")
	say("\n== 3. What may be kept, %s", clk.now.Format(time.DateOnly))
	facts := map[string]retention.Facts{
		"customer c-1001":        {Subject: "c-1001", Category: "account", Collected: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), LastActivity: clk.Now()},
		"invoice 2026-1001":      {Subject: "c-1001", Category: "billing", Kind: "invoice", Collected: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)},
		"signup ip c-1001":       {Subject: "c-1001", Category: "ip-address", Kind: "registration", Collected: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)},
		"spam log 2026-01-01/17": {Category: "mail-log", Collected: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, key := range slices.Sorted(maps.Keys(facts)) {
		d, err := evaluator.Decide(ctx, key, facts[key])
		if err != nil {
			return err
		}
		say("  %-23s %s", key, describe(d))
	}

	// --- 4. Erasure request ---------------------------------------------
	clk.advance("2026-03-02")
	say("\n== 4. c-1001 asks to be erased, %s", clk.now.Format(time.DateOnly))
	backup := cloneCustomer(db["c-1001"]) // last night's backup, taken before the request
	requested := clk.Now()
	for _, key := range []string{"customer c-1001", "invoice 2026-1001", "signup ip c-1001"} {
		f := facts[key]
		f.ErasureRequested = requested
		d, err := evaluator.Decide(ctx, key, f)
		if err != nil {
			return err
		}
		say("  %-17s %s", key, describe(d))
		if d.Verdict == retention.Keep {
			st, err := evaluator.Statement(ctx, key, f)
			if err != nil {
				return err
			}
			say("  %-17s   told to the customer: %q", "", st.Summary)
		}
	}
	// Crypto-shred the default scope now. The "fiscal" and "legal" scopes go
	// when the retention of the invoices and the sign-up IP address ends.
	if err := protector.ForgetScopes(ctx, "c-1001", personaldata.DefaultScope); err != nil {
		return err
	}
	if _, err := ledger.Record(ctx, consent.Change{Type: consent.EventErase, Subject: "c-1001", Method: consent.MethodAdministrator, Actor: consent.ActorAdministrator}); err != nil {
		return err
	}

	// The backup is restored by mistake: the erased data stays erased.
	err = protector.Reveal(ctx, &backup)
	var re *pii.OpError
	if errors.As(err, &re) && re.OnlyErased() {
		var paths []string
		for _, f := range re.Fields {
			paths = append(paths, f.Path)
		}
		say("  restored backup: erased fields %s", strings.Join(paths, ", "))
	} else if err != nil {
		return err
	}
	amount, _ := backup.Invoices[0].AmountCt.Get()
	say("  restored backup: name %q, invoice %s billed to %q, %d.%02d EUR", backup.Name, backup.Invoices[0].Number, backup.Invoices[0].BillTo, amount/100, amount%100)

	decide("c-1001", "newsletter")
	if err := ledger.Verify(ctx, "c-1001"); err != nil {
		return err
	}
	history, err := ledger.History(ctx, "c-1001")
	if err != nil {
		return err
	}
	_, err = ledger.Reveal(ctx, history[0])
	say("  consent history: %d events, chain verified; the grant's e-mail address is erased: %v", len(history), errors.Is(err, consent.ErrErased))
	_, err = protector.Open(ctx, "c-1001", personaldata.DefaultScope, consent.DefaultCategory, history[0].Sealed)
	say("  even read straight from the ledger's storage: %v", errors.Is(err, pii.ErrErased))

	// --- 5. The nightly retention sweep ---------------------------------
	clk.advance("2026-04-02")
	say("\n== 5. Nightly sweep (dry run), %s", clk.now.Format(time.DateOnly))
	records := func(yield func(retention.Record, error) bool) {
		for _, key := range slices.Sorted(maps.Keys(facts)) {
			f := facts[key]
			if f.Subject == "c-1001" {
				f.ErasureRequested = requested
			}
			if !yield(retention.Record{Key: key, Facts: f}, nil) {
				return
			}
		}
	}
	report, err := evaluator.Sweep(ctx, records, nil, retention.SweepOptions{DryRun: true})
	if err != nil {
		return err
	}
	say("  %d records: %d to delete, %d to keep", report.Seen, report.ByVerdict[retention.Delete], report.ByVerdict[retention.Keep])
	for _, rule := range slices.Sorted(maps.Keys(report.ByRule)) {
		say("    rule %-16q %d", rule, report.ByRule[rule])
	}
	return nil
}

func describe(d retention.Decision) string {
	s := d.Verdict.String()
	if d.Verdict == retention.Keep && !d.Until.IsZero() {
		s += " until " + d.Until.Format(time.DateOnly)
	}
	if r, ok := d.Rule(); ok {
		s += " (rule " + r.ID
		if r.Citation != "" {
			s += ", " + r.Citation
		}
		s += ")"
	}
	return s
}

func cloneCustomer(c Customer) Customer {
	c.Invoices = slices.Clone(c.Invoices)
	return c
}

func seqOf(ids []string) iter.Seq[personaldata.SubjectID] {
	return func(yield func(personaldata.SubjectID) bool) {
		for _, id := range ids {
			if !yield(personaldata.SubjectID(id)) {
				return
			}
		}
	}
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
