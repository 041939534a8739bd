package erasuretest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/personaldata/personaldata/erasure"
)

// RunReceiptStoreTests runs the ReceiptStore suite.
func RunReceiptStoreTests(t *testing.T, newStore func(t *testing.T) erasure.ReceiptStore) {
	t.Helper()
	run(t, newStore, []testCase[erasure.ReceiptStore]{
		{"Last/EmptyIsErrNotFound", testLastEmpty},
		{"Append/ChainsFromOne", testAppendChain},
		{"Append/GapIsErrConflict", testAppendGap},
		{"Append/DuplicateIDIsErrExists", testAppendDuplicate},
		{"Append/ConcurrentAppendsOnePerSeq", testAppendConcurrent},
		{"ByRequest/OrderedBySeq", testByRequest},
		{"Since/Pages", testSince},
	})
}

func receipt(seq int, request int) erasure.StoredReceipt {
	return erasure.StoredReceipt{Seq: uint64(seq), ID: id(seq + 5000), RequestID: id(request),
		IssuedAt: epoch.Add(time.Duration(seq) * time.Minute), Token: fmt.Sprintf("header.payload-%d.signature", seq)}
}

func testLastEmpty(t *testing.T, s erasure.ReceiptStore) {
	_, err := s.Last(context.Background())
	wantErr(t, err, erasure.ErrNotFound, "Last of an empty chain")
}

func testAppendChain(t *testing.T, s erasure.ReceiptStore) {
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		noErr(t, s.Append(ctx, receipt(i, i)), "Append")
		last, err := s.Last(ctx)
		noErr(t, err, "Last")
		if d := cmp.Diff(receipt(i, i), last, cmpOpts); d != "" {
			t.Fatalf("Last after Append %d (-want +got):\n%s", i, d)
		}
	}
}

func testAppendGap(t *testing.T, s erasure.ReceiptStore) {
	ctx := context.Background()
	wantErr(t, s.Append(ctx, receipt(2, 1)), erasure.ErrConflict, "Append of seq 2 to an empty chain")
	noErr(t, s.Append(ctx, receipt(1, 1)), "Append")
	again := receipt(1, 2)
	again.ID = id(7000)
	wantErr(t, s.Append(ctx, again), erasure.ErrConflict, "Append of seq 1 again")
	wantErr(t, s.Append(ctx, receipt(3, 2)), erasure.ErrConflict, "Append of seq 3 after 1")
	last, err := s.Last(ctx)
	noErr(t, err, "Last")
	if last.Seq != 1 {
		t.Fatalf("refused appends changed the chain: last seq %d", last.Seq)
	}
}

func testAppendDuplicate(t *testing.T, s erasure.ReceiptStore) {
	ctx := context.Background()
	noErr(t, s.Append(ctx, receipt(1, 1)), "Append")
	dup := receipt(2, 1)
	dup.ID = receipt(1, 1).ID
	err := s.Append(ctx, dup)
	if !errors.Is(err, erasure.ErrExists) {
		t.Fatalf("Append of a stored ID: %v, want ErrExists", err)
	}
}

func testAppendConcurrent(t *testing.T, s erasure.ReceiptStore) {
	ctx := context.Background()
	oneWins(t, "Append", "concurrent appends of seq 1", func(i int) error {
		r := receipt(1, i)
		r.ID = id(9000 + i)
		return s.Append(ctx, r)
	})
}

func testByRequest(t *testing.T, s erasure.ReceiptStore) {
	ctx := context.Background()
	for i, req := range []int{7, 8, 7} {
		noErr(t, s.Append(ctx, receipt(i+1, req)), "Append")
	}
	got, err := s.ByRequest(ctx, id(7))
	noErr(t, err, "ByRequest")
	if d := cmp.Diff([]erasure.StoredReceipt{receipt(1, 7), receipt(3, 7)}, got, cmpOpts); d != "" {
		t.Fatalf("ByRequest (-want +got):\n%s", d)
	}
	none, err := s.ByRequest(ctx, id(99))
	noErr(t, err, "ByRequest of a request without receipts")
	if len(none) != 0 {
		t.Fatalf("ByRequest of a request without receipts: %d", len(none))
	}
}

func testSince(t *testing.T, s erasure.ReceiptStore) {
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		noErr(t, s.Append(ctx, receipt(i, i)), "Append")
	}
	got, err := s.Since(ctx, 1, 2)
	noErr(t, err, "Since")
	if d := cmp.Diff([]erasure.StoredReceipt{receipt(2, 2), receipt(3, 3)}, got, cmpOpts); d != "" {
		t.Fatalf("Since(1, 2) (-want +got):\n%s", d)
	}
	all, err := s.Since(ctx, 0, 0)
	noErr(t, err, "Since")
	if len(all) != 5 {
		t.Fatalf("Since(0, 0) returned %d, want 5", len(all))
	}
	end, err := s.Since(ctx, 5, 0)
	noErr(t, err, "Since")
	if len(end) != 0 {
		t.Fatalf("Since(5, 0) returned %d, want 0", len(end))
	}
}
