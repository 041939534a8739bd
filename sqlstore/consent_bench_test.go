package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// consentBench runs fn as a sub-benchmark per backend, with a consent
// store of its own; fn compares it with the memory store in the same run.
func consentBench(b *testing.B, fn func(b *testing.B, sqlStore consent.Store)) {
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			if be.skip != "" {
				b.Skip(be.skip)
			}
			s, _ := openConsentStore(b, be)
			fn(b, s)
		})
	}
}

// appendRound appends n events, one per Append, to subjects taken round
// robin from heads (their chain lengths, updated), and returns how long
// that took.
func appendRound(b *testing.B, s consent.Store, heads map[personaldata.SubjectID]uint64, subjects []personaldata.SubjectID, n int) time.Duration {
	ctx := context.Background()
	start := time.Now()
	for i := range n {
		subj := subjects[i%len(subjects)]
		after := heads[subj]
		if err := s.Append(ctx, subj, after, []consent.StoredEvent{consentEvent(subj, after+1, "newsletter")}); err != nil {
			b.Fatal(err)
		}
		heads[subj] = after + 1
	}
	return time.Since(start)
}

// BenchmarkConsentAppend appends events one per call on every backend and
// on the memory store in the same run: events/s of each and the ratio of
// their times.
func BenchmarkConsentAppend(b *testing.B) {
	const n = 100
	consentBench(b, func(b *testing.B, s consent.Store) {
		mem := consent.NewMemoryStore()
		subjects := make([]personaldata.SubjectID, 50)
		for i := range subjects {
			subjects[i] = personaldata.SubjectID(fmt.Sprintf("subject-%03d", i))
		}
		sqlHeads, memHeads := map[personaldata.SubjectID]uint64{}, map[personaldata.SubjectID]uint64{}
		var onSQL, inMemory time.Duration
		iters := 0
		for b.Loop() {
			inMemory += appendRound(b, mem, memHeads, subjects, n)
			onSQL += appendRound(b, s, sqlHeads, subjects, n)
			iters++
		}
		b.ReportMetric(float64(iters*n)/onSQL.Seconds(), "events/s")
		b.ReportMetric(float64(iters*n)/inMemory.Seconds(), "events/s-memory")
		b.ReportMetric(float64(onSQL)/float64(inMemory), "x-memory")
	})
}

// fillConsent records a grant and a withdrawal for each of n subjects in a
// ledger over a memory store, and copies the chains into each of stores.
func fillConsent(b *testing.B, n int, stores ...consent.Store) {
	ctx := context.Background()
	src := consent.NewMemoryStore()
	l, err := consent.New(ctx, src, &consent.Options{Purposes: consentPurposes()})
	if err != nil {
		b.Fatal(err)
	}
	defs, err := src.Definitions(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range stores {
		for _, d := range defs {
			if err := s.Define(ctx, d); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range n {
		subj := personaldata.SubjectID(fmt.Sprintf("subject-%06d", i))
		if _, err := l.Record(ctx, grant(subj, consentSince)); err != nil {
			b.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := l.Record(ctx, consent.Change{Type: consent.EventWithdraw, Subject: subj, Purpose: "newsletter",
				EffectiveAt: consentSince.AddDate(0, 1, 0), Method: consent.MethodEmailLink, Actor: consent.ActorSubject}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, s := range stores {
		var wg sync.WaitGroup
		subjects := make(chan personaldata.SubjectID)
		for range 8 {
			wg.Go(func() {
				for subj := range subjects {
					evs, err := src.Events(ctx, subj)
					if err == nil {
						err = s.Append(ctx, subj, 0, evs)
					}
					if err != nil {
						b.Error(err)
					}
				}
			})
		}
		for subj, err := range src.Subjects(ctx, "") {
			if err != nil {
				b.Fatal(err)
			}
			subjects <- subj
		}
		close(subjects)
		wg.Wait()
	}
}

// BenchmarkConsentDecide decides for random subjects on a ledger over each
// backend and on one over the memory store: Decide answers from the
// ledger's index in memory, so the ratio should be about 1.
func BenchmarkConsentDecide(b *testing.B) {
	n := benchSize(b, "PERSONALDATA_BENCH_SUBJECTS", 1000)
	consentBench(b, func(b *testing.B, s consent.Store) {
		ctx := context.Background()
		mem := consent.NewMemoryStore()
		fillConsent(b, n, s, mem)
		ledgers := make([]*consent.Ledger, 2)
		for i, st := range []consent.Store{s, mem} {
			l, err := consent.New(ctx, st, nil)
			if err != nil {
				b.Fatal(err)
			}
			ledgers[i] = l
		}
		at := consentSince.AddDate(0, 2, 0)
		subjects := make([]personaldata.SubjectID, n)
		for i := range subjects {
			subjects[i] = personaldata.SubjectID(fmt.Sprintf("subject-%06d", (i*7919)%n))
		}
		const k = 1000
		var onSQL, inMemory time.Duration
		iters := 0
		for b.Loop() {
			for j, l := range ledgers {
				start := time.Now()
				for i := range k {
					if _, err := l.Decide(ctx, subjects[i%n], "newsletter", at); err != nil {
						b.Fatal(err)
					}
				}
				if j == 0 {
					onSQL += time.Since(start)
				} else {
					inMemory += time.Since(start)
				}
			}
			iters++
		}
		b.ReportMetric(float64(onSQL.Nanoseconds())/float64(iters*k), "ns/decide")
		b.ReportMetric(float64(inMemory.Nanoseconds())/float64(iters*k), "ns/decide-memory")
		b.ReportMetric(float64(onSQL)/float64(inMemory), "x-memory")
	})
}

// BenchmarkConsentLedgerStart starts a ledger over n subjects' chains on
// each backend and on the memory store, and reports the ratio.
func BenchmarkConsentLedgerStart(b *testing.B) {
	n := benchSize(b, "PERSONALDATA_BENCH_SUBJECTS", 1000)
	consentBench(b, func(b *testing.B, s consent.Store) {
		ctx := context.Background()
		mem := consent.NewMemoryStore()
		fillConsent(b, n, s, mem)
		var onSQL, inMemory time.Duration
		iters := 0
		for b.Loop() {
			for j, st := range []consent.Store{s, mem} {
				start := time.Now()
				l, err := consent.New(ctx, st, nil)
				if err != nil {
					b.Fatal(err)
				}
				if j == 0 {
					onSQL += time.Since(start)
				} else {
					inMemory += time.Since(start)
				}
				_ = l.Close()
			}
			iters++
		}
		b.ReportMetric(float64(onSQL.Nanoseconds())/float64(iters*n), "ns/subject")
		b.ReportMetric(float64(inMemory.Nanoseconds())/float64(iters*n), "ns/subject-memory")
		b.ReportMetric(float64(onSQL)/float64(inMemory), "x-memory")
	})
}
