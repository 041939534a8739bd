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

type (
	flatName  string
	flatNamed struct {
		ID    flatName `pii:"subject"`
		Email Email    `pii:"email,index=Index,normalize=email"`
		Index string
		Name  flatName `pii:"name"`
		Plan  string
	}
	flatIntSubject struct {
		ID   uint32 `pii:"subject"`
		Name string `pii:"name"`
		City string `pii:"address"`
	}
	flatInner struct {
		Street string `pii:"address"`
		City   string `pii:"address"`
	}
	flatOuter struct {
		ID     string `pii:"subject"`
		Home   flatInner
		Others []flatInner
		ByName map[string]flatInner
	}
	flatBase struct {
		Name  string `pii:"name"`
		Email string `pii:"email"`
	}
	flatEmbedding struct {
		ID string `pii:"subject"`
		flatBase
		Phone string `pii:"phone"`
	}
)

// Structs whose tagged fields are all strings of their own take a shorter
// path through the walk; each shape round-trips like any other.
func TestFlatStructShapes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, _ := newProtector(t, nil)
	tests := []struct {
		name  string
		value any
		texts func(v any) []string
	}{
		{"named string types, blind index", &flatNamed{ID: "c-1", Email: "Ann@Example.nl", Name: "Ann", Plan: "basic"}, func(v any) []string {
			r := v.(*flatNamed)
			return []string{string(r.Email), string(r.Name)}
		}},
		{"integer subject", &flatIntSubject{ID: 7, Name: "Bob", City: "Utrecht"}, func(v any) []string {
			r := v.(*flatIntSubject)
			return []string{r.Name, r.City}
		}},
		{"nested, inheriting the subject", &flatOuter{
			ID:     "c-2",
			Home:   flatInner{Street: "Kerkstraat 1", City: "Utrecht"},
			Others: []flatInner{{Street: "Dorpsweg 2", City: ""}},
			ByName: map[string]flatInner{"work": {Street: "Stationsplein 3", City: "Amersfoort"}},
		}, func(v any) []string {
			r := v.(*flatOuter)
			return []string{r.Home.Street, r.Home.City, r.Others[0].Street, r.ByName["work"].Street, r.ByName["work"].City}
		}},
		{"embedded", &flatEmbedding{ID: "c-3", flatBase: flatBase{Name: "Cas", Email: "cas@example.nl"}, Phone: "+31 6 1"}, func(v any) []string {
			r := v.(*flatEmbedding)
			return []string{r.Name, r.Email, r.Phone}
		}},
		{"slice of records", &[]flatIntSubject{{ID: 8, Name: "Dirk", City: "Delft"}, {ID: 9, Name: "Eva"}}, func(v any) []string {
			r := *v.(*[]flatIntSubject)
			return []string{r[0].Name, r[0].City, r[1].Name}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain := tt.texts(tt.value)
			require.NoError(t, p.Protect(ctx, tt.value))
			for i, s := range tt.texts(tt.value) {
				assert.True(t, strings.HasPrefix(s, "pd1:"), "field %d left in plaintext", i)
			}
			require.NoError(t, p.Protect(ctx, tt.value), "protecting twice")
			require.NoError(t, p.Reveal(ctx, tt.value))
			assert.Equal(t, plain, tt.texts(tt.value))
		})
	}
	t.Run("zero integer subject", func(t *testing.T) {
		r := flatIntSubject{Name: "Fay"}
		err := p.Protect(ctx, &r)
		require.ErrorIs(t, err, pii.ErrNoSubject)
		assert.Equal(t, "Fay", r.Name)
	})
	t.Run("blind index set", func(t *testing.T) {
		r := flatNamed{ID: "c-4", Email: "x@example.nl"}
		require.NoError(t, p.Protect(ctx, &r))
		assert.NotEmpty(t, r.Index)
	})
}
