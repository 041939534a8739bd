package pii_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
)

// shredCounter counts the calls a Protector makes to its store.
type shredCounter struct {
	pii.KeyStore
	shreds atomic.Int32
}

func (s *shredCounter) ShredKeys(ctx context.Context, subject personaldata.SubjectID, scopes []personaldata.Scope, now time.Time) error {
	s.shreds.Add(1)
	return s.KeyStore.ShredKeys(ctx, subject, scopes, now)
}

func (s *shredCounter) ShredSubject(ctx context.Context, subject personaldata.SubjectID, now time.Time) error {
	s.shreds.Add(1)
	return s.KeyStore.ShredSubject(ctx, subject, now)
}

func TestForgetScopesNeedsAScope(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, _ := newProtector(t, nil)
	c := sampleCustomer()
	require.NoError(t, p.Protect(ctx, &c))
	err := p.ForgetScopes(ctx, "42")
	require.ErrorIs(t, err, pii.ErrNoScope, "the shortest call must not shred every scope")
	// Nothing was shredded: fiscal data and the rest still reveal.
	require.NoError(t, p.Reveal(ctx, &c))
	assert.Equal(t, "Ann Jansen", c.Name)
}

func TestForgetSubjectLeavesASubjectTombstone(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p, store := newProtector(t, nil)
	_, err := p.Seal(ctx, "s-1", "", "message", []byte("hi"))
	require.NoError(t, err)
	require.NoError(t, p.ForgetSubject(ctx, "s-1"))
	// A scope first used after the subject was forgotten gets no key.
	for _, scope := range []personaldata.Scope{"fiscal", "marketing", ""} {
		_, err = p.Seal(ctx, "s-1", scope, "billing", []byte("invoice"))
		require.ErrorIs(t, err, pii.ErrForgotten, "scope %q", scope)
	}
	ks, err := store.GetKeys(ctx, []pii.KeyRef{{Subject: "s-1", Scope: "fiscal"}, {Subject: "s-1", Scope: "default"}})
	require.NoError(t, err)
	for _, k := range ks {
		assert.Equal(t, pii.KeyShredded, k.State, "%v", k.Ref)
	}
	// Another Protector on the same store, with its own cache, agrees.
	q := newProtectorOn(t, store, nil)
	_, err = q.Seal(ctx, "s-1", "fiscal", "billing", []byte("invoice"))
	require.ErrorIs(t, err, pii.ErrForgotten)
}

func TestForgetMakesOneStoreCall(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := &shredCounter{KeyStore: pii.NewMemoryKeyStore()}
	p := newProtectorOn(t, store, nil)
	c := sampleCustomer()
	require.NoError(t, p.Protect(ctx, &c))
	require.NoError(t, p.ForgetSubject(ctx, "42"))
	assert.EqualValues(t, 1, store.shreds.Load(), "ForgetSubject")
	require.NoError(t, p.ForgetScopes(ctx, "43", "default", "fiscal"))
	assert.EqualValues(t, 2, store.shreds.Load(), "ForgetScopes")
}
