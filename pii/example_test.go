package pii_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/personaldata/personaldata/pii"
)

// newExampleProtector builds a Protector on an in-memory key store. A real
// host loads the 32-byte master key from its secret manager.
func newExampleProtector() *pii.Protector {
	master := []byte("0123456789abcdef0123456789abcdef") // never hard-code a real key
	wrapper, err := pii.NewLocalKeyWrapper("kek-2026", master)
	if err != nil {
		panic(err)
	}
	p, err := pii.New(pii.NewMemoryKeyStore(), wrapper, &pii.Options{IndexKey: []byte("index key, 32 bytes, also secret")})
	if err != nil {
		panic(err)
	}
	return p
}

type Subscriber struct {
	ID         string                `pii:"subject"`
	Email      string                `pii:"email,index=EmailIndex,normalize=email"`
	EmailIndex string                // blind index: find a subscriber by address
	Name       string                `pii:"name,redact=(erased)"`
	Birthdate  pii.Sealed[time.Time] `pii:"birthdate"`
	Invoice    string                `pii:"billing,scope=fiscal"`
	Plan       string
}

func ExampleProtector_Protect() {
	ctx := context.Background()
	p := newExampleProtector()

	s := Subscriber{ID: "sub-1", Email: "ann@example.nl", Name: "Ann", Plan: "pro",
		Birthdate: pii.Plain(time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC))}
	if err := p.Protect(ctx, &s); err != nil {
		panic(err)
	}
	fmt.Println(s.Email[:4], s.Name[:4], s.Plan, s.Birthdate)

	if err := p.Reveal(ctx, &s); err != nil {
		panic(err)
	}
	born, _ := s.Birthdate.Get()
	fmt.Println(s.Email, s.Name, born.Format(time.DateOnly))
	// Output:
	// pd1: pd1: pro [sealed]
	// ann@example.nl Ann 1990-05-17
}

// ForgetScopes shreds some of a subject's keys: every copy of their
// protected data in those scopes, in backups and exports too, now reveals as
// erased, while data in a scope kept for a legal reason survives until that
// scope is forgotten as well.
func Example_cryptoShredding() {
	ctx := context.Background()
	p := newExampleProtector()

	s := Subscriber{ID: "sub-2", Email: "bob@example.nl", Name: "Bob", Invoice: "INV-7 EUR 12.50"}
	if err := p.Protect(ctx, &s); err != nil {
		panic(err)
	}
	backup := s // a copy taken before the erasure

	if err := p.ForgetScopes(ctx, "sub-2", "default"); err != nil {
		panic(err)
	}
	err := p.Reveal(ctx, &backup)
	fmt.Println("erased:", errors.Is(err, pii.ErrErased))
	var re *pii.OpError
	if errors.As(err, &re) {
		for _, f := range re.Fields {
			fmt.Println(" ", f.Path, "in scope", f.Scope)
		}
	}
	fmt.Printf("name %q, email %q, invoice %q\n", backup.Name, backup.Email, backup.Invoice)

	err = p.Protect(ctx, &Subscriber{ID: "sub-2", Email: "bob@new.example"})
	fmt.Println(errors.Is(err, pii.ErrForgotten))
	// Output:
	// erased: true
	//   Email in scope default
	//   Name in scope default
	// name "(erased)", email "", invoice "INV-7 EUR 12.50"
	// true
}

func ExampleFields() {
	fields, err := pii.Fields(Subscriber{})
	if err != nil {
		panic(err)
	}
	for _, f := range fields {
		fmt.Printf("%-9s %-9s scope=%-7s subject=%s index=%s\n", f.Path, f.Category, f.Scope, f.Subject, f.Index)
	}
	// Output:
	// Email     email     scope=default subject=ID index=EmailIndex
	// Name      name      scope=default subject=ID index=
	// Birthdate birthdate scope=default subject=ID index=
	// Invoice   billing   scope=fiscal  subject=ID index=
}

func ExampleValidate() {
	type Account struct {
		ID    string `pii:"subject"`
		Email string `pii:"emial,redcat=x"` // two typos
	}
	fmt.Println(pii.Validate(Account{}))
	// Output:
	// pii: pii_test.Account.Email (pii:"emial,redcat=x"): category looks like a misspelling: "emial" (did you mean "email"?)
}

func ExampleRedact() {
	s := Subscriber{ID: "sub-3", Email: "carol@example.nl", Name: "Carol", Plan: "free"}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("signup", "subscriber", pii.Redact(s))
	fmt.Println(pii.Redact(s))
	// Output:
	// level=INFO msg=signup subscriber.ID=sub-3 subscriber.Email=[email] subscriber.EmailIndex="" subscriber.Name=[name] subscriber.Birthdate="" subscriber.Invoice="" subscriber.Plan=free
	// {ID:sub-3 Email:[email] EmailIndex: Name:[name] Birthdate: Invoice: Plan:free}
}

func ExampleIndexer() {
	ix, err := pii.NewIndexer([]byte("index key, 32 bytes, also secret"))
	if err != nil {
		panic(err)
	}
	a := ix.Index("email", pii.NormalizeEmail, "Ann@Example.NL ")
	b := ix.Index("email", pii.NormalizeEmail, "ann@example.nl")
	fmt.Println(a == b, len(a))
	// Output: true 43
}

func ExamplePseudonymizer() {
	ps, err := pii.NewPseudonymizer([]byte("pseudonym key, 32 bytes, secret!"))
	if err != nil {
		panic(err)
	}
	// The same customer gets the same pseudonym in one report, and an
	// unrelated one in another.
	first := ps.Pseudonym("report-2026", "customer-42")
	again := ps.Pseudonym("report-2026", "customer-42")
	nextYear := ps.Pseudonym("report-2027", "customer-42")
	fmt.Println(first == again)
	fmt.Println(first == nextYear)
	// Output:
	// true
	// false
}

func ExampleProtector_Seal() {
	ctx := context.Background()
	p := newExampleProtector()
	env, err := p.Seal(ctx, "sub-4", "", "evidence", []byte("I agree to the newsletter"))
	if err != nil {
		panic(err)
	}
	text, err := p.Open(ctx, "sub-4", "", "evidence", env)
	fmt.Println(string(text), err)
	_, err = p.Open(ctx, "sub-5", "", "evidence", env) // another subject's record
	fmt.Println(err)
	// Output:
	// I agree to the newsletter <nil>
	// pii: open (subject "sub-5", scope default, category evidence): pii: no key for this subject and scope
}

func ExampleProtector_Rewrap() {
	ctx := context.Background()
	store := pii.NewMemoryKeyStore()
	old, _ := pii.NewLocalKeyWrapper("kek-2025", []byte("old master key, 32 bytes, secret"))
	p, _ := pii.New(store, old, nil)
	type Note struct {
		Author string `pii:"subject"`
		Text   string `pii:"note"`
	}
	s := Note{Author: "sub-6", Text: "call back on Monday"}
	if err := p.Protect(ctx, &s); err != nil {
		panic(err)
	}

	next, _ := pii.NewLocalKeyWrapper("kek-2026", []byte("new master key, 32 bytes, secret"))
	stats, err := p.Rewrap(ctx, next)
	fmt.Printf("%+v %v\n", stats, err)

	q, _ := pii.New(store, next, nil) // the old KEK can now be retired
	err = q.Reveal(ctx, &s)
	fmt.Println(s.Text, err)
	// Output:
	// {Rewrapped:1 Unchanged:0 Skipped:0} <nil>
	// call back on Monday <nil>
}

// BlindIndex finds a record by an encrypted field: the index is computed
// from the field's own tag (category email, normaliser email), so the
// look-up cannot drift from what Protect wrote.
func ExampleProtector_BlindIndex() {
	ctx := context.Background()
	p := newExampleProtector()
	s := Subscriber{ID: "sub-8", Email: "Ann@Example.NL", Name: "Ann"}
	if err := p.Protect(ctx, &s); err != nil {
		panic(err)
	}
	ix, err := p.BlindIndex(Subscriber{}, "Email", " ann@example.nl")
	fmt.Println(ix == s.EmailIndex, err)
	// Output: true <nil>
}

// ForgetSubject erases every scope of a subject, and no scope of it gets a
// key again, not even one it never used.
func ExampleProtector_ForgetSubject() {
	ctx := context.Background()
	p := newExampleProtector()
	s := Subscriber{ID: "sub-9", Email: "eve@example.nl", Invoice: "INV-9"}
	if err := p.Protect(ctx, &s); err != nil {
		panic(err)
	}
	if err := p.ForgetSubject(ctx, "sub-9"); err != nil {
		panic(err)
	}
	err := p.Reveal(ctx, &s)
	var oe *pii.OpError
	fmt.Println(errors.As(err, &oe) && oe.OnlyErased(), len(oe.Fields))
	_, err = p.Seal(ctx, "sub-9", "support", "message", []byte("hello"))
	fmt.Println(errors.Is(err, pii.ErrForgotten))
	// Output:
	// true 2
	// true
}
