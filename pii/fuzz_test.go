package pii_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/revealhook"
	"github.com/personaldata/personaldata/pii"
)

// The fuzz targets below feed outside input (stored rows, JSON documents,
// database columns) to every parser of this package. Malformed input must
// give an error, never a panic, and must never destroy what a field held.

const (
	fuzzSubject  = personaldata.SubjectID("fuzz-subject")
	fuzzCategory = personaldata.Category("email")
	fuzzPlain    = "fuzz-plaintext@example.com"
)

var fuzzBirthdate = time.Date(1984, time.April, 4, 0, 0, 0, 0, time.UTC)

// fuzzRecord has a field of each kind Reveal parses.
type fuzzRecord struct {
	ID       string                `pii:"subject"`
	Email    string                `pii:"email"`
	Prefixed string                `pii:"email"`
	Name     string                `pii:"name"`
	Data     []byte                `pii:"photo"`
	Birth    pii.Sealed[time.Time] `pii:"birthdate"`
	Phones   []string              `pii:"phone"`
	Nickname *string               `pii:"name"`
}

// fuzzProtectors returns an AES-256-GCM and an XChaCha20-Poly1305
// Protector over one store. The wrapper's master key is fixed; data keys
// are random, so valid ciphertexts are made afresh by each test.
func fuzzProtectors(tb testing.TB) (aes, xchacha *pii.Protector) {
	tb.Helper()
	master := sha256.Sum256([]byte("pii fuzz master key"))
	w, err := pii.NewLocalKeyWrapper("fuzz-kek", master[:])
	if err != nil {
		tb.Fatal(err)
	}
	store := pii.NewMemoryKeyStore()
	aes, err = pii.New(store, w, nil)
	if err != nil {
		tb.Fatal(err)
	}
	xchacha, err = pii.New(store, w, &pii.Options{Algorithm: pii.XChaCha20Poly1305})
	if err != nil {
		tb.Fatal(err)
	}
	return aes, xchacha
}

// fuzzSeal returns fuzzPlain sealed for fuzzSubject by each Protector.
func fuzzSeal(tb testing.TB, ps ...*pii.Protector) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, p := range ps {
		env, err := p.Seal(context.Background(), fuzzSubject, "", fuzzCategory, []byte(fuzzPlain))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

// checkFailed fails t unless err reports malformed or tampered input
// without the plaintext.
func checkFailed(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	if !errors.Is(err, pii.ErrMalformed) && !errors.Is(err, pii.ErrTampered) {
		t.Fatalf("%s: %v, want ErrMalformed or ErrTampered", what, err)
	}
	if strings.Contains(err.Error(), fuzzPlain) {
		t.Fatalf("%s: error holds the plaintext", what)
	}
}

func FuzzOpen(f *testing.F) {
	p, x := fuzzProtectors(f)
	valid := fuzzSeal(f, p, x)
	for _, v := range valid {
		f.Add(v)
		f.Add(v[:len(v)-1])
		f.Add(append(bytes.Clone(v), 0))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		pt, err := p.Open(context.Background(), fuzzSubject, "", fuzzCategory, b)
		if !bytes.Equal(in, b) {
			t.Fatal("Open changed its input")
		}
		isValid := false
		for _, v := range valid {
			isValid = isValid || bytes.Equal(v, b)
		}
		if isValid {
			if err != nil || string(pt) != fuzzPlain {
				t.Fatalf("valid envelope: %q, %v", pt, err)
			}
			return
		}
		checkFailed(t, err, "Open")
		if pt != nil {
			t.Fatal("Open returned plaintext with an error")
		}
	})
}

func FuzzRevealString(f *testing.F) {
	p, x := fuzzProtectors(f)
	ctx := context.Background()
	// Valid ciphertexts of each field, from both algorithms.
	for _, q := range []*pii.Protector{p, x} {
		r := &fuzzRecord{ID: string(fuzzSubject), Email: fuzzPlain, Data: []byte(fuzzPlain)}
		if err := q.Protect(ctx, r); err != nil {
			f.Fatal(err)
		}
		f.Add(r.Email)
		f.Add(strings.TrimPrefix(r.Email, "pd1:"))
		f.Add(string(r.Data))
	}
	name := &fuzzRecord{ID: string(fuzzSubject), Name: "Name"}
	if err := p.Protect(ctx, name); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mk := func() *fuzzRecord {
			nick := s
			return &fuzzRecord{
				ID:       string(fuzzSubject),
				Email:    s,
				Prefixed: "pd1:" + s,
				Name:     name.Name, // a valid ciphertext beside the fuzzed ones
				Data:     []byte(s),
				Phones:   []string{s, "pd1:" + s},
				Nickname: &nick,
			}
		}
		r := mk()
		type field struct {
			path   string
			before string
			after  func() string
		}
		fields := []field{
			{"Email", r.Email, func() string { return r.Email }},
			{"Prefixed", r.Prefixed, func() string { return r.Prefixed }},
			{"Data", string(r.Data), func() string { return string(r.Data) }},
			{"Phones[0]", r.Phones[0], func() string { return r.Phones[0] }},
			{"Phones[1]", r.Phones[1], func() string { return r.Phones[1] }},
			{"Nickname", *r.Nickname, func() string { return *r.Nickname }},
		}
		err := p.Reveal(ctx, r)
		if r.Name != "Name" {
			t.Fatal("a malformed field kept another from being revealed")
		}
		failed := map[string]bool{}
		if err != nil {
			var re *pii.OpError
			if !errors.As(err, &re) {
				t.Fatalf("Reveal: %v, want a *OpError", err)
			}
			for _, fe := range re.Fields {
				checkFailed(t, fe, "Reveal "+fe.Path)
				failed[fe.Path] = true
			}
		}
		for _, fd := range fields {
			after := fd.after()
			switch {
			case after == fd.before:
			case failed[fd.path]:
				t.Fatalf("%s failed to reveal and lost its content", fd.path)
			case after != fuzzPlain:
				t.Fatalf("%s revealed to something never sealed", fd.path)
			}
		}
		// Revealing into memory the caller reuses (as export does) gives
		// the same record and the same error.
		r2, arena := mk(), make([]byte, 0, 8)
		err2 := revealhook.Into(p, ctx, r2, &arena)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("Reveal: %v; revealing into an arena: %v", err, err2)
		}
		if r2.Email != r.Email || r2.Prefixed != r.Prefixed || r2.Name != r.Name || string(r2.Data) != string(r.Data) ||
			r2.Phones[0] != r.Phones[0] || r2.Phones[1] != r.Phones[1] || *r2.Nickname != *r.Nickname {
			t.Fatalf("revealing into an arena gave %+v, Reveal %+v", r2, r)
		}
	})
}

func FuzzSealedScan(f *testing.F) {
	p, x := fuzzProtectors(f)
	ctx := context.Background()
	for _, q := range []*pii.Protector{p, x} {
		r := &fuzzRecord{ID: string(fuzzSubject), Birth: pii.Plain(fuzzBirthdate)}
		if err := q.Protect(ctx, r); err != nil {
			f.Fatal(err)
		}
		v, err := r.Birth.Value()
		if err != nil {
			f.Fatal(err)
		}
		js, err := r.Birth.MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v.([]byte))
		f.Add(js)
		f.Add(js[1 : len(js)-1])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		var fromBytes, fromString, fromJSON pii.Sealed[time.Time]
		checkSealed(t, p, &fromBytes, fromBytes.Scan(b), "Scan []byte")
		checkSealed(t, p, &fromString, fromString.Scan(string(b)), "Scan string")
		err := fromJSON.UnmarshalJSON(b)
		if err == nil && string(b) == "null" {
			if fromJSON.IsSealed() || fromJSON.IsErased() {
				t.Fatal("null is not a sealed value")
			}
			return
		}
		checkSealed(t, p, &fromJSON, err, "UnmarshalJSON")
		if !bytes.Equal(in, b) {
			t.Fatal("Scan or UnmarshalJSON changed its input")
		}
	})
}

// checkSealed checks a Sealed that Scan or UnmarshalJSON filled from
// outside input, with error err: it round-trips through Value, Scan,
// MarshalJSON and UnmarshalJSON, and Reveal either opens it or leaves it
// sealed as it was.
func checkSealed(t *testing.T, p *pii.Protector, s *pii.Sealed[time.Time], err error, what string) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, pii.ErrMalformed) {
			t.Fatalf("%s: %v, want ErrMalformed", what, err)
		}
		return
	}
	if !s.IsSealed() {
		t.Fatalf("%s accepted input but the value is not sealed", what)
	}
	if _, err := s.Get(); !errors.Is(err, pii.ErrSealed) {
		t.Fatalf("%s: Get: %v, want ErrSealed", what, err)
	}
	v, err := s.Value()
	if err != nil {
		t.Fatalf("%s: Value: %v", what, err)
	}
	var back pii.Sealed[time.Time]
	if err := back.Scan(v); err != nil {
		t.Fatalf("%s: Scan of Value: %v", what, err)
	}
	js, err := s.MarshalJSON()
	if err != nil {
		t.Fatalf("%s: MarshalJSON: %v", what, err)
	}
	if err := back.UnmarshalJSON(js); err != nil {
		t.Fatalf("%s: UnmarshalJSON of MarshalJSON: %v", what, err)
	}
	if v2, _ := back.Value(); !bytes.Equal(v.([]byte), v2.([]byte)) {
		t.Fatalf("%s: JSON round trip changed the envelope", what)
	}

	r := &fuzzRecord{ID: string(fuzzSubject), Birth: *s}
	err = p.Reveal(context.Background(), r)
	if err == nil {
		got, gerr := r.Birth.Get()
		if gerr != nil || !got.Equal(fuzzBirthdate) {
			t.Fatalf("%s: Reveal opened something never sealed", what)
		}
		return
	}
	checkFailed(t, err, what+": Reveal")
	after, verr := r.Birth.Value()
	if !r.Birth.IsSealed() || verr != nil || !bytes.Equal(after.([]byte), v.([]byte)) {
		t.Fatalf("%s: Reveal failed and lost the ciphertext", what)
	}
}

// TestEveryByteFlipped flips each bit of a valid envelope of each
// algorithm: every variant must fail to open, without the plaintext.
func TestEveryByteFlipped(t *testing.T) {
	t.Parallel()
	p, x := fuzzProtectors(t)
	ctx := t.Context()
	for _, env := range fuzzSeal(t, p, x) {
		for i := range env {
			for bit := range 8 {
				b := bytes.Clone(env)
				b[i] ^= 1 << bit
				pt, err := p.Open(ctx, fuzzSubject, "", fuzzCategory, b)
				checkFailed(t, err, "Open with a flipped bit")
				if pt != nil {
					t.Fatalf("byte %d bit %d: plaintext returned with an error", i, bit)
				}
			}
		}
		// The text form too: each character replaced by another of the
		// alphabet either fails or decodes to the very same envelope.
		text := "pd1:" + base64.RawURLEncoding.EncodeToString(env)
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for i := range text {
			for _, c := range []byte{alphabet[(strings.IndexByte(alphabet, text[i])+1)%64], '=', '+', '.', '\n', 0} {
				b := []byte(text)
				b[i] = c
				r := &fuzzRecord{ID: string(fuzzSubject), Email: string(b)}
				err := p.Reveal(ctx, r)
				if i < len("pd1:") {
					// No prefix: plaintext to Reveal, left as it is.
					if err != nil || r.Email != string(b) {
						t.Fatalf("prefix changed at %d: %v", i, err)
					}
					continue
				}
				if err == nil {
					got, derr := base64.RawURLEncoding.DecodeString(string(b[4:]))
					if r.Email != fuzzPlain || derr != nil || !bytes.Equal(got, env) {
						t.Fatalf("text with character %d changed revealed as %v", i, derr)
					}
					continue
				}
				checkFailed(t, err, "Reveal of a changed text envelope")
				if r.Email != string(b) {
					t.Fatalf("character %d: a field that failed lost its content", i)
				}
			}
		}
		if pt, err := p.Open(ctx, fuzzSubject, "", fuzzCategory, env); err != nil || string(pt) != fuzzPlain {
			t.Fatalf("original envelope: %v", err)
		}
	}
}

// TestEveryTruncation cuts a valid envelope of each algorithm, binary and
// text, at every length, and extends it by a byte: none may open.
func TestEveryTruncation(t *testing.T) {
	t.Parallel()
	p, x := fuzzProtectors(t)
	ctx := t.Context()
	for _, env := range fuzzSeal(t, p, x) {
		for n := range len(env) {
			pt, err := p.Open(ctx, fuzzSubject, "", fuzzCategory, env[:n])
			checkFailed(t, err, "Open of a truncated envelope")
			if pt != nil {
				t.Fatalf("truncated to %d: plaintext returned with an error", n)
			}
		}
		for _, extra := range []byte{0, 0xff} {
			_, err := p.Open(ctx, fuzzSubject, "", fuzzCategory, append(bytes.Clone(env), extra))
			checkFailed(t, err, "Open of an extended envelope")
		}
		text := "pd1:" + base64.RawURLEncoding.EncodeToString(env)
		for n := len("pd1:"); n < len(text); n++ {
			r := &fuzzRecord{ID: string(fuzzSubject), Email: text[:n]}
			checkFailed(t, p.Reveal(ctx, r), "Reveal of a truncated text envelope")
			if r.Email != text[:n] {
				t.Fatalf("truncated to %d: a field that failed lost its content", n)
			}
		}
	}
}

// TestOpenOtherBinding opens valid envelopes under another subject, scope
// or category: each fails as tampered, never as malformed or erased.
func TestOpenOtherBinding(t *testing.T) {
	t.Parallel()
	p, x := fuzzProtectors(t)
	ctx := t.Context()
	for _, env := range fuzzSeal(t, p, x) {
		// Make the other subject's and scope's keys exist first.
		for _, sub := range []personaldata.SubjectID{"fuzz-subject-2", fuzzSubject} {
			if _, err := p.Seal(ctx, sub, "fiscal", fuzzCategory, nil); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			subject  personaldata.SubjectID
			scope    personaldata.Scope
			category personaldata.Category
		}{
			{"fuzz-subject-2", "fiscal", fuzzCategory},
			{fuzzSubject, "fiscal", fuzzCategory},
			{fuzzSubject, "", "name"},
		} {
			_, err := p.Open(ctx, c.subject, c.scope, c.category, env)
			if !errors.Is(err, pii.ErrTampered) {
				t.Fatalf("Open under %v: %v, want ErrTampered", c, err)
			}
		}
	}
}

// fuzzNode is a recursive type, which the package supports; its values
// may form cycles, as ORM object graphs do.
type fuzzNode struct {
	ID    string `pii:"subject"`
	Email string `pii:"email"`
	Next  *fuzzNode
}

// TestProtectCyclicValue protects and reveals a value whose pointers form a
// cycle: it must return (an error or success), not recurse without end.
func TestProtectCyclicValue(t *testing.T) {
	p, _ := fuzzProtectors(t)
	n := &fuzzNode{ID: "1", Email: fuzzPlain}
	n.Next = n
	if err := p.Protect(t.Context(), n); err == nil {
		if err := p.Reveal(t.Context(), n); err != nil || n.Email != fuzzPlain {
			t.Fatalf("Reveal: %v", err)
		}
	}
}
