package retention_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

// benchPolicy is the example policy plus three rules: ten rules.
func benchPolicy(t testing.TB) *retention.Policy {
	spec := retention.ExamplePolicySpec()
	spec.Rules = append(spec.Rules,
		retention.Rule{ID: "domain", Category: "domain", Trigger: retention.TriggerEvent, Event: "domain-expired",
			Period: retention.Period{Months: 3}, Action: retention.Delete, Basis: personaldata.Contract},
		retention.Rule{ID: "support", Category: "support", Trigger: retention.TriggerContractEnded,
			Period: retention.Period{Years: 1}, Action: retention.Anonymise, Basis: personaldata.LegitimateInterests, Retain: true},
		retention.Rule{ID: "billing-contract", Category: "billing", Kind: "invoice", Trigger: retention.TriggerContractEnded,
			Period: retention.Period{Years: 2}, Action: retention.Review, Basis: personaldata.Contract},
	)
	p, err := retention.NewPolicy(spec)
	require.NoError(t, err)
	return p
}

// BenchmarkEvaluate measures the hold-free evaluation with a ten-rule
// policy, and reports its speed (records/s, budget: over 1,000,000 on one
// core) and its cost against a baseline timed in the same run
// (x-baseline): a map lookup and a time comparison per record, the least
// any retention check does.
func BenchmarkEvaluate(b *testing.B) {
	ev := newEvaluator(b, benchPolicy(b), nil)
	facts := randomFacts(rand.New(rand.NewPCG(1, 2)), 1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = ev.EvaluateIgnoringHolds(facts[i&1023], now)
		i++
	}
	reportRate(b, facts)
}

// BenchmarkEvaluateAmsterdam is BenchmarkEvaluate with periods counted in
// a time zone with daylight saving time.
func BenchmarkEvaluateAmsterdam(b *testing.B) {
	ams, err := time.LoadLocation("Europe/Amsterdam")
	require.NoError(b, err)
	ev := newEvaluator(b, benchPolicy(b), &retention.Options{Location: ams})
	facts := randomFacts(rand.New(rand.NewPCG(1, 2)), 1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = ev.EvaluateIgnoringHolds(facts[i&1023], now)
		i++
	}
	reportRate(b, facts)
}

// BenchmarkDecide is BenchmarkEvaluate through Decide: the clock and a
// look-up in an in-memory hold store with 1,000 holds, none on these
// records.
func BenchmarkDecide(b *testing.B) {
	ev := newEvaluator(b, benchPolicy(b), nil)
	ctx := context.Background()
	for i := range 1000 {
		_, err := ev.PlaceHold(ctx, retention.Hold{Subject: personaldata.SubjectID(fmt.Sprintf("held-%d", i)), Reason: "r"})
		require.NoError(b, err)
	}
	facts := randomFacts(rand.New(rand.NewPCG(1, 2)), 1024)
	keys := make([]string, len(facts))
	for i := range keys {
		keys[i] = fmt.Sprintf("rec-%04d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _ = ev.Decide(ctx, keys[i&1023], facts[i&1023])
		i++
	}
	reportRate(b, facts)
}

var sink bool

// reportRate reports records/s and the ratio to the baseline look-up,
// timed now over as many records as b ran.
func reportRate(b *testing.B, facts []retention.Facts) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	base := baseline(facts, b.N)
	b.ReportMetric(float64(b.Elapsed())/float64(base), "x-baseline")
}

// baseline times n look-ups of a period by category in a map, each with a
// date comparison.
func baseline(facts []retention.Facts, n int) time.Duration {
	start := time.Now()
	for i := range n {
		f := &facts[i&1023]
		sink = f.Collected.Add(basePeriods[f.Category]).Before(now)
	}
	return max(time.Since(start), 1)
}

var basePeriods = map[personaldata.Category]time.Duration{
	"account": 30 * 24 * time.Hour, "billing": 7 * 365 * 24 * time.Hour, "contact": 2 * 365 * 24 * time.Hour,
	"mail-log": 30 * 24 * time.Hour, "ip-address": 365 * 24 * time.Hour,
}

// BenchmarkBaselineLookup is the baseline alone.
func BenchmarkBaselineLookup(b *testing.B) {
	facts := randomFacts(rand.New(rand.NewPCG(1, 2)), 1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := &facts[i&1023]
		sink = f.Collected.Add(basePeriods[f.Category]).Before(now)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// generate yields n records without keeping them: the sweep's memory is
// then all that grows, if anything does.
func generate(n int) iter.Seq2[retention.Record, error] {
	return func(yield func(retention.Record, error) bool) {
		r := rand.New(rand.NewPCG(3, 4))
		facts := randomFacts(r, 256)
		for i := range n {
			rec := retention.Record{Key: fmt.Sprintf("rec-%09d", i), Facts: facts[i&255]}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

// sampled wraps records and samples the live heap (after a collection)
// every `every` records, keeping the peak.
func sampled(records iter.Seq2[retention.Record, error], every int, peak *uint64) iter.Seq2[retention.Record, error] {
	return func(yield func(retention.Record, error) bool) {
		var ms runtime.MemStats
		i := 0
		for rec, err := range records {
			if i%every == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				*peak = max(*peak, ms.HeapAlloc)
			}
			i++
			if !yield(rec, err) {
				return
			}
		}
	}
}

type nopDisposer struct{}

func (nopDisposer) Delete(context.Context, retention.Record) error    { return nil }
func (nopDisposer) Anonymise(context.Context, retention.Record) error { return nil }

func sweepPeak(tb testing.TB, n int) (uint64, retention.Report) {
	ev := newEvaluator(tb, benchPolicy(tb), nil)
	var peak uint64
	rep, err := ev.Sweep(context.Background(), sampled(generate(n), max(n/20, 1), &peak), nopDisposer{}, retention.SweepOptions{})
	require.NoError(tb, err)
	require.Equal(tb, n, rep.Seen)
	return peak, rep
}

// TestSweepHeapFlat checks that the live heap during a sweep does not grow
// with the number of records: 1,000,000 records peak within 256 KiB of
// 10,000.
func TestSweepHeapFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("sweeps 1,000,000 records")
	}
	small, _ := sweepPeak(t, 10_000)
	large, rep := sweepPeak(t, 1_000_000)
	t.Logf("peak live heap: 10k records %d B, 1M records %d B; %v", small, large, rep.ByVerdict)
	if large > small+256<<10 {
		t.Errorf("peak live heap grew from %d B (10k records) to %d B (1M records)", small, large)
	}
}

// BenchmarkSweepHeap reports the peak live heap of sweeps over 10k and 1M
// records (metric peak-heap-B) and the sweep's speed.
func BenchmarkSweepHeap(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				p, _ := sweepPeak(b, n)
				peak = max(peak, p)
			}
			b.ReportMetric(float64(peak), "peak-heap-B")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
