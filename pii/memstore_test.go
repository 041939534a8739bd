package pii_test

import (
	"testing"

	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/pii/piitest"
)

func TestMemoryKeyStore(t *testing.T) {
	piitest.RunConformanceTests(t, func(*testing.T) pii.KeyStore {
		return pii.NewMemoryKeyStore()
	})
}

func TestMemoryKeyStoreZeroValue(t *testing.T) {
	piitest.RunConformanceTests(t, func(*testing.T) pii.KeyStore {
		return new(pii.MemoryKeyStore)
	})
}
