package consent_test

import (
	"testing"

	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/consent/consenttest"
)

func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	consenttest.RunConformanceTests(t, func(t *testing.T) consent.Store {
		return consent.NewMemoryStore()
	})
}

func TestMemoryStoreZeroValue(t *testing.T) {
	t.Parallel()
	consenttest.RunConformanceTests(t, func(t *testing.T) consent.Store {
		return new(consent.MemoryStore)
	})
}
