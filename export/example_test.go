package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/export"
	"github.com/personaldata/personaldata/pii"
)

// Account is a host's record with encrypted personal data.
type Account struct {
	ID     string   `json:"id" pii:"subject"`
	Email  string   `json:"email" pii:"email"`
	Name   string   `json:"name" pii:"name"`
	Plan   string   `json:"plan"`
	Phones []string `json:"phones" pii:"phone"`
}

// exampleExporter returns an exporter with a fixed clock and deterministic
// IDs, and a protector that revealed records need.
func exampleExporter() (*export.Exporter, *pii.Protector) {
	w, _ := pii.NewLocalKeyWrapper("kek-1", make([]byte, 32)) // from a secret manager in production
	p, _ := pii.New(pii.NewMemoryKeyStore(), w, nil)
	e, err := export.New(export.Controller{Name: "Example Mail B.V.", Contact: "privacy@example.nl"}, &export.Options{
		Now:        func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
		Entropy:    rand.NewChaCha8([32]byte{}), // crypto/rand when omitted
		SubjectKey: make([]byte, 32),            // a random key per Exporter when omitted
		Revealer:   p,
	})
	if err != nil {
		panic(err)
	}
	return e, p
}

var accountCategory = export.Category{
	Name: "account", Title: "Account", Origin: export.Provided, Portable: true,
	Purposes:   []export.Purpose{{ID: "service", Description: "Providing the mail service", Basis: personaldata.Contract}},
	Recipients: []export.Recipient{{Name: "Online SAS", Role: "processor (hosting)", Country: "FR"}},
}

func Example() {
	ctx := context.Background()
	e, p := exampleExporter()

	// The host's stored records are encrypted.
	a := &Account{ID: "customer-1017", Email: "jan@example.nl", Name: "Jan de Vries", Plan: "pro", Phones: []string{"+31 6 12345678"}}
	if err := p.Protect(ctx, a); err != nil {
		panic(err)
	}
	src := export.NewMemorySource()
	src.Add("customer-1017", a)
	if err := e.Register(accountCategory, src); err != nil {
		panic(err)
	}

	var zipped bytes.Buffer
	m, err := e.WritePackage(ctx, &zipped, export.Request{Subject: "customer-1017"})
	if err != nil {
		panic(err) // and discard zipped: a failed package is incomplete
	}
	zr, _ := zip.NewReader(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()))
	for _, f := range zr.File {
		fmt.Println(f.Name)
	}
	fmt.Println(m.Kind, m.Categories[0].Name, *m.Categories[0].RecordCount, m.Categories[0].Purposes[0].Article)
	// Output:
	// data/account/records.ndjson
	// data/account/records.csv
	// data/account/records.phones.csv
	// schema/account.schema.json
	// index.html
	// README.txt
	// manifest.json
	// checksums.sha256
	// access account 1 GDPR Art. 6(1)(b)
}

func ExampleExporter_WriteNDJSON() {
	ctx := context.Background()
	e, p := exampleExporter()
	a := &Account{ID: "customer-1017", Email: "jan@example.nl", Name: "Jan de Vries", Plan: "pro"}
	if err := p.Protect(ctx, a); err != nil {
		panic(err)
	}
	src := export.NewMemorySource()
	src.Add("customer-1017", a)
	if err := e.Register(accountCategory, src); err != nil {
		panic(err)
	}
	if err := e.WriteNDJSON(ctx, os.Stdout, "customer-1017", "account"); err != nil {
		panic(err)
	}
	// Output:
	// {"id":"customer-1017","email":"jan@example.nl","name":"Jan de Vries","plan":"pro","phones":[]}
}

// Sources are iterators: a database query would yield rows one by one.
func ExampleSourceFunc() {
	type Login struct {
		At time.Time `json:"at"`
		IP string    `json:"ip"`
	}
	logins := func(ctx context.Context, subject personaldata.SubjectID) iter.Seq2[Login, error] {
		return func(yield func(Login, error) bool) {
			at := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
			for i := range 2 {
				if !yield(Login{At: at.AddDate(0, 0, i), IP: "=1+1"}, nil) {
					return
				}
			}
		}
	}
	e, _ := exampleExporter()
	err := e.Register(export.Category{Name: "logins", Title: "Log-ins", Origin: export.Observed, Portable: true,
		Purposes: []export.Purpose{{ID: "security", Description: "Keeping your account safe", Basis: personaldata.LegitimateInterests}},
	}, export.SourceFunc(logins))
	if err != nil {
		panic(err)
	}
	// The CSV view neutralises what a spreadsheet would run as a formula.
	if err := e.WriteCSV(context.Background(), os.Stdout, "customer-1017", "logins", ""); err != nil {
		panic(err)
	}
	// Output:
	// _row,at,ip
	// 1,2026-02-01T09:00:00Z,'=1+1
	// 2,2026-02-02T09:00:00Z,'=1+1
}

func ExampleNeutraliseCell() {
	for _, s := range []string{`=HYPERLINK("http://evil.example")`, "+31 6 12345678", "@SUM(A1)", "Jan"} {
		fmt.Println(export.NeutraliseCell(s))
	}
	// Output:
	// '=HYPERLINK("http://evil.example")
	// '+31 6 12345678
	// '@SUM(A1)
	// Jan
}
