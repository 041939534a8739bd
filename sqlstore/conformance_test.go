package sqlstore_test

import (
	"context"
	"testing"

	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/pii/piitest"
	"github.com/personaldata/personaldata/retention"
	"github.com/personaldata/personaldata/retention/retentiontest"
	"github.com/personaldata/personaldata/sqlstore"
)

func TestKeyStoreConformance(t *testing.T) {
	for _, b := range backends(t) {
		b.run(t, func(t *testing.T) {
			t.Parallel() // each backend on databases of its own
			piitest.RunConformanceTests(t, func(t *testing.T) pii.KeyStore {
				s, _, _ := openKeyStore(t, b)
				return s
			})
		})
	}
}

func TestHoldStoreConformance(t *testing.T) {
	for _, b := range backends(t) {
		b.run(t, func(t *testing.T) {
			t.Parallel()
			retentiontest.RunConformanceTests(t, func(t *testing.T) retention.HoldStore {
				db, prefix := b.fresh(t)
				s, err := sqlstore.OpenHoldStore(context.Background(), db, b.dialect, b.opts(prefix))
				must(t, err, "OpenHoldStore")
				t.Cleanup(func() { _ = s.Close() })
				return s
			})
		})
	}
}
