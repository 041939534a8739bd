package pii_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/pii"
)

func TestTagErrors(t *testing.T) {
	t.Parallel()
	type typo struct {
		ID    string `pii:"subject"`
		Email string `pii:"emial,redcat=x"`
	}
	type badOption struct {
		ID    string `pii:"subject"`
		Email string `pii:"email,redcat=x"`
	}
	type duplicate struct {
		ID    string `pii:"subject"`
		Email string `pii:"email,scope=a,scope=b"`
	}
	type intField struct {
		ID  string `pii:"subject"`
		Age int    `pii:"age"`
	}
	type timeField struct {
		ID   string    `pii:"subject"`
		Born time.Time `pii:"birthdate"`
	}
	type noSubject struct {
		Email string `pii:"email"`
	}
	type twoSubjects struct {
		A string `pii:"subject"`
		B string `pii:"subject"`
	}
	type floatSubject struct {
		ID    float64 `pii:"subject"`
		Email string  `pii:"email"`
	}
	type unexported struct {
		ID    string `pii:"subject"`
		email string `pii:"email"`
	}
	type missingSubjectField struct {
		ID    string `pii:"subject"`
		Email string `pii:"email,subject=Recipient"`
	}
	type missingIndexField struct {
		ID    string `pii:"subject"`
		Email string `pii:"email,index=EmailIdx"`
	}
	type taggedIndexField struct {
		ID       string `pii:"subject"`
		Email    string `pii:"email,index=EmailIdx"`
		EmailIdx string `pii:"email"`
	}
	type untaggedSealed struct {
		ID   string `pii:"subject"`
		Born pii.Sealed[time.Time]
	}
	type nestedBad struct {
		ID    string `pii:"subject"`
		Inner []struct {
			X int `pii:"x-data"`
		}
	}
	type redactOnBytes struct {
		ID    string `pii:"subject"`
		Photo []byte `pii:"photo,redact=none"`
	}
	type structTagged struct {
		ID   string  `pii:"subject"`
		Home Address `pii:"address"`
	}
	_ = unexported{}.email
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"category typo and option typo", typo{}, `did you mean "email"`},
		{"unknown option", badOption{}, `unknown option "redcat" (did you mean "redact"?)`},
		{"duplicate option", duplicate{}, "duplicate option"},
		{"int field", intField{}, "cannot hold ciphertext"},
		{"time field", timeField{}, "pii.Sealed[time.Time]"},
		{"no subject", noSubject{}, "no pii:\"subject\" field"},
		{"two subjects", twoSubjects{}, "second pii:\"subject\""},
		{"float subject", floatSubject{}, "string or integer"},
		{"unexported", unexported{}, "unexported"},
		{"subject= names nothing", missingSubjectField{}, "subject=Recipient names no field"},
		{"index= names nothing", missingIndexField{}, "index=EmailIdx names no field"},
		{"index field tagged", taggedIndexField{}, "must be untagged"},
		{"untagged Sealed", untaggedSealed{}, "needs a pii tag"},
		{"nested bad", nestedBad{}, "cannot hold ciphertext"},
		{"redact on bytes", redactOnBytes{}, "redact= applies to string fields only"},
		{"struct tagged", structTagged{}, "cannot hold ciphertext"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := pii.Validate(tt.v)
			require.Error(t, err)
			var te *pii.TagError
			require.ErrorAs(t, err, &te)
			assert.Contains(t, err.Error(), tt.want)
			// The same error every time the type is met, including by Protect.
			assert.Equal(t, err.Error(), pii.Validate(reflect.TypeOf(tt.v)).Error())
			p, _ := newProtector(t, nil)
			v := reflect.New(reflect.TypeOf(tt.v)).Interface()
			perr := p.Protect(t.Context(), v)
			require.Error(t, perr)
			assert.True(t, errors.As(perr, &te))
		})
	}
}

func TestTypoMessage(t *testing.T) {
	t.Parallel()
	type user struct {
		ID    string `pii:"subject"`
		Email string `pii:"emial,redcat=x"`
	}
	err := pii.Validate(user{})
	assert.EqualError(t, err, `pii: pii_test.user.Email (pii:"emial,redcat=x"): category looks like a misspelling: "emial" (did you mean "email"?)`)
}

func TestFieldsInventory(t *testing.T) {
	t.Parallel()
	got, err := pii.Fields(Customer{})
	require.NoError(t, err)
	want := []pii.Field{
		{Path: "Email", Type: "pii_test.Email", Category: "email", Scope: "default", Subject: "ID", Index: "EmailIndex"},
		{Path: "Name", Type: "string", Category: "name", Scope: "default", Subject: "ID", Redact: "[erased]"},
		{Path: "Nickname", Type: "*string", Category: "name", Scope: "default", Subject: "ID"},
		{Path: "Photo", Type: "[]uint8", Category: "photo", Scope: "default", Subject: "ID"},
		{Path: "Signature", Type: "*[]uint8", Category: "signature", Scope: "default", Subject: "ID"},
		{Path: "Phones", Type: "[]string", Category: "phone", Scope: "default", Subject: "ID"},
		{Path: "Birthdate", Type: "pii.Sealed[time.Time]", Category: "birthdate", Scope: "default", Subject: "ID"},
		{Path: "Home.Street", Type: "string", Category: "address", Scope: "default", Subject: "ID"},
		{Path: "Previous[].Street", Type: "string", Category: "address", Scope: "default", Subject: "ID"},
		{Path: "Invoices[].Amount", Type: "pii.Sealed[int64]", Category: "billing", Scope: "fiscal", Subject: "ID"},
		{Path: "Invoices[].IBAN", Type: "string", Category: "iban", Scope: "fiscal", Subject: "ID"},
		{Path: "Notes[].Street", Type: "string", Category: "address", Scope: "default", Subject: "ID"},
		{Path: "Extra.Street", Type: "string", Category: "address", Scope: "default", Subject: "ID"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Fields (-want +got):\n%s", diff)
	}
	msg, err := pii.Fields(&[]Message{})
	require.NoError(t, err)
	require.Len(t, msg, 2)
	assert.Equal(t, "RecipientID", msg[1].Subject)
	_, err = pii.Fields(42)
	assert.ErrorIs(t, err, pii.ErrUnsupported)
}

type Node struct {
	ID    string `pii:"subject"`
	Next  *Node
	Email string `pii:"email"`
	Kids  []Node
}

func TestRecursiveAndEmbeddedTypes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _ := newProtector(t, nil)
	n := &Node{ID: "a", Email: "a@x", Next: &Node{ID: "b", Email: "b@x"}, Kids: []Node{{ID: "c", Email: "c@x"}}}
	require.NoError(t, p.Protect(ctx, n))
	assert.NotEqual(t, "b@x", n.Next.Email)
	require.NoError(t, p.ForgetSubject(ctx, "b"))
	err := p.Reveal(ctx, n)
	require.ErrorIs(t, err, pii.ErrErased)
	assert.Equal(t, "a@x", n.Email)
	assert.Equal(t, "", n.Next.Email)
	assert.Equal(t, "c@x", n.Kids[0].Email)
	fs, err := pii.Fields(Node{})
	require.NoError(t, err)
	assert.Equal(t, "Email", fs[0].Path)

	type Base struct {
		ID    string `pii:"subject"`
		Email string `pii:"email"`
	}
	type WithPtr struct {
		*Base
		Name string `pii:"name"`
	}
	v := WithPtr{Base: &Base{ID: "e", Email: "e@x"}, Name: "E"}
	require.NoError(t, p.Protect(ctx, &v))
	assert.NotEqual(t, "e@x", v.Email)
	assert.NotEqual(t, "E", v.Name)
	require.NoError(t, p.Reveal(ctx, &v))
	assert.Equal(t, "e@x", v.Email)
	assert.Equal(t, "E", v.Name)
	// A nil embedded pointer holds the subject: the promoted field's
	// struct is absent and its sibling field has no subject.
	v2 := WithPtr{Name: "F"}
	assert.ErrorIs(t, p.Protect(ctx, &v2), pii.ErrNoSubject)
}
