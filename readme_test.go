package personaldata_test

// The code snippets of README.md, in compilable form. Each snippet sits
// between a "// README: <name>" line and a "// README: end" line;
// TestReadmeSnippets checks that README.md shows exactly these lines, in
// this order, so the README cannot drift from code that compiles and runs.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consenthttp"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/export"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/pii/piitest"
	"github.com/personaldata/personaldata/retention"
	"github.com/personaldata/personaldata/sqlstore"

	_ "modernc.org/sqlite"
)

// check stands for the host's error handling in the snippets.
func check(err error) {
	if err != nil {
		panic(err)
	}
}

// Fixed secrets for the examples; a host takes each from its secret manager.
var (
	masterKey  = bytes.Repeat([]byte{1}, 32)
	indexKey   = bytes.Repeat([]byte{2}, 32)
	linkSecret = bytes.Repeat([]byte{3}, 32)
	signingKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32))
	hashKey    = bytes.Repeat([]byte{5}, 32)
)

func newProtector() *pii.Protector {
	wrapper, err := pii.NewLocalKeyWrapper("kek-2026", masterKey)
	check(err)
	p, err := pii.New(pii.NewMemoryKeyStore(), wrapper, &pii.Options{IndexKey: indexKey})
	check(err)
	return p
}

func Example_pii() {
	ctx := context.Background()
	// README: pii
	type Customer struct {
		ID         string `pii:"subject"`
		Email      string `pii:"email,index=EmailIndex,normalize=email"`
		EmailIndex string // blind index: find a customer by address without decrypting
		Name       string `pii:"name,redact=(erased)"`
		IBAN       string `pii:"iban,scope=fiscal"` // outlives the erasure of the rest while tax law says so
		Plan       string // not personal data
	}

	wrapper, err := pii.NewLocalKeyWrapper("kek-2026", masterKey) // 32 bytes from your secret manager
	check(err)
	p, err := pii.New(pii.NewMemoryKeyStore(), wrapper, &pii.Options{IndexKey: indexKey})
	check(err)

	c := Customer{ID: "c-1001", Email: "anna@example.nl", Name: "Anna de Vries", IBAN: "NL91ABNA0417164300", Plan: "pro"}
	check(p.Protect(ctx, &c)) // Email, Name and IBAN now hold ciphertext: "pd1:cGQBA..."

	ix, err := p.BlindIndex(Customer{}, "Email", " Anna@Example.NL") // SELECT ... WHERE email_index = ix
	check(err)
	fmt.Println(ix == c.EmailIndex, strings.HasPrefix(c.Name, "pd1:")) // true true

	check(p.ForgetScopes(ctx, "c-1001", personaldata.DefaultScope)) // erase her, keep scope "fiscal"
	err = p.Reveal(ctx, &c)
	fmt.Println(errors.Is(err, pii.ErrErased), c.Name, c.IBAN) // true (erased) NL91ABNA0417164300
	// README: end

	// Output:
	// true true
	// true (erased) NL91ABNA0417164300
}

func newLedger(ctx context.Context, protector *pii.Protector) *consent.Ledger {
	// README: consent
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	statement := "Privacyverklaring 2026-01 ..." // archived in the ledger with its hash
	ledger, err := consent.New(ctx, consent.NewMemoryStore(), &consent.Options{
		Sealer: protector, // seals the personal data an event carries under the subject's key
		Purposes: []consent.Purpose{
			{ID: "newsletter", Description: "Monthly newsletter", Basis: personaldata.Consent, DirectMarketing: true, Since: start},
			{ID: "service-announcements", Description: "Maintenance notices", Basis: personaldata.Contract, Since: start},
		},
		Notices: []consent.Notice{{Version: "2026-01", Text: statement, AnnouncedAt: start, EffectiveAt: start,
			Purposes: []consent.PurposeID{"newsletter", "service-announcements"}}},
	})
	check(err)
	// README: end
	return ledger
}

func Example_consent() {
	ctx := context.Background()
	ledger := newLedger(ctx, newProtector())
	// README: decide
	_, err := ledger.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "c-1001", Purpose: "newsletter",
		Method: consent.MethodForm, Actor: consent.ActorSubject,
		Personal: &consent.PersonalData{Contact: "anna@example.nl"}}) // sealed before it is stored
	check(err)
	d, err := ledger.Decide(ctx, "c-1001", "newsletter", time.Now())
	check(err)
	fmt.Println(d.Allowed, d.Reason, d.Basis.Article(), d.NoticeVersion) // true granted GDPR Art. 6(1)(a) 2026-01

	_, err = ledger.Record(ctx, consent.Change{Type: consent.EventWithdraw, Subject: "c-1001",
		Purpose: "service-announcements", Method: consent.MethodForm, Actor: consent.ActorSubject})
	fmt.Println(errors.Is(err, consent.ErrWithdrawalRefused)) // it rests on the contract
	// README: end

	// Output:
	// true granted GDPR Art. 6(1)(a) 2026-01
	// true
}

const policyJSON = `{"rules": [
  {"id": "account", "category": "account", "trigger": "account-closed", "period": "P30D",
   "action": "delete", "basis": "contract"},
  {"id": "invoices", "category": "billing", "trigger": "fiscal-year-end", "period": "P7Y",
   "action": "delete", "basis": "legal-obligation", "citation": "AWR art. 52 lid 4"},
  {"id": "erasure", "trigger": "erasure-requested", "period": "P0D",
   "action": "delete", "basis": "legitimate-interests"}
]}`

func newEvaluator() *retention.Evaluator {
	// README: retention
	policy, err := retention.ParsePolicy([]byte(policyJSON)) // or retention.NewPolicy(retention.PolicySpec{...})
	check(err)
	ev, err := retention.New(policy, retention.NewMemoryHoldStore(), nil)
	check(err)
	// README: end
	return ev
}

func Example_retention() {
	ctx := context.Background()
	ev := newEvaluator()
	issued := time.Now().AddDate(0, -1, 0)
	// README: decide-retention
	d, err := ev.Decide(ctx, "invoice/2026-0042", retention.Facts{Subject: "c-1001", Category: "billing",
		Collected: issued, ErasureRequested: time.Now()})
	check(err)
	fmt.Println(d.Verdict, d.Reason, d.RuleID) // keep legal-retention invoices: the law beats the erasure request

	_, err = ev.PlaceHold(ctx, retention.Hold{Subject: "c-1002", Reason: "case 2026/117", PlacedBy: "legal-1"})
	check(err)
	d, err = ev.Decide(ctx, "customer/c-1002", retention.Facts{Subject: "c-1002", Category: "account",
		AccountClosed: time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)})
	check(err)
	fmt.Println(d) // keep indefinitely (hold, 1 hold): a legal hold beats everything
	// README: end

	// Output:
	// keep legal-retention invoices
	// keep indefinitely (hold, 1 hold)
}

type account struct {
	ID    string `json:"id" pii:"subject"`
	Email string `json:"email" pii:"email"`
	Plan  string `json:"plan"`
}

func Example_export() {
	ctx := context.Background()
	protector, evaluator := newProtector(), newEvaluator()
	ledger := newLedger(ctx, protector)
	stored := &account{ID: "c-1001", Email: "anna@example.nl", Plan: "pro"}
	check(protector.Protect(ctx, stored))
	accounts := func(ctx context.Context, s personaldata.SubjectID) iter.Seq2[*account, error] {
		return func(yield func(*account, error) bool) { yield(stored, nil) }
	}
	var w bytes.Buffer
	// README: export
	e, err := export.New(export.Controller{Name: "Example Mail B.V.", Contact: "privacy@example.nl"},
		&export.Options{Revealer: protector, Retention: evaluator, Consent: ledger})
	check(err)
	check(e.Register(export.Category{Name: "account", Title: "Your account", Origin: export.Provided, Portable: true,
		Purposes: []export.Purpose{{ID: "service", Description: "Providing the service", Basis: personaldata.Contract}}},
		export.SourceFunc(accounts))) // accounts yields the subject's rows, still encrypted
	m, err := e.WritePackage(ctx, &w, export.Request{Subject: "c-1001"}) // a zip
	check(err)
	for _, c := range m.Categories { // with purposes, legal bases, recipients and retention (Art. 15)
		fmt.Println(c.Name, *c.RecordCount, c.Retention.Rules)
	}
	// README: end

	// Output:
	// consent-events 0 [erasure]
	// consent-decisions 2 [erasure]
	// consent-receipts 0 [erasure]
	// account 1 [erasure account]
}

func Example_erasure() {
	ctx := context.Background()
	protector, evaluator := newProtector(), newEvaluator()
	ledger := newLedger(ctx, protector)
	_, err := protector.Seal(ctx, "c-1001", "fiscal-2026", "billing", []byte("invoice"))
	check(err)
	crm := erasure.EraserFunc(func(ctx context.Context, c erasure.EraseCall) (erasure.EraseResult, error) {
		// DELETE FROM customers WHERE id = $1
		return erasure.EraseResult{Removed: 1, IndexEntries: 1}, nil
	})
	inventory := erasure.InventoryFunc(func(ctx context.Context, s personaldata.SubjectID) ([]erasure.ScopeFacts, error) {
		return []erasure.ScopeFacts{
			{Scope: personaldata.DefaultScope, Facts: erasure.RetentionFacts{Category: "account"}},
			{Scope: "fiscal-2026", Facts: erasure.RetentionFacts{Category: "billing", Collected: time.Now()}},
		}, nil
	})
	// README: erasure
	svc, err := erasure.New(erasure.NewMemoryStore().Stores(), protector,
		erasure.Keys{Signing: signingKey, Hash: hashKey},
		&erasure.Options{
			Systems:     []erasure.System{{Name: "crm", Does: "delete the customer row and e-mail index", Eraser: crm}},
			Inventory:   inventory, // the subject's key scopes: "default", "fiscal-2026", ...
			Retention:   evaluator, // what the law says to keep, and until when
			Consent:     ledger,
			PromiseDays: 30,
		})
	check(err)
	req, err := svc.Submit(ctx, erasure.Submission{Subject: "c-1001", Kind: erasure.KindErasure, Actor: "subject",
		Identifiers: []erasure.Identifier{erasure.Email("anna@example.nl")}})
	check(err)
	_, err = svc.VerifyIdentity(ctx, req.ID, "staff-3")
	check(err)
	_, receipt, err := svc.Execute(ctx, req.ID, "staff-3") // suppress, record, shred, erase, notify
	check(err)
	r, err := erasure.Verify(receipt.Token, svc.PublicKey()) // a compact JWS: any JOSE library checks it
	check(err)
	fmt.Println(r.Erased.Scopes, r.Kept[0].Scope, r.Kept[0].Citation) // [default] fiscal-2026 AWR art. 52 lid 4

	hits, err := svc.Suppressed(ctx, erasure.Email("Anna@Example.NL")) // before any import or sign-up
	check(err)
	fmt.Println(len(hits) == 1) // true: do not import or sign up this address
	// README: end

	// Output:
	// [default] fiscal-2026 AWR art. 52 lid 4
	// true
}

func Example_consenthttp() {
	ctx := context.Background()
	ledger := newLedger(ctx, newProtector())
	mux := http.NewServeMux()
	// README: consenthttp
	h, err := consenthttp.New(ledger, []consenthttp.Key{{ID: 1, Secret: linkSecret}},
		&consenthttp.Options{BaseURL: "https://mail.example.nl/consent/", Service: "Example Mail"})
	check(err)
	mux.Handle("/consent/", h) // one-click unsubscribe (RFC 8058) and the preference centre

	hdr, err := h.MessageHeader("c-1001", "newsletter") // into every newsletter's header
	check(err)
	fmt.Println(hdr.Get("List-Unsubscribe")[:45] + "...>")
	fmt.Println(hdr.Get("List-Unsubscribe-Post")) // List-Unsubscribe=One-Click
	_, err = h.MessageHeader("c-1001", "service-announcements")
	fmt.Println(errors.Is(err, consent.ErrWithdrawalRefused)) // no link: it rests on the contract
	// README: end

	// Output:
	// <https://mail.example.nl/consent/unsubscribe/...>
	// List-Unsubscribe=One-Click
	// true
}

// README: conformance
func TestKeyStore(t *testing.T) {
	piitest.RunConformanceTests(t, func(t *testing.T) pii.KeyStore {
		return newKeyStore(t) // a fresh, empty store for each subtest
	})
}

// README: end

func newKeyStore(*testing.T) pii.KeyStore { return pii.NewMemoryKeyStore() }

// README: asserts
func TestStoredAccountIsProtected(t *testing.T) {
	ctx, p := context.Background(), newProtector()
	stored := account{ID: "c-1001", Email: "anna@example.nl", Plan: "pro"}
	check(p.Protect(ctx, &stored)) // in your test: the row your code writes
	piitest.AssertProtected(t, &stored)

	check(p.ForgetSubject(ctx, "c-1001")) // in your test: your erasure
	piitest.AssertErased(t, p, &stored)
}

// README: end

func Example_sqlstore() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "readme-")
	check(err)
	defer os.RemoveAll(dir)
	wrapper, err := pii.NewLocalKeyWrapper("kek-2026", masterKey)
	check(err)
	policy, err := retention.ParsePolicy([]byte(policyJSON))
	check(err)
	// README: sqlstore
	keysDB, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "keys.db")+"?_pragma=busy_timeout(5000)")
	check(err)
	keys, err := sqlstore.OpenKeyStore(ctx, keysDB, sqlstore.SQLite, nil) // creates or migrates its tables
	check(err)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "records.db")+"?_pragma=busy_timeout(5000)")
	check(err)
	holds, err := sqlstore.OpenHoldStore(ctx, db, sqlstore.SQLite, nil)
	check(err)
	events, err := sqlstore.OpenConsentStore(ctx, db, sqlstore.SQLite, nil)
	check(err)
	requests, err := sqlstore.OpenErasureStore(ctx, db, sqlstore.SQLite, nil)
	check(err)

	protector, err := pii.New(keys, wrapper, nil)
	check(err)
	evaluator, err := retention.New(policy, holds, nil)
	check(err)
	ledger, err := consent.New(ctx, events, &consent.Options{Sealer: protector})
	check(err)
	svc, err := erasure.New(requests.Stores(), protector, erasure.Keys{Signing: signingKey, Hash: hashKey},
		&erasure.Options{Retention: evaluator, Consent: ledger})
	check(err)
	// README: end
	defer keysDB.Close()
	defer db.Close()
	defer protector.Close()
	_ = svc
	env, err := protector.Seal(ctx, "c-1001", personaldata.DefaultScope, "email", []byte("anna@example.nl"))
	check(err)
	check(protector.ForgetSubject(ctx, "c-1001"))
	_, err = protector.Open(ctx, "c-1001", personaldata.DefaultScope, "email", env)
	fmt.Println(errors.Is(err, pii.ErrErased))

	// Output:
	// true
}

// TestReadmeSnippets checks that every Go block of README.md is one of the
// snippets above, in order, character for character.
func TestReadmeSnippets(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(readme)
	snippets := snippetsOf(src)
	if len(blocks) != len(snippets) {
		t.Fatalf("README.md has %d Go blocks, readme_test.go %d snippets", len(blocks), len(snippets))
	}
	for i := range blocks {
		if blocks[i] != snippets[i].text {
			t.Errorf("README.md Go block %d differs from snippet %q:\n--- README\n%s\n--- snippet\n%s", i+1, snippets[i].name, blocks[i], snippets[i].text)
		}
	}
}

func goBlocks(md []byte) []string {
	var out []string
	var cur []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(md))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !in && line == "```go":
			in, cur = true, nil
		case in && line == "```":
			in = false
			out = append(out, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	return out
}

type snippet struct{ name, text string }

func snippetsOf(src []byte) []snippet {
	var out []snippet
	var cur *snippet
	var lines []string
	indent := ""
	for line := range strings.Lines(string(src)) {
		line = strings.TrimSuffix(line, "\n")
		trimmed := strings.TrimLeft(line, "\t")
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "// README: ") && trimmed != "// README: end":
			cur = &snippet{name: strings.TrimPrefix(trimmed, "// README: ")}
			indent, lines = line[:len(line)-len(trimmed)], nil
		case cur != nil && trimmed == "// README: end":
			cur.text = strings.TrimRight(strings.Join(lines, "\n"), "\n")
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			lines = append(lines, strings.TrimPrefix(line, indent))
		}
	}
	return out
}
