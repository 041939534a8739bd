package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/pii"
)

// BenchmarkErasureExecute executes the erasure of one subject (one host
// system, the default scope, one identifier) through a Service on the
// erasure store of each backend and, in the same run, on the memory
// store, and reports the ratio. Keys live in memory on both sides, so the
// ratio is the cost of the erasure store's calls: reading the request,
// storing the plan and each step, the suppression entry, the receipt.
func BenchmarkErasureExecute(b *testing.B) {
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			if be.skip != "" {
				b.Skip(be.skip)
			}
			s, _, _ := openErasureStore(b, be)
			clk := &testClock{t: t0}
			crm := &crmRows{rows: map[personaldata.SubjectID]int{}}
			onSQL := newErasureHost(b, s.Stores(), pii.NewMemoryKeyStore(), clk, crm)
			inMemory := newErasureHost(b, erasure.NewMemoryStore().Stores(), pii.NewMemoryKeyStore(), clk, crm)
			ctx := context.Background()
			prepare := func(h *erasureHost, i int) erasure.Request {
				subject := personaldata.SubjectID(fmt.Sprintf("bench-%d", i))
				crm.mu.Lock()
				crm.rows[subject] = 2
				crm.mu.Unlock()
				p := profile{ID: string(subject), Email: "someone@example.nl"}
				if err := h.prot.Protect(ctx, &p); err != nil {
					b.Fatal(err)
				}
				r, err := h.svc.Submit(ctx, erasure.Submission{Subject: subject, Kind: erasure.KindErasure, Actor: "subject",
					Identifiers: []erasure.Identifier{erasure.Email(string(subject) + "@example.nl")}})
				if err != nil {
					b.Fatal(err)
				}
				if r, err = h.svc.VerifyIdentity(ctx, r.ID, "staff-1"); err != nil {
					b.Fatal(err)
				}
				return r
			}
			var sqlTime, memTime time.Duration
			iters := 0
			for b.Loop() {
				clk.Add(time.Second)
				for _, side := range []struct {
					h   *erasureHost
					sum *time.Duration
				}{{inMemory, &memTime}, {onSQL, &sqlTime}} {
					r := prepare(side.h, iters)
					start := time.Now()
					if _, _, err := side.h.svc.Execute(ctx, r.ID, "staff-1"); err != nil {
						b.Fatal(err)
					}
					*side.sum += time.Since(start)
				}
				iters++
			}
			b.ReportMetric(float64(sqlTime.Nanoseconds())/float64(iters), "ns/execute")
			b.ReportMetric(float64(memTime.Nanoseconds())/float64(iters), "ns/execute-memory")
			b.ReportMetric(float64(sqlTime)/float64(memTime), "x-memory")
		})
	}
}

// BenchmarkErasureSuppressed looks up 1,000 suppression digests in one
// Lookup, and in 1,000 Lookups of one, on the erasure store of each
// backend, and in one Lookup on the memory store in the same run. It
// reports how much faster the one call is, its ratio to the memory store,
// and the time of Service.Suppressed for the same 1,000 identifiers (which
// adds normalising and hashing each one).
func BenchmarkErasureSuppressed(b *testing.B) {
	const n = 1000
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			if be.skip != "" {
				b.Skip(be.skip)
			}
			ctx := context.Background()
			s, _, _ := openErasureStore(b, be)
			clk := &testClock{t: t0}
			host := newErasureHost(b, s.Stores(), pii.NewMemoryKeyStore(), clk, &crmRows{})
			mem := erasure.NewMemoryStore()
			ids := make([]erasure.Identifier, n)
			digests := make([]string, n)
			entries := make([]erasure.SuppressionEntry, n)
			for i := range ids {
				ids[i] = erasure.Email(fmt.Sprintf("person-%d@example.nl", i))
				d, err := host.svc.Digest(ids[i])
				if err != nil {
					b.Fatal(err)
				}
				digests[i] = d
				entries[i] = erasure.SuppressionEntry{Digest: d, AddedAt: t0}
			}
			if err := s.Add(ctx, entries); err != nil {
				b.Fatal(err)
			}
			if err := mem.Add(ctx, entries); err != nil {
				b.Fatal(err)
			}
			lookup := func(st erasure.SuppressionStore, ds []string) time.Duration {
				start := time.Now()
				hits, err := st.Lookup(ctx, ds)
				if err != nil || len(hits) != len(ds) {
					b.Fatalf("%d hits of %d, %v", len(hits), len(ds), err)
				}
				return time.Since(start)
			}
			var batch, singles, memBatch, service time.Duration
			iters := 0
			for b.Loop() {
				memBatch += lookup(mem, digests)
				batch += lookup(s, digests)
				for _, d := range digests {
					singles += lookup(s, []string{d})
				}
				start := time.Now()
				if hits, err := host.svc.Suppressed(ctx, ids...); err != nil || len(hits) != n {
					b.Fatalf("Suppressed: %d hits, %v", len(hits), err)
				}
				service += time.Since(start)
				iters++
			}
			b.ReportMetric(float64(batch.Nanoseconds())/float64(iters), "ns/batch")
			b.ReportMetric(float64(singles.Nanoseconds())/float64(iters), "ns/singles")
			b.ReportMetric(float64(service.Nanoseconds())/float64(iters), "ns/suppressed")
			b.ReportMetric(float64(singles)/float64(batch), "batch-speedup")
			b.ReportMetric(float64(batch)/float64(memBatch), "x-memory")
		})
	}
}
