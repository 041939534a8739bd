package pii_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/pii"
)

func TestRedactFmt(t *testing.T) {
	t.Parallel()
	c := sampleCustomer()
	for _, out := range []string{
		fmt.Sprint(pii.Redact(c)),
		fmt.Sprintf("%v", pii.Redact(&c)),
		fmt.Sprintf("%+v", pii.Redact(c)),
		fmt.Sprintf("%#v", pii.Redact([]Customer{c})),
		fmt.Sprintf("%s", pii.Redact(map[string]Customer{"Ann@Example.com": c})),
		pii.Redact(c).String(),
	} {
		assertNoPlaintext(t, out)
	}
	out := pii.Redact(c).String()
	assert.Contains(t, out, "ID:42")
	assert.Contains(t, out, "Email:[email]")
	assert.Contains(t, out, "Plan:pro")
	assert.Contains(t, out, "Home:{Street:[address] City:Utrecht}")
	assert.Contains(t, out, "Extra:<nil>")
	assert.Contains(t, out, "Birthdate:[birthdate]")
	assert.Equal(t, "map[1 entries]", pii.Redact(map[string]Customer{"Ann@Example.com": c}).String())

	empty := Customer{ID: 1}
	assert.Contains(t, pii.Redact(empty).String(), "Email: ", "empty fields show as empty")
}

func TestRedactSlog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	c := sampleCustomer()
	log.Info("signup", "customer", pii.Redact(c), "ptr", pii.Redact(&c))
	assertNoPlaintext(t, buf.String())
	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	cust := rec["customer"].(map[string]any)
	assert.Equal(t, "[email]", cust["Email"])
	assert.Equal(t, float64(42), cust["ID"])
	assert.Equal(t, "pro", cust["Plan"])
	assert.Equal(t, map[string]any{"Street": "[address]", "City": "Utrecht"}, cust["Home"])

	buf.Reset()
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "v", pii.Redact(Message{SenderID: "s", Body: "secret body"}))
	assert.NotContains(t, buf.String(), "secret body")
	assert.Contains(t, buf.String(), "v.Body=[message]")
}

func TestRedactInvalidTypeNeverPrintsContent(t *testing.T) {
	t.Parallel()
	type bad struct {
		Email string `pii:"email"` // no subject
		Age   int    `pii:"age"`
	}
	out := pii.Redact(bad{Email: "leak@example.com", Age: 33}).String()
	assert.NotContains(t, out, "leak")
	assert.Contains(t, out, "unprintable")
	assert.NotContains(t, pii.Redact(bad{Email: "leak@example.com"}).LogValue().String(), "leak")
}

func TestSealedNeverPrintsOrStoresPlaintext(t *testing.T) {
	t.Parallel()
	s := pii.Plain(time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC))
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%#v", s), fmt.Sprintf("%+v", &s), s.LogValue().String()} {
		assert.NotContains(t, out, "1990")
	}
	_, err := json.Marshal(s)
	assert.Error(t, err, "a plain Sealed refuses to be written out")
	_, err = s.Value()
	assert.Error(t, err)
	v, err := s.Get()
	require.NoError(t, err)
	assert.Equal(t, 1990, v.Year())

	// Sealed values round-trip through JSON and database/sql as ciphertext.
	p, _ := newProtector(t, nil)
	type rec struct {
		ID   string                `pii:"subject"`
		Born pii.Sealed[time.Time] `pii:"birthdate"`
	}
	r := rec{ID: "s", Born: s}
	require.NoError(t, p.Protect(t.Context(), &r))
	_, err = r.Born.Get()
	assert.ErrorIs(t, err, pii.ErrSealed)
	js, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(js), `"Born":"pd1:`)
	dbv, err := r.Born.Value()
	require.NoError(t, err)

	var fromJSON, fromDB rec
	require.NoError(t, json.Unmarshal(js, &fromJSON))
	fromDB.ID = "s"
	require.NoError(t, fromDB.Born.Scan(dbv))
	for _, got := range []*rec{&fromJSON, &fromDB} {
		require.NoError(t, p.Reveal(t.Context(), got))
		v, err := got.Born.Get()
		require.NoError(t, err)
		assert.Equal(t, 1990, v.Year())
	}
	assert.Error(t, fromDB.Born.Scan(42))
	assert.ErrorIs(t, fromDB.Born.Scan("not an envelope"), pii.ErrMalformed)
	require.NoError(t, fromDB.Born.Scan(nil))
	assert.False(t, fromDB.Born.IsSealed())
}

func TestZeroSealedStaysEmpty(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _ := newProtector(t, nil)
	type rec struct {
		ID      string                `pii:"subject"`
		Born    pii.Sealed[time.Time] `pii:"birthdate"`
		Invoice string                `pii:"billing,scope=fiscal"`
	}
	r := rec{ID: "z", Invoice: "INV-1"}
	require.NoError(t, p.Protect(ctx, &r))
	assert.False(t, r.Born.IsSealed(), "the zero value is left alone, like an empty string")
	js, err := json.Marshal(r.Born)
	require.NoError(t, err)
	assert.Equal(t, "null", string(js))
	v, err := r.Born.Value()
	require.NoError(t, err)
	assert.Nil(t, v)

	// With the default scope forgotten, a record holding only fiscal data
	// can still be protected.
	require.NoError(t, p.ForgetScopes(ctx, "z", "default"))
	r2 := rec{ID: "z", Invoice: "INV-2"}
	require.NoError(t, p.Protect(ctx, &r2))
	assert.NotEqual(t, "INV-2", r2.Invoice)
}
