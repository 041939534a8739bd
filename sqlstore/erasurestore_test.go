package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
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
		for i := range 150 {
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

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// crmRows is a host system holding rows per subject.
type crmRows struct {
	mu   sync.Mutex
	rows map[personaldata.SubjectID]int
}

func (c *crmRows) Erase(_ context.Context, call erasure.EraseCall) (erasure.EraseResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.rows[call.Subject]
	delete(c.rows, call.Subject)
	return erasure.EraseResult{Removed: n}, nil
}

var (
	erasureSigning = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	erasureHashKey = bytes.Repeat([]byte{7}, 32)
)

// profile is a host record protected by pii.
type profile struct {
	ID    string `pii:"subject"`
	Email string `pii:"email"`
}

// erasureHost is a host process: a Protector over a key store and an
// erasure Service over stores, sharing one clock and one CRM.
type erasureHost struct {
	prot *pii.Protector
	svc  *erasure.Service
}

func newErasureHost(t testing.TB, stores erasure.Stores, keys pii.KeyStore, clk *testClock, crm *crmRows) *erasureHost {
	t.Helper()
	w, err := pii.NewLocalKeyWrapper("kek-1", make([]byte, 32))
	require.NoError(t, err)
	prot, err := pii.New(keys, w, &pii.Options{Clock: clk.Now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = prot.Close() })
	svc, err := erasure.New(stores, prot, erasure.Keys{Signing: erasureSigning, Hash: erasureHashKey}, &erasure.Options{
		Now: clk.Now, Systems: []erasure.System{{Name: "crm", Eraser: crm}},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	return &erasureHost{prot: prot, svc: svc}
}

// erase submits, verifies and executes the erasure of subject.
func (h *erasureHost) erase(t testing.TB, subject personaldata.SubjectID, email string) (erasure.Request, *erasure.Receipt) {
	t.Helper()
	ctx := context.Background()
	r, err := h.svc.Submit(ctx, erasure.Submission{Subject: subject, Kind: erasure.KindErasure, Actor: "subject", Identifiers: []erasure.Identifier{erasure.Email(email)}})
	require.NoError(t, err)
	_, err = h.svc.VerifyIdentity(ctx, r.ID, "staff-1")
	require.NoError(t, err)
	r, rc, err := h.svc.Execute(ctx, r.ID, "staff-1")
	require.NoError(t, err)
	require.Equal(t, erasure.StateCompleted, r.State)
	return r, rc
}

// openErasureStores opens an erasure store and a key store on one
// database and prefix.
func openErasureStores(t testing.TB, db *sql.DB, b backend, prefix string) (*sqlstore.ErasureStore, *sqlstore.KeyStore) {
	t.Helper()
	es, err := sqlstore.OpenErasureStore(context.Background(), db, b.dialect, b.opts(prefix))
	require.NoError(t, err)
	ks, err := sqlstore.OpenKeyStore(context.Background(), db, b.dialect, b.opts(prefix))
	require.NoError(t, err)
	return es, ks
}

// TestErasureServiceSurvivesRestart executes an erasure through a Service
// on the SQL stores, then starts another Service on the same database, as
// after a restart: the request, its receipt and the suppression entry are
// there, the data stays unreadable, and the receipt chain goes on.
func TestErasureServiceSurvivesRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		db, prefix := b.fresh(t)
		clk := &testClock{t: t0}
		crm := &crmRows{rows: map[personaldata.SubjectID]int{"cust-1": 3, "cust-2": 1}}

		es, ks := openErasureStores(t, db, b, prefix)
		first := newErasureHost(t, es.Stores(), ks, clk, crm)
		rec := profile{ID: "cust-1", Email: "jan@example.nl"}
		require.NoError(t, first.prot.Protect(ctx, &rec))
		clk.Add(time.Hour)
		done, rc := first.erase(t, "cust-1", "Jan@Example.nl")
		require.NotNil(t, rc)
		require.NoError(t, first.svc.Close())
		require.NoError(t, first.prot.Close())
		require.NoError(t, es.Close())
		require.NoError(t, ks.Close())

		clk.Add(time.Hour)
		es, ks = openErasureStores(t, db, b, prefix)
		second := newErasureHost(t, es.Stores(), ks, clk, crm)
		got, err := second.svc.Get(ctx, done.ID)
		require.NoError(t, err)
		if d := cmp.Diff(done, got, reqCmp); d != "" {
			t.Fatalf("request after a restart (-before +after):\n%s", d)
		}
		rcs, err := second.svc.Receipts(ctx, done.ID)
		require.NoError(t, err)
		require.Len(t, rcs, 1)
		require.Equal(t, rc.Token, rcs[0].Token)
		hits, err := second.svc.Suppressed(ctx, erasure.Email("jan@example.NL "), erasure.Email("piet@example.nl"))
		require.NoError(t, err)
		require.Len(t, hits, 1)
		require.Equal(t, done.ID, hits[0].RequestID)
		copyOf := rec
		require.ErrorIs(t, second.prot.Reveal(ctx, &copyOf), pii.ErrErased)

		// The chain goes on from where the first process left it.
		second.erase(t, "cust-2", "piet@example.nl")
		n, err := second.svc.VerifyReceipts(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		last, err := es.Last(ctx)
		require.NoError(t, err)
		require.Equal(t, uint64(2), last.Seq)
	})
}

// copyFile copies the file at from to to, replacing it.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.Create(to)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

// TestErasureReapplyAfterKeyFileRestore keeps the keys in an SQLite file
// of their own and the request log in another. It copies the key file,
// erases a subject, puts the old copy back (a restored backup: the key is
// there again, the data readable), and runs Reapply from the time of the
// copy: the subject is erased again, the other subject untouched.
func TestErasureReapplyAfterKeyFileRestore(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	keysPath, backupPath := filepath.Join(dir, "keys.db"), filepath.Join(dir, "keys.backup.db")
	logDB := openSQLiteFile(t, filepath.Join(dir, "requests.db"), "wal")
	es, err := sqlstore.OpenErasureStore(ctx, logDB, sqlstore.SQLite, nil)
	require.NoError(t, err)
	clk := &testClock{t: t0}
	crm := &crmRows{rows: map[personaldata.SubjectID]int{"cust-1": 2, "cust-2": 2}}
	openKeys := func() (*sql.DB, *sqlstore.KeyStore) {
		db := openSQLiteFile(t, keysPath, "delete")
		ks, err := sqlstore.OpenKeyStore(ctx, db, sqlstore.SQLite, nil)
		require.NoError(t, err)
		return db, ks
	}

	keysDB, ks := openKeys()
	host := newErasureHost(t, es.Stores(), ks, clk, crm)
	erased, kept := profile{ID: "cust-1", Email: "jan@example.nl"}, profile{ID: "cust-2", Email: "piet@example.nl"}
	require.NoError(t, host.prot.Protect(ctx, &erased))
	require.NoError(t, host.prot.Protect(ctx, &kept))
	require.NoError(t, keysDB.Close())
	copyFile(t, keysPath, backupPath) // the backup, taken at backupAt
	backupAt := clk.Now()

	clk.Add(time.Hour)
	keysDB, ks = openKeys()
	host = newErasureHost(t, es.Stores(), ks, clk, crm)
	host.erase(t, "cust-1", "jan@example.nl")
	c := erased
	require.ErrorIs(t, host.prot.Reveal(ctx, &c), pii.ErrErased)
	require.NoError(t, keysDB.Close())

	// The restore: the old key file is back, and with it cust-1's key.
	copyFile(t, backupPath, keysPath)
	clk.Add(time.Hour)
	keysDB, ks = openKeys()
	host = newErasureHost(t, es.Stores(), ks, clk, crm)
	c = erased
	require.NoError(t, host.prot.Reveal(ctx, &c), "the restored key file brought the key back")
	require.Equal(t, "jan@example.nl", c.Email)

	rep, err := host.svc.Reapply(ctx, backupAt)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Requests)
	require.Positive(t, rep.Steps)

	_, ks2 := openKeys() // another process, with no key cache
	after := newErasureHost(t, es.Stores(), ks2, clk, crm)
	c = erased
	require.ErrorIs(t, after.prot.Reveal(ctx, &c), pii.ErrErased, "Reapply erased cust-1 again")
	again := profile{ID: "cust-1", Email: "jan@example.nl"}
	require.ErrorIs(t, after.prot.Protect(ctx, &again), pii.ErrForgotten, "cust-1 is forgotten again: no new key")
	c = kept
	require.NoError(t, after.prot.Reveal(ctx, &c), "cust-2 was not erased")
	require.Equal(t, "piet@example.nl", c.Email)
	require.NoError(t, keysDB.Close())
}

// rawBody reads the body and version columns of request id as stored.
func rawBody(t *testing.T, db *sql.DB, d sqlstore.Dialect, prefix string, id ulid.ULID) ([]byte, int64) {
	t.Helper()
	var body []byte
	var version int64
	q := sqlstore.Rebind(d, "SELECT body, version FROM "+prefix+"requests WHERE id = ?")
	require.NoError(t, db.QueryRowContext(t.Context(), q, id.String()).Scan(&body, &version))
	return body, version
}

// TestErasureCorruptRequestRow damages a stored request in ways a disk,
// a bad restore or a hand edit could, and checks that every read reports
// it as ErrCorrupt without quoting the row, that the Service fails on it
// and writes nothing over it, and that the request works again once the
// row is repaired.
func TestErasureCorruptRequestRow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, db, prefix := openErasureStore(t, b)
		clk := &testClock{t: t0}
		host := newErasureHost(t, s.Stores(), pii.NewMemoryKeyStore(), clk, &crmRows{rows: map[personaldata.SubjectID]int{}})
		r, err := host.svc.Submit(ctx, erasure.Submission{Subject: "cust-1", Kind: erasure.KindErasure, Actor: "subject",
			Identifiers: []erasure.Identifier{erasure.Email("jan@example.nl")}})
		require.NoError(t, err)
		other, err := host.svc.Submit(ctx, erasure.Submission{Subject: "cust-2", Kind: erasure.KindErasure, Actor: "subject"})
		require.NoError(t, err)
		good, version := rawBody(t, db, b.dialect, prefix, r.ID)
		otherBody, _ := rawBody(t, db, b.dialect, prefix, other.ID)
		digest := r.Digests[0]
		require.Contains(t, string(good), digest)
		setBody := sqlstore.Rebind(b.dialect, "UPDATE "+prefix+"requests SET body = ? WHERE id = ?")
		replace := func(old, new string) []byte {
			require.Contains(t, string(good), old)
			return bytes.Replace(good, []byte(old), []byte(new), 1)
		}
		for _, c := range []struct {
			name string
			body []byte
		}{
			{"NotJSON", []byte("not json at all")},
			{"Truncated", good[:len(good)/2]},
			{"TruncatedByOne", good[:len(good)-1]},
			{"Empty", []byte{}},
			{"TrailingData", append(bytes.Clone(good), `{"v":1}`...)},
			{"OtherRequestsBody", otherBody},
			{"NewerFormat", replace(`"v":1`, `"v":2`)},
			{"UnknownField", replace(`"v":1`, `"v":1,"surprise":true`)},
			{"UnknownState", replace(`"to":1`, `"to":77`)},
			{"WrongType", replace(`"to":1`, `"to":"received"`)},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := db.ExecContext(ctx, setBody, c.body, r.ID.String())
				require.NoError(t, err)
				_, err = s.Get(ctx, r.ID)
				require.ErrorIs(t, err, sqlstore.ErrCorrupt)
				require.Contains(t, err.Error(), r.ID.String(), "the error names the request")
				require.NotContains(t, err.Error(), digest, "the error quotes no part of the body")
				t.Logf("Get: %v", err)
				_, err = s.List(ctx, erasure.Filter{Subject: "cust-1"})
				require.ErrorIs(t, err, sqlstore.ErrCorrupt)
				_, err = host.svc.VerifyIdentity(ctx, r.ID, "staff-1")
				require.ErrorIs(t, err, sqlstore.ErrCorrupt)
				_, _, err = host.svc.Execute(ctx, r.ID, "staff-1")
				require.Error(t, err)
				stored, v := rawBody(t, db, b.dialect, prefix, r.ID)
				require.Equal(t, c.body, nonNilBytes(stored), "the corrupt row is left as it is")
				require.Equal(t, version, v)
				got, err := host.svc.Get(ctx, other.ID)
				require.NoError(t, err, "other requests are read as before")
				require.Equal(t, other.ID, got.ID)
			})
		}
		_, err = db.ExecContext(ctx, sqlstore.Rebind(b.dialect, "UPDATE "+prefix+"requests SET body = ?, state = 99 WHERE id = ?"), good, r.ID.String())
		require.NoError(t, err)
		_, err = s.Get(ctx, r.ID)
		require.ErrorIs(t, err, sqlstore.ErrCorrupt, "an unknown state in its column")

		_, err = db.ExecContext(ctx, sqlstore.Rebind(b.dialect, "UPDATE "+prefix+"requests SET state = ? WHERE id = ?"), int(r.State), r.ID.String())
		require.NoError(t, err)
		_, err = host.svc.VerifyIdentity(ctx, r.ID, "staff-1")
		require.NoError(t, err, "the repaired row works again")
	})
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// proxiedErasureStore opens an erasure store on the tables of prefix on
// b's server, reached through a proxy that cuts connections on demand.
func proxiedErasureStore(t *testing.T, b backend, prefix string) (*sqlstore.ErasureStore, *proxy) {
	t.Helper()
	db, p := proxiedDB(t, b)
	s, err := sqlstore.OpenErasureStore(t.Context(), db, b.dialect, b.opts(prefix))
	require.NoError(t, err)
	return s, p
}

// TestErasureConnectionCut cuts the connection of the erasure store's
// writes half-way: while it sends a request's update, at COMMIT, and in
// the third INSERT of a large suppression batch. The database keeps all
// of a write or none of it, and repeating the call settles it.
func TestErasureConnectionCut(t *testing.T) {
	for _, b := range serverBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			direct, _, prefix := openErasureStore(t, b)
			cut, p := proxiedErasureStore(t, b, prefix)
			commit := map[sqlstore.Dialect]string{sqlstore.PostgreSQL: "commit", sqlstore.MySQL: "COMMIT"}[b.dialect]

			t.Run("UpdateStatement", func(t *testing.T) {
				r := randomRequest(rand.New(rand.NewPCG(5, 6)), 1)
				require.NoError(t, direct.Create(ctx, r))
				next := r.Clone()
				next.Version, next.State = 2, erasure.StateCompleted
				next.Steps = append(next.Steps, erasure.Step{Kind: erasure.StepErase, State: erasure.StepDone, Name: "marker-update-1"})
				p.cutOn("marker-update-1", 1)
				err := cut.Update(ctx, next)
				require.Error(t, err, "Update over a cut connection")
				require.Equal(t, int32(1), p.cuts.Swap(0), "the proxy cut")
				t.Logf("Update over a cut connection: %v", err)
				got, err := direct.Get(ctx, r.ID)
				require.NoError(t, err)
				if d := cmp.Diff(r, got, reqCmp); d != "" {
					t.Fatalf("the request changed (-before +after):\n%s", d)
				}
				require.NoError(t, cut.Update(ctx, next), "Update again, on a new connection")
				got, err = direct.Get(ctx, r.ID)
				require.NoError(t, err)
				require.Empty(t, cmp.Diff(next, got, reqCmp))
			})

			t.Run("UpdateCommit", func(t *testing.T) {
				r := randomRequest(rand.New(rand.NewPCG(7, 8)), 2)
				require.NoError(t, direct.Create(ctx, r))
				next := r.Clone()
				next.Version, next.State = 2, erasure.StateRefused
				p.cutOn(commit, 1)
				err := cut.Update(ctx, next)
				require.Equal(t, int32(1), p.cuts.Swap(0), "the proxy cut")
				got, gerr := direct.Get(ctx, r.ID)
				require.NoError(t, gerr)
				switch got.Version {
				case 1: // nothing written
					require.Error(t, err)
					require.Empty(t, cmp.Diff(r, got, reqCmp), "the request changed")
					require.NoError(t, cut.Update(ctx, next), "Update again")
				case 2: // committed before the cut: all of it
					require.Empty(t, cmp.Diff(next, got, reqCmp), "the update was half written")
					require.ErrorIs(t, cut.Update(ctx, next), erasure.ErrConflict, "Update again finds it done")
				default:
					t.Fatalf("version %d after a cut update", got.Version)
				}
			})

			t.Run("AppendReceipt", func(t *testing.T) {
				rc := erasure.StoredReceipt{Seq: 1, ID: ulid.Make(), RequestID: ulid.Make(), IssuedAt: t0, Token: "head.marker-receipt-1.sig"}
				p.cutOn("marker-receipt-1", 1)
				require.Error(t, cut.Append(ctx, rc))
				require.Equal(t, int32(1), p.cuts.Swap(0), "the proxy cut")
				_, err := direct.Last(ctx)
				require.ErrorIs(t, err, erasure.ErrNotFound, "no receipt stored")
				require.NoError(t, cut.Append(ctx, rc), "Append again")
			})

			t.Run("SuppressionBatch", func(t *testing.T) {
				var entries []erasure.SuppressionEntry
				var digests []string
				for i := range 600 {
					d := fmt.Sprintf("batch-digest-%03d", i)
					if i == 550 {
						d = "marker-digest-550" // sent only with the third INSERT
					}
					entries = append(entries, erasure.SuppressionEntry{Digest: d, RequestID: ulid.Make(), AddedAt: t0})
					digests = append(digests, d)
				}
				p.cutOn("marker-digest-550", 1)
				require.Error(t, cut.Add(ctx, entries))
				require.Equal(t, int32(1), p.cuts.Swap(0), "the proxy cut")
				got, err := direct.Lookup(ctx, digests)
				require.NoError(t, err)
				require.Empty(t, got, "no entry of the batch was added")
				require.NoError(t, cut.Add(ctx, entries), "Add again")
				got, err = direct.Lookup(ctx, digests)
				require.NoError(t, err)
				require.Len(t, got, 600)
			})
		})
	}
}
