package pii_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
)

type Address struct {
	Street string `pii:"address"`
	City   string // not personal data on its own
}

type Invoice struct {
	Number string
	Amount pii.Sealed[int64] `pii:"billing,scope=fiscal"`
	IBAN   string            `pii:"iban,scope=fiscal"`
}

type Email string

type Customer struct {
	ID         int64                 `pii:"subject"`
	Email      Email                 `pii:"email,index=EmailIndex,normalize=email"`
	EmailIndex string                // blind index
	Name       string                `pii:"name,redact=[erased]"`
	Nickname   *string               `pii:"name"`
	Photo      []byte                `pii:"photo"`
	Signature  *[]byte               `pii:"signature"`
	Phones     []string              `pii:"phone"`
	Birthdate  pii.Sealed[time.Time] `pii:"birthdate"`
	Home       Address               // inherits the customer's subject
	Previous   []*Address            // so do these
	Invoices   map[string]Invoice    // and these, in scope fiscal
	Notes      map[string]*Address   // map of pointers
	Extra      *Address              // nil stays nil
	Plan       string
}

type Message struct {
	SenderID       string `pii:"subject"`
	RecipientID    string
	Body           string `pii:"message"`
	RecipientEmail string `pii:"email,subject=RecipientID"`
}

func newProtector(t testing.TB, opts *pii.Options) (*pii.Protector, *pii.MemoryKeyStore) {
	t.Helper()
	store := pii.NewMemoryKeyStore()
	return newProtectorOn(t, store, opts), store
}

func newProtectorOn(t testing.TB, store pii.KeyStore, opts *pii.Options) *pii.Protector {
	t.Helper()
	master := make([]byte, 32)
	copy(master, "test master key, never use this!")
	w, err := pii.NewLocalKeyWrapper("kek-test", master)
	require.NoError(t, err)
	if opts == nil {
		opts = &pii.Options{}
	}
	if opts.IndexKey == nil {
		opts.IndexKey = bytes.Repeat([]byte{7}, 32)
	}
	p, err := pii.New(store, w, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func ptr[T any](v T) *T { return &v }

func sampleCustomer() Customer {
	return Customer{
		ID:        42,
		Email:     " Ann@Example.com",
		Name:      "Ann Jansen",
		Nickname:  ptr("annie"),
		Photo:     []byte{0x89, 'P', 'N', 'G'},
		Signature: ptr([]byte("signed")),
		Phones:    []string{"+31 6 1234 5678", "", "020-1234567"},
		Birthdate: pii.Plain(time.Date(1990, 2, 3, 0, 0, 0, 0, time.UTC)),
		Home:      Address{Street: "Kerkstraat 1", City: "Utrecht"},
		Previous:  []*Address{{Street: "Dorpsweg 2"}, nil},
		Invoices: map[string]Invoice{
			"2026-001": {Number: "2026-001", Amount: pii.Plain[int64](12_50), IBAN: "NL91ABNA0417164300"},
		},
		Notes: map[string]*Address{"old": {Street: "Laan 3"}},
		Plan:  "pro",
	}
}

// plaintexts lists every personal data value of sampleCustomer.
var plaintexts = []string{"Ann@Example.com", "Ann Jansen", "annie", "PNG", "signed", "1234 5678", "1234567", "Kerkstraat", "Dorpsweg", "NL91ABNA", "Laan 3"}

func assertNoPlaintext(t *testing.T, what string) {
	t.Helper()
	for _, pt := range plaintexts {
		assert.NotContains(t, what, pt)
	}
}

func TestProtectRevealRoundTrip(t *testing.T) {
	t.Parallel()
	for _, alg := range []pii.Algorithm{pii.AES256GCM, pii.XChaCha20Poly1305} {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			p, _ := newProtector(t, &pii.Options{Algorithm: alg})
			c := sampleCustomer()
			require.NoError(t, p.Protect(ctx, &c))

			assert.Equal(t, int64(42), c.ID)
			assert.Equal(t, "pro", c.Plan)
			assert.Equal(t, "Utrecht", c.Home.City, "untagged fields stay")
			assert.Nil(t, c.Extra)
			assert.Equal(t, "", c.Phones[1], "empty strings stay empty")
			assert.Nil(t, c.Previous[1])
			for _, s := range []string{string(c.Email), c.Name, *c.Nickname, c.Phones[0], c.Home.Street, c.Previous[0].Street, c.Invoices["2026-001"].IBAN, c.Notes["old"].Street} {
				assert.True(t, strings.HasPrefix(s, "pd1:"), "not protected: %q", s)
			}
			assert.True(t, c.Birthdate.IsSealed())
			inv := c.Invoices["2026-001"]
			assert.True(t, inv.Amount.IsSealed())
			assert.Equal(t, "2026-001", inv.Number)
			assert.NotEmpty(t, c.EmailIndex)
			dump := fmt.Sprintf("%+v %v %s %s %v %v", c, *c.Nickname, c.Photo, *c.Signature, c.Previous[0], c.Notes["old"])
			assertNoPlaintext(t, dump)

			require.NoError(t, p.Reveal(ctx, &c))
			want := sampleCustomer()
			want.EmailIndex = c.EmailIndex
			assert.Equal(t, want.Email, c.Email)
			assert.Equal(t, want.Name, c.Name)
			assert.Equal(t, *want.Nickname, *c.Nickname)
			assert.Equal(t, want.Photo, c.Photo)
			assert.Equal(t, *want.Signature, *c.Signature)
			assert.Equal(t, want.Phones, c.Phones)
			bd, err := c.Birthdate.Get()
			require.NoError(t, err)
			assert.True(t, bd.Equal(time.Date(1990, 2, 3, 0, 0, 0, 0, time.UTC)))
			amount, err := c.Invoices["2026-001"].Amount.Get()
			require.NoError(t, err)
			assert.Equal(t, int64(1250), amount)
			assert.Equal(t, want.Home, c.Home)
			assert.Equal(t, *want.Previous[0], *c.Previous[0])
			assert.Equal(t, want.Invoices["2026-001"].IBAN, c.Invoices["2026-001"].IBAN)
			assert.Equal(t, *want.Notes["old"], *c.Notes["old"])
		})
	}
}

func TestProtectIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, nil)
	m := Message{SenderID: "s1", RecipientID: "r1", Body: "hello", RecipientEmail: "r@example.com"}
	require.NoError(t, p.Protect(ctx, &m))
	once := m
	require.NoError(t, p.Protect(ctx, &m))
	assert.Equal(t, once, m, "a protected value is not encrypted twice")
	require.NoError(t, p.Reveal(ctx, &m))
	assert.Equal(t, "hello", m.Body)
	// Revealing plaintext changes nothing.
	require.NoError(t, p.Reveal(ctx, &m))
	assert.Equal(t, "hello", m.Body)
}

func TestProtectNotFooledByLookalike(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, nil)

	// A ciphertext of another subject, pasted by a user as their text,
	// and strings that merely start with the prefix, are plaintext.
	other := Message{SenderID: "other", Body: "secret of other"}
	require.NoError(t, p.Protect(ctx, &other))
	for _, body := range []string{"pd1:", "pd1:hello", "pd1:" + strings.Repeat("A", 60), other.Body} {
		m := Message{SenderID: "s1", Body: body}
		require.NoError(t, p.Protect(ctx, &m))
		assert.NotEqual(t, body, m.Body, "lookalike %q must be encrypted", body)
		require.NoError(t, p.Reveal(ctx, &m))
		assert.Equal(t, body, m.Body)
	}
}

func TestSubjectOption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, store := newProtector(t, nil)
	m := Message{SenderID: "sender", RecipientID: "recipient", Body: "hi", RecipientEmail: "r@example.com"}
	require.NoError(t, p.Protect(ctx, &m))

	// Forgetting the recipient erases only the recipient's field.
	copyBefore := m
	require.NoError(t, p.ForgetSubject(ctx, "recipient"))
	err := p.Reveal(ctx, &m)
	var re *pii.OpError
	require.ErrorAs(t, err, &re)
	require.Len(t, re.Fields, 1)
	assert.Equal(t, "RecipientEmail", re.Fields[0].Path)
	assert.Equal(t, personaldata.SubjectID("recipient"), re.Fields[0].Subject)
	assert.True(t, re.OnlyErased())
	assert.Equal(t, "hi", m.Body)
	assert.Empty(t, m.RecipientEmail)

	ks, err := store.GetKeys(ctx, []pii.KeyRef{{Subject: "sender", Scope: personaldata.DefaultScope}})
	require.NoError(t, err)
	assert.Equal(t, pii.KeyActive, ks[0].State)
	assert.NotEqual(t, copyBefore.Body, m.Body)
}

func TestCrossSubjectAndCategoryReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, nil)
	a := Message{SenderID: "alice", Body: "alice's message", RecipientID: "alice", RecipientEmail: "alice@example.com"}
	b := Message{SenderID: "bob", Body: "bob's message", RecipientID: "bob", RecipientEmail: "bob@example.com"}
	require.NoError(t, p.Protect(ctx, &a))
	require.NoError(t, p.Protect(ctx, &b))

	t.Run("another subject", func(t *testing.T) {
		stolen := b
		stolen.Body = a.Body
		err := p.Reveal(ctx, &stolen)
		require.ErrorIs(t, err, pii.ErrTampered)
		assert.Equal(t, a.Body, stolen.Body, "the ciphertext is kept, not destroyed")
		assert.NotContains(t, err.Error(), "alice's message")
	})
	t.Run("another category", func(t *testing.T) {
		moved := a
		moved.RecipientEmail = a.Body // message ciphertext in an email field
		err := p.Reveal(ctx, &moved)
		require.ErrorIs(t, err, pii.ErrTampered)
		var re *pii.OpError
		require.ErrorAs(t, err, &re)
		require.Len(t, re.Fields, 1)
		assert.Equal(t, "RecipientEmail", re.Fields[0].Path)
		assert.Equal(t, "alice's message", moved.Body)
	})
	t.Run("another scope", func(t *testing.T) {
		env, err := p.Seal(ctx, "alice", "", "billing", []byte("x"))
		require.NoError(t, err)
		_, err = p.Open(ctx, "alice", "fiscal", "billing", env)
		require.Error(t, err)
		assert.False(t, errors.Is(err, pii.ErrErased))
		_, err = p.Open(ctx, "alice", "", "billing", env)
		require.NoError(t, err)
	})
}

func TestConcurrentFirstUseMakesOneKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pii.NewMemoryKeyStore()
	// Several Protectors over one store stand in for several processes.
	ps := []*pii.Protector{newProtectorOn(t, store, nil), newProtectorOn(t, store, nil), newProtectorOn(t, store, &pii.Options{CacheSize: -1})}
	const n = 64
	msgs := make([]Message, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			msgs[i] = Message{SenderID: "new-subject", Body: fmt.Sprintf("message %d", i)}
			errs <- ps[i%len(ps)].Protect(ctx, &msgs[i])
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	keys := 0
	for k, err := range store.Keys(ctx) {
		require.NoError(t, err)
		if k.Ref.Subject == "new-subject" {
			keys++
		}
	}
	assert.Equal(t, 1, keys, "exactly one data key")
	for i := range msgs {
		require.NoError(t, ps[(i+1)%len(ps)].Reveal(ctx, &msgs[i]))
		assert.Equal(t, fmt.Sprintf("message %d", i), msgs[i].Body)
	}
}

func TestForgetErasesEveryCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, nil)
	c := sampleCustomer()
	require.NoError(t, p.Protect(ctx, &c))
	backup := c // a shallow copy: a backup taken before erasure
	backupJSON, err := sealedJSON(c.Birthdate)
	require.NoError(t, err)

	require.NoError(t, p.ForgetSubject(ctx, "42")) // every scope of subject 42
	err = p.Reveal(ctx, &backup)
	require.ErrorIs(t, err, pii.ErrErased)
	var re *pii.OpError
	require.ErrorAs(t, err, &re)
	assert.True(t, re.OnlyErased(), "%v", err)
	paths := map[string]bool{}
	for _, f := range re.Fields {
		paths[f.Path] = true
		assert.ErrorIs(t, f, pii.ErrErased)
	}
	for _, want := range []string{"Email", "Name", "Nickname", "Photo", "Signature", "Phones[0]", "Phones[2]", "Birthdate", "Home.Street", "Previous[0].Street", "Invoices[*].Amount", "Invoices[*].IBAN", "Notes[*].Street"} {
		assert.True(t, paths[want], "field %s not reported erased; got %v", want, paths)
	}
	assert.Equal(t, "[erased]", backup.Name, "redact= replacement")
	assert.Empty(t, backup.Email)
	assert.Empty(t, *backup.Nickname)
	assert.Nil(t, backup.Photo)
	assert.Nil(t, *backup.Signature)
	assert.Equal(t, []string{"", "", ""}, backup.Phones)
	assert.True(t, backup.Birthdate.IsErased())
	_, err = backup.Birthdate.Get()
	assert.ErrorIs(t, err, pii.ErrErased)
	assert.Empty(t, backup.Home.Street)
	assert.Equal(t, "Utrecht", backup.Home.City)
	assertNoPlaintext(t, err.Error())

	// The sealed JSON copy of a field does not open either.
	var restored struct {
		ID        int64                 `pii:"subject"`
		Birthdate pii.Sealed[time.Time] `pii:"birthdate"`
	}
	restored.ID = 42
	require.NoError(t, restored.Birthdate.UnmarshalJSON(backupJSON))
	assert.ErrorIs(t, p.Reveal(ctx, &restored), pii.ErrErased)

	// Nothing new can be encrypted for the forgotten subject, in any scope it had.
	fresh := Customer{ID: 42, Name: "new"}
	assert.ErrorIs(t, p.Protect(ctx, &fresh), pii.ErrForgotten)
	assert.Equal(t, "new", fresh.Name, "the plaintext is not lost")
	_, err = p.Seal(ctx, "42", "fiscal", "billing", []byte("x"))
	assert.ErrorIs(t, err, pii.ErrForgotten)
}

func sealedJSON(s pii.Sealed[time.Time]) ([]byte, error) { return s.MarshalJSON() }

func TestForgetOneScopeKeepsTheOther(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, nil)
	c := sampleCustomer()
	require.NoError(t, p.Protect(ctx, &c))
	require.NoError(t, p.ForgetScopes(ctx, "42", personaldata.DefaultScope))
	err := p.Reveal(ctx, &c)
	require.ErrorIs(t, err, pii.ErrErased)
	inv := c.Invoices["2026-001"]
	assert.Equal(t, "NL91ABNA0417164300", inv.IBAN, "fiscal scope outlives the default scope")
	amount, err := inv.Amount.Get()
	require.NoError(t, err)
	assert.Equal(t, int64(1250), amount)
	assert.Empty(t, c.Home.Street)
}

func TestErrorsAreDistinct(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, store := newProtector(t, nil)
	env, err := p.Seal(ctx, "s1", "", "email", []byte("a@b.c"))
	require.NoError(t, err)

	t.Run("missing key", func(t *testing.T) {
		other, _ := newProtector(t, nil)
		_, err := other.Open(ctx, "s1", "", "email", env)
		assert.ErrorIs(t, err, pii.ErrKeyNotFound)
		assert.False(t, errors.Is(err, pii.ErrErased))
	})
	t.Run("wrong KEK", func(t *testing.T) {
		w, err := pii.NewLocalKeyWrapper("kek-test", bytes.Repeat([]byte{1}, 32))
		require.NoError(t, err)
		q, err := pii.New(store, w, nil)
		require.NoError(t, err)
		_, err = q.Open(ctx, "s1", "", "email", env)
		assert.ErrorIs(t, err, pii.ErrWrongKEK)
		w2, err := pii.NewLocalKeyWrapper("other-kek", bytes.Repeat([]byte{1}, 32))
		require.NoError(t, err)
		q2, err := pii.New(store, w2, nil)
		require.NoError(t, err)
		_, err = q2.Open(ctx, "s1", "", "email", env)
		assert.ErrorIs(t, err, pii.ErrWrongKEK)
	})
	t.Run("tampered", func(t *testing.T) {
		bad := bytes.Clone(env)
		bad[len(bad)-1] ^= 1
		_, err := p.Open(ctx, "s1", "", "email", bad)
		assert.ErrorIs(t, err, pii.ErrTampered)
	})
	t.Run("malformed", func(t *testing.T) {
		_, err := p.Open(ctx, "s1", "", "email", env[:10])
		assert.ErrorIs(t, err, pii.ErrMalformed)
		_, err = p.Open(ctx, "s1", "", "email", nil)
		assert.ErrorIs(t, err, pii.ErrMalformed)
	})
	t.Run("erased", func(t *testing.T) {
		q, _ := newProtector(t, nil)
		e2, err := q.Seal(ctx, "s2", "", "email", []byte("x@y.z"))
		require.NoError(t, err)
		require.NoError(t, q.ForgetSubject(ctx, "s2"))
		_, err = q.Open(ctx, "s2", "", "email", e2)
		assert.ErrorIs(t, err, pii.ErrErased)
		assert.False(t, errors.Is(err, pii.ErrTampered))
	})
	t.Run("bad arguments", func(t *testing.T) {
		_, err := p.Seal(ctx, "", "", "email", nil)
		assert.ErrorIs(t, err, pii.ErrNoSubject)
		_, err = p.Seal(ctx, "s", "", "Email", nil)
		assert.ErrorIs(t, err, personaldata.ErrInvalidCategory)
		_, err = p.Seal(ctx, "s", "Fiscal", "email", nil)
		assert.ErrorIs(t, err, personaldata.ErrInvalidCategory)
		assert.ErrorIs(t, p.ForgetSubject(ctx, ""), pii.ErrNoSubject)
	})
}

func TestEmptySubjectIsAnError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, nil)
	m := Message{Body: "hello"}
	err := p.Protect(ctx, &m)
	require.ErrorIs(t, err, pii.ErrNoSubject)
	var fe *pii.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Body", fe.Path)
	assert.Equal(t, "hello", m.Body, "left as it was")
	assert.NotContains(t, err.Error(), "hello")
}

func TestUnsupportedValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, nil)
	for _, v := range []any{nil, Message{SenderID: "x"}, (*Message)(nil), 42, "text"} {
		assert.ErrorIs(t, p.Protect(ctx, v), pii.ErrUnsupported, "%T", v)
	}
	// Types without personal data are fine and untouched.
	type plain struct{ A string }
	v := plain{A: "a"}
	require.NoError(t, p.Protect(ctx, &v))
	assert.Equal(t, "a", v.A)
}

func TestSlicesAndMapsOfRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, nil)
	msgs := []Message{{SenderID: "a", Body: "1"}, {SenderID: "b", Body: "2"}}
	byID := map[string]Message{"x": {SenderID: "c", Body: "3"}}
	ptrs := []*Message{{SenderID: "d", Body: "4"}}
	require.NoError(t, p.Protect(ctx, msgs))
	require.NoError(t, p.Protect(ctx, byID))
	require.NoError(t, p.Protect(ctx, &ptrs))
	assert.True(t, strings.HasPrefix(msgs[1].Body, "pd1:"))
	assert.True(t, strings.HasPrefix(byID["x"].Body, "pd1:"))
	assert.True(t, strings.HasPrefix(ptrs[0].Body, "pd1:"))
	require.NoError(t, p.Reveal(ctx, &msgs))
	require.NoError(t, p.Reveal(ctx, byID))
	require.NoError(t, p.Reveal(ctx, ptrs))
	assert.Equal(t, "2", msgs[1].Body)
	assert.Equal(t, "3", byID["x"].Body)
	assert.Equal(t, "4", ptrs[0].Body)
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, alg := range []pii.Algorithm{pii.AES256GCM, pii.XChaCha20Poly1305} {
		p, _ := newProtector(t, &pii.Options{Algorithm: alg})
		env, err := p.Seal(ctx, "s", "", "evidence", []byte("I agree"))
		require.NoError(t, err)
		assert.Equal(t, byte(alg), env[3], "the envelope names its algorithm")
		pt, err := p.Open(ctx, "s", personaldata.DefaultScope, "evidence", env)
		require.NoError(t, err)
		assert.Equal(t, "I agree", string(pt))
	}
	// A protector set to one algorithm opens the other.
	ks := pii.NewMemoryKeyStore()
	a := newProtectorOn(t, ks, &pii.Options{Algorithm: pii.AES256GCM})
	x := newProtectorOn(t, ks, &pii.Options{Algorithm: pii.XChaCha20Poly1305})
	env, err := x.Seal(ctx, "s", "", "evidence", []byte("both"))
	require.NoError(t, err)
	pt, err := a.Open(ctx, "s", "", "evidence", env)
	require.NoError(t, err)
	assert.Equal(t, "both", string(pt))
}

func TestRewrapRotatesKEK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pii.NewMemoryKeyStore()
	oldW, err := pii.NewLocalKeyWrapper("kek-2025", bytes.Repeat([]byte{1}, 32))
	require.NoError(t, err)
	newW, err := pii.NewLocalKeyWrapper("kek-2026", bytes.Repeat([]byte{2}, 32))
	require.NoError(t, err)
	p, err := pii.New(store, oldW, nil)
	require.NoError(t, err)
	msgs := make([]Message, 20)
	for i := range msgs {
		msgs[i] = Message{SenderID: fmt.Sprint("s", i), Body: fmt.Sprint("body ", i)}
	}
	require.NoError(t, p.Protect(ctx, msgs))
	before := append([]Message(nil), msgs...)

	st, err := p.Rewrap(ctx, newW)
	require.NoError(t, err)
	assert.Equal(t, pii.RewrapStats{Rewrapped: 20}, st)
	st, err = p.Rewrap(ctx, newW)
	require.NoError(t, err)
	assert.Equal(t, pii.RewrapStats{Unchanged: 20}, st, "idempotent")
	assert.Equal(t, before, msgs, "data untouched")

	onlyNew, err := pii.New(store, newW, nil)
	require.NoError(t, err)
	require.NoError(t, onlyNew.Reveal(ctx, msgs))
	assert.Equal(t, "body 7", msgs[7].Body)

	onlyOld, err := pii.New(store, oldW, nil)
	require.NoError(t, err)
	_, err = onlyOld.Open(ctx, "s1", "", "message", []byte("pd"))
	assert.ErrorIs(t, err, pii.ErrMalformed)
	m := before[3]
	assert.ErrorIs(t, onlyOld.Reveal(ctx, &m), pii.ErrWrongKEK)

	// Options.Previous lets a protector on the new KEK read keys not yet rotated.
	s2 := pii.NewMemoryKeyStore()
	p2, err := pii.New(s2, oldW, nil)
	require.NoError(t, err)
	m2 := Message{SenderID: "x", Body: "y"}
	require.NoError(t, p2.Protect(ctx, &m2))
	p3, err := pii.New(s2, newW, &pii.Options{Previous: []pii.KeyWrapper{oldW}})
	require.NoError(t, err)
	require.NoError(t, p3.Reveal(ctx, &m2))
	assert.Equal(t, "y", m2.Body)

	p4, err := pii.New(s2, newW, nil)
	require.NoError(t, err)
	_, err = p4.Rewrap(ctx, newW) // no wrapper for the old KEK
	assert.ErrorIs(t, err, pii.ErrWrongKEK)
}

func TestCacheTTLBoundsDecryptionAfterRemoteShred(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	store := pii.NewMemoryKeyStore()
	a := newProtectorOn(t, store, &pii.Options{Clock: clock, CacheTTL: time.Minute})
	b := newProtectorOn(t, store, &pii.Options{Clock: clock})
	m := Message{SenderID: "s", Body: "hello"}
	require.NoError(t, a.Protect(ctx, &m))
	sealed := m

	require.NoError(t, b.ForgetSubject(ctx, "s")) // another process shreds
	c := sealed
	require.NoError(t, a.Reveal(ctx, &c), "a still has the key cached")
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	c = sealed
	assert.ErrorIs(t, a.Reveal(ctx, &c), pii.ErrErased, "after the TTL the shred is seen")
}

func TestClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, nil)
	require.NoError(t, p.Close())
	require.NoError(t, p.Close())
	m := Message{SenderID: "s", Body: "b"}
	assert.ErrorIs(t, p.Protect(ctx, &m), pii.ErrClosed)
	assert.ErrorIs(t, p.Reveal(ctx, &m), pii.ErrClosed)
	assert.ErrorIs(t, p.ForgetSubject(ctx, "s"), pii.ErrClosed)
	_, err := p.Seal(ctx, "s", "", "x", nil)
	assert.ErrorIs(t, err, pii.ErrClosed)
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	w, err := pii.NewLocalKeyWrapper("k", make([]byte, 32))
	require.NoError(t, err)
	_, err = pii.New(nil, w, nil)
	assert.Error(t, err)
	_, err = pii.New(pii.NewMemoryKeyStore(), w, &pii.Options{Algorithm: 9})
	assert.ErrorIs(t, err, pii.ErrUnsupported)
	_, err = pii.New(pii.NewMemoryKeyStore(), w, &pii.Options{IndexKey: []byte("short")})
	assert.ErrorIs(t, err, pii.ErrInvalidKey)
	_, err = pii.NewLocalKeyWrapper("k", make([]byte, 16))
	assert.ErrorIs(t, err, pii.ErrInvalidKey)
	_, err = pii.NewLocalKeyWrapper("", make([]byte, 32))
	assert.ErrorIs(t, err, pii.ErrInvalidKey)
	assert.NotContains(t, fmt.Sprint(w), "\x00")
}

func TestBlindIndexNeedsKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, err := pii.NewLocalKeyWrapper("k", make([]byte, 32))
	require.NoError(t, err)
	p, err := pii.New(pii.NewMemoryKeyStore(), w, nil)
	require.NoError(t, err)
	c := Customer{ID: 1, Email: "a@b.c", Name: "n"}
	err = p.Protect(ctx, &c)
	assert.ErrorIs(t, err, pii.ErrNoIndexKey)
	assert.Equal(t, Email("a@b.c"), c.Email, "left in plaintext, with an error")
}

// TestHammer runs Protect, Reveal and Forget from many goroutines over a
// small set of subjects; under -race it checks the Protector, its cache and
// the memory store for data races, and that every outcome is one the
// contract allows.
func TestHammer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, &pii.Options{CacheSize: 8})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				subj := fmt.Sprint("s", (g*7+i)%24)
				m := Message{SenderID: subj, Body: "b"}
				if err := p.Protect(ctx, &m); err != nil {
					if !errors.Is(err, pii.ErrForgotten) {
						t.Errorf("protect: %v", err)
					}
					continue
				}
				if i%50 == 49 {
					if err := p.ForgetSubject(ctx, personaldata.SubjectID(subj)); err != nil {
						t.Errorf("forget: %v", err)
					}
				}
				err := p.Reveal(ctx, &m)
				switch {
				case err == nil:
					if m.Body != "b" {
						t.Errorf("revealed %q", m.Body)
					}
				case errors.Is(err, pii.ErrErased):
				default:
					t.Errorf("reveal: %v", err)
				}
			}
		})
	}
	wg.Wait()
}

func TestRandomKeysDiffer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, nil)
	same := make([]byte, 16)
	_, _ = rand.Read(same)
	a, err := p.Seal(ctx, "s", "", "x", same)
	require.NoError(t, err)
	b, err := p.Seal(ctx, "s", "", "x", same)
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "random nonces")
}

// A Protector sets up the AEAD of the other algorithm on first use; many
// goroutines meeting it at once all open.
func TestOtherAlgorithmOpensConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ks := pii.NewMemoryKeyStore()
	a := newProtectorOn(t, ks, &pii.Options{Algorithm: pii.AES256GCM})
	x := newProtectorOn(t, ks, &pii.Options{Algorithm: pii.XChaCha20Poly1305})
	own := Message{SenderID: "s", Body: "sealed with AES"}
	require.NoError(t, a.Protect(ctx, &own)) // a caches the key, AES set up
	other := Message{SenderID: "s", Body: "sealed with XChaCha"}
	require.NoError(t, x.Protect(ctx, &other))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			m, o := other, own
			assert.NoError(t, a.Reveal(ctx, &m))
			assert.Equal(t, "sealed with XChaCha", m.Body)
			assert.NoError(t, a.Reveal(ctx, &o))
			assert.Equal(t, "sealed with AES", o.Body)
		})
	}
	wg.Wait()
}
