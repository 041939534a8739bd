package sqlstore_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/sqlstore"
)

// reqCmp compares requests as a database round trip must keep them: times
// by instant, nil and empty slices alike.
var reqCmp = cmp.Options{cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }), cmpopts.EquateEmpty()}

// randomRequest returns a request with random fields, every time inside
// the range the store keeps (NextDue and UpdatedAt 1678 to 2261), text
// valid UTF-8.
func randomRequest(rng *rand.Rand, n int) erasure.Request {
	at := func() time.Time {
		if rng.IntN(5) == 0 {
			return time.Time{}
		}
		return t0.Add(time.Duration(rng.Int64N(int64(400 * 24 * time.Hour)))).Add(-200 * 24 * time.Hour)
	}
	text := func() string {
		return []string{"", "staff-1", "Zoë's reason: \"dubbel\" <verzoek> & meer", "日本語", "a\\b\x7f"}[rng.IntN(5)]
	}
	var id ulid.ULID
	_ = id.SetTime(ulid.Timestamp(t0.Add(time.Duration(n) * time.Millisecond)))
	_ = id.SetEntropy([]byte{0, 0, 0, 0, 0, 0, 0, 0, byte(n >> 8), byte(n)})
	r := erasure.Request{
		ID: id, Subject: personaldata.SubjectID(fmt.Sprintf("subject-%d", rng.IntN(4))),
		Kind: erasure.Kind(1 + rng.IntN(6)), State: erasure.State(1 + rng.IntN(6)),
		ReceivedAt: at(), VerifiedAt: at(), Due: at(), ExtendedMonths: rng.IntN(3),
		NextDue: at(), UpdatedAt: at(), Version: 1,
	}
	if rng.IntN(2) == 0 {
		r.Purposes = []string{"newsletter", text()}
		r.Digests = []string{"digest-" + fmt.Sprint(n)}
		r.RepeatOf = ulid.Make()
	}
	for i := range rng.IntN(4) {
		r.History = append(r.History, erasure.Transition{From: erasure.State(i), To: erasure.State(i + 1), At: at(), Actor: text(), Reason: text(), Evidence: text()})
	}
	for range rng.IntN(4) {
		st := erasure.Step{Kind: erasure.StepKind(1 + rng.IntN(7)), State: erasure.StepState(1 + rng.IntN(4)), Name: text(),
			Due: at(), RuleID: text(), Citation: text(), Explanation: text(), Cursor: text(),
			Removed: rng.IntN(100), Anonymised: rng.IntN(3), IndexEntries: rng.IntN(3), Attempts: rng.IntN(5), DoneAt: at()}
		if rng.IntN(2) == 0 {
			st.Scopes = []personaldata.Scope{"default", "fiscal-2026"}
			st.Retained = []erasure.Retained{{Count: 2, Reason: text()}}
			st.Failures = []string{text(), text()}
		}
		r.Steps = append(r.Steps, st)
	}
	return r
}

// randomFilter returns a filter with random fields, times sometimes
// outside the years the columns hold.
func randomFilter(rng *rand.Rand, ids []ulid.ULID) erasure.Filter {
	at := func() time.Time {
		switch rng.IntN(8) {
		case 0:
			return time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
		case 1:
			return time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
		case 2, 3, 4:
			return time.Time{}
		}
		return t0.Add(time.Duration(rng.Int64N(int64(400 * 24 * time.Hour)))).Add(-200 * 24 * time.Hour)
	}
	var f erasure.Filter
	if rng.IntN(3) == 0 {
		f.Subject = personaldata.SubjectID(fmt.Sprintf("subject-%d", rng.IntN(5)))
	}
	if rng.IntN(3) == 0 {
		f.Kind = erasure.Kind(rng.IntN(8))
	}
	f.Open = rng.IntN(3) == 0
	f.ScheduledBy, f.UpdatedSince = at(), at()
	if rng.IntN(3) == 0 {
		f.After = ids[rng.IntN(len(ids))]
	}
	if rng.IntN(2) == 0 {
		f.Limit = rng.IntN(12)
	}
	return f
}

// TestErasureListMatchesMemory stores the same random requests in the SQL
// store and the memory store and asks both the same random filters: the
// SQL translation must select what Filter.Match selects, in the same order
// and pages. Then every request reads back as stored.
func TestErasureListMatchesMemory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, _, _ := openErasureStore(t, b)
		mem := erasure.NewMemoryStore()
		rng := rand.New(rand.NewPCG(1, 2))
		var ids []ulid.ULID
		var all []erasure.Request
		for i := range 150 {
			r := randomRequest(rng, i)
			require.NoError(t, s.Create(ctx, r))
			require.NoError(t, mem.Create(ctx, r))
			ids, all = append(ids, r.ID), append(all, r)
		}
		for _, r := range all {
			got, err := s.Get(ctx, r.ID)
			require.NoError(t, err)
			if d := cmp.Diff(r, got, reqCmp); d != "" {
				t.Fatalf("request %s after a round trip (-stored +read):\n%s", r.ID, d)
			}
		}
		for i := range 300 {
			f := randomFilter(rng, ids)
			want, err := mem.List(ctx, f)
			require.NoError(t, err)
			got, err := s.List(ctx, f)
			require.NoError(t, err)
			if d := cmp.Diff(want, got, reqCmp); d != "" {
				t.Fatalf("filter %d %+v (-memory +sql):\n%s", i, f, d)
			}
		}
	})
}

// TestErasureStoreRefuses checks what the store will not keep exactly and
// the arguments it refuses before they reach the database.
func TestErasureStoreRefuses(t *testing.T) {
	b := backends(t)[1] // SQLite in memory
	ctx := t.Context()
	s, _, _ := openErasureStore(t, b)
	ok := randomRequest(rand.New(rand.NewPCG(3, 4)), 1)
	for _, c := range []struct {
		name string
		mod  func(r *erasure.Request)
	}{
		{"version 2", func(r *erasure.Request) { r.Version = 2 }},
		{"unknown kind", func(r *erasure.Request) { r.Kind = 42 }},
		{"unknown state", func(r *erasure.Request) { r.State = 0 }},
		{"unknown step", func(r *erasure.Request) { r.Steps = []erasure.Step{{Kind: 99, State: erasure.StepDone}} }},
		{"bad subject", func(r *erasure.Request) { r.Subject = "a\x00b" }},
		{"next due in 2300", func(r *erasure.Request) { r.NextDue = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"due in year 10000", func(r *erasure.Request) { r.Due = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
	} {
		r := ok.Clone()
		c.mod(&r)
		assert.ErrorIs(t, s.Create(ctx, r), sqlstore.ErrInvalidArgument, c.name)
	}
	_, err := s.Get(ctx, ok.ID)
	require.ErrorIs(t, err, erasure.ErrNotFound, "nothing was stored")
	err = s.Add(ctx, []erasure.SuppressionEntry{{Digest: "good"}, {Digest: "with space"}})
	require.ErrorIs(t, err, sqlstore.ErrInvalidArgument)
	got, err := s.Lookup(ctx, []string{"good", "with space", "", strings.Repeat("x", 65)})
	require.NoError(t, err)
	require.Empty(t, got, "a refused Add adds nothing")
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")
	_, err = s.Get(ctx, ok.ID)
	require.ErrorIs(t, err, sqlstore.ErrClosed)
	_, err = sqlstore.OpenErasureStore(ctx, nil, sqlstore.SQLite, nil)
	require.Error(t, err)
}
