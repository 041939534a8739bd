package erasure_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
)

// counting counts the calls that reach a MemoryStore.
type counting struct {
	m     *erasure.MemoryStore
	calls atomic.Int64
}

func (c *counting) Create(ctx context.Context, r erasure.Request) error {
	c.calls.Add(1)
	return c.m.Create(ctx, r)
}
func (c *counting) Get(ctx context.Context, id ulid.ULID) (erasure.Request, error) {
	c.calls.Add(1)
	return c.m.Get(ctx, id)
}
func (c *counting) Update(ctx context.Context, r erasure.Request) error {
	c.calls.Add(1)
	return c.m.Update(ctx, r)
}
func (c *counting) List(ctx context.Context, f erasure.Filter) ([]erasure.Request, error) {
	c.calls.Add(1)
	return c.m.List(ctx, f)
}
func (c *counting) Append(ctx context.Context, r erasure.StoredReceipt) error {
	c.calls.Add(1)
	return c.m.Append(ctx, r)
}
func (c *counting) Last(ctx context.Context) (erasure.StoredReceipt, error) {
	c.calls.Add(1)
	return c.m.Last(ctx)
}
func (c *counting) ByRequest(ctx context.Context, id ulid.ULID) ([]erasure.StoredReceipt, error) {
	c.calls.Add(1)
	return c.m.ByRequest(ctx, id)
}
func (c *counting) Since(ctx context.Context, after uint64, limit int) ([]erasure.StoredReceipt, error) {
	c.calls.Add(1)
	return c.m.Since(ctx, after, limit)
}
func (c *counting) Add(ctx context.Context, e []erasure.SuppressionEntry) error {
	c.calls.Add(1)
	return c.m.Add(ctx, e)
}
func (c *counting) Lookup(ctx context.Context, d []string) ([]erasure.SuppressionEntry, error) {
	c.calls.Add(1)
	return c.m.Lookup(ctx, d)
}

// perfHost is a host with 10 systems and 3 key scopes per subject (one
// kept for tax law), on counted memory stores and a real pii key store.
type perfHost struct {
	*fixture
	store   *counting
	systems []*table
}

func newPerfHost(tb testing.TB) *perfHost {
	h := &perfHost{store: &counting{m: erasure.NewMemoryStore()}}
	var systems []erasure.System
	for i := range 10 {
		tbl := newTable()
		h.systems = append(h.systems, tbl)
		systems = append(systems, erasure.System{Name: fmt.Sprintf("system-%d", i), Eraser: tbl})
	}
	inventory := erasure.InventoryFunc(func(context.Context, personaldata.SubjectID) ([]erasure.ScopeFacts, error) {
		return []erasure.ScopeFacts{
			{Scope: personaldata.DefaultScope},
			{Scope: "support"},
			{Scope: "fiscal-2026", Facts: erasure.RetentionFacts{Category: "billing", Kind: "invoice", Collected: day(2026, 2, 1)}},
		}, nil
	})
	h.fixture = newFixture(tb, nil)
	w, err := pii.NewLocalKeyWrapper("kek-1", make([]byte, 32))
	require.NoError(tb, err)
	h.prot, err = pii.New(h.keys, w, &pii.Options{Clock: h.clk.Now, IndexKey: hashKey})
	require.NoError(tb, err)
	c := h.store
	h.svc, err = erasure.New(erasure.Stores{Requests: c, Receipts: c, Suppression: c}, h.prot,
		erasure.Keys{Signing: signingKey, Hash: hashKey},
		&erasure.Options{Now: h.clk.Now, Systems: systems, Inventory: inventory, Retention: h.eval, Consent: h.ledger})
	require.NoError(tb, err)
	return h
}

// requests submits and verifies n erasure requests for new subjects, each
// with one row and one index entry in every system and data in every scope.
func (h *perfHost) requests(tb testing.TB, n int) []ulid.ULID {
	ids := make([]ulid.ULID, n)
	for i := range ids {
		s := personaldata.SubjectID(fmt.Sprintf("subject-%d-%d", i, time.Now().UnixNano()))
		for _, t := range h.systems {
			t.put(s, 1, 1)
		}
		c := customer{ID: string(s), Name: "name"}
		require.NoError(tb, h.prot.Protect(h.ctx, &c))
		r := h.submitVerified(tb, s, erasure.Email(string(s)+"@example.nl"))
		ids[i] = r.ID
	}
	return ids
}

// BenchmarkPlanExecute erases one subject with 10 systems and 3 scopes:
// Plan, then Execute. The baseline is the same work done by hand without
// a plan, persisted steps or a receipt: shred, ask each system, record the
// consent event. Reported: the ratio to the baseline and store calls.
func BenchmarkPlanExecute(b *testing.B) {
	h := newPerfHost(b)
	ids := h.requests(b, b.N)
	base := newPerfHost(b)
	subjects := make([]personaldata.SubjectID, b.N)
	for i := range subjects {
		subjects[i] = personaldata.SubjectID(fmt.Sprintf("base-%d", i))
		for _, t := range base.systems {
			t.put(subjects[i], 1, 1)
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	t0 := time.Now()
	for i := range b.N {
		for _, t := range base.systems {
			if _, err := t.Erase(ctx, erasure.EraseCall{Subject: subjects[i], PageSize: 500}); err != nil {
				b.Fatal(err)
			}
		}
		if err := (base.prot).ForgetScopes(ctx, subjects[i], personaldata.DefaultScope, "support"); err != nil {
			b.Fatal(err)
		}
		if _, err := base.ledger.Record(ctx, eraseChange(subjects[i])); err != nil {
			b.Fatal(err)
		}
	}
	baseline := time.Since(t0)
	h.store.calls.Store(0)
	t1 := time.Now()
	for i := range b.N {
		r, err := h.svc.Get(ctx, ids[i])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.svc.Plan(ctx, r.Subject); err != nil {
			b.Fatal(err)
		}
		if _, _, err := h.svc.Execute(ctx, ids[i], "staff"); err != nil {
			b.Fatal(err)
		}
	}
	ours := time.Since(t1)
	b.ReportMetric(float64(ours)/float64(b.N), "ns/erasure")
	b.ReportMetric(float64(ours)/float64(baseline), "x-by-hand")
	b.ReportMetric(float64(h.store.calls.Load())/float64(b.N), "store-calls/erasure")
}

// BenchmarkExecuteBatch erases 10,000 subjects in one ExecuteBatch and,
// for comparison, one Execute each, and reports the ratio of time and of
// store calls (batch / one at a time).
func BenchmarkExecuteBatch(b *testing.B) {
	n := benchBatchSize
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		one, batch := newPerfHost(b), newPerfHost(b)
		oneIDs, batchIDs := one.requests(b, n), batch.requests(b, n)
		one.store.calls.Store(0)
		batch.store.calls.Store(0)
		b.StartTimer()
		// Batch first, then one by one: the later run meets the larger heap,
		// so the comparison does not favour the batch.
		t1 := time.Now()
		rep, err := batch.svc.ExecuteBatch(ctx, batchIDs, "staff")
		if err != nil || rep.Completed != n {
			b.Fatal(rep, err)
		}
		batched := time.Since(t1)
		runtime.GC()
		t0 := time.Now()
		for _, id := range oneIDs {
			if _, _, err := one.svc.Execute(ctx, id, "staff"); err != nil {
				b.Fatal(err)
			}
		}
		single := time.Since(t0)
		b.ReportMetric(float64(batched)/float64(single), "time-batch/one-by-one")
		b.ReportMetric(float64(batch.store.calls.Load())/float64(one.store.calls.Load()), "calls-batch/one-by-one")
		b.ReportMetric(float64(batched)/float64(n), "ns/subject-in-batch")
		hostCalls := func(h *perfHost) (c int) {
			for _, t := range h.systems {
				c += t.calls + t.batchCalls
			}
			return c
		}
		b.ReportMetric(float64(hostCalls(batch))/float64(hostCalls(one)), "host-calls-batch/one-by-one")
	}
}

func TestExecuteBatch(t *testing.T) {
	t.Parallel()
	one, batch := newPerfHost(t), newPerfHost(t)
	const n = 50
	oneIDs, batchIDs := one.requests(t, n), batch.requests(t, n)
	one.store.calls.Store(0)
	batch.store.calls.Store(0)
	for _, id := range oneIDs {
		_, _, err := one.svc.Execute(one.ctx, id, "staff")
		require.NoError(t, err)
	}
	rep, err := batch.svc.ExecuteBatch(batch.ctx, append(batchIDs, ulid.Make()), "staff")
	require.ErrorIs(t, err, erasure.ErrNotFound)
	require.Equal(t, erasure.BatchReport{Completed: n, Failed: 1}, rep)
	for _, id := range batchIDs {
		r, err := batch.svc.Get(batch.ctx, id)
		require.NoError(t, err)
		require.Equal(t, erasure.StateCompleted, r.State)
		rcs, err := batch.svc.Receipts(batch.ctx, id)
		require.NoError(t, err)
		require.Len(t, rcs, 1)
		require.Len(t, rcs[0].Erased.Systems, 10)
	}
	got, err := batch.svc.VerifyReceipts(batch.ctx)
	require.NoError(t, err)
	require.Equal(t, n, got)
	// A batch stores each request once: a fraction of the store calls;
	// and asks each system once for all subjects.
	require.Less(t, batch.store.calls.Load()*3, one.store.calls.Load(), "batch %d calls, one by one %d", batch.store.calls.Load(), one.store.calls.Load())
	for i, tbl := range batch.systems {
		require.Equal(t, 1, tbl.batchCalls, "system %d", i)
		require.Zero(t, tbl.calls, "system %d", i)
		require.Equal(t, n, one.systems[i].calls)
	}
	// Running the batch again changes nothing.
	rep, err = batch.svc.ExecuteBatch(batch.ctx, batchIDs, "staff")
	require.NoError(t, err)
	require.Zero(t, rep.Completed)
}

// benchBatchSize is the batch of BenchmarkExecuteBatch.
var benchBatchSize = 10000

func TestExecuteBatchFallsBackAndReportsFailures(t *testing.T) {
	t.Parallel()
	h := newPerfHost(t)
	ids := h.requests(t, 5)
	h.systems[0].failBatch = true // one system refuses bulk deletes: asked one by one
	boom := &flaky{mode: "panic"}
	boom.broken.Store(true)
	svc, err := erasure.New(erasure.Stores{Requests: h.store, Receipts: h.store, Suppression: h.store}, h.prot,
		erasure.Keys{Signing: signingKey, Hash: hashKey},
		&erasure.Options{Now: h.clk.Now, Systems: []erasure.System{
			{Name: "system-0", Eraser: h.systems[0]}, {Name: "system-1", Eraser: h.systems[1]}, {Name: "search", Eraser: boom}}})
	require.NoError(t, err)
	rep, err := svc.ExecuteBatch(h.ctx, ids, "staff")
	require.ErrorIs(t, err, erasure.ErrEraserPanicked)
	require.Equal(t, erasure.BatchReport{Failed: 5}, rep)
	require.Equal(t, 5, h.systems[0].calls)
	require.Equal(t, 1, h.systems[1].batchCalls)

	boom.broken.Store(false)
	rep, err = svc.ExecuteBatch(h.ctx, ids, "staff")
	require.NoError(t, err)
	require.Equal(t, erasure.BatchReport{Completed: 5}, rep)
	require.Equal(t, 5, h.systems[0].calls, "systems done in the first run are not asked again")
	rcs, err := svc.Receipts(h.ctx, ids[0])
	require.NoError(t, err)
	require.Len(t, rcs, 1)
	var search erasure.SystemOutcome
	for _, so := range rcs[0].Erased.Systems {
		if so.Name == "search" {
			search = so
		}
	}
	require.Equal(t, 2, search.Attempts)
	require.Len(t, search.Failures, 1)
}
