package personaldata_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
)

func TestSubjectIDValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		id   personaldata.SubjectID
		ok   bool
	}{
		{"plain", "user-42", true},
		{"unicode", "gebruiker-é", true},
		{"empty", "", false},
		{"too long", personaldata.SubjectID(strings.Repeat("a", 256)), false},
		{"max length", personaldata.SubjectID(strings.Repeat("a", 255)), true},
		{"newline", "a\nb", false},
		{"nul", "a\x00b", false},
		{"c1 control", "a\u0085b", false},
		{"bad utf8", "a\xffb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.id.Validate()
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, personaldata.ErrInvalidSubject)
			}
		})
	}
}

func TestCategoryAndScopeValidate(t *testing.T) {
	t.Parallel()
	for _, good := range []string{"email", "ip-address", "billing.invoice", "a1_b"} {
		assert.NoError(t, personaldata.Category(good).Validate(), good)
		assert.NoError(t, personaldata.Scope(good).Validate(), good)
	}
	for _, bad := range []string{"", "Email", "1email", "e mail", "e-mail\n", strings.Repeat("a", 65), "émail"} {
		assert.ErrorIs(t, personaldata.Category(bad).Validate(), personaldata.ErrInvalidCategory, bad)
	}
	assert.NoError(t, personaldata.Scope("").Validate(), "empty scope means the default")
	assert.Equal(t, personaldata.DefaultScope, personaldata.Scope("").Normalize())
	assert.Equal(t, personaldata.Scope("fiscal"), personaldata.Scope("fiscal").Normalize())
}

func TestLegalBasisRoundTrip(t *testing.T) {
	t.Parallel()
	want := map[personaldata.LegalBasis]string{
		personaldata.Consent:             "GDPR Art. 6(1)(a)",
		personaldata.Contract:            "GDPR Art. 6(1)(b)",
		personaldata.LegalObligation:     "GDPR Art. 6(1)(c)",
		personaldata.VitalInterests:      "GDPR Art. 6(1)(d)",
		personaldata.PublicTask:          "GDPR Art. 6(1)(e)",
		personaldata.LegitimateInterests: "GDPR Art. 6(1)(f)",
	}
	for b, article := range want {
		assert.Equal(t, article, b.Article())
		parsed, err := personaldata.ParseLegalBasis(b.String())
		require.NoError(t, err)
		assert.Equal(t, b, parsed)
		data, err := json.Marshal(b)
		require.NoError(t, err)
		var back personaldata.LegalBasis
		require.NoError(t, json.Unmarshal(data, &back))
		assert.Equal(t, b, back)
	}
	var zero personaldata.LegalBasis
	assert.ErrorIs(t, zero.Validate(), personaldata.ErrInvalidLegalBasis)
	assert.Equal(t, "LegalBasis(0)", zero.String())
	assert.Empty(t, zero.Article())
	_, err := json.Marshal(zero)
	assert.True(t, errors.Is(err, personaldata.ErrInvalidLegalBasis))
	_, err = personaldata.ParseLegalBasis("Consent")
	assert.ErrorIs(t, err, personaldata.ErrInvalidLegalBasis)
	var b personaldata.LegalBasis
	assert.Error(t, json.Unmarshal([]byte(`"vital"`), &b))
}

// Errors echo outside input cut short: 10 MiB in never comes back as
// 10 MiB of error text.
func TestVocabularyErrorsDoNotEchoLargeInput(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 10<<20)
	_, err := personaldata.ParseLegalBasis(huge)
	require.ErrorIs(t, err, personaldata.ErrInvalidLegalBasis)
	assert.Less(t, len(err.Error()), 256)
	var b personaldata.LegalBasis
	err = b.UnmarshalText([]byte(huge))
	require.ErrorIs(t, err, personaldata.ErrInvalidLegalBasis)
	assert.Less(t, len(err.Error()), 256)
	assert.Equal(t, `personaldata: invalid legal basis: "vital"`, b.UnmarshalText([]byte("vital")).Error())

	for _, c := range []string{huge, "X" + huge[:63], "x y"} {
		err := personaldata.Category(c).Validate()
		require.ErrorIs(t, err, personaldata.ErrInvalidCategory)
		assert.Less(t, len(err.Error()), 256)
		err = personaldata.Scope(c).Validate()
		require.ErrorIs(t, err, personaldata.ErrInvalidCategory)
		assert.Less(t, len(err.Error()), 256)
	}
	err = personaldata.SubjectID(huge).Validate()
	require.ErrorIs(t, err, personaldata.ErrInvalidSubject)
	assert.Less(t, len(err.Error()), 256)
}
