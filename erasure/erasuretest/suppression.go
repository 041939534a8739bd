package erasuretest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/personaldata/personaldata/erasure"
)

// RunSuppressionStoreTests runs the SuppressionStore suite.
func RunSuppressionStoreTests(t *testing.T, newStore func(t *testing.T) erasure.SuppressionStore) {
	t.Helper()
	run(t, newStore, []testCase[erasure.SuppressionStore]{
		{"Lookup/EmptyStore", testLookupEmpty},
		{"Lookup/InOrderSkippingMissing", testLookup},
		{"Add/IdempotentKeepsFirst", testAddIdempotent},
		{"Add/Concurrent", testAddConcurrent},
	})
}

func entry(n, request int) erasure.SuppressionEntry {
	return erasure.SuppressionEntry{Digest: fmt.Sprintf("digest-%03d", n), RequestID: id(request), AddedAt: epoch}
}

func testLookupEmpty(t *testing.T, s erasure.SuppressionStore) {
	got, err := s.Lookup(context.Background(), []string{"digest-001"})
	noErr(t, err, "Lookup")
	if len(got) != 0 {
		t.Fatalf("Lookup in an empty store found %d", len(got))
	}
}

func testLookup(t *testing.T, s erasure.SuppressionStore) {
	ctx := context.Background()
	noErr(t, s.Add(ctx, []erasure.SuppressionEntry{entry(1, 1), entry(2, 1), entry(3, 2)}), "Add")
	got, err := s.Lookup(ctx, []string{"digest-003", "digest-009", "digest-001"})
	noErr(t, err, "Lookup")
	if d := cmp.Diff([]erasure.SuppressionEntry{entry(3, 2), entry(1, 1)}, got, cmpOpts); d != "" {
		t.Fatalf("Lookup (-want +got):\n%s", d)
	}
}

func testAddIdempotent(t *testing.T, s erasure.SuppressionStore) {
	ctx := context.Background()
	noErr(t, s.Add(ctx, []erasure.SuppressionEntry{entry(1, 1)}), "Add")
	noErr(t, s.Add(ctx, []erasure.SuppressionEntry{entry(1, 2), entry(2, 2)}), "Add again")
	got, err := s.Lookup(ctx, []string{"digest-001", "digest-002"})
	noErr(t, err, "Lookup")
	if d := cmp.Diff([]erasure.SuppressionEntry{entry(1, 1), entry(2, 2)}, got, cmpOpts); d != "" {
		t.Fatalf("Lookup (-want +got):\n%s", d)
	}
}

func testAddConcurrent(t *testing.T, s erasure.SuppressionStore) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if err := s.Add(ctx, []erasure.SuppressionEntry{entry(i%4, i), entry(100+i, i)}); err != nil {
				t.Errorf("concurrent Add: %v", err)
			}
		})
	}
	wg.Wait()
	var digests []string
	for i := range 16 {
		digests = append(digests, entry(100+i, 0).Digest)
	}
	got, err := s.Lookup(ctx, digests)
	noErr(t, err, "Lookup")
	if len(got) != 16 {
		t.Fatalf("after concurrent adds, %d of 16 entries found", len(got))
	}
}
