package piitest_test

import (
	"fmt"
	"time"

	"github.com/stretchr/testify/require"

	"testing"

	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/pii/piitest"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

type Contact struct {
	Email string `pii:"email"`
	Kind  string
}

type Account struct {
	ID        int64                 `pii:"subject"`
	Name      string                `pii:"name,redact=[erased]"`
	Nick      *string               `pii:"name"`
	Phones    []string              `pii:"phone"`
	Photo     []byte                `pii:"photo"`
	Birthdate pii.Sealed[time.Time] `pii:"birthdate"`
	IBAN      string                `pii:"iban,scope=fiscal"`
	Contacts  []Contact
	ByKind    map[string]*Contact
	Next      *Account
	Plan      string
}

func newAccount(id int64) *Account {
	nick := "nick"
	a := &Account{
		ID:        id,
		Name:      "Ada Lovelace",
		Nick:      &nick,
		Phones:    []string{"+31 20 123 4567", ""},
		Photo:     []byte("jpeg"),
		Birthdate: pii.Plain(time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC)),
		IBAN:      "NL91ABNA0417164300",
		Contacts:  []Contact{{Email: "ada@example.com", Kind: "work"}, {Kind: "none"}},
		ByKind:    map[string]*Contact{"home": {Email: "home@example.com"}},
		Plan:      "pro",
	}
	return a
}

var plaintexts = []string{"Ada Lovelace", "nick", "+31 20 123 4567", "jpeg", "NL91ABNA0417164300", "ada@example.com", "home@example.com", "1815"}

func requireNoPlaintext(t *testing.T, msgs []string) {
	t.Helper()
	for _, m := range msgs {
		for _, pt := range plaintexts {
			require.NotContains(t, m, pt, "a failure message must not hold field contents")
		}
	}
}

func newTestProtector(t *testing.T) *pii.Protector {
	t.Helper()
	w, err := pii.NewLocalKeyWrapper("kek", make([]byte, 32))
	require.NoError(t, err)
	p, err := pii.New(pii.NewMemoryKeyStore(), w, nil)
	require.NoError(t, err)
	return p
}

func TestAssertProtected(t *testing.T) {
	t.Parallel()
	p := newTestProtector(t)
	ctx := t.Context()

	a := newAccount(1)
	a.Next = a // a cycle must not hang the walk
	r := &recorder{}
	piitest.AssertProtected(r, a)
	require.Len(t, r.errs, 1)
	require.Contains(t, r.errs[0], "8 personal data field(s) of *piitest_test.Account hold no ciphertext: "+
		"Name, Nick, Phones[0], Photo, Birthdate, IBAN, Contacts[0].Email, ByKind[*].Email")
	requireNoPlaintext(t, r.errs)

	a.Next = nil
	require.NoError(t, p.Protect(ctx, a))
	for _, v := range []any{a, *a, []*Account{a}, map[int]Account{1: *a}} {
		r = &recorder{}
		piitest.AssertProtected(r, v)
		require.Empty(t, r.errs, "%T", v)
	}

	// One field left in the clear, or holding something that only looks
	// like a ciphertext.
	b := *a
	b.Contacts = []Contact{a.Contacts[0], {Email: "pd1:bm90IGFuIGVudmVsb3Bl"}}
	b.Photo = []byte("pd\x01\x01short")
	r = &recorder{}
	piitest.AssertProtected(r, &b)
	require.Len(t, r.errs, 1)
	require.Contains(t, r.errs[0], ": Photo, Contacts[1].Email")

	// Empty values need no ciphertext; an erased Sealed holds none.
	r = &recorder{}
	piitest.AssertProtected(r, &Account{ID: 2, Birthdate: erasedSealed(t, p)})
	require.Empty(t, r.errs)

	for name, v := range map[string]any{
		"no personal data": &struct{ Name string }{"x"},
		"bad tag": &struct {
			Name string `pii:"emial"`
		}{"x"},
		"nil": nil,
	} {
		r = &recorder{}
		piitest.AssertProtected(r, v)
		require.Len(t, r.errs, 1, name)
	}
}

// erasedSealed returns a Sealed whose key was shredded.
func erasedSealed(t *testing.T, p *pii.Protector) pii.Sealed[time.Time] {
	t.Helper()
	a := &Account{ID: 99, Birthdate: pii.Plain(time.Now())}
	require.NoError(t, p.Protect(t.Context(), a))
	require.NoError(t, p.ForgetSubject(t.Context(), "99"))
	require.ErrorIs(t, p.Reveal(t.Context(), a), pii.ErrErased)
	require.True(t, a.Birthdate.IsErased())
	return a.Birthdate
}

func TestAssertErased(t *testing.T) {
	t.Parallel()
	p := newTestProtector(t)
	ctx := t.Context()
	protected := func(id int64) Account {
		a := newAccount(id)
		require.NoError(t, p.Protect(ctx, a))
		return *a
	}

	t.Run("Forgotten", func(t *testing.T) {
		a := protected(1)
		require.NoError(t, p.ForgetSubject(ctx, "1"))
		r := &recorder{}
		piitest.AssertErased(r, p, &a)
		require.Empty(t, r.errs)
		require.Equal(t, "[erased]", a.Name)

		// Many values at once, through a slice.
		b, c := protected(2), protected(3)
		require.NoError(t, p.ForgetSubject(ctx, "2"))
		require.NoError(t, p.ForgetSubject(ctx, "3"))
		piitest.AssertErased(r, p, []Account{b, c})
		require.Empty(t, r.errs)
	})
	t.Run("NotForgotten", func(t *testing.T) {
		a := protected(4)
		r := &recorder{}
		piitest.AssertErased(r, p, &a)
		require.Len(t, r.errs, 1)
		require.Contains(t, r.errs[0], "8 of 8 encrypted field(s) of *piitest_test.Account not erased")
		require.Contains(t, r.errs[0], "\n\tPhones[0]: revealed")
		require.Contains(t, r.errs[0], "\n\tByKind[*].Email: revealed")
		requireNoPlaintext(t, r.errs)
	})
	t.Run("ScopeKept", func(t *testing.T) {
		a := protected(5)
		require.NoError(t, p.ForgetScopes(ctx, "5", "default"))
		r := &recorder{}
		piitest.AssertErased(r, p, &a)
		require.Len(t, r.errs, 1)
		require.Contains(t, r.errs[0], "1 of 8 encrypted field(s) of *piitest_test.Account not erased:\n\tIBAN: revealed")
		requireNoPlaintext(t, r.errs)
	})
	t.Run("Tampered", func(t *testing.T) {
		a, other := protected(6), protected(7)
		a.Name = other.Name // copied from another subject's record
		r := &recorder{}
		require.NoError(t, p.ForgetSubject(ctx, "7"))
		piitest.AssertErased(r, p, &a)
		require.Len(t, r.errs, 1)
		require.Contains(t, r.errs[0], "8 of 8 encrypted field(s)")
		require.Contains(t, r.errs[0], "\n\tName: "+pii.ErrTampered.Error())
		require.Contains(t, r.errs[0], "\n\tIBAN: revealed")
		requireNoPlaintext(t, r.errs)
	})
	t.Run("NothingToCheck", func(t *testing.T) {
		for name, v := range map[string]any{
			"plaintext":     newAccount(8),
			"not a pointer": protected(9),
			"no pii":        &struct{ Name string }{"x"},
		} {
			r := &recorder{}
			piitest.AssertErased(r, p, v)
			require.Len(t, r.errs, 1, name)
			requireNoPlaintext(t, r.errs)
		}
	})
}

func TestAssertProtectedThroughInterfaces(t *testing.T) {
	t.Parallel()
	p := newTestProtector(t)
	type holder struct {
		Payload any
		Meta    map[string]any
	}
	for name, v := range map[string]any{
		"slice":  []any{newAccount(1)},
		"map":    map[string]any{"k": newAccount(2)},
		"field":  &holder{Payload: newAccount(3)},
		"nested": &holder{Meta: map[string]any{"k": *newAccount(4)}},
	} {
		r := &recorder{}
		piitest.AssertProtected(r, v)
		require.Len(t, r.errs, 1, "%s: plaintext behind an interface must fail", name)
		requireNoPlaintext(t, r.errs)

		require.NoError(t, p.Protect(t.Context(), v), name)
		r = &recorder{}
		piitest.AssertProtected(r, v)
		require.Empty(t, r.errs, name)
	}
	r := &recorder{}
	piitest.AssertProtected(r, []any{"no personal data"})
	require.Len(t, r.errs, 1, "a value with no personal data field proves nothing")
}
