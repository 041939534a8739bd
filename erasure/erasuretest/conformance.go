// Package erasuretest checks implementations of the storage interfaces of
// package erasure: [erasure.RequestStore], [erasure.ReceiptStore] and
// [erasure.SuppressionStore].
//
// A host that keeps requests in its own database runs the suites from a
// test:
//
//	func TestStores(t *testing.T) {
//		erasuretest.RunConformanceTests(t, func(t *testing.T) erasure.Stores {
//			return newEmptyStores(t)
//		})
//	}
//
// The suites call the constructor once per subtest and run subtests
// sequentially (no t.Parallel at subtest level), so an SQL implementation
// may run them against one database by emptying its tables (or using a
// fresh table prefix) in the constructor. Concurrency cases use goroutines
// on one store inside one subtest and are meaningful under -race. Subtests
// are named Method/Behaviour; assertions use only testing and go-cmp.
package erasuretest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
)

// RunConformanceTests runs the three suites on the stores newStores
// returns, which must be new and empty for each call.
func RunConformanceTests(t *testing.T, newStores func(t *testing.T) erasure.Stores) {
	t.Helper()
	t.Run("RequestStore", func(t *testing.T) {
		RunRequestStoreTests(t, func(t *testing.T) erasure.RequestStore { return newStores(t).Requests })
	})
	t.Run("ReceiptStore", func(t *testing.T) {
		RunReceiptStoreTests(t, func(t *testing.T) erasure.ReceiptStore { return newStores(t).Receipts })
	})
	t.Run("SuppressionStore", func(t *testing.T) {
		RunSuppressionStoreTests(t, func(t *testing.T) erasure.SuppressionStore { return newStores(t).Suppression })
	})
}

type testCase[S any] struct {
	name string
	fn   func(t *testing.T, s S)
}

func run[S any](t *testing.T, newStore func(t *testing.T) S, cases []testCase[S]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

var (
	epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	// cmpOpts compare times by instant and treat nil and empty slices alike,
	// which is all a database round trip must preserve.
	cmpOpts = cmp.Options{
		cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
		cmpopts.EquateEmpty(),
	}
)

// id returns a distinct, ordered ULID for n.
func id(n int) ulid.ULID {
	var entropy [10]byte
	binary.BigEndian.PutUint64(entropy[2:], uint64(n))
	var u ulid.ULID
	if err := u.SetTime(ulid.Timestamp(epoch.Add(time.Duration(n) * time.Millisecond))); err != nil {
		panic(err)
	}
	if err := u.SetEntropy(entropy[:]); err != nil {
		panic(err)
	}
	return u
}

// request returns a request with every field set.
func request(n int, subject personaldata.SubjectID) erasure.Request {
	at := epoch.Add(time.Duration(n) * time.Hour)
	return erasure.Request{
		ID: id(n), Subject: subject, Kind: erasure.KindErasure, Purposes: []string{"newsletter"},
		State: erasure.StateInProgress, ReceivedAt: at, VerifiedAt: at.Add(time.Minute), Due: at.AddDate(0, 1, 0),
		ExtendedMonths: 1, RepeatOf: id(n + 1000), Digests: []string{"digest-a", "digest-b"},
		History: []erasure.Transition{
			{To: erasure.StateReceived, At: at, Actor: "subject"},
			{From: erasure.StateReceived, To: erasure.StateIdentityVerified, At: at.Add(time.Minute), Actor: "staff-1", Reason: "r", Evidence: "e"},
		},
		Steps: []erasure.Step{
			{Kind: erasure.StepShred, State: erasure.StepDone, Scopes: []personaldata.Scope{"default"}, Attempts: 1, DoneAt: at},
			{Kind: erasure.StepErase, State: erasure.StepFailed, Name: "crm", Cursor: "page-2", Removed: 3, Anonymised: 4, IndexEntries: 1,
				Retained: []erasure.Retained{{Count: 2, Reason: "dispute"}}, Attempts: 2, Failures: []string{"timeout"}},
			{Kind: erasure.StepShredLater, State: erasure.StepScheduled, Scopes: []personaldata.Scope{"fiscal-2026"},
				Due: at.AddDate(7, 0, 0), RuleID: "invoices", Citation: "AWR art. 52 lid 4", Explanation: "kept"},
		},
		NextDue: at.AddDate(7, 0, 0), UpdatedAt: at.Add(time.Hour), Version: 1,
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// RunRequestStoreTests runs the RequestStore suite.
func RunRequestStoreTests(t *testing.T, newStore func(t *testing.T) erasure.RequestStore) {
	t.Helper()
	run(t, newStore, []testCase[erasure.RequestStore]{
		{"Create/RoundTripsEveryField", testCreateRoundTrip},
		{"Create/DuplicateIsErrExists", testCreateDuplicate},
		{"Create/StoresACopy", testCreateCopy},
		{"Get/UnknownIsErrNotFound", testGetUnknown},
		{"Update/NextVersionSucceeds", testUpdate},
		{"Update/StaleVersionIsErrConflict", testUpdateStale},
		{"Update/UnknownIsErrNotFound", testUpdateUnknown},
		{"Update/ConcurrentUpdatesOneWins", testUpdateConcurrent},
		{"List/Filters", testListFilters},
		{"List/PagesInIDOrder", testListPaging},
		{"List/CanceledContext", testListCanceled},
	})
}

func testCreateRoundTrip(t *testing.T, s erasure.RequestStore) {
	ctx := context.Background()
	r := request(1, "s-1")
	noErr(t, s.Create(ctx, r), "Create")
	got, err := s.Get(ctx, r.ID)
	noErr(t, err, "Get")
	if d := cmp.Diff(r, got, cmpOpts); d != "" {
		t.Fatalf("Get after Create (-want +got):\n%s", d)
	}
}

func testCreateDuplicate(t *testing.T, s erasure.RequestStore) {
	ctx := context.Background()
	r := request(1, "s-1")
	noErr(t, s.Create(ctx, r), "Create")
	other := request(1, "s-2")
	wantErr(t, s.Create(ctx, other), erasure.ErrExists, "second Create")
	got, err := s.Get(ctx, r.ID)
	noErr(t, err, "Get")
	if got.Subject != "s-1" {
		t.Fatalf("duplicate Create changed the stored request: subject %q", got.Subject)
	}
}

func testCreateCopy(t *testing.T, s erasure.RequestStore) {
	ctx := context.Background()
	r := request(1, "s-1")
	noErr(t, s.Create(ctx, r), "Create")
	r.Steps[0].Scopes[0] = "changed"
	r.History[0].Actor = "changed"
	got, err := s.Get(ctx, r.ID)
	noErr(t, err, "Get")
	if got.Steps[0].Scopes[0] != "default" || got.History[0].Actor != "subject" {
		t.Fatal("the store shares memory with the caller's request")
	}
}

func testGetUnknown(t *testing.T, s erasure.RequestStore) {
	_, err := s.Get(context.Background(), id(9))
	wantErr(t, err, erasure.ErrNotFound, "Get of an unknown ID")
}

func testUpdate(t *testing.T, s erasure.RequestStore) {
	ctx := context.Background()
	r := request(1, "s-1")
	noErr(t, s.Create(ctx, r), "Create")
	r.State = erasure.StateCompleted
	r.Steps = r.Steps[:1]
	r.Version = 2
	noErr(t, s.Update(ctx, r), "Update")
	got, err := s.Get(ctx, r.ID)
	noErr(t, err, "Get")
	if d := cmp.Diff(r, got, cmpOpts); d != "" {
		t.Fatalf("Get after Update (-want +got):\n%s", d)
	}
}

func testUpdateStale(t *testing.T, s erasure.RequestStore) {
	ctx := context.Background()
	r := request(1, "s-1")
	noErr(t, s.Create(ctx, r), "Create")
	for _, v := range []uint64{1, 3} {
		c := r
		c.Version, c.State = v, erasure.StateRefused
		wantErr(t, s.Update(ctx, c), erasure.ErrConflict, fmt.Sprintf("Update with version %d over 1", v))
	}
	got, err := s.Get(ctx, r.ID)
	noErr(t, err, "Get")
	if got.State != erasure.StateInProgress || got.Version != 1 {
		t.Fatalf("a refused Update changed the request: %s, version %d", got.State, got.Version)
	}
}

func testUpdateUnknown(t *testing.T, s erasure.RequestStore) {
	r := request(1, "s-1")
	r.Version = 2
	wantErr(t, s.Update(context.Background(), r), erasure.ErrNotFound, "Update of an unknown ID")
}

func testUpdateConcurrent(t *testing.T, s erasure.RequestStore) {
	ctx := context.Background()
	r := request(1, "s-1")
	noErr(t, s.Create(ctx, r), "Create")
	oneWins(t, "Update", "concurrent updates from version 1", func(i int) error {
		c := request(1, "s-1")
		c.Version = 2
		c.Steps[0].Attempts = i + 10
		return s.Update(ctx, c)
	})
}

// oneWins makes 16 concurrent calls of op and fails the test unless
// exactly one succeeds and the others fail with ErrConflict. what names
// op in errors; race names the calls in the failure message.
func oneWins(t *testing.T, what, race string, op func(i int) error) {
	t.Helper()
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range n {
		wg.Go(func() {
			err := op(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, erasure.ErrConflict):
				t.Errorf("concurrent %s: %v", what, err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d %s succeeded, want 1", wins, race)
	}
}

func testListFilters(t *testing.T, s erasure.RequestStore) {
	ctx := context.Background()
	a := request(1, "s-1") // erasure, in progress, next due in 7 years
	b := request(2, "s-1")
	b.Kind, b.State, b.NextDue, b.Steps = erasure.KindAccess, erasure.StateCompleted, time.Time{}, nil
	c := request(3, "s-2")
	c.State = erasure.StateRefused
	c.UpdatedAt = epoch.AddDate(1, 0, 0)
	for _, r := range []erasure.Request{c, a, b} {
		noErr(t, s.Create(ctx, r), "Create")
	}
	tests := []struct {
		name string
		f    erasure.Filter
		want []ulid.ULID
	}{
		{"all", erasure.Filter{}, []ulid.ULID{a.ID, b.ID, c.ID}},
		{"subject", erasure.Filter{Subject: "s-1"}, []ulid.ULID{a.ID, b.ID}},
		{"kind", erasure.Filter{Kind: erasure.KindAccess}, []ulid.ULID{b.ID}},
		{"open", erasure.Filter{Open: true}, []ulid.ULID{a.ID}},
		{"scheduled by", erasure.Filter{ScheduledBy: a.NextDue}, []ulid.ULID{a.ID}},
		{"scheduled by, later", erasure.Filter{ScheduledBy: c.NextDue}, []ulid.ULID{a.ID, c.ID}},
		{"scheduled by, too early", erasure.Filter{ScheduledBy: a.NextDue.Add(-time.Second)}, nil},
		{"updated since", erasure.Filter{UpdatedSince: c.UpdatedAt}, []ulid.ULID{c.ID}},
		{"subject and kind", erasure.Filter{Subject: "s-1", Kind: erasure.KindErasure}, []ulid.ULID{a.ID}},
		{"unknown subject", erasure.Filter{Subject: "nobody"}, nil},
	}
	for _, tc := range tests {
		got, err := s.List(ctx, tc.f)
		noErr(t, err, "List "+tc.name)
		var ids []ulid.ULID
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if d := cmp.Diff(tc.want, ids, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("List %s (-want +got):\n%s", tc.name, d)
		}
	}
}

func testListPaging(t *testing.T, s erasure.RequestStore) {
	ctx := context.Background()
	for _, n := range []int{5, 1, 4, 2, 3} {
		noErr(t, s.Create(ctx, request(n, "s-1")), "Create")
	}
	var got []ulid.ULID
	var after ulid.ULID
	for range 10 {
		page, err := s.List(ctx, erasure.Filter{After: after, Limit: 2})
		noErr(t, err, "List")
		if len(page) > 2 {
			t.Fatalf("List with Limit 2 returned %d", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			got = append(got, r.ID)
		}
		after = page[len(page)-1].ID
	}
	if d := cmp.Diff([]ulid.ULID{id(1), id(2), id(3), id(4), id(5)}, got); d != "" {
		t.Fatalf("pages (-want +got):\n%s", d)
	}
}

func testListCanceled(t *testing.T, s erasure.RequestStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.List(ctx, erasure.Filter{}); err == nil {
		t.Fatal("List with a canceled context succeeded")
	}
}
