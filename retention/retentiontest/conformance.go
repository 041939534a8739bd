// Package retentiontest checks implementations of [retention.HoldStore]
// against the contract written on that interface.
//
// A host that keeps legal holds in its own storage runs the suite from a
// test:
//
//	func TestHoldStore(t *testing.T) {
//		retentiontest.RunConformanceTests(t, func(t *testing.T) retention.HoldStore {
//			return newEmptyStore(t)
//		})
//	}
//
// # Parallelism
//
// The suite calls newStore once per subtest and runs its subtests one after
// another, never in parallel, so an SQL implementation may run the whole
// suite against one database by emptying its tables (or choosing a fresh
// table prefix) in newStore. Concurrency is tested inside single subtests,
// with goroutines sharing one store; run the suite under the race detector.
//
// Subtests are named Method/Behaviour, such as "Release/SecondReleaseRefused",
// so one behaviour can be run with -run. Assertions use only the standard
// testing package and go-cmp.
package retentiontest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

// RunConformanceTests runs one subtest per behaviour of the
// [retention.HoldStore] contract, sequentially. newStore must return a new,
// empty store for each call; it may register clean-up with t.Cleanup.
func RunConformanceTests(t *testing.T, newStore func(t *testing.T) retention.HoldStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s retention.HoldStore)
	}{
		{"Place/StoresEveryField", testPlaceAndGet},
		{"Place/DuplicateIDRefused", testPlaceDuplicate},
		{"Place/InvalidHoldRefused", testPlaceInvalid},
		{"Get/UnknownIDNotFound", testGetUnknown},
		{"Active/BySubjectAndRecord", testActive},
		{"Active/EmptySubjectAndKeyMatchNothing", testActiveEmpty},
		{"Release/MarksReleased", testRelease},
		{"Release/SecondReleaseRefused", testReleaseTwice},
		{"Release/UnknownIDNotFound", testReleaseUnknown},
		{"List/OrderedByIDReleasedOnRequest", testList},
		{"AllMethods/CanceledContextRefused", testCanceled},
		{"Release/ConcurrentPlaceAndRelease", testConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

var (
	epoch   = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	idMu    sync.Mutex
	idCount uint64
)

// newID returns distinct, increasing ULIDs for the tests.
func newID() ulid.ULID {
	idMu.Lock()
	defer idMu.Unlock()
	idCount++
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(epoch)); err != nil {
		panic(err)
	}
	var e [10]byte
	for i, n := 9, idCount; i >= 0; i, n = i-1, n>>8 {
		e[i] = byte(n)
	}
	if err := id.SetEntropy(e[:]); err != nil {
		panic(err)
	}
	return id
}

func subjectHold(subject personaldata.SubjectID) retention.Hold {
	return retention.Hold{
		ID: newID(), Subject: subject, Reason: "case 2026/17", Citation: "Rv art. 843a",
		PlacedBy: "staff-7", PlacedAt: epoch,
	}
}

func recordHold(key string) retention.Hold {
	return retention.Hold{ID: newID(), RecordKey: key, Reason: "audit A-3", PlacedBy: "staff-8", PlacedAt: epoch}
}

func mustPlace(t *testing.T, s retention.HoldStore, h retention.Hold) {
	t.Helper()
	if err := s.Place(context.Background(), h); err != nil {
		t.Fatalf("Place(%s): %v", h, err)
	}
}

func sameHold(t *testing.T, got, want retention.Hold) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("hold (-want +got):\n%s", diff)
	}
}

func ids(hs []retention.Hold) []ulid.ULID {
	out := make([]ulid.ULID, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

func sameIDs(t *testing.T, got []retention.Hold, want ...ulid.ULID) {
	t.Helper()
	if diff := cmp.Diff(want, ids(got), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("hold IDs (-want +got):\n%s", diff)
	}
}

func testPlaceAndGet(t *testing.T, s retention.HoldStore) {
	ctx := context.Background()
	h := subjectHold("subject-1")
	mustPlace(t, s, h)
	got, err := s.Get(ctx, h.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameHold(t, got, h)
	r := recordHold("invoice-9")
	mustPlace(t, s, r)
	got, err = s.Get(ctx, r.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameHold(t, got, r)
}

func testPlaceDuplicate(t *testing.T, s retention.HoldStore) {
	h := subjectHold("subject-1")
	mustPlace(t, s, h)
	dup := h
	dup.Subject, dup.Reason = "subject-2", "other"
	if err := s.Place(context.Background(), dup); !errors.Is(err, retention.ErrHoldExists) {
		t.Fatalf("Place duplicate: err = %v, want ErrHoldExists", err)
	}
	got, err := s.Get(context.Background(), h.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameHold(t, got, h)
}

func testPlaceInvalid(t *testing.T, s retention.HoldStore) {
	for _, tc := range []struct {
		name string
		edit func(*retention.Hold)
	}{
		{"no ID", func(h *retention.Hold) { h.ID = ulid.ULID{} }},
		{"no subject or record", func(h *retention.Hold) { h.Subject = "" }},
		{"subject and record", func(h *retention.Hold) { h.RecordKey = "r-1" }},
		{"no reason", func(h *retention.Hold) { h.Reason = "" }},
		{"already released", func(h *retention.Hold) { h.ReleasedAt = epoch }},
	} {
		h := subjectHold("subject-1")
		tc.edit(&h)
		if err := s.Place(context.Background(), h); !errors.Is(err, retention.ErrInvalidHold) {
			t.Errorf("%s: err = %v, want ErrInvalidHold", tc.name, err)
		}
	}
	all, err := s.List(context.Background(), true)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(all) != 0 {
		t.Fatalf("invalid holds were stored: %v", all)
	}
}

func testGetUnknown(t *testing.T, s retention.HoldStore) {
	if _, err := s.Get(context.Background(), newID()); !errors.Is(err, retention.ErrHoldNotFound) {
		t.Fatalf("Get unknown: err = %v, want ErrHoldNotFound", err)
	}
}

func testActive(t *testing.T, s retention.HoldStore) {
	ctx := context.Background()
	a := subjectHold("subject-1")
	b := recordHold("invoice-9")
	c := subjectHold("subject-2")
	d := subjectHold("subject-1")
	for _, h := range []retention.Hold{a, b, c, d} {
		mustPlace(t, s, h)
	}
	for _, tc := range []struct {
		subject personaldata.SubjectID
		key     string
		want    []ulid.ULID
	}{
		{"subject-1", "", []ulid.ULID{a.ID, d.ID}},
		{"subject-1", "invoice-9", []ulid.ULID{a.ID, b.ID, d.ID}},
		{"", "invoice-9", []ulid.ULID{b.ID}},
		{"subject-2", "other", []ulid.ULID{c.ID}},
		{"subject-3", "invoice-1", nil},
	} {
		got, err := s.Active(ctx, tc.subject, tc.key)
		if err != nil {
			t.Fatalf("Active(%q, %q): %v", tc.subject, tc.key, err)
		}
		if diff := cmp.Diff(tc.want, ids(got), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Active(%q, %q) IDs (-want +got):\n%s", tc.subject, tc.key, diff)
		}
	}
}

func testActiveEmpty(t *testing.T, s retention.HoldStore) {
	got, err := s.Active(context.Background(), "", "")
	if err != nil || len(got) != 0 {
		t.Fatalf("Active on empty store = %v, %v; want none, nil", got, err)
	}
	mustPlace(t, s, subjectHold("subject-1"))
	got, err = s.Active(context.Background(), "", "")
	if err != nil || len(got) != 0 {
		t.Fatalf("Active with empty subject and key = %v, %v; want none, nil", got, err)
	}
}

func testRelease(t *testing.T, s retention.HoldStore) {
	ctx := context.Background()
	h := subjectHold("subject-1")
	mustPlace(t, s, h)
	at := epoch.Add(48 * time.Hour)
	got, err := s.Release(ctx, h.ID, at, "staff-9")
	if err != nil {
		t.Fatalf("Release: %v", err)
	}
	want := h
	want.ReleasedAt, want.ReleasedBy = at, "staff-9"
	sameHold(t, got, want)
	stored, err := s.Get(ctx, h.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameHold(t, stored, want)
	active, err := s.Active(ctx, "subject-1", "")
	if err != nil || len(active) != 0 {
		t.Fatalf("Active after release = %v, %v; want none", active, err)
	}
}

func testReleaseTwice(t *testing.T, s retention.HoldStore) {
	ctx := context.Background()
	h := recordHold("invoice-9")
	mustPlace(t, s, h)
	first := epoch.Add(time.Hour)
	if _, err := s.Release(ctx, h.ID, first, "staff-9"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if _, err := s.Release(ctx, h.ID, first.Add(time.Hour), "staff-10"); !errors.Is(err, retention.ErrHoldReleased) {
		t.Fatalf("second Release: err = %v, want ErrHoldReleased", err)
	}
	got, err := s.Get(ctx, h.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !got.ReleasedAt.Equal(first) || got.ReleasedBy != "staff-9" {
		t.Fatalf("second Release changed the hold: %+v", got)
	}
}

func testReleaseUnknown(t *testing.T, s retention.HoldStore) {
	if _, err := s.Release(context.Background(), newID(), epoch, "staff-9"); !errors.Is(err, retention.ErrHoldNotFound) {
		t.Fatalf("Release unknown: err = %v, want ErrHoldNotFound", err)
	}
}

func testList(t *testing.T, s retention.HoldStore) {
	ctx := context.Background()
	a, b, c := subjectHold("subject-1"), recordHold("r-1"), subjectHold("subject-2")
	// Place out of ID order.
	for _, h := range []retention.Hold{c, a, b} {
		mustPlace(t, s, h)
	}
	if _, err := s.Release(ctx, b.ID, epoch.Add(time.Hour), "staff-9"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	active, err := s.List(ctx, false)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	sameIDs(t, active, a.ID, c.ID)
	all, err := s.List(ctx, true)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	sameIDs(t, all, a.ID, b.ID, c.ID)
}

func testCanceled(t *testing.T, s retention.HoldStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := subjectHold("subject-1")
	if err := s.Place(ctx, h); !errors.Is(err, context.Canceled) {
		t.Errorf("Place: err = %v, want context.Canceled", err)
	}
	if _, err := s.Active(ctx, "subject-1", ""); !errors.Is(err, context.Canceled) {
		t.Errorf("Active: err = %v, want context.Canceled", err)
	}
	if _, err := s.Get(ctx, h.ID); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: err = %v, want context.Canceled", err)
	}
	if _, err := s.Release(ctx, h.ID, epoch, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Release: err = %v, want context.Canceled", err)
	}
	if _, err := s.List(ctx, true); !errors.Is(err, context.Canceled) {
		t.Errorf("List: err = %v, want context.Canceled", err)
	}
}

// testConcurrent places, releases and reads holds from many goroutines:
// every hold placed is reported active until released, each release
// succeeds exactly once, and nothing is lost.
func testConcurrent(t *testing.T, s retention.HoldStore) {
	ctx := context.Background()
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker*4)
	released := make(chan ulid.ULID, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			subject := personaldata.SubjectID(fmt.Sprintf("subject-%d", w%3))
			for range perWorker {
				h := subjectHold(subject)
				if err := s.Place(ctx, h); err != nil {
					errs <- err
					return
				}
				active, err := s.Active(ctx, subject, "")
				if err != nil {
					errs <- err
					return
				}
				found := false
				for _, a := range active {
					found = found || a.ID == h.ID
				}
				if !found {
					errs <- fmt.Errorf("hold %s not active right after Place", h.ID)
				}
				// Two goroutines race to release; exactly one wins.
				var wins, already int
				var mu sync.Mutex
				var rg sync.WaitGroup
				for range 2 {
					rg.Go(func() {
						_, err := s.Release(ctx, h.ID, epoch.Add(time.Hour), "staff")
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							wins++
						case errors.Is(err, retention.ErrHoldReleased):
							already++
						default:
							errs <- err
						}
					})
				}
				rg.Wait()
				if wins != 1 || already != 1 {
					errs <- fmt.Errorf("hold %s: %d successful releases, %d refused; want 1 and 1", h.ID, wins, already)
				}
				released <- h.ID
				if _, err := s.List(ctx, false); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	close(released)
	for err := range errs {
		t.Error(err)
	}
	all, err := s.List(ctx, true)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(all) != workers*perWorker {
		t.Fatalf("List has %d holds, want %d", len(all), workers*perWorker)
	}
	for _, h := range all {
		if h.ReleasedAt.IsZero() {
			t.Errorf("hold %s not released", h.ID)
		}
	}
	active, err := s.List(ctx, false)
	if err != nil || len(active) != 0 {
		t.Fatalf("active holds after all releases: %v, %v", active, err)
	}
}
