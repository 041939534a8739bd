package erasure_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/retention"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

var (
	start      = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	signingKey = ed25519.NewKeyFromSeed(make([]byte, 32))
	hashKey    = []byte("0123456789abcdef0123456789abcdef")
)

// table is a host system: rows per subject, erased page by page.
type table struct {
	mu      sync.Mutex
	rows    map[personaldata.SubjectID]int
	indexes map[personaldata.SubjectID]int
	calls   int

	batchCalls int
	failBatch  bool
}

func newTable() *table {
	return &table{rows: map[personaldata.SubjectID]int{}, indexes: map[personaldata.SubjectID]int{}}
}

func (tb *table) put(s personaldata.SubjectID, rows, indexes int) {
	tb.mu.Lock()
	tb.rows[s] += rows
	tb.indexes[s] += indexes
	tb.mu.Unlock()
}

func (tb *table) count(s personaldata.SubjectID) int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.rows[s] + tb.indexes[s]
}

// EraseBatch implements erasure.BatchEraser; it fails while failBatch is set.
func (tb *table) EraseBatch(ctx context.Context, calls []erasure.EraseCall) ([]erasure.EraseResult, error) {
	tb.mu.Lock()
	tb.batchCalls++
	fail := tb.failBatch
	tb.mu.Unlock()
	if fail {
		return nil, errors.New("bulk delete refused")
	}
	out := make([]erasure.EraseResult, len(calls))
	for i, c := range calls {
		out[i], _ = tb.Erase(ctx, c)
	}
	tb.mu.Lock()
	tb.calls -= len(calls)
	tb.mu.Unlock()
	return out, nil
}

func (tb *table) Erase(_ context.Context, c erasure.EraseCall) (erasure.EraseResult, error) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.calls++
	n := min(tb.rows[c.Subject], c.PageSize)
	tb.rows[c.Subject] -= n
	res := erasure.EraseResult{Removed: n, IndexEntries: tb.indexes[c.Subject]}
	tb.indexes[c.Subject] = 0
	if tb.rows[c.Subject] > 0 {
		res.Next = strconv.Itoa(tb.rows[c.Subject])
	}
	return res, nil
}

// fixture is a host: protector, ledger, retention, erasure service.
type fixture struct {
	ctx    context.Context
	clk    *clock
	keys   *pii.MemoryKeyStore
	prot   *pii.Protector
	ledger *consent.Ledger
	eval   *retention.Evaluator
	store  *erasure.MemoryStore
	svc    *erasure.Service
	crm    *table
	scopes map[personaldata.SubjectID][]erasure.ScopeFacts
}

var testPolicy = retention.PolicySpec{
	Name: "test",
	Rules: []retention.Rule{
		{ID: "invoices", Category: "billing", Kind: "invoice", Trigger: retention.TriggerFiscalYearEnd,
			Period: retention.Period{Years: 7}, Action: retention.Delete, Basis: personaldata.LegalObligation,
			Citation: "AWR art. 52 lid 4"},
		{ID: "erasure", Trigger: retention.TriggerErasureRequested, Action: retention.Delete, Basis: personaldata.Consent},
	},
}

func newFixture(t testing.TB, mod func(*erasure.Options)) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), clk: newClock(start), keys: pii.NewMemoryKeyStore(), crm: newTable(),
		store: erasure.NewMemoryStore(), scopes: map[personaldata.SubjectID][]erasure.ScopeFacts{}}
	w, err := pii.NewLocalKeyWrapper("kek-1", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f.prot, err = pii.New(f.keys, w, &pii.Options{Clock: f.clk.Now, IndexKey: hashKey})
	if err != nil {
		t.Fatal(err)
	}
	f.ledger, err = consent.New(f.ctx, consent.NewMemoryStore(), &consent.Options{
		Clock: f.clk.Now, Entropy: rand.NewChaCha8([32]byte{1}), Sealer: f.prot,
		Purposes: []consent.Purpose{{ID: "newsletter", Description: "Newsletter", Basis: personaldata.Consent,
			DirectMarketing: true, Since: start.AddDate(-1, 0, 0)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := retention.NewPolicy(testPolicy)
	if err != nil {
		t.Fatal(err)
	}
	f.eval, err = retention.New(pol, retention.NewMemoryHoldStore(), &retention.Options{Clock: f.clk.Now, Entropy: rand.NewChaCha8([32]byte{2})})
	if err != nil {
		t.Fatal(err)
	}
	o := &erasure.Options{
		Now: f.clk.Now, Entropy: rand.NewChaCha8([32]byte{3}),
		Systems:   []erasure.System{{Name: "crm", Does: "delete the customer row and its e-mail blind index", Eraser: f.crm}},
		Inventory: erasure.InventoryFunc(f.inventory),
		Retention: f.eval, Consent: f.ledger, Issuer: "https://example.nl", KeyID: "receipts-1",
	}
	if mod != nil {
		mod(o)
	}
	f.svc, err = erasure.New(f.store.Stores(), f.prot, erasure.Keys{Signing: signingKey, Hash: hashKey}, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) inventory(_ context.Context, s personaldata.SubjectID) ([]erasure.ScopeFacts, error) {
	return f.scopes[s], nil
}

// submitVerified submits an erasure request and verifies the identity.
func (f *fixture) submitVerified(t testing.TB, s personaldata.SubjectID, ids ...erasure.Identifier) erasure.Request {
	t.Helper()
	r, err := f.svc.Submit(f.ctx, erasure.Submission{Subject: s, Kind: erasure.KindErasure, Actor: "subject", Identifiers: ids})
	if err != nil {
		t.Fatal(err)
	}
	if r, err = f.svc.VerifyIdentity(f.ctx, r.ID, "staff-7"); err != nil {
		t.Fatal(err)
	}
	return r
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func consentGrant(s personaldata.SubjectID) consent.Change {
	return consent.Change{Type: consent.EventGrant, Subject: s, Purpose: "newsletter", Method: consent.MethodForm, Actor: consent.ActorSubject}
}

func holdOn(s personaldata.SubjectID) retention.Hold {
	return retention.Hold{Subject: s, Reason: "case 2033/17", PlacedBy: "legal-1"}
}

func eraseChange(s personaldata.SubjectID) consent.Change {
	return consent.Change{Type: consent.EventErase, Subject: s, Method: consent.MethodAdministrator, Actor: consent.ActorAdministrator}
}
