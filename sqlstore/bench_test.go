package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/personaldata/personaldata/pii"
)

// Benchmark sizes default small, so that a plain -bench run is quick; set
// PERSONALDATA_BENCH_KEYS and PERSONALDATA_BENCH_RECORDS (e.g. to 10000) for
// the sizes the performance budgets name.
func benchSize(b *testing.B, env string, def int) int {
	if v := os.Getenv(env); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number", env, v)
		}
		return n
	}
	return def
}

// BenchmarkGetKeys compares one GetKeys of n refs with n GetKeys of one ref
// each, on every backend, on one store and the same keys (the store
// caches nothing), and reports the ratio (budget: over 20x). Both are run
// once before timing, so neither pays for the first use of a connection
// or statement. It also times n queries of SELECT 1 on the same database,
// the least one statement per ref costs there, and reports how far below
// that the batch goes (floor-speedup): no single GetKeys that asks the
// database once can beat it, so on SQLite, in process with no round trip
// to save, it bounds batch-speedup.
func BenchmarkGetKeys(b *testing.B) {
	n := benchSize(b, "PERSONALDATA_BENCH_KEYS", 1000)
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			if be.skip != "" {
				b.Skip(be.skip)
			}
			ctx := context.Background()
			s, db, _ := openKeyStore(b, be)
			refs := make([]pii.KeyRef, n)
			for i := range refs {
				refs[i] = ref(fmt.Sprintf("subject-%06d", i), "default")
				if _, err := s.CreateKey(ctx, refs[i], wrapped(), t0); err != nil {
					b.Fatal(err)
				}
			}
			singles := func() {
				for _, r := range refs {
					if _, err := s.GetKeys(ctx, []pii.KeyRef{r}); err != nil {
						b.Fatal(err)
					}
				}
			}
			if _, err := s.GetKeys(ctx, refs); err != nil {
				b.Fatal(err)
			}
			singles()
			var batch, single, floor time.Duration
			iters := 0
			for b.Loop() {
				start := time.Now()
				if _, err := s.GetKeys(ctx, refs); err != nil {
					b.Fatal(err)
				}
				batch += time.Since(start)
				start = time.Now()
				singles()
				single += time.Since(start)
				start = time.Now()
				for range refs {
					var one int
					if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
						b.Fatal(err)
					}
				}
				floor += time.Since(start)
				iters++
			}
			b.ReportMetric(float64(batch.Nanoseconds())/float64(iters), "ns/batch")
			b.ReportMetric(float64(single.Nanoseconds())/float64(iters), "ns/singles")
			b.ReportMetric(float64(single)/float64(batch), "batch-speedup")
			b.ReportMetric(float64(floor)/float64(batch), "floor-speedup")
		})
	}
}

type benchRecord struct {
	ID    string `pii:"subject"`
	Email string `pii:"email"`
	Name  string `pii:"name"`
	Plan  string
}

var benchRound atomic.Int64

// protectReveal protects n records of n new subjects with a fresh
// Protector (creating n keys), then reveals them with another (reading
// the n keys back in batches), and returns how long that took.
func protectReveal(b *testing.B, store pii.KeyStore, w pii.KeyWrapper, n int) time.Duration {
	ctx := context.Background()
	round := benchRound.Add(1)
	recs := make([]benchRecord, n)
	for i := range recs {
		recs[i] = benchRecord{ID: fmt.Sprintf("r%d-s%06d", round, i), Email: "someone@example.nl", Name: "Some One", Plan: "pro"}
	}
	p1, err := pii.New(store, w, nil)
	if err != nil {
		b.Fatal(err)
	}
	p2, err := pii.New(store, w, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p1.Close()
	defer p2.Close()
	start := time.Now()
	if err := p1.Protect(ctx, recs); err != nil {
		b.Fatal(err)
	}
	if err := p2.Reveal(ctx, recs); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkProtectReveal protects and reveals n records of n subjects on
// every backend and on the memory store in the same run, and reports the
// ratio of the two.
func BenchmarkProtectReveal(b *testing.B) {
	n := benchSize(b, "PERSONALDATA_BENCH_RECORDS", 1000)
	w, err := pii.NewLocalKeyWrapper("bench", make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			if be.skip != "" {
				b.Skip(be.skip)
			}
			s, _, _ := openKeyStore(b, be)
			var onSQL, inMemory time.Duration
			iters := 0
			for b.Loop() {
				inMemory += protectReveal(b, pii.NewMemoryKeyStore(), w, n)
				onSQL += protectReveal(b, s, w, n)
				iters++
			}
			b.ReportMetric(float64(onSQL.Nanoseconds())/float64(iters*n), "ns/record")
			b.ReportMetric(float64(inMemory.Nanoseconds())/float64(iters*n), "ns/record-memory")
			b.ReportMetric(float64(onSQL)/float64(inMemory), "x-memory")
		})
	}
}
