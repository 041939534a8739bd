package pii_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/pii"
)

func TestNormalizers(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		" Ann@Example.COM ": "ann@example.com",
		"ann+news@x.nl":     "ann+news@x.nl",
	} {
		assert.Equal(t, want, pii.NormalizeEmail(in))
	}
	for in, want := range map[string]string{
		"+31 6 1234 5678":    "+31612345678",
		"0031-6-12345678":    "+31612345678",
		"(020) 123 45 67":    "0201234567",
		"tel: +44 20 7946 0": "+442079460",
		"":                   "",
	} {
		assert.Equal(t, want, pii.NormalizePhone(in), in)
	}
	assert.Equal(t, "ärger", pii.NormalizeLower(" ÄRGER "))
}

func TestIndexer(t *testing.T) {
	t.Parallel()
	ix, err := pii.NewIndexer(bytes.Repeat([]byte{1}, 32))
	require.NoError(t, err)
	a := ix.Index("email", pii.NormalizeEmail, "Ann@Example.com")
	assert.Equal(t, a, ix.Index("email", pii.NormalizeEmail, " ann@example.com"), "normalised values match")
	assert.Len(t, a, 43)
	assert.NotEqual(t, a, ix.Index("username", pii.NormalizeEmail, "ann@example.com"), "bound to the category")
	assert.NotEqual(t, a, ix.Index("email", nil, "Ann@Example.com"), "nil normaliser: exact bytes")
	other, err := pii.NewIndexer(bytes.Repeat([]byte{2}, 32))
	require.NoError(t, err)
	assert.NotEqual(t, a, other.Index("email", pii.NormalizeEmail, "ann@example.com"), "keyed")
	assert.Equal(t, "pii.Indexer", ix.String())
	_, err = pii.NewIndexer([]byte("short"))
	assert.ErrorIs(t, err, pii.ErrInvalidKey)
}

func TestBlindIndexTag(t *testing.T) {
	t.Parallel()
	p, _ := newProtector(t, nil)
	ix, err := pii.NewIndexer(bytes.Repeat([]byte{7}, 32)) // the key newProtector uses
	require.NoError(t, err)
	c := Customer{ID: 5, Email: "Ann@Example.com "}
	require.NoError(t, p.Protect(t.Context(), &c))
	assert.Equal(t, ix.Index("email", pii.NormalizeEmail, "ann@example.com"), c.EmailIndex,
		"a host finds the record by computing the index of the address it was given")
}

func TestPseudonymizer(t *testing.T) {
	t.Parallel()
	ps, err := pii.NewPseudonymizer(bytes.Repeat([]byte{3}, 32))
	require.NoError(t, err)
	a := ps.Pseudonym("stats-2026", "customer-42")
	assert.Equal(t, a, ps.Pseudonym("stats-2026", "customer-42"), "stable")
	assert.Len(t, a, 26)
	assert.Regexp(t, `^[a-z2-7]{26}$`, a)
	assert.NotEqual(t, a, ps.Pseudonym("stats-2027", "customer-42"), "unlinkable across domains")
	assert.NotEqual(t, a, ps.Pseudonym("stats-2026", "customer-43"))
	ix, err := pii.NewIndexer(bytes.Repeat([]byte{3}, 32))
	require.NoError(t, err)
	assert.NotContains(t, ix.Index("stats-2026", nil, "customer-42"), a, "pseudonyms and indexes are domain-separated")
	assert.Equal(t, "pii.Pseudonymizer", ps.String())
}

func TestBlindIndexFromTheTag(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _ := newProtector(t, nil)
	c := sampleCustomer()
	require.NoError(t, p.Protect(ctx, &c))
	// The look-up repeats neither category nor normaliser.
	for _, model := range []any{Customer{}, &Customer{}, reflect.TypeFor[Customer]()} {
		ix, err := p.BlindIndex(model, "Email", "ann@example.COM ")
		require.NoError(t, err)
		assert.Equal(t, c.EmailIndex, ix)
	}
	_, err := p.BlindIndex(Customer{}, "Name", "x")
	assert.ErrorIs(t, err, pii.ErrUnsupported, "a field without index=")
	_, err = p.BlindIndex(Customer{}, "Nope", "x")
	assert.ErrorIs(t, err, pii.ErrUnsupported)
	_, err = p.BlindIndex(42, "Email", "x")
	assert.ErrorIs(t, err, pii.ErrUnsupported)

	w, err := pii.NewLocalKeyWrapper("k", make([]byte, 32))
	require.NoError(t, err)
	q, err := pii.New(pii.NewMemoryKeyStore(), w, nil)
	require.NoError(t, err)
	_, err = q.BlindIndex(Customer{}, "Email", "x")
	assert.ErrorIs(t, err, pii.ErrNoIndexKey)
}
