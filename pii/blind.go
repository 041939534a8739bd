package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"reflect"
	"strings"
	"sync"
	"unicode"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// Normalizer maps equivalent spellings of a value to one form before it is
// indexed or pseudonymised, so that "Jan@Example.COM " and "jan@example.com"
// match.
type Normalizer func(string) string

// NormalizeEmail trims spaces and lower-cases an e-mail address. It does not
// remove dots or +tags: whether those matter is the mail provider's rule.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NormalizePhone keeps the digits of a phone number and a leading '+'; "00"
// as an international prefix becomes '+'. Numbers without a country code
// are left as their digits: the library does not guess the country.
func NormalizePhone(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if strings.HasPrefix(out, "00") {
		out = "+" + out[2:]
	}
	return out
}

// NormalizeLower trims spaces and lower-cases with Unicode rules.
func NormalizeLower(s string) string {
	return strings.Map(unicode.ToLower, strings.TrimSpace(s))
}

func normalizer(name string) Normalizer {
	switch name {
	case "email":
		return NormalizeEmail
	case "phone":
		return NormalizePhone
	case "lower":
		return NormalizeLower
	}
	return nil
}

// Indexer computes blind indexes: keyed HMAC-SHA256 digests of a normalised
// value, for equality look-ups on encrypted fields ("find the account with
// this e-mail address") without decrypting. An index is bound to a
// category, so equal values in different categories get different indexes.
//
// Blind indexes survive crypto-shredding: erasing a subject must delete or
// overwrite them, and [Fields] lists where they are. It is safe for
// concurrent use.
type Indexer struct {
	pool sync.Pool // of hash.Hash
}

// NewIndexer returns an Indexer keyed by key (32 bytes). The key is not
// retained outside the HMAC state.
func NewIndexer(key []byte) (*Indexer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: index key must be 32 bytes, got %d", ErrInvalidKey, len(key))
	}
	k := append([]byte(nil), key...)
	ix := &Indexer{}
	ix.pool.New = func() any { return hmac.New(sha256.New, k) }
	return ix, nil
}

// String names the type without revealing the key.
func (ix *Indexer) String() string { return "pii.Indexer" }

func (ix *Indexer) sum(domain string, category personaldata.Category, value string) []byte {
	h := ix.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(domain))
	h.Write([]byte{byte(len(category))})
	h.Write([]byte(category))
	h.Write([]byte(value))
	sum := h.Sum(make([]byte, 0, sha256.Size))
	ix.pool.Put(h)
	return sum
}

// Index returns the blind index of value in category, after normalising it
// with n (nil: the value as is): 43 characters of base64url.
func (ix *Indexer) Index(category personaldata.Category, n Normalizer, value string) string {
	if n != nil {
		value = n(value)
	}
	return base64.RawURLEncoding.EncodeToString(ix.sum("personaldata/index/1", category, value))
}

// BlindIndex returns the blind index that Protect writes for value in the
// field named field of model's type (a struct, a pointer to one, or its
// reflect.Type): computed with the category and normaliser of that field's
// own tag, so a look-up never repeats them by hand and cannot drift from
// them.
//
//	ix, err := p.BlindIndex(Customer{}, "Email", "Jan@Example.com")
//	// SELECT ... WHERE email_index = ix
//
// field is the Go name of a field tagged with index= (a promoted field of an
// embedded struct is named as promoted). It fails with a [*TagError] if the
// type's tags are invalid, with ErrUnsupported if field is not such a field,
// with ErrNoIndexKey if p has no Options.IndexKey, and with ErrClosed after
// Close.
func (p *Protector) BlindIndex(model any, field, value string) (string, error) {
	if p.closed.Load() {
		return "", ErrClosed
	}
	t, ok := model.(reflect.Type)
	if !ok {
		if model == nil {
			return "", fmt.Errorf("pii: BlindIndex: %w: nil model", ErrUnsupported)
		}
		t = reflect.TypeOf(model)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return "", fmt.Errorf("pii: BlindIndex: %w: %s is not a struct", ErrUnsupported, t)
	}
	sp := planFor(t)
	if sp.err != nil {
		return "", sp.err
	}
	for i := range sp.fields {
		f := &sp.fields[i]
		if f.name != field || f.op == opNested {
			continue
		}
		if f.blind == nil {
			return "", fmt.Errorf("pii: BlindIndex: %w: %s.%s has no index= option", ErrUnsupported, t, field)
		}
		if p.indexer == nil {
			return "", ErrNoIndexKey
		}
		return p.indexer.Index(f.category, normalizer(f.tag.Normalize), value), nil
	}
	return "", fmt.Errorf("pii: BlindIndex: %w: %s has no personal data field %s", ErrUnsupported, t, quote.String(field))
}
