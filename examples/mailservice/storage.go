package main

import (
	"context"

	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/retention"
)

// stores is all the storage the library needs. It is opened here and only
// here: switching a store from memory to SQL is a change to this file.
type stores struct {
	keys    pii.KeyStore        // wrapped data keys: apart from the data they protect
	holds   retention.HoldStore // legal holds
	consent consent.Store       // consent events, purposes and notice versions
	erasure erasure.Stores      // requests, receipts and the suppression list
	where   string              // said in the tour
	close   func() error
}

// openStores opens the library's stores for the tour. The provider's own
// data lives in another database (openData).
func openStores(ctx context.Context, cfg config) (*stores, error) {
	mem := erasure.NewMemoryStore()
	return &stores{
		keys:    pii.NewMemoryKeyStore(),
		holds:   retention.NewMemoryHoldStore(),
		consent: consent.NewMemoryStore(),
		erasure: mem.Stores(),
		where:   "keys, holds, consent ledger and request log in memory",
		close:   func() error { return nil },
	}, nil
}
