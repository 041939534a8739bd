package retention_test

import (
	"testing"

	"github.com/personaldata/personaldata/retention"
	"github.com/personaldata/personaldata/retention/retentiontest"
)

func TestMemoryHoldStoreConformance(t *testing.T) {
	t.Parallel()
	retentiontest.RunConformanceTests(t, func(t *testing.T) retention.HoldStore {
		return retention.NewMemoryHoldStore()
	})
}

func TestMemoryHoldStoreZeroValueConformance(t *testing.T) {
	t.Parallel()
	retentiontest.RunConformanceTests(t, func(t *testing.T) retention.HoldStore {
		return new(retention.MemoryHoldStore)
	})
}
