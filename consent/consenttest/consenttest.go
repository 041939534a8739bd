// Package consenttest is the conformance suite of [consent.Store]: every
// implementation runs [RunConformanceTests] from its own tests.
//
//	func TestConformance(t *testing.T) {
//		consenttest.RunConformanceTests(t, func(t *testing.T) consent.Store {
//			return newMyStore(t) // empty, cleaned up with t.Cleanup
//		})
//	}
package consenttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// RunConformanceTests runs one subtest per behaviour of the Store contract,
// each on a fresh store from newStore, which must return an empty store and
// register its cleanup with t.Cleanup. Run it with -race: the concurrency
// subtests append to one subject from many goroutines.
func RunConformanceTests(t *testing.T, newStore func(t *testing.T) consent.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s consent.Store)
	}{
		{"EmptySubject", testEmptySubject},
		{"AppendAndRead", testAppendAndRead},
		{"AppendEmpty", testAppendEmpty},
		{"StaleHeadConflicts", testStaleHeadConflicts},
		{"BadSequenceRejected", testBadSequenceRejected},
		{"ResultsAreCopies", testResultsAreCopies},
		{"SubjectsPerPurpose", testSubjectsPerPurpose},
		{"SubjectsEarlyStop", testSubjectsEarlyStop},
		{"CanceledContext", testCanceledContext},
		{"ConcurrentAppend", testConcurrentAppend},
		{"ConcurrentLedgers", testConcurrentLedgers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

var idCounter atomic.Uint64

// rec returns a record of subject at seq. Its Data is arbitrary: stores
// treat it as opaque.
func rec(subject personaldata.SubjectID, seq uint64, purpose consent.PurposeID) consent.StoredEvent {
	var id ulid.ULID
	n := idCounter.Add(1)
	for i := range 8 {
		id[15-i] = byte(n >> (8 * i))
	}
	data := fmt.Appendf(nil, "%s/%d/%s/%d", subject, seq, purpose, n)
	h := sha256.Sum256(data)
	return consent.StoredEvent{Subject: subject, Seq: seq, ID: id.String(), Purpose: purpose, Data: data, Hash: h[:]}
}

func chain(subject personaldata.SubjectID, from, n int, purposes ...consent.PurposeID) []consent.StoredEvent {
	var out []consent.StoredEvent
	for i := range n {
		p := consent.PurposeID("")
		if len(purposes) > 0 {
			p = purposes[i%len(purposes)]
		}
		out = append(out, rec(subject, uint64(from+i), p))
	}
	return out
}

func events(t *testing.T, s consent.Store, subject personaldata.SubjectID) []consent.StoredEvent {
	t.Helper()
	recs, err := s.Events(context.Background(), subject)
	require.NoError(t, err)
	return recs
}

func equalRecords(t *testing.T, want, got []consent.StoredEvent) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].Subject, got[i].Subject, "record %d subject", i)
		assert.Equal(t, want[i].Seq, got[i].Seq, "record %d seq", i)
		assert.Equal(t, want[i].ID, got[i].ID, "record %d ID", i)
		assert.Equal(t, want[i].Purpose, got[i].Purpose, "record %d purpose", i)
		assert.True(t, bytes.Equal(want[i].Data, got[i].Data), "record %d data byte for byte", i)
		assert.True(t, bytes.Equal(want[i].Hash, got[i].Hash), "record %d hash byte for byte", i)
	}
}

func testEmptySubject(t *testing.T, s consent.Store) {
	assert.Empty(t, events(t, s, "nobody"))
	for subj, err := range s.Subjects(context.Background(), "") {
		t.Fatalf("empty store yielded %q, %v", subj, err)
	}
}

func testAppendAndRead(t *testing.T, s consent.Store) {
	ctx := context.Background()
	first := chain("s1", 1, 2, "newsletter")
	require.NoError(t, s.Append(ctx, "s1", 0, first))
	more := chain("s1", 3, 3, "newsletter", "")
	require.NoError(t, s.Append(ctx, "s1", 2, more))
	other := chain("s2", 1, 1, "testimonials")
	require.NoError(t, s.Append(ctx, "s2", 0, other))
	equalRecords(t, append(first, more...), events(t, s, "s1"))
	equalRecords(t, other, events(t, s, "s2"))
	// Binary data survives byte for byte.
	bin := rec("s3", 1, "x")
	bin.Data = []byte{0, 0xff, 0, 1, '\'', '"', '\\', 0}
	require.NoError(t, s.Append(ctx, "s3", 0, []consent.StoredEvent{bin}))
	equalRecords(t, []consent.StoredEvent{bin}, events(t, s, "s3"))
}

func testAppendEmpty(t *testing.T, s consent.Store) {
	require.NoError(t, s.Append(context.Background(), "s", 0, nil))
	assert.Empty(t, events(t, s, "s"))
}

func testStaleHeadConflicts(t *testing.T, s consent.Store) {
	ctx := context.Background()
	require.NoError(t, s.Append(ctx, "s", 0, chain("s", 1, 2)))
	before := events(t, s, "s")
	for _, after := range []uint64{0, 1, 3, 10} {
		err := s.Append(ctx, "s", after, chain("s", int(after)+1, 1))
		require.ErrorIs(t, err, consent.ErrConflict, "after=%d", after)
	}
	equalRecords(t, before, events(t, s, "s"))
	err := s.Append(ctx, "new", 1, chain("new", 2, 1))
	require.ErrorIs(t, err, consent.ErrConflict, "a new subject has no events")
	assert.Empty(t, events(t, s, "new"))
}

func testBadSequenceRejected(t *testing.T, s consent.Store) {
	ctx := context.Background()
	require.NoError(t, s.Append(ctx, "s", 0, chain("s", 1, 1)))
	before := events(t, s, "s")
	bad := [][]consent.StoredEvent{
		chain("s", 3, 1), // gap
		append(chain("s", 2, 1), rec("s", 4, "")), // gap inside the batch
		chain("other", 2, 1),                      // another subject
		{rec("s", 2, ""), rec("s", 2, "")},        // duplicate
	}
	for i, recs := range bad {
		err := s.Append(ctx, "s", 1, recs)
		require.Error(t, err, "case %d", i)
		equalRecords(t, before, events(t, s, "s"))
	}
	assert.Empty(t, events(t, s, "other"))
}

func testResultsAreCopies(t *testing.T, s consent.Store) {
	ctx := context.Background()
	recs := chain("s", 1, 1, "p")
	want := []consent.StoredEvent{recs[0]}
	want[0].Data = bytes.Clone(recs[0].Data)
	want[0].Hash = bytes.Clone(recs[0].Hash)
	require.NoError(t, s.Append(ctx, "s", 0, recs))
	recs[0].Data[0] ^= 1 // the caller reuses its buffer
	got := events(t, s, "s")
	equalRecords(t, want, got)
	got[0].Data[0] ^= 1
	got[0].Hash[0] ^= 1
	equalRecords(t, want, events(t, s, "s"))
}

func testSubjectsPerPurpose(t *testing.T, s consent.Store) {
	ctx := context.Background()
	require.NoError(t, s.Append(ctx, "a", 0, chain("a", 1, 3, "newsletter", "testimonials", "newsletter")))
	require.NoError(t, s.Append(ctx, "b", 0, chain("b", 1, 1, "testimonials")))
	require.NoError(t, s.Append(ctx, "c", 0, chain("c", 1, 1, "")))
	collect := func(p consent.PurposeID) []personaldata.SubjectID {
		var out []personaldata.SubjectID
		for subj, err := range s.Subjects(ctx, p) {
			require.NoError(t, err)
			out = append(out, subj)
		}
		slices.Sort(out)
		return out
	}
	assert.Equal(t, []personaldata.SubjectID{"a"}, collect("newsletter"))
	assert.Equal(t, []personaldata.SubjectID{"a", "b"}, collect("testimonials"))
	assert.Equal(t, []personaldata.SubjectID{"a", "b", "c"}, collect(""))
	assert.Empty(t, collect("nope"))
}

func testSubjectsEarlyStop(t *testing.T, s consent.Store) {
	ctx := context.Background()
	for i := range 10 {
		subj := personaldata.SubjectID(fmt.Sprintf("s%d", i))
		require.NoError(t, s.Append(ctx, subj, 0, chain(subj, 1, 1, "p")))
	}
	n := 0
	for _, err := range s.Subjects(ctx, "p") {
		require.NoError(t, err)
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)
}

func testCanceledContext(t *testing.T, s consent.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, s.Append(ctx, "s", 0, chain("s", 1, 1, "p")))
	cancel()
	err := s.Append(ctx, "s", 1, chain("s", 2, 1, "p"))
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.Events(ctx, "s")
	require.ErrorIs(t, err, context.Canceled)
	for _, err := range s.Subjects(ctx, "p") {
		if err != nil {
			require.ErrorIs(t, err, context.Canceled)
		}
	}
	assert.Len(t, events(t, s, "s"), 1)
}

// testConcurrentAppend: many writers race on one subject's head; exactly
// one wins per head, and no event is lost or duplicated.
func testConcurrentAppend(t *testing.T, s consent.Store) {
	ctx := context.Background()
	const writers, each = 8, 25
	var wins, conflicts atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for k := 0; k < each; {
				head := uint64(len(events(t, s, "hot")))
				r := rec("hot", head+1, consent.PurposeID(fmt.Sprintf("p%d", w)))
				err := s.Append(ctx, "hot", head, []consent.StoredEvent{r})
				switch {
				case err == nil:
					wins.Add(1)
					k++
				case errors.Is(err, consent.ErrConflict):
					conflicts.Add(1)
				default:
					t.Errorf("append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := events(t, s, "hot")
	require.Len(t, got, writers*each)
	assert.Equal(t, int64(writers*each), wins.Load())
	ids := map[string]bool{}
	for i, r := range got {
		assert.Equal(t, uint64(i+1), r.Seq)
		assert.False(t, ids[r.ID], "duplicate event %s", r.ID)
		ids[r.ID] = true
	}
	t.Logf("%d conflicts", conflicts.Load())
}

// testConcurrentLedgers: several ledgers (as if in several processes) record
// for one subject at once; every event lands once and the chain verifies.
func testConcurrentLedgers(t *testing.T, s consent.Store) {
	ctx := context.Background()
	since := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := &consent.Options{Purposes: []consent.Purpose{
		{ID: "newsletter", Basis: personaldata.Consent, Since: since},
	}}
	const ledgers, goroutines, each = 3, 3, 10
	var ls []*consent.Ledger
	for range ledgers {
		l, err := consent.New(ctx, s, opts)
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Close() })
		ls = append(ls, l)
	}
	var wg sync.WaitGroup
	for _, l := range ls {
		for range goroutines {
			wg.Go(func() {
				for k := range each {
					typ := consent.EventGrant
					if k%2 == 1 {
						typ = consent.EventWithdraw
					}
					_, err := l.Record(ctx, consent.Change{Type: typ, Subject: "hot", Purpose: "newsletter",
						Method: consent.MethodAPI, Actor: consent.ActorSubject})
					assert.NoError(t, err)
				}
			})
		}
	}
	wg.Wait()
	for _, l := range ls {
		require.NoError(t, l.Sync(ctx, "hot"))
		require.NoError(t, l.Verify(ctx, "hot"))
	}
	h, err := ls[0].History(ctx, "hot")
	require.NoError(t, err)
	require.Len(t, h, ledgers*goroutines*each)
	ids := map[ulid.ULID]bool{}
	for _, e := range h {
		assert.False(t, ids[e.ID], "duplicate event %s", e.ID)
		ids[e.ID] = true
	}
}
