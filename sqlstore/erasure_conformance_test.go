package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/erasure/erasuretest"
	"github.com/personaldata/personaldata/sqlstore"
)

func TestErasureStoreConformance(t *testing.T) {
	for _, b := range backends(t) {
		b.run(t, func(t *testing.T) {
			t.Parallel() // each backend on databases of its own
			erasuretest.RunConformanceTests(t, func(t *testing.T) erasure.Stores {
				s, _, _ := openErasureStore(t, b)
				return s.Stores()
			})
		})
	}
}

func openErasureStore(t testing.TB, b backend) (*sqlstore.ErasureStore, *sql.DB, string) {
	t.Helper()
	db, prefix := b.fresh(t)
	s, err := sqlstore.OpenErasureStore(context.Background(), db, b.dialect, b.opts(prefix))
	if err != nil {
		t.Fatalf("OpenErasureStore on %s: %v", b.name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, db, prefix
}

// TestErasureStoreConformanceSerializable runs the suite on the servers
// at SERIALIZABLE, where racing appends and updates abort with
// serialization failures or deadlocks that the store retries.
func TestErasureStoreConformanceSerializable(t *testing.T) {
	for _, b := range serverBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			erasuretest.RunConformanceTests(t, func(t *testing.T) erasure.Stores {
				db, prefix := b.fresh(t)
				s, err := sqlstore.OpenErasureStore(context.Background(), db, b.dialect, &sqlstore.Options{
					TablePrefix: prefix, Isolation: sql.LevelSerializable,
				})
				must(t, err, "OpenErasureStore")
				t.Cleanup(func() { _ = s.Close() })
				return s.Stores()
			})
		})
	}
}
