package sqlstore_test

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/retention"
	"github.com/personaldata/personaldata/sqlstore"
)

// TestHoldSurvivesRestart places a hold through one store and finds it
// through another opened later on the same database, as after a restart or
// in another process; then damages the row and reads it back.
func TestHoldSurvivesRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		db, prefix := b.fresh(t)
		first, err := sqlstore.OpenHoldStore(ctx, db, b.dialect, b.opts(prefix))
		require.NoError(t, err)
		h := retention.Hold{ID: ulid.MustNew(ulid.Timestamp(t0), rand.Reader), Subject: "cust-1", Reason: "case 7", PlacedBy: "staff-1", PlacedAt: t0}
		require.NoError(t, first.Place(ctx, h))
		require.NoError(t, first.Close())

		second, err := sqlstore.OpenHoldStore(ctx, db, b.dialect, b.opts(prefix))
		require.NoError(t, err)
		active, err := second.Active(ctx, "cust-1", "")
		require.NoError(t, err)
		require.Len(t, active, 1)
		require.Equal(t, h.ID, active[0].ID)
		require.True(t, t0.Equal(active[0].PlacedAt), "times round-trip to the nanosecond")

		q := "UPDATE " + prefix + "holds SET reason = '' WHERE subject = 'cust-1'"
		_, err = db.ExecContext(ctx, q)
		require.NoError(t, err)
		_, err = second.List(ctx, true)
		require.ErrorIs(t, err, sqlstore.ErrCorrupt, "a hold row that fails validation")
		_, err = second.Release(ctx, h.ID, t0.Add(time.Hour), "staff-2")
		require.ErrorIs(t, err, sqlstore.ErrCorrupt)
		var released int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+prefix+"holds WHERE released_at IS NOT NULL").Scan(&released))
		require.Zero(t, released, "a corrupt hold is not released")
	})
}
