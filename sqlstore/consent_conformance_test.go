package sqlstore_test

import (
	"context"
	"testing"

	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consent/consenttest"
	"github.com/personaldata/personaldata/sqlstore"
)

func openConsentStore(t testing.TB, b backend) (*sqlstore.ConsentStore, *sqlstore.Options) {
	t.Helper()
	db, prefix := b.fresh(t)
	opts := b.opts(prefix)
	s, err := sqlstore.OpenConsentStore(context.Background(), db, b.dialect, opts)
	must(t, err, "OpenConsentStore on %s", b.name)
	t.Cleanup(func() { _ = s.Close() })
	return s, opts
}

func TestConsentStoreConformance(t *testing.T) {
	for _, b := range backends(t) {
		b.run(t, func(t *testing.T) {
			t.Parallel()
			consenttest.RunConformanceTests(t, func(t *testing.T) consent.Store {
				s, _ := openConsentStore(t, b)
				return s
			})
		})
	}
}
