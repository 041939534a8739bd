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

	"github.com/google/go-cmp/cmp"
	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// RunConformanceTests runs one subtest per behaviour of the [consent.Store]
// contract, each on a fresh store from newStore, which must return an empty
// store and register its cleanup with t.Cleanup. Subtests run sequentially;
// see the package documentation.
func RunConformanceTests(t *testing.T, newStore func(t *testing.T) consent.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s consent.Store)
	}{
		{"Events/EmptySubject", testEmptySubject},
		{"Events/ResultsAreCopies", testResultsAreCopies},
		{"Append/AppendsInOrder", testAppendAndRead},
		{"Append/NothingIsNoOp", testAppendEmpty},
		{"Append/StaleHeadConflicts", testStaleHeadConflicts},
		{"Append/BadSequenceRejected", testBadSequenceRejected},
		{"Append/ConcurrentWritersOneWinnerPerHead", testConcurrentAppend},
		{"Subjects/PerPurpose", testSubjectsPerPurpose},
		{"Subjects/EarlyStop", testSubjectsEarlyStop},
		{"Define/StoresInOrder", testDefineInOrder},
		{"Define/Idempotent", testDefineIdempotent},
		{"Define/OtherDataConflicts", testDefineConflict},
		{"Define/ConcurrentDefinitionsOneWins", testDefineConcurrent},
		{"AllMethods/CanceledContext", testCanceledContext},
		{"Ledger/RestartAnswersAsBefore", testLedgerRestart},
		{"Ledger/EightLedgersUnderContention", testConcurrentLedgers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
}

var idCounter atomic.Uint64

// rec returns an event of subject at seq. Its Data is arbitrary: stores
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
	if err != nil {
		t.Fatalf("Events(%q): %v", subject, err)
	}
	return recs
}

// equalEvents compares byte for byte; nil and empty slices are equal.
func equalEvents(t *testing.T, want, got []consent.StoredEvent) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmp.Comparer(bytes.Equal)); diff != "" {
		t.Fatalf("events differ (-want +got):\n%s", diff)
	}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustIs(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got %v, want an error wrapping %v", what, err, target)
	}
}

func testEmptySubject(t *testing.T, s consent.Store) {
	if got := events(t, s, "nobody"); len(got) != 0 {
		t.Fatalf("Events of an unknown subject: %d events", len(got))
	}
	for subj, err := range s.Subjects(context.Background(), "") {
		t.Fatalf("empty store yielded %q, %v", subj, err)
	}
	defs, err := s.Definitions(context.Background())
	must(t, err, "Definitions")
	if len(defs) != 0 {
		t.Fatalf("empty store has %d definitions", len(defs))
	}
}

func testAppendAndRead(t *testing.T, s consent.Store) {
	ctx := context.Background()
	first := chain("s1", 1, 2, "newsletter")
	must(t, s.Append(ctx, "s1", 0, first), "Append")
	more := chain("s1", 3, 3, "newsletter", "")
	must(t, s.Append(ctx, "s1", 2, more), "Append")
	other := chain("s2", 1, 1, "testimonials")
	must(t, s.Append(ctx, "s2", 0, other), "Append")
	equalEvents(t, append(first, more...), events(t, s, "s1"))
	equalEvents(t, other, events(t, s, "s2"))
	// Binary data survives byte for byte.
	bin := rec("s3", 1, "x")
	bin.Data = []byte{0, 0xff, 0, 1, '\'', '"', '\\', 0}
	must(t, s.Append(ctx, "s3", 0, []consent.StoredEvent{bin}), "Append")
	equalEvents(t, []consent.StoredEvent{bin}, events(t, s, "s3"))
}

func testAppendEmpty(t *testing.T, s consent.Store) {
	must(t, s.Append(context.Background(), "s", 0, nil), "Append(nil)")
	if got := events(t, s, "s"); len(got) != 0 {
		t.Fatalf("%d events after appending none", len(got))
	}
}

func testStaleHeadConflicts(t *testing.T, s consent.Store) {
	ctx := context.Background()
	must(t, s.Append(ctx, "s", 0, chain("s", 1, 2)), "Append")
	before := events(t, s, "s")
	for _, after := range []uint64{0, 1, 3, 10} {
		err := s.Append(ctx, "s", after, chain("s", int(after)+1, 1))
		mustIs(t, err, consent.ErrConflict, fmt.Sprintf("Append after %d of 2", after))
	}
	equalEvents(t, before, events(t, s, "s"))
	mustIs(t, s.Append(ctx, "new", 1, chain("new", 2, 1)), consent.ErrConflict, "a new subject has no events")
	if got := events(t, s, "new"); len(got) != 0 {
		t.Fatalf("a conflicting append left %d events", len(got))
	}
}

func testBadSequenceRejected(t *testing.T, s consent.Store) {
	ctx := context.Background()
	must(t, s.Append(ctx, "s", 0, chain("s", 1, 1)), "Append")
	before := events(t, s, "s")
	bad := [][]consent.StoredEvent{
		chain("s", 3, 1), // gap
		append(chain("s", 2, 1), rec("s", 4, "")), // gap inside the batch
		chain("other", 2, 1),                      // another subject
		{rec("s", 2, ""), rec("s", 2, "")},        // duplicate
	}
	for i, recs := range bad {
		if err := s.Append(ctx, "s", 1, recs); err == nil {
			t.Fatalf("case %d: bad sequence accepted", i)
		}
		equalEvents(t, before, events(t, s, "s"))
	}
	if got := events(t, s, "other"); len(got) != 0 {
		t.Fatalf("events of another subject stored")
	}
}

func testResultsAreCopies(t *testing.T, s consent.Store) {
	ctx := context.Background()
	recs := chain("s", 1, 1, "p")
	want := []consent.StoredEvent{recs[0]}
	want[0].Data = bytes.Clone(recs[0].Data)
	want[0].Hash = bytes.Clone(recs[0].Hash)
	must(t, s.Append(ctx, "s", 0, recs), "Append")
	recs[0].Data[0] ^= 1 // the caller reuses its buffer
	got := events(t, s, "s")
	equalEvents(t, want, got)
	got[0].Data[0] ^= 1
	got[0].Hash[0] ^= 1
	equalEvents(t, want, events(t, s, "s"))
}

func testSubjectsPerPurpose(t *testing.T, s consent.Store) {
	ctx := context.Background()
	must(t, s.Append(ctx, "a", 0, chain("a", 1, 3, "newsletter", "testimonials", "newsletter")), "Append")
	must(t, s.Append(ctx, "b", 0, chain("b", 1, 1, "testimonials")), "Append")
	must(t, s.Append(ctx, "c", 0, chain("c", 1, 1, "")), "Append")
	collect := func(p consent.PurposeID) []personaldata.SubjectID {
		out := []personaldata.SubjectID{}
		for subj, err := range s.Subjects(ctx, p) {
			must(t, err, "Subjects")
			out = append(out, subj)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		purpose consent.PurposeID
		want    []personaldata.SubjectID
	}{
		{"newsletter", []personaldata.SubjectID{"a"}},
		{"testimonials", []personaldata.SubjectID{"a", "b"}},
		{"", []personaldata.SubjectID{"a", "b", "c"}},
		{"nope", []personaldata.SubjectID{}},
	} {
		if diff := cmp.Diff(tc.want, collect(tc.purpose)); diff != "" {
			t.Errorf("Subjects(%q) (-want +got):\n%s", tc.purpose, diff)
		}
	}
}

func testSubjectsEarlyStop(t *testing.T, s consent.Store) {
	ctx := context.Background()
	for i := range 10 {
		subj := personaldata.SubjectID(fmt.Sprintf("s%d", i))
		must(t, s.Append(ctx, subj, 0, chain(subj, 1, 1, "p")), "Append")
	}
	n := 0
	for _, err := range s.Subjects(ctx, "p") {
		must(t, err, "Subjects")
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Fatalf("iterated %d subjects after stopping at 3", n)
	}
}

func def(kind consent.DefinitionKind, id, data string) consent.StoredDefinition {
	return consent.StoredDefinition{Kind: kind, ID: id, Data: []byte(data)}
}

func testDefineInOrder(t *testing.T, s consent.Store) {
	ctx := context.Background()
	want := []consent.StoredDefinition{
		def(consent.DefinitionPurpose, "b", `{"id":"b"}`),
		def(consent.DefinitionPurpose, "a", `{"id":"a"}`),
		def(consent.DefinitionNotice, "a", "\x00binary\xff"),
		def(consent.DefinitionNotice, "2016-01", `{"version":"2016-01"}`),
	}
	for _, d := range want {
		buf := bytes.Clone(d.Data)
		must(t, s.Define(ctx, consent.StoredDefinition{Kind: d.Kind, ID: d.ID, Data: buf}), "Define")
		buf[0] ^= 1 // the caller reuses its buffer
	}
	got, err := s.Definitions(ctx)
	must(t, err, "Definitions")
	if diff := cmp.Diff(want, got, cmp.Comparer(bytes.Equal)); diff != "" {
		t.Fatalf("Definitions in the order first stored (-want +got):\n%s", diff)
	}
	got[0].Data[0] ^= 1
	again, err := s.Definitions(ctx)
	must(t, err, "Definitions")
	if diff := cmp.Diff(want, again, cmp.Comparer(bytes.Equal)); diff != "" {
		t.Fatalf("Definitions returned shared bytes (-want +got):\n%s", diff)
	}
}

func testDefineIdempotent(t *testing.T, s consent.Store) {
	ctx := context.Background()
	d := def(consent.DefinitionPurpose, "p", `{"id":"p"}`)
	for range 3 {
		must(t, s.Define(ctx, d), "Define again")
	}
	got, err := s.Definitions(ctx)
	must(t, err, "Definitions")
	if len(got) != 1 {
		t.Fatalf("%d definitions after defining one three times", len(got))
	}
}

func testDefineConflict(t *testing.T, s consent.Store) {
	ctx := context.Background()
	d := def(consent.DefinitionNotice, "v1", `{"version":"v1"}`)
	must(t, s.Define(ctx, d), "Define")
	mustIs(t, s.Define(ctx, def(consent.DefinitionNotice, "v1", `{"version":"v1","x":1}`)), consent.ErrConflict, "Define with other data")
	// The same ID of another kind is another definition.
	must(t, s.Define(ctx, def(consent.DefinitionPurpose, "v1", `{}`)), "Define of another kind")
	got, err := s.Definitions(ctx)
	must(t, err, "Definitions")
	if len(got) != 2 || !bytes.Equal(got[0].Data, d.Data) {
		t.Fatalf("definitions after a conflict: %q", got)
	}
}

func testDefineConcurrent(t *testing.T, s consent.Store) {
	ctx := context.Background()
	var wins, conflicts atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			err := s.Define(ctx, def(consent.DefinitionPurpose, "p", fmt.Sprintf(`{"writer":%d}`, i)))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, consent.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("Define: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != 7 {
		t.Fatalf("%d writers won and %d conflicted, want 1 and 7", wins.Load(), conflicts.Load())
	}
}

func testCanceledContext(t *testing.T, s consent.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	must(t, s.Append(ctx, "s", 0, chain("s", 1, 1, "p")), "Append")
	cancel()
	mustIs(t, s.Append(ctx, "s", 1, chain("s", 2, 1, "p")), context.Canceled, "Append")
	_, err := s.Events(ctx, "s")
	mustIs(t, err, context.Canceled, "Events")
	for _, err := range s.Subjects(ctx, "p") {
		if err != nil {
			mustIs(t, err, context.Canceled, "Subjects")
		}
	}
	mustIs(t, s.Define(ctx, def(consent.DefinitionPurpose, "p", "{}")), context.Canceled, "Define")
	_, err = s.Definitions(ctx)
	mustIs(t, err, context.Canceled, "Definitions")
	if got := events(t, s, "s"); len(got) != 1 {
		t.Fatalf("%d events after a canceled append", len(got))
	}
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
				recs, err := s.Events(ctx, "hot")
				if err != nil {
					t.Errorf("Events: %v", err)
					return
				}
				head := uint64(len(recs))
				r := rec("hot", head+1, consent.PurposeID(fmt.Sprintf("p%d", w)))
				err = s.Append(ctx, "hot", head, []consent.StoredEvent{r})
				switch {
				case err == nil:
					wins.Add(1)
					k++
				case errors.Is(err, consent.ErrConflict):
					conflicts.Add(1)
				default:
					t.Errorf("Append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := events(t, s, "hot")
	if len(got) != writers*each || wins.Load() != writers*each {
		t.Fatalf("%d events and %d wins, want %d", len(got), wins.Load(), writers*each)
	}
	ids := map[string]bool{}
	for i, r := range got {
		if r.Seq != uint64(i+1) || ids[r.ID] {
			t.Fatalf("event %d: seq %d, duplicate %v", i, r.Seq, ids[r.ID])
		}
		ids[r.ID] = true
	}
	t.Logf("%d conflicts", conflicts.Load())
}
