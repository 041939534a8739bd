package piitest_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/pii/piitest"
)

// User is a host's model.
type User struct {
	ID    string `pii:"subject"`
	Email string `pii:"email"`
	Name  string `pii:"name,redact=[erased]"`
	Plan  string
}

// printT stands in for the *testing.T of a host's test: it prints what
// the test would report.
type printT struct{ testing.TB }

func (printT) Helper() {}

func (printT) Errorf(format string, args ...any) { fmt.Printf("FAIL: "+format+"\n", args...) }

func newExampleProtector() *pii.Protector {
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	w, err := pii.NewLocalKeyWrapper("kek-1", master)
	if err != nil {
		panic(err)
	}
	p, err := pii.New(pii.NewMemoryKeyStore(), w, nil)
	if err != nil {
		panic(err)
	}
	return p
}

func ExampleRunConformanceTests() {
	// In the test package of a KeyStore implementation:
	testConformance := func(t *testing.T) {
		piitest.RunConformanceTests(t, func(t *testing.T) pii.KeyStore {
			// Return an empty store of your implementation; register
			// its cleanup with t.Cleanup.
			return pii.NewMemoryKeyStore()
		})
	}
	_ = testConformance
}

func ExampleAssertProtected() {
	var t testing.TB = printT{} // the host test's *testing.T
	ctx := context.Background()
	p := newExampleProtector()

	u := &User{ID: "42", Email: "ada@example.com", Name: "Ada", Plan: "pro"}
	piitest.AssertProtected(t, u) // forgot to call Protect

	if err := p.Protect(ctx, u); err != nil {
		panic(err)
	}
	piitest.AssertProtected(t, u) // passes: nothing printed
	fmt.Println("protected")
	// Output:
	// FAIL: piitest: 2 personal data field(s) of *piitest_test.User hold no ciphertext: Email, Name
	// protected
}

func ExampleAssertErased() {
	var t testing.TB = printT{} // the host test's *testing.T
	ctx := context.Background()
	p := newExampleProtector()

	u := &User{ID: "42", Email: "ada@example.com", Name: "Ada"}
	if err := p.Protect(ctx, u); err != nil {
		panic(err)
	}
	stored := *u // what the database holds

	loaded := stored
	piitest.AssertErased(t, p, &loaded) // not forgotten yet

	if err := p.ForgetSubject(ctx, "42"); err != nil {
		panic(err)
	}
	loaded = stored
	piitest.AssertErased(t, p, &loaded) // passes: nothing printed
	fmt.Printf("Name=%q Email=%q\n", loaded.Name, loaded.Email)
	// Output:
	// FAIL: piitest: 2 of 2 encrypted field(s) of *piitest_test.User not erased:
	// 	Email: revealed (its key was not shredded)
	// 	Name: revealed (its key was not shredded)
	// Name="[erased]" Email=""
}
