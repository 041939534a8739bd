package retention_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

func TestPlaceHoldAssignsIDAndTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	store := retention.NewMemoryHoldStore()
	ev, err := retention.New(retention.ExamplePolicy(), store, &retention.Options{
		Clock:   func() time.Time { return now },
		Entropy: bytes.NewReader(bytes.Repeat([]byte{7}, 64)),
	})
	require.NoError(t, err)
	ctx := context.Background()

	h, err := ev.PlaceHold(ctx, retention.Hold{Subject: "customer-1", Reason: "dispute D-4", PlacedBy: "legal-2"})
	require.NoError(t, err)
	assert.Equal(t, "01KQS6WB800W3GE1R70W3GE1R7", h.ID.String(), "ULID from the injected entropy and clock")
	assert.True(t, h.PlacedAt.Equal(now))
	assert.True(t, h.Active(now.AddDate(50, 0, 0)), "a hold has no end date")
	assert.NotContains(t, h.String(), "dispute", "String shows no reason")

	_, err = ev.PlaceHold(ctx, retention.Hold{Reason: "no target"})
	assert.ErrorIs(t, err, retention.ErrInvalidHold)

	rel, err := ev.ReleaseHold(ctx, h.ID, "legal-3")
	require.NoError(t, err)
	assert.True(t, rel.ReleasedAt.Equal(now))
	assert.False(t, rel.Active(now))
	assert.True(t, rel.Active(now.Add(-time.Second)), "active before its release")
	_, err = ev.ReleaseHold(ctx, h.ID, "legal-3")
	assert.ErrorIs(t, err, retention.ErrHoldReleased)
}

func TestPlaceHoldConcurrent(t *testing.T) {
	t.Parallel()
	// A ChaCha8 generator is not safe for concurrent use: the evaluator
	// must serialise reads of its entropy.
	entropy := rand.NewChaCha8([32]byte{1})
	ev, err := retention.New(retention.ExamplePolicy(), retention.NewMemoryHoldStore(), &retention.Options{Entropy: entropy})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				_, err := ev.PlaceHold(context.Background(), retention.Hold{
					Subject: personaldata.SubjectID(fmt.Sprintf("s-%d-%d", w, i)), Reason: "r",
				})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	all, err := ev.ListHolds(context.Background(), true)
	require.NoError(t, err)
	assert.Len(t, all, 80)
}

func TestPlaceHoldEntropyFailure(t *testing.T) {
	t.Parallel()
	ev, err := retention.New(retention.ExamplePolicy(), retention.NewMemoryHoldStore(), &retention.Options{
		Entropy: bytes.NewReader(nil),
	})
	require.NoError(t, err)
	_, err = ev.PlaceHold(context.Background(), retention.Hold{Subject: "customer-1", Reason: "r"})
	require.Error(t, err)
	assert.False(t, errors.Is(err, retention.ErrInvalidHold))
}

func TestEvaluatorHoldMethods(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	a, err := ev.PlaceHold(ctx, retention.Hold{Subject: "customer-1", Reason: "case 1"})
	require.NoError(t, err)
	b, err := ev.PlaceHold(ctx, retention.Hold{RecordKey: "invoice-7", Reason: "audit 2"})
	require.NoError(t, err)

	got, err := ev.Hold(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.ID)
	_, err = ev.Hold(ctx, ulid.ULID{1})
	assert.ErrorIs(t, err, retention.ErrHoldNotFound)

	active, err := ev.ActiveHolds(ctx, "customer-1", "invoice-7")
	require.NoError(t, err)
	assert.Len(t, active, 2)

	_, err = ev.ReleaseHold(ctx, b.ID, "legal-1")
	require.NoError(t, err)
	active, err = ev.ActiveHolds(ctx, "customer-1", "invoice-7")
	require.NoError(t, err)
	require.Len(t, active, 1)
	assert.Equal(t, a.ID, active[0].ID)
	all, err := ev.ListHolds(ctx, true)
	require.NoError(t, err)
	assert.Len(t, all, 2)
	open, err := ev.ListHolds(ctx, false)
	require.NoError(t, err)
	assert.Len(t, open, 1)

	_, err = ev.PlaceHold(ctx, retention.Hold{Subject: "customer-2", Reason: "r", ReleasedAt: now})
	assert.ErrorIs(t, err, retention.ErrInvalidHold)
}
