package sqlstore_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
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
				return underSuite(s)
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

// underSuite returns s as the suite of this build's pii package expects
// it. Before pii.KeyStore declares ShredSubject, the suite shreds every
// scope of a subject with ShredKeys and no scopes, which KeyStore refuses;
// ShredSubject is what such a call means. Once the interface has the
// method, s is tested as it is.
func underSuite(s *sqlstore.KeyStore) pii.KeyStore {
	if _, ok := reflect.TypeFor[pii.KeyStore]().MethodByName("ShredSubject"); ok {
		return s
	}
	return allScopesAsSubject{s}
}

type allScopesAsSubject struct{ *sqlstore.KeyStore }

func (s allScopesAsSubject) ShredKeys(ctx context.Context, subject personaldata.SubjectID, scopes []personaldata.Scope, now time.Time) error {
	if len(scopes) == 0 {
		return s.ShredSubject(ctx, subject, now)
	}
	return s.KeyStore.ShredKeys(ctx, subject, scopes, now)
}
