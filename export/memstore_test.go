package export_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/export"
)

// TestMemorySourceKeepsCiphertext checks that revealing a record for an
// export never changes the record a MemorySource holds.
func TestMemorySourceKeepsCiphertext(t *testing.T) {
	t.Parallel()
	p := newProtector(t)
	c := customer(string(subject), 1)
	protect(t, p, c)
	src := export.NewMemorySource()
	src.Add(subject, c)
	e := plainExporter(t, &export.Options{Revealer: p})
	require.NoError(t, e.Register(customerCategory, src))
	for range 2 {
		p := openPackage(t, func() []byte { b, _ := writePackage(t, e, export.Request{Subject: subject}); return b }())
		assert.Equal(t, "jan@example.nl", p.ndjson(t, "account")[0]["email"])
	}
	assert.True(t, strings.HasPrefix(c.Email, "pd1:"), "the stored record was revealed in place")
	assert.True(t, strings.HasPrefix(c.Phones[0], "pd1:"), "the stored record's slice was revealed in place")
	assert.True(t, strings.HasPrefix(c.Contacts[0].Value, "pd1:"))

	var n int
	for r, err := range src.Records(context.Background(), "nobody") {
		require.NoError(t, err)
		_ = r
		n++
	}
	assert.Zero(t, n)
	var zero export.MemorySource // the zero value is ready to use
	for range zero.Records(context.Background(), subject) {
		n++
	}
	assert.Zero(t, n)
}
