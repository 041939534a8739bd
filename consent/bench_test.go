package consent_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

var benchPurposes = []consent.PurposeID{newsletter, testimonials, offers, statistics, senderAcme}

type benchLedger struct {
	l        *consent.Ledger
	subjects []personaldata.SubjectID
}

var (
	decideOnce  sync.Once
	decideBench benchLedger
	smallOnce   sync.Once
	smallBench  benchLedger
	filterOnce  sync.Once
	filterBench benchLedger
)

func benchOptions() *consent.Options {
	now := startAt
	return &consent.Options{
		Clock:    func() time.Time { return now },
		Entropy:  rand.NewChaCha8([32]byte{9}),
		Purposes: seedPurposes(),
		Notices:  seedNotices(),
	}
}

// populate records, for each of n subjects, events per purpose events on
// each of purposes, in one batch per subject, from several goroutines.
func populate(tb testing.TB, n, events int, purposes []consent.PurposeID) benchLedger {
	tb.Helper()
	ctx := context.Background()
	l, err := consent.New(ctx, consent.NewMemoryStore(), benchOptions())
	if err != nil {
		tb.Fatal(err)
	}
	subjects := make([]personaldata.SubjectID, n)
	for i := range subjects {
		subjects[i] = personaldata.SubjectID(fmt.Sprintf("subject-%07d", i))
	}
	types := []consent.EventType{consent.EventGrant, consent.EventWithdraw, consent.EventGrant, consent.EventObject}
	var wg sync.WaitGroup
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			batch := make([]consent.Change, 0, events*len(purposes))
			for i := w; i < n; i += workers {
				batch = batch[:0]
				for k := range events {
					for pi, p := range purposes {
						typ := types[(i+k+pi)%len(types)]
						if k == 0 {
							typ = consent.EventGrant
						}
						if i%3 == 0 && k == events-1 {
							typ = consent.EventWithdraw
						}
						batch = append(batch, consent.Change{Type: typ, Subject: subjects[i], Purpose: p,
							EffectiveAt: day(k*30 + pi), Method: consent.MethodForm, Actor: consent.ActorSubject})
					}
				}
				if _, err := l.RecordBatch(ctx, batch); err != nil {
					tb.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return benchLedger{l: l, subjects: subjects}
}

var sink int

// BenchmarkDecide decides on a ledger of 100,000 subjects x 5 purposes x 4
// events and reports the ratio to a plain map lookup (budget: under 20x).
// Small is a ledger of 1,000 subjects that fits in the CPU caches, so that
// the ratio shows the work of a decision rather than memory latency.
func BenchmarkDecide(b *testing.B) {
	b.Run("100k", func(b *testing.B) {
		decideOnce.Do(func() { decideBench = populate(b, 100_000, 4, benchPurposes) })
		benchDecide(b, decideBench)
	})
	b.Run("Small", func(b *testing.B) {
		smallOnce.Do(func() { smallBench = populate(b, 1_000, 4, benchPurposes) })
		benchDecide(b, smallBench)
	})
}

func benchDecide(b *testing.B, bl benchLedger) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]int, 1<<16)
	for i := range keys {
		keys[i] = rng.IntN(len(bl.subjects))
	}
	at := day(100)
	allowed := 0
	i := 0
	runtime.GC() // settle the heap the setup built
	b.ResetTimer()
	for b.Loop() {
		d, err := bl.l.Decide(ctx, bl.subjects[keys[i&(len(keys)-1)]], benchPurposes[i%len(benchPurposes)], at)
		if err != nil {
			b.Fatal(err)
		}
		if d.Allowed {
			allowed++
		}
		i++
	}
	b.StopTimer()
	dns, base := interleaved(bl, keys, at)
	b.ReportMetric(base, "map-ns/op")
	b.ReportMetric(dns/base, "x-map")
}

// interleaved times Decide and the baseline, a plain map lookup with the
// same keys, in alternating blocks, so that both see the same machine load
// (testing.Benchmark cannot run inside a benchmark). It returns ns/op of
// each.
func interleaved(bl benchLedger, keys []int, at time.Time) (decideNs, mapNs float64) {
	m := make(map[personaldata.SubjectID]bool, len(bl.subjects))
	for i, s := range bl.subjects {
		m[s] = i%2 == 0
	}
	ctx := context.Background()
	const blocks, per = 64, 8192
	var dt, mt time.Duration
	n, k := 0, 0
	for range blocks {
		start := time.Now()
		for range per {
			if m[bl.subjects[keys[k&(len(keys)-1)]]] {
				n++
			}
			k++
		}
		mt += time.Since(start)
		k -= per
		start = time.Now()
		for range per {
			d, _ := bl.l.Decide(ctx, bl.subjects[keys[k&(len(keys)-1)]], benchPurposes[k%len(benchPurposes)], at)
			if d.Allowed {
				n++
			}
			k++
		}
		dt += time.Since(start)
	}
	sink += n
	return float64(dt.Nanoseconds()) / (blocks * per), float64(mt.Nanoseconds()) / (blocks * per)
}

// BenchmarkMapLookup is the baseline of BenchmarkDecide on its own.
func BenchmarkMapLookup(b *testing.B) {
	subjects := make([]personaldata.SubjectID, 100_000)
	m := make(map[personaldata.SubjectID]bool, len(subjects))
	for i := range subjects {
		subjects[i] = personaldata.SubjectID(fmt.Sprintf("subject-%07d", i))
		m[subjects[i]] = i%2 == 0
	}
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]int, 1<<16)
	for i := range keys {
		keys[i] = rng.IntN(len(subjects))
	}
	n, i := 0, 0
	for b.Loop() {
		if m[subjects[keys[i&(len(keys)-1)]]] {
			n++
		}
		i++
	}
}

func seqOf(s []personaldata.SubjectID) iter.Seq[personaldata.SubjectID] {
	return func(yield func(personaldata.SubjectID) bool) {
		for _, v := range s {
			if !yield(v) {
				return
			}
		}
	}
}

// BenchmarkFilter1M filters a mailing list of 1,000,000 subjects (budget:
// under 1 s per pass) and reports the ratio to a plain map loop.
func BenchmarkFilter1M(b *testing.B) {
	filterOnce.Do(func() { filterBench = populate(b, 1_000_000, 1, []consent.PurposeID{newsletter}) })
	bl := filterBench
	ctx := context.Background()
	at := day(100)
	var kept int
	runtime.GC()
	b.ResetTimer()
	for b.Loop() {
		kept = 0
		for _, err := range bl.l.Filter(ctx, newsletter, seqOf(bl.subjects), at) {
			if err != nil {
				b.Fatal(err)
			}
			kept++
		}
	}
	b.StopTimer()
	pass := float64(b.Elapsed().Nanoseconds()) / float64(b.N)

	m := make(map[personaldata.SubjectID]bool, len(bl.subjects))
	for i, s := range bl.subjects {
		m[s] = i%3 != 0
	}
	const rounds = 5
	start := time.Now()
	for range rounds {
		n := 0
		for _, s := range bl.subjects {
			if m[s] {
				n++
			}
		}
		sink += n
	}
	baseNs := float64(time.Since(start).Nanoseconds()) / rounds
	b.ReportMetric(pass/1e9, "s/pass")
	b.ReportMetric(baseNs/1e9, "map-s/pass")
	b.ReportMetric(pass/baseNs, "x-map")
	b.ReportMetric(float64(kept), "allowed")
}

// BenchmarkRecord measures append throughput in memory: one event per
// operation, spread over 10,000 subjects.
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	l, err := consent.New(ctx, consent.NewMemoryStore(), benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	subjects := make([]personaldata.SubjectID, 10_000)
	for i := range subjects {
		subjects[i] = personaldata.SubjectID(fmt.Sprintf("subject-%05d", i))
	}
	i := 0
	for b.Loop() {
		typ := consent.EventGrant
		if i%2 == 1 {
			typ = consent.EventWithdraw
		}
		if _, err := l.Record(ctx, consent.Change{Type: typ, Subject: subjects[i%len(subjects)], Purpose: newsletter,
			EffectiveAt: day(1), Method: consent.MethodForm, Actor: consent.ActorSubject}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRecordParallel is BenchmarkRecord from GOMAXPROCS goroutines.
func BenchmarkRecordParallel(b *testing.B) {
	ctx := context.Background()
	l, err := consent.New(ctx, consent.NewMemoryStore(), benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	next := 0
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		g := next
		next++
		mu.Unlock()
		i := 0
		for pb.Next() {
			s := personaldata.SubjectID(fmt.Sprintf("g%d-subject-%05d", g, i%10_000))
			if _, err := l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: s, Purpose: newsletter,
				EffectiveAt: day(1), Method: consent.MethodForm, Actor: consent.ActorSubject}); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
