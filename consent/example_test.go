package consent_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/pii"
)

// exampleLedger returns a ledger with a newsletter (consent, opt-in) and
// service announcements (contract), a fixed clock and deterministic IDs.
func exampleLedger(store consent.Store, sealer consent.Sealer) *consent.Ledger {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l, err := consent.New(context.Background(), store, &consent.Options{
		Clock:   func() time.Time { return now },
		Entropy: rand.NewChaCha8([32]byte{}), // crypto/rand when omitted
		Sealer:  sealer,
		Purposes: []consent.Purpose{
			{ID: "newsletter", Description: "Monthly newsletter", Basis: personaldata.Consent,
				DirectMarketing: true, Categories: []personaldata.Category{"email"}, Since: now.AddDate(0, -2, 0)},
			{ID: "service-announcements", Description: "Service announcements", Basis: personaldata.Contract, Since: now.AddDate(0, -2, 0)},
		},
		Notices: []consent.Notice{{
			Version: "2026-01", URL: "https://example.nl/privacy/2026-01", Language: "nl",
			ContentHash: sha256.Sum256([]byte("privacy statement")),
			AnnouncedAt: now.Add(-time.Hour), EffectiveAt: now.Add(-time.Hour),
			Purposes: []consent.PurposeID{"newsletter", "service-announcements"},
		}},
		Receipts: consent.ReceiptOptions{Jurisdiction: "NL", Service: "Example Mail",
			Controllers: []consent.ReceiptController{{Name: "Example B.V.", Email: "privacy@example.nl"}}},
	})
	if err != nil {
		panic(err)
	}
	return l
}

func ExampleLedger_Decide() {
	ctx := context.Background()
	l := exampleLedger(consent.NewMemoryStore(), nil)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	grant, err := l.Record(ctx, consent.Change{
		Type: consent.EventGrant, Subject: "customer-1017", Purpose: "newsletter",
		EffectiveAt: now.Add(-30 * time.Minute), Method: consent.MethodForm, Actor: consent.ActorSubject,
	})
	if err != nil {
		panic(err)
	}
	_, err = l.Record(ctx, consent.Change{
		Type: consent.EventWithdraw, Subject: "customer-1017", Purpose: "newsletter",
		Method: consent.MethodEmailLink, Actor: consent.ActorSubject,
	})
	if err != nil {
		panic(err)
	}
	for _, at := range []time.Time{now.Add(-10 * time.Minute), now} {
		d, err := l.Decide(ctx, "customer-1017", "newsletter", at)
		if err != nil {
			panic(err)
		}
		fmt.Println(at.Format("15:04"), d.Allowed, d.Basis, d.Reason, d.NoticeVersion, d.EventID == grant.ID)
	}
	d, _ := l.Decide(ctx, "customer-2", "newsletter", now)
	fmt.Println(d.Allowed, d.Reason)

	// Service announcements rest on the contract: no opting out.
	_, err = l.Record(ctx, consent.Change{
		Type: consent.EventWithdraw, Subject: "customer-1017", Purpose: "service-announcements",
		Method: consent.MethodForm, Actor: consent.ActorSubject,
	})
	fmt.Println(errors.Is(err, consent.ErrWithdrawalRefused))
	d, _ = l.Decide(ctx, "customer-1017", "service-announcements", now)
	fmt.Println(d.Allowed, d.Reason)
	// Output:
	// 11:50 true consent granted 2026-01 true
	// 12:00 false consent withdrawn 2026-01 false
	// false no-consent
	// true
	// true contract
}

func ExampleLedger_Filter() {
	ctx := context.Background()
	l := exampleLedger(consent.NewMemoryStore(), nil)
	for i, s := range []personaldata.SubjectID{"a", "b", "c", "d"} {
		typ := consent.EventGrant
		if i == 2 {
			typ = consent.EventWithdraw
		}
		if _, err := l.Record(ctx, consent.Change{Type: typ, Subject: s, Purpose: "newsletter",
			Method: consent.MethodForm, Actor: consent.ActorSubject}); err != nil {
			panic(err)
		}
	}
	mailingList := func(yield func(personaldata.SubjectID) bool) {
		for _, s := range []personaldata.SubjectID{"a", "b", "c", "d", "e"} {
			if !yield(s) {
				return
			}
		}
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for s, err := range l.Filter(ctx, "newsletter", iter.Seq[personaldata.SubjectID](mailingList), now) {
		if err != nil {
			panic(err)
		}
		fmt.Println(s)
	}
	// Output:
	// a
	// b
	// d
}

func ExampleLedger_Verify() {
	ctx := context.Background()
	store := consent.NewMemoryStore()
	l := exampleLedger(store, nil)
	for _, typ := range []consent.EventType{consent.EventGrant, consent.EventWithdraw, consent.EventGrant} {
		if _, err := l.Record(ctx, consent.Change{Type: typ, Subject: "customer-1017", Purpose: "newsletter",
			Method: consent.MethodForm, Actor: consent.ActorSubject}); err != nil {
			panic(err)
		}
	}
	fmt.Println(l.Verify(ctx, "customer-1017"))

	// Someone deletes the withdrawal from the database and renumbers the
	// rest to hide the gap.
	recs, _ := store.Events(ctx, "customer-1017")
	doctored := consent.NewMemoryStore()
	_ = doctored.Append(ctx, "customer-1017", 0, recs[:1])
	recs[2].Seq = 2
	_ = doctored.Append(ctx, "customer-1017", 1, recs[2:])

	err := exampleLedger(doctored, nil).Verify(ctx, "customer-1017")
	var ce *consent.ChainError
	if errors.As(err, &ce) {
		fmt.Println(errors.Is(err, consent.ErrTampered), ce.Index, ce.Problem)
	}
	// Output:
	// <nil>
	// true 1 mismatched
}

func ExampleLedger_Receipt() {
	ctx := context.Background()
	l := exampleLedger(consent.NewMemoryStore(), nil)
	e, err := l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "customer-1017", Purpose: "newsletter",
		Method: consent.MethodForm, Actor: consent.ActorSubject})
	if err != nil {
		panic(err)
	}
	r, err := l.Receipt(ctx, "customer-1017", e.ID)
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(r.Services)
	fmt.Println(r.Version, r.ConsentReceiptID == e.ID.String(), r.PIIPrincipalID, r.PolicyURL)
	fmt.Println(string(b))
	// Output:
	// KI-CR-v1.1.0 true customer-1017 https://example.nl/privacy/2026-01
	// [{"service":"Example Mail","purposes":[{"purpose":"Monthly newsletter","purposeCategory":["newsletter","marketing"],"consentType":"EXPLICIT","piiCategory":["email"],"primaryPurpose":true,"termination":"withdraw at any time","thirdPartyDisclosure":false}]}]
}

// A receipt signed as a JSON Web Token (EdDSA), as the Kantara
// specification gives it: the person, an auditor or any JOSE library
// verifies it with the controller's public key.
func ExampleReceipt_Sign() {
	ctx := context.Background()
	l := exampleLedger(consent.NewMemoryStore(), nil)
	e, err := l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "customer-1017", Purpose: "newsletter",
		Method: consent.MethodForm, Actor: consent.ActorSubject})
	if err != nil {
		panic(err)
	}
	r, err := l.Receipt(ctx, "customer-1017", e.ID)
	if err != nil {
		panic(err)
	}
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)) // from a secret store in real life
	token, err := r.Sign(key, "receipts-2026")
	if err != nil {
		panic(err)
	}
	got, kid, err := consent.VerifyReceipt(token, key.Public().(ed25519.PublicKey))
	fmt.Println(err, kid, got.PIIPrincipalID, got.ConsentReceiptID == e.ID.String())
	fmt.Println(strings.Count(token, "."), strings.HasPrefix(token, "eyJhbGciOiJFZERTQSIs"))
	// Output:
	// <nil> receipts-2026 customer-1017 true
	// 2 true
}

// Personal data in the ledger is sealed under the subject's key. Erasing
// the subject shreds the key: the chain still verifies and decisions still
// answer, but the e-mail address is gone for good.
func Example_cryptoShredding() {
	ctx := context.Background()
	w, err := pii.NewLocalKeyWrapper("kek-1", bytes.Repeat([]byte{1}, 32)) // from a secret store in real life
	if err != nil {
		panic(err)
	}
	protector, err := pii.New(pii.NewMemoryKeyStore(), w, nil)
	if err != nil {
		panic(err)
	}
	l := exampleLedger(consent.NewMemoryStore(), protector)

	grant, err := l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "customer-1017", Purpose: "newsletter",
		Method: consent.MethodForm, Actor: consent.ActorSubject,
		Personal: &consent.PersonalData{Contact: "jan@example.nl"}})
	if err != nil {
		panic(err)
	}
	p, _ := l.Reveal(ctx, grant)
	fmt.Println(p.Contact, p) // the value prints redacted

	// Erasure: record it, then shred the key.
	if _, err := l.Record(ctx, consent.Change{Type: consent.EventErase, Subject: "customer-1017",
		Method: consent.MethodAdministrator, Actor: consent.ActorAdministrator}); err != nil {
		panic(err)
	}
	if err := protector.ForgetSubject(ctx, "customer-1017"); err != nil {
		panic(err)
	}
	fmt.Println(l.Verify(ctx, "customer-1017"))
	d, _ := l.Decide(ctx, "customer-1017", "newsletter", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	fmt.Println(d.Allowed, d.Reason)
	_, err = protector.Open(ctx, "customer-1017", personaldata.DefaultScope, consent.DefaultCategory, grant.Sealed)
	fmt.Println(errors.Is(err, pii.ErrErased))
	// Output:
	// jan@example.nl consent.PersonalData[REDACTED]
	// <nil>
	// false erased
	// true
}
