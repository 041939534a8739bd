package erasure_test

import (
	"testing"

	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/erasure/erasuretest"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	erasuretest.RunConformanceTests(t, func(t *testing.T) erasure.Stores {
		return erasure.NewMemoryStore().Stores()
	})
}

func TestMemoryStoreZeroValue(t *testing.T) {
	t.Parallel()
	erasuretest.RunConformanceTests(t, func(t *testing.T) erasure.Stores {
		var s erasure.MemoryStore
		return erasure.Stores{Requests: &s, Receipts: &s, Suppression: &s}
	})
}
