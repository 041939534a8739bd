package pii_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/pii/piitest"
)

// Holder reaches personal data through interfaces only.
type Holder struct {
	Payload any
	Meta    map[string]any
	List    []any
}

type Person struct {
	ID    string `pii:"subject"`
	Email string `pii:"email"`
	Name  string `pii:"name"`
}

const personEmail, personName = "ann@example.org", "Ann Secret"

func newPerson() Person { return Person{ID: "p-1", Email: personEmail, Name: personName} }

// requireProtected checks the value holds no plaintext of the person.
func requireProtected(t *testing.T, c Person) {
	t.Helper()
	assert.True(t, strings.HasPrefix(c.Email, "pd1:"), "Email holds no ciphertext")
	assert.True(t, strings.HasPrefix(c.Name, "pd1:"), "Name holds no ciphertext")
}

func TestProtectWalksInterfaces(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _ := newProtector(t, nil)

	t.Run("SliceOfAnyHoldingPointer", func(t *testing.T) {
		c := newPerson()
		v := []any{&c}
		require.NoError(t, p.Protect(ctx, v))
		requireProtected(t, c)
		piitest.AssertProtected(t, v)
		require.NoError(t, p.Reveal(ctx, v))
		assert.Equal(t, newPerson(), c)
	})
	t.Run("SliceOfAnyHoldingValue", func(t *testing.T) {
		v := []any{newPerson()}
		require.NoError(t, p.Protect(ctx, v))
		requireProtected(t, v[0].(Person))
		require.NoError(t, p.Reveal(ctx, v))
		assert.Equal(t, newPerson(), v[0])
	})
	t.Run("MapOfAny", func(t *testing.T) {
		c := newPerson()
		m := map[string]any{"ptr": &c, "val": newPerson(), "other": 42}
		require.NoError(t, p.Protect(ctx, m))
		requireProtected(t, c)
		requireProtected(t, m["val"].(Person))
		assert.Equal(t, 42, m["other"])
		require.NoError(t, p.Reveal(ctx, m))
		assert.Equal(t, newPerson(), m["val"])
	})
	t.Run("PointerToAny", func(t *testing.T) {
		c := newPerson()
		var a any = &c
		require.NoError(t, p.Protect(ctx, &a))
		requireProtected(t, c)
	})
	t.Run("StructFieldOfTypeAny", func(t *testing.T) {
		c := newPerson()
		h := Holder{Payload: &c, Meta: map[string]any{"who": newPerson()}, List: []any{"text", newPerson()}}
		require.NoError(t, p.Protect(ctx, &h))
		requireProtected(t, c)
		requireProtected(t, h.Meta["who"].(Person))
		requireProtected(t, h.List[1].(Person))
		piitest.AssertProtected(t, &h)
		require.NoError(t, p.Reveal(ctx, &h))
		assert.Equal(t, newPerson(), h.List[1])
	})
	t.Run("InheritsSubjectThroughInterface", func(t *testing.T) {
		type note struct {
			Text string `pii:"note"`
		}
		type account struct {
			ID    string `pii:"subject"`
			Extra any
		}
		a := account{ID: "a-1", Extra: &note{Text: "secret note"}}
		require.NoError(t, p.Protect(ctx, &a))
		assert.True(t, strings.HasPrefix(a.Extra.(*note).Text, "pd1:"))
	})
	t.Run("NoSubjectAnywhereFails", func(t *testing.T) {
		type note struct {
			Text string `pii:"note"`
		}
		v := []any{&note{Text: "secret note"}}
		err := p.Protect(ctx, v)
		require.ErrorIs(t, err, pii.ErrNoSubject)
		var fe *pii.FieldError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "[0].Text", fe.Path)
	})
	t.Run("CyclesEnd", func(t *testing.T) {
		s := make([]any, 2)
		s[0], s[1] = s, newPerson()
		require.NoError(t, p.Protect(ctx, s))
		requireProtected(t, s[1].(Person))
		m := map[string]any{"p": newPerson()}
		m["self"] = m
		require.NoError(t, p.Protect(ctx, m))
		requireProtected(t, m["p"].(Person))
		type node struct {
			ID    string `pii:"subject"`
			Email string `pii:"email"`
			Next  any
		}
		n := &node{ID: "n", Email: personEmail}
		n.Next = n
		require.NoError(t, p.Protect(ctx, n))
		assert.True(t, strings.HasPrefix(n.Email, "pd1:"))
	})
	t.Run("InvalidTagsFailAtPath", func(t *testing.T) {
		type bad struct {
			ID    string `pii:"subject"`
			Email string `pii:"emial"`
		}
		h := Holder{Payload: &bad{ID: "b", Email: personEmail}}
		err := p.Protect(ctx, &h)
		var te *pii.TagError
		require.ErrorAs(t, err, &te)
		var fe *pii.FieldError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "Payload", fe.Path)
	})
	t.Run("UntaggedSealedFails", func(t *testing.T) {
		h := Holder{Payload: pii.Plain("secret")}
		err := p.Protect(ctx, &h)
		require.ErrorIs(t, err, pii.ErrUnsupported)
		assert.NotContains(t, err.Error(), "secret")
	})
}

func TestFieldsReportInterfacesAsDynamic(t *testing.T) {
	t.Parallel()
	fields, err := pii.Fields(Holder{})
	require.NoError(t, err)
	require.Len(t, fields, 3)
	for _, f := range fields {
		assert.True(t, f.Dynamic, "%s", f.Path)
	}
	assert.Equal(t, []string{"Payload", "Meta[]", "List[]"}, []string{fields[0].Path, fields[1].Path, fields[2].Path})
	require.NoError(t, pii.Validate(Holder{}))
}

func TestRedactThroughInterfaces(t *testing.T) {
	t.Parallel()
	c := newPerson()
	values := map[string]any{
		"slice":       []any{c},
		"slicePtr":    []any{&c},
		"map":         map[string]any{"k": c},
		"payload":     Holder{Payload: c},
		"payloadPtr":  &Holder{Payload: &c},
		"meta":        Holder{Meta: map[string]any{"k": c}},
		"list":        Holder{List: []any{1, c}},
		"pointerToIf": func() *any { var a any = c; return &a }(),
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			r := pii.Redact(v)
			var outs []string
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				outs = append(outs, fmt.Sprintf(verb, r))
			}
			for _, h := range []func(*bytes.Buffer) slog.Handler{
				func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
				func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			} {
				var b bytes.Buffer
				slog.New(h(&b)).Info("msg", "v", r)
				outs = append(outs, b.String())
			}
			for _, out := range outs {
				assert.NotContains(t, out, personEmail)
				assert.NotContains(t, out, "Secret")
			}
		})
	}
}

func TestJSONOfInterfaceHolderAfterProtect(t *testing.T) {
	t.Parallel()
	p, _ := newProtector(t, nil)
	h := Holder{Meta: map[string]any{"who": newPerson()}}
	require.NoError(t, p.Protect(t.Context(), &h))
	js, err := json.Marshal(h)
	require.NoError(t, err)
	assert.NotContains(t, string(js), personEmail)
	assert.False(t, errors.Is(err, pii.ErrUnsupported))
}
