package erasure_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/retention"
)

// exampleService returns a service with a fixed clock and entropy, one
// host system, and a subject "c-1001" with a profile and invoices of 2026.
func exampleService(now time.Time) (*erasure.Service, *pii.Protector) {
	keys := pii.NewMemoryKeyStore()
	w, err := pii.NewLocalKeyWrapper("kek-1", make([]byte, 32)) // from a secret manager
	if err != nil {
		panic(err)
	}
	protector, err := pii.New(keys, w, nil)
	if err != nil {
		panic(err)
	}
	clock := func() time.Time { return now }
	policy, err := retention.NewPolicy(retention.PolicySpec{Rules: []retention.Rule{
		{ID: "invoices", Category: "billing", Kind: "invoice", Trigger: retention.TriggerFiscalYearEnd,
			Period: retention.Period{Years: 7}, Action: retention.Delete, Basis: personaldata.LegalObligation,
			Citation: "AWR art. 52 lid 4"},
		{ID: "erasure", Trigger: retention.TriggerErasureRequested, Action: retention.Delete, Basis: personaldata.Consent},
	}})
	if err != nil {
		panic(err)
	}
	evaluator, err := retention.New(policy, retention.NewMemoryHoldStore(), &retention.Options{Clock: clock})
	if err != nil {
		panic(err)
	}
	crm := erasure.EraserFunc(func(ctx context.Context, c erasure.EraseCall) (erasure.EraseResult, error) {
		// DELETE FROM customers WHERE id = $1; DELETE FROM email_index WHERE subject = $1
		return erasure.EraseResult{Removed: 1, IndexEntries: 1}, nil
	})
	inventory := erasure.InventoryFunc(func(ctx context.Context, s personaldata.SubjectID) ([]erasure.ScopeFacts, error) {
		return []erasure.ScopeFacts{
			{Scope: personaldata.DefaultScope, Facts: erasure.RetentionFacts{Category: "profile"}},
			{Scope: "fiscal-2026", Facts: erasure.RetentionFacts{Category: "billing", Kind: "invoice",
				Collected: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}},
		}, nil
	})
	store := erasure.NewMemoryStore()
	svc, err := erasure.New(store.Stores(), protector,
		erasure.Keys{Signing: ed25519.NewKeyFromSeed(make([]byte, 32)), Hash: make([]byte, 32)},
		&erasure.Options{
			Now: clock, Entropy: rand.NewChaCha8([32]byte{}), // crypto/rand when omitted
			PromiseDays: 30,
			Systems:     []erasure.System{{Name: "crm", Does: "delete the customer row and e-mail index", Eraser: crm}},
			Inventory:   inventory,
			Retention:   evaluator,
		})
	if err != nil {
		panic(err)
	}
	return svc, protector
}

func ExampleAddMonths() {
	received := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	fmt.Println(erasure.AddMonths(received, 1, time.UTC).Format(time.DateOnly))
	fmt.Println(erasure.AddMonths(received.AddDate(2, 0, 0), 1, time.UTC).Format(time.DateOnly))
	// Output:
	// 2026-02-28
	// 2028-02-29
}

func ExampleService_Plan() {
	svc, _ := exampleService(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	plan, err := svc.Plan(context.Background(), "c-1001")
	if err != nil {
		panic(err)
	}
	for _, sp := range plan.Scopes {
		if sp.Now {
			fmt.Printf("%s: shred now\n", sp.Scope)
		} else {
			fmt.Printf("%s: keep until %s (%s, %s)\n", sp.Scope, sp.Until.Format(time.DateOnly), sp.RuleID, sp.Citation)
		}
	}
	for _, sys := range plan.Systems {
		fmt.Printf("%s: %s\n", sys.Name, sys.Does)
	}
	// Output:
	// default: shred now
	// fiscal-2026: keep until 2034-01-01 (invoices, AWR art. 52 lid 4)
	// crm: delete the customer row and e-mail index
}

func ExampleService_Execute() {
	ctx := context.Background()
	svc, _ := exampleService(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	req, err := svc.Submit(ctx, erasure.Submission{Subject: "c-1001", Kind: erasure.KindErasure,
		Identifiers: []erasure.Identifier{erasure.Email("jan@example.nl")}, Actor: "subject"})
	if err != nil {
		panic(err)
	}
	if req, err = svc.VerifyIdentity(ctx, req.ID, "staff-7"); err != nil {
		panic(err)
	}
	fmt.Println("due", req.Due.Format(time.DateOnly))
	req, receipt, err := svc.Execute(ctx, req.ID, "staff-7")
	if err != nil {
		panic(err)
	}
	fmt.Println(req.State)

	// Anyone with the public key can check the receipt.
	got, err := erasure.Verify(receipt.Token, svc.PublicKey())
	if err != nil {
		panic(err)
	}
	fmt.Println("erased scopes:", got.Erased.Scopes)
	for _, so := range got.Erased.Systems {
		fmt.Printf("%s: %d removed, %d index entries\n", so.Name, so.Removed, so.IndexEntries)
	}
	for _, k := range got.Kept {
		fmt.Printf("kept %s until %s: %s\n", k.Scope, k.Until.Format(time.DateOnly), k.Citation)
	}

	// The person comes back in an import: flagged.
	hits, err := svc.Suppressed(ctx, erasure.Email(" Jan@Example.NL"))
	if err != nil {
		panic(err)
	}
	fmt.Println("suppressed:", len(hits) == 1)
	// Output:
	// due 2026-04-09
	// completed
	// erased scopes: [default]
	// crm: 1 removed, 1 index entries
	// kept fiscal-2026 until 2034-01-01: AWR art. 52 lid 4
	// suppressed: true
}
