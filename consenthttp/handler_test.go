package consenthttp_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consenthttp"
)

func TestNew(t *testing.T) {
	t.Parallel()
	l, err := consent.New(context.Background(), consent.NewMemoryStore(), nil)
	require.NoError(t, err)
	key := []consenthttp.Key{{ID: 1, Secret: secret1}}

	_, err = consenthttp.New(nil, key, nil)
	assert.EqualError(t, err, "consenthttp: New: nil Ledger")
	h, err := consenthttp.New(l, key, nil)
	require.NoError(t, err)
	require.NotNil(t, h)

	tests := []struct {
		name string
		keys []consenthttp.Key
		opts *consenthttp.Options
		want error
	}{
		{"no keys", nil, nil, nil},
		{"short secret", []consenthttp.Key{{ID: 1, Secret: bytes.Repeat([]byte{1}, 31)}}, nil, consenthttp.ErrInvalidKey},
		{"duplicate ID", []consenthttp.Key{{ID: 1, Secret: secret1}, {ID: 1, Secret: secret2}}, nil, consenthttp.ErrInvalidKey},
		{"current key retired", []consenthttp.Key{{ID: 1, Secret: secret1, RetiredAt: time.Now()}}, nil, consenthttp.ErrInvalidKey},
		{"http base", key, &consenthttp.Options{BaseURL: "http://example.nl/consent/"}, consenthttp.ErrInvalidOptions},
		{"relative base", key, &consenthttp.Options{BaseURL: "/consent/"}, consenthttp.ErrInvalidOptions},
		{"base without slash", key, &consenthttp.Options{BaseURL: "https://example.nl/consent"}, consenthttp.ErrInvalidOptions},
		{"base with query", key, &consenthttp.Options{BaseURL: "https://example.nl/consent/?a=b"}, consenthttp.ErrInvalidOptions},
		{"base with user", key, &consenthttp.Options{BaseURL: "https://u:p@example.nl/consent/"}, consenthttp.ErrInvalidOptions},
		{"language", key, &consenthttp.Options{DefaultLanguage: "fr"}, consenthttp.ErrInvalidOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := consenthttp.New(l, tt.keys, tt.opts)
			require.Error(t, err)
			assert.Nil(t, h)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
			assert.NotContains(t, err.Error(), string(secret1))
		})
	}
	for _, base := range []string{"https://example.nl/", "http://127.0.0.1:8080/c/", "http://localhost/", "http://[::1]:80/"} {
		_, err := consenthttp.New(l, key, &consenthttp.Options{BaseURL: base, DefaultLanguage: "nl"})
		assert.NoError(t, err, base)
	}
}

func TestServeUnderRootWithoutBaseURL(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tok := f.unsubscribePath("customer-1017", "newsletter")[len("/consent/"):]
	h, err := consenthttp.New(f.ledger, []consenthttp.Key{{ID: 1, Secret: secret1}}, &consenthttp.Options{Clock: f.clock.Now})
	require.NoError(t, err)
	f.srv = h
	assert.Equal(t, 200, f.get("/"+tok).StatusCode)
	assert.Equal(t, 404, f.get("/consent/"+tok).StatusCode)
	res := f.get("//evil.example/" + tok)
	assert.Equal(t, 404, res.StatusCode)
	assert.NotContains(t, body(t, res), "//evil.example", "links on a page stay on its path")
}
