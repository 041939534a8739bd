package piitest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
)

// customer is the record the Protector subtests protect: every kind of
// field, in two scopes.
type customer struct {
	ID        string                `pii:"subject"`
	Email     string                `pii:"email"`
	Name      string                `pii:"name,redact=[erased]"`
	IBAN      string                `pii:"iban,scope=fiscal"`
	Birthdate pii.Sealed[time.Time] `pii:"birthdate"`
	Photo     []byte                `pii:"photo"`
	Plan      string
}

var birthdate = time.Date(1990, time.February, 3, 0, 0, 0, 0, time.UTC)

func newCustomer(id string) *customer {
	return &customer{
		ID:        id,
		Email:     id + "@example.com",
		Name:      "Name of " + id,
		IBAN:      "NL91ABNA0417164300",
		Birthdate: pii.Plain(birthdate),
		Photo:     []byte("photo of " + id),
		Plan:      "basic",
	}
}

func (c *customer) clone() *customer {
	d := *c
	d.Photo = bytes.Clone(c.Photo)
	return &d
}

func requireRevealed(t *testing.T, want, got *customer) {
	t.Helper()
	equal(t, want.ID, got.ID)
	equal(t, want.Email, got.Email, "Email")
	equal(t, want.Name, got.Name, "Name")
	equal(t, want.IBAN, got.IBAN, "IBAN")
	equal(t, want.Photo, got.Photo, "Photo")
	equal(t, want.Plan, got.Plan, "Plan")
	bd, err := got.Birthdate.Get()
	noError(t, err, "Birthdate")
	isTrue(t, bd.Equal(birthdate), "Birthdate")
}

func newWrapper(t *testing.T, id string) *pii.LocalKeyWrapper {
	t.Helper()
	master := sha256.Sum256([]byte("piitest master key " + id))
	w, err := pii.NewLocalKeyWrapper(id, master[:])
	noError(t, err)
	return w
}

// newProtector returns a Protector without a key cache, so every call
// reaches the store.
func newProtector(t *testing.T, s pii.KeyStore, w pii.KeyWrapper, alg pii.Algorithm) *pii.Protector {
	t.Helper()
	p, err := pii.New(s, w, &pii.Options{CacheSize: -1, Algorithm: alg})
	noError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func testProtectorRoundTrip(t *testing.T, s pii.KeyStore) {
	w := newWrapper(t, kekID)
	for _, alg := range []pii.Algorithm{pii.AES256GCM, pii.XChaCha20Poly1305} {
		p := newProtector(t, s, w, alg)
		id := "round-trip-" + alg.String()
		c := newCustomer(id)
		want := c.clone()
		noError(t, p.Protect(t.Context(), c), "Protect")
		AssertProtected(t, c)
		notEqual(t, want.Email, c.Email)
		stored := c.clone()
		noError(t, p.Reveal(t.Context(), c), "Reveal")
		requireRevealed(t, want, c)

		// The store holds one key per scope, wrapped by w.
		for _, k := range getKeys(t, s, def(id), ref(id, fiscal)) {
			equal(t, pii.KeyActive, k.State, "%v after Protect", k.Ref)
			equal(t, w.KEKID(), k.Wrapped.KEKID)
		}
		// Another process, with a Protector of its own, reads it too.
		other := newProtector(t, s, w, pii.AES256GCM)
		got := stored.clone()
		noError(t, other.Reveal(t.Context(), got), "Reveal by another Protector")
		requireRevealed(t, want, got)
		// Protecting again creates no key and changes nothing.
		again := stored.clone()
		noError(t, other.Protect(t.Context(), again))
		equal(t, stored.Email, again.Email, "Protect of a protected value")
	}
	hasLen(t, allKeys(t, s), 4)
}

func testProtectorFirstUse(t *testing.T, s pii.KeyStore) {
	const goroutines = 32
	const id = "first-use"
	w := newWrapper(t, kekID)
	// A Protector each, as if in as many processes: the store alone
	// decides which key wins.
	ps := make([]*pii.Protector, goroutines)
	for i := range ps {
		ps[i] = newProtector(t, s, w, pii.AES256GCM)
	}
	cs := make([]*customer, goroutines)
	errs := make([]error, goroutines)
	start(goroutines, func(i int) {
		cs[i] = newCustomer(id)
		cs[i].Email = fmt.Sprintf("%d@example.com", i)
		errs[i] = ps[i].Protect(t.Context(), cs[i])
	})
	for i, err := range errs {
		noError(t, err, "Protect %d", i)
	}
	n := 0
	for r := range allKeys(t, s) {
		equal(t, personaldata.SubjectID(id), r.Subject)
		n++
	}
	equal(t, 2, n, "one key per scope for %q", id)
	p := newProtector(t, s, w, pii.AES256GCM)
	for i, c := range cs {
		noError(t, p.Reveal(t.Context(), c), "Reveal %d", i)
		want := newCustomer(id)
		want.Email = fmt.Sprintf("%d@example.com", i)
		requireRevealed(t, want, c)
	}
}

func testProtectorForgetSubject(t *testing.T, s pii.KeyStore) {
	ctx := t.Context()
	p := newProtector(t, s, newWrapper(t, kekID), pii.AES256GCM)
	const id = "forget-me"
	c, keep := newCustomer(id), newCustomer("keep-me")
	wantKeep := keep.clone()
	noError(t, p.Protect(ctx, c))
	noError(t, p.Protect(ctx, keep))
	sealed, err := p.Seal(ctx, id, "", "message", []byte("hello"))
	noError(t, err, "Seal")

	noError(t, p.ForgetSubject(ctx, id), "ForgetSubject")
	for _, k := range getKeys(t, s, def(id), ref(id, fiscal)) {
		equal(t, pii.KeyShredded, k.State, "%v after ForgetSubject", k.Ref)
		empty(t, k.Wrapped.Ciphertext)
	}
	AssertErased(t, p, c.clone())

	got := c.clone()
	err = p.Reveal(ctx, got)
	var re *pii.OpError
	errorAs(t, err, &re, "Reveal after ForgetSubject")
	isTrue(t, re.OnlyErased(), "Reveal after ForgetSubject: %v", err)
	errorIs(t, err, pii.ErrErased)
	equal(t, "[erased]", got.Name)
	empty(t, got.Email)
	empty(t, got.IBAN)
	empty(t, got.Photo)
	isTrue(t, got.Birthdate.IsErased())

	errorIs(t, p.Protect(ctx, newCustomer(id)), pii.ErrForgotten, "Protect after forgetting")
	_, err = p.Seal(ctx, id, "", "message", []byte("hello"))
	errorIs(t, err, pii.ErrForgotten, "Seal after ForgetSubject")
	_, err = p.Open(ctx, id, "", "message", sealed)
	errorIs(t, err, pii.ErrErased, "Open after ForgetSubject")

	noError(t, p.Reveal(ctx, keep), "Reveal of another subject")
	requireRevealed(t, wantKeep, keep)
}

func testProtectorForgetScope(t *testing.T, s pii.KeyStore) {
	ctx := t.Context()
	p := newProtector(t, s, newWrapper(t, kekID), pii.AES256GCM)
	const id = "keep-invoices"
	c := newCustomer(id)
	want := c.clone()
	noError(t, p.Protect(ctx, c))
	noError(t, p.ForgetScopes(ctx, id, personaldata.DefaultScope))
	err := p.Reveal(ctx, c)
	var re *pii.OpError
	errorAs(t, err, &re)
	isTrue(t, re.OnlyErased(), "%v", err)
	hasLen(t, re.Fields, 4, "erased fields")
	equal(t, want.IBAN, c.IBAN, "the fiscal scope outlives the default one")

	_, err = p.Seal(ctx, id, fiscal, "billing", []byte("invoice"))
	noError(t, err, "Seal in the scope kept")
	_, err = p.Seal(ctx, id, personaldata.DefaultScope, "billing", []byte("invoice"))
	errorIs(t, err, pii.ErrForgotten, "Seal in the scope forgotten")
	errorIs(t, p.Protect(ctx, newCustomer(id)), pii.ErrForgotten, "Protect after forgetting")
}

func testProtectorRewrap(t *testing.T, s pii.KeyStore) {
	ctx := t.Context()
	w1, w2 := newWrapper(t, kekID), newWrapper(t, kekID2)
	p1 := newProtector(t, s, w1, pii.AES256GCM)
	var stored []*customer
	for _, id := range []string{"rewrap-a", "rewrap-b", "rewrap-gone"} {
		c := newCustomer(id)
		noError(t, p1.Protect(ctx, c))
		stored = append(stored, c)
	}
	noError(t, p1.ForgetSubject(ctx, "rewrap-gone"))
	stored = stored[:2]
	n := len(allKeys(t, s))
	equal(t, 4, n)

	st, err := p1.Rewrap(ctx, w2)
	noError(t, err, "Rewrap")
	equal(t, pii.RewrapStats{Rewrapped: n}, st)
	for r, k := range allKeys(t, s) {
		equal(t, w2.KEKID(), k.Wrapped.KEKID, "%v after Rewrap", r)
	}

	p2 := newProtector(t, s, w2, pii.AES256GCM) // knows the new KEK only
	for _, c := range stored {
		got := c.clone()
		noError(t, p2.Reveal(ctx, got), "Reveal under the new KEK")
		requireRevealed(t, newCustomer(c.ID), got)
		got = c.clone()
		errorIs(t, p1.Reveal(ctx, got), pii.ErrWrongKEK, "Reveal under the old KEK only")
		equal(t, c.Email, got.Email, "a field that failed keeps its ciphertext")
	}

	st, err = p1.Rewrap(ctx, w2)
	noError(t, err, "Rewrap again")
	equal(t, pii.RewrapStats{Unchanged: n}, st)
}

// testProtectorForgetRacing forgets a subject while Protect runs for it.
// A Protect that loaded the key before the tombstone may still write a
// ciphertext under it after ForgetSubject returns; that ciphertext reveals
// as erased. No key is created after the tombstone.
func testProtectorForgetRacing(t *testing.T, s pii.KeyStore) {
	const goroutines = 16
	ctx := t.Context()
	w := newWrapper(t, kekID)
	cached, err := pii.New(s, w, nil) // with a key cache, shared with the forgetter
	noError(t, err)
	t.Cleanup(func() { _ = cached.Close() })
	uncached := newProtector(t, s, w, pii.AES256GCM)
	for round := range 4 {
		id := fmt.Sprintf("racing-forget-%d", round)
		noError(t, cached.Protect(ctx, newCustomer(id)), "Protect before the race")
		cs := make([]*customer, goroutines)
		errs := make([]error, goroutines)
		var forgetErr error
		start(goroutines+1, func(i int) {
			if i == goroutines {
				forgetErr = cached.ForgetSubject(ctx, personaldata.SubjectID(id))
				return
			}
			p := cached
			if i%2 == 1 {
				p = uncached
			}
			cs[i] = newCustomer(id)
			errs[i] = p.Protect(ctx, cs[i])
		})
		noError(t, forgetErr, "ForgetSubject racing Protect")
		for i, err := range errs {
			if err != nil {
				errorIs(t, err, pii.ErrForgotten, "Protect %d racing ForgetSubject", i)
				continue
			}
			AssertProtected(t, cs[i])
			AssertErased(t, uncached, cs[i].clone())
			AssertErased(t, cached, cs[i].clone())
		}
		for r := range allKeys(t, s) {
			notEqual(t, personaldata.SubjectID(id), r.Subject, "active key %v after ForgetSubject returned", r)
		}
		errorIs(t, cached.Protect(ctx, newCustomer(id)), pii.ErrForgotten, "Protect after ForgetSubject")
		_, err := uncached.Seal(ctx, personaldata.SubjectID(id), "new-scope", "message", []byte("hello"))
		errorIs(t, err, pii.ErrForgotten, "Seal in a new scope after ForgetSubject")
	}
}
