package pii_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/pii"
)

// trigger cancels a context when it is encoded, to stop a Protect at a
// known element.
type trigger struct {
	N      int
	cancel func()
}

func (t trigger) MarshalJSON() ([]byte, error) {
	if t.cancel != nil {
		t.cancel()
	}
	return json.Marshal(t.N)
}

func (t *trigger) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &t.N) }

type record struct {
	ID    string              `pii:"subject"`
	Email string              `pii:"email"`
	Name  string              `pii:"name"`
	Mark  pii.Sealed[trigger] `pii:"mark"`
	Phone string              `pii:"phone"`
}

func TestCancelledProtectSaysHowFarItGot(t *testing.T) {
	t.Parallel()
	const n, stopAt = 2000, 765
	p, _ := newProtector(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	recs := make([]record, n)
	for i := range recs {
		recs[i] = record{ID: fmt.Sprint("s-", i), Email: fmt.Sprint(i, "@example.org"), Name: fmt.Sprint("name ", i), Phone: "+31 6 1234"}
		tr := trigger{N: i}
		if i == stopAt {
			tr.cancel = cancel
		}
		recs[i].Mark = pii.Plain(tr)
	}
	err := p.Protect(ctx, recs)
	require.ErrorIs(t, err, context.Canceled)
	var oe *pii.OpError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "protect", oe.Op)
	assert.Equal(t, stopAt+1, oe.Done, "the element being walked is finished, the next is not started")
	assert.Empty(t, oe.Fields)
	for i, r := range recs {
		protected := strings.HasPrefix(r.Email, "pd1:") && strings.HasPrefix(r.Name, "pd1:") && strings.HasPrefix(r.Phone, "pd1:") && r.Mark.IsSealed()
		untouched := !strings.HasPrefix(r.Email, "pd1:") && !strings.HasPrefix(r.Name, "pd1:") && !strings.HasPrefix(r.Phone, "pd1:") && !r.Mark.IsSealed()
		if i < oe.Done {
			require.True(t, protected, "element %d of the %d walked is not protected", i, oe.Done)
		} else {
			require.True(t, untouched, "element %d after the %d walked was touched", i, oe.Done)
		}
	}
	// Protect again finishes the job.
	require.NoError(t, p.Protect(t.Context(), recs))
	for i := range recs {
		require.True(t, strings.HasPrefix(recs[i].Email, "pd1:"), "element %d", i)
	}
}

func TestProtectAndRevealShareOneErrorShape(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _ := newProtector(t, nil)
	recs := []Message{{SenderID: "", Body: "no sender"}, {SenderID: "ok", Body: "fine"}}
	err := p.Protect(ctx, recs)
	var oe *pii.OpError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "protect", oe.Op)
	require.Len(t, oe.Fields, 1)
	assert.Equal(t, "[0].Body", oe.Fields[0].Path)
	assert.ErrorIs(t, err, pii.ErrNoSubject)

	require.NoError(t, p.ForgetSubject(ctx, "ok"))
	err = p.Reveal(ctx, recs)
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "reveal", oe.Op)
	assert.True(t, oe.OnlyErased())
}

func TestZeroIntegerSubjectIsNoSubject(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, store := newProtector(t, nil)
	type unsaved struct {
		ID    int64  `pii:"subject"`
		Email string `pii:"email"`
	}
	type unsavedUint struct {
		ID    uint32 `pii:"subject"`
		Email string `pii:"email"`
	}
	a, b := unsaved{Email: "a@example.org"}, unsavedUint{Email: "b@example.org"}
	require.ErrorIs(t, p.Protect(ctx, &a), pii.ErrNoSubject)
	require.ErrorIs(t, p.Protect(ctx, &b), pii.ErrNoSubject)
	assert.Equal(t, "a@example.org", a.Email, "a field that failed keeps its plaintext")
	ks, err := store.GetKeys(ctx, []pii.KeyRef{{Subject: "0", Scope: "default"}})
	require.NoError(t, err)
	assert.Equal(t, pii.KeyMissing, ks[0].State, "no key for subject \"0\"")
	a.ID = 42
	require.NoError(t, p.Protect(ctx, &a))
}

func TestErrorsQuoteEchoedInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _ := newProtector(t, nil)
	long := strings.Repeat("x", 10_000)
	recs := []Message{{SenderID: long, Body: "hello"}}
	err := p.Protect(ctx, recs)
	require.ErrorIs(t, err, pii.ErrNoSubject)
	var fe *pii.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Less(t, len(fe.Error()), 400, "a 10,000-byte subject is cut in the message")
	assert.Contains(t, fe.Error(), "bytes)")
	_, err = p.Seal(ctx, "s", "", "message", []byte("x"))
	require.NoError(t, err)
	_, err = p.Open(ctx, "s", "", "message", []byte("pd\x01\x09"+long))
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 400)
}

func TestRewrapNilWrapper(t *testing.T) {
	t.Parallel()
	p, _ := newProtector(t, nil)
	var err error
	require.NotPanics(t, func() { _, err = p.Rewrap(t.Context(), nil) })
	require.Error(t, err)
	assert.Equal(t, "pii: Rewrap: nil KeyWrapper", err.Error())
}

func TestNewNilDependencies(t *testing.T) {
	t.Parallel()
	w, err := pii.NewLocalKeyWrapper("k", make([]byte, 32))
	require.NoError(t, err)
	_, err = pii.New(nil, w, nil)
	assert.EqualError(t, err, "pii: New: nil KeyStore")
	_, err = pii.New(pii.NewMemoryKeyStore(), nil, nil)
	assert.EqualError(t, err, "pii: New: nil KeyWrapper")
	_, err = pii.New(pii.NewMemoryKeyStore(), w, &pii.Options{Previous: []pii.KeyWrapper{nil}})
	assert.Error(t, err)
	assert.False(t, errors.Is(err, nil))
}
