package export_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/export"
	"github.com/personaldata/personaldata/pii"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testNow }

// Address is nested in Customer.
type Address struct {
	Street string `json:"street" pii:"address"`
	City   string `json:"city"`
}

// Contact is a list element of Customer.
type Contact struct {
	Kind  string `json:"kind"`
	Value string `json:"value" pii:"contact"`
}

// Customer is a typical host record with every kind of field.
type Customer struct {
	ID       string                `json:"id" pii:"subject"`
	Email    string                `json:"email" pii:"email"`
	Name     string                `json:"name" pii:"name"`
	Plan     string                `json:"plan"`
	Address  Address               `json:"address"`
	Phones   []string              `json:"phones" pii:"phone"`
	Contacts []Contact             `json:"contacts"`
	Born     pii.Sealed[time.Time] `json:"born" pii:"birthdate"`
	Invoices int                   `json:"invoices"`
	Created  time.Time             `json:"created"`
}

// Invoice has a fiscal scope that outlives erasure of the default scope.
type Invoice struct {
	Subject string  `json:"subject" pii:"subject"`
	Number  string  `json:"number"`
	Name    string  `json:"name" pii:"billing,scope=fiscal"`
	Amount  float64 `json:"amount"`
}

func newProtector(t testing.TB) *pii.Protector {
	t.Helper()
	w, err := pii.NewLocalKeyWrapper("kek-1", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	p, err := pii.New(pii.NewMemoryKeyStore(), w, &pii.Options{Clock: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// forgetDefaultScope crypto-shreds the default scope of subject; fiscal
// data stays readable.
func forgetDefaultScope(t testing.TB, p *pii.Protector, subject personaldata.SubjectID) {
	t.Helper()
	if err := p.ForgetScopes(context.Background(), subject, personaldata.DefaultScope); err != nil {
		t.Fatal(err)
	}
}

func protect(t testing.TB, p *pii.Protector, v any) {
	t.Helper()
	if err := p.Protect(context.Background(), v); err != nil {
		t.Fatal(err)
	}
}

func newEntropy() *rand.ChaCha8 { return rand.NewChaCha8([32]byte{1}) }

func customer(id string, i int) *Customer {
	c := &Customer{
		ID: id, Email: "jan@example.nl", Name: "Jan de Vries", Plan: "pro",
		Address:  Address{Street: "Dorpsstraat 1", City: "Utrecht"},
		Phones:   []string{"+31 6 12345678", "030 1234567"},
		Contacts: []Contact{{Kind: "work", Value: "jan@work.example"}},
		Born:     pii.Plain(time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC)),
		Invoices: i, Created: testNow.AddDate(-1, 0, 0),
	}
	return c
}

var customerCategory = export.Category{
	Name: "account", Title: "Account", Description: "Your account and contact details.",
	Origin: export.Provided, Portable: true,
	Purposes:   []export.Purpose{{ID: "service", Description: "Providing the mail service", Basis: personaldata.Contract}},
	Recipients: []export.Recipient{{Name: "ILIAD / Online SAS", Role: "processor (hosting)", Country: "FR"}},
}

var invoiceCategory = export.Category{
	Name: "invoices", Title: "Invoices", Origin: export.Provided, Portable: false,
	Purposes:   []export.Purpose{{ID: "billing", Description: "Invoicing, as tax law requires", Basis: personaldata.LegalObligation}},
	Recipients: []export.Recipient{{Name: "ECL Direct SAS", Role: "processor (accounting)", Country: "FR"}},
}
