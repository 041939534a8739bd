package pii_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/pii/internal/envelope"
)

// Four tagged string fields of about 20 bytes: the shape of the budget.
type benchRecord struct {
	ID      string `pii:"subject"`
	Email   string `pii:"email"`
	Name    string `pii:"name"`
	Phone   string `pii:"phone"`
	Address string `pii:"address"`
}

var benchPlain = benchRecord{
	ID:      "customer-000042",
	Email:   "ann.jansen@example.nl",
	Name:    "Ann Jansen-de Vries",
	Phone:   "+31 6 1234 5678 ext",
	Address: "Kerkstraat 1, Utrecht",
}

var algs = []pii.Algorithm{pii.AES256GCM, pii.XChaCha20Poly1305}

func rawAEAD(b *testing.B, alg pii.Algorithm) cipher.AEAD {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if alg == pii.XChaCha20Poly1305 {
		a, err := chacha20poly1305.NewX(key)
		if err != nil {
			b.Fatal(err)
		}
		return a
	}
	block, _ := aes.NewCipher(key)
	a, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkRawSeal4 is the baseline of BenchmarkProtect: four seals with a
// ready AEAD, a fresh random nonce each.
func BenchmarkRawSeal4(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg.String(), func(b *testing.B) {
			a := rawAEAD(b, alg)
			nonce := make([]byte, a.NonceSize())
			fields := [][]byte{[]byte(benchPlain.Email), []byte(benchPlain.Name), []byte(benchPlain.Phone), []byte(benchPlain.Address)}
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range fields {
					_, _ = rand.Read(nonce)
					_ = a.Seal(nil, nonce, f, nil)
				}
			}
		})
	}
}

// BenchmarkProtect protects a struct with four tagged string fields, warm
// key cache.
func BenchmarkProtect(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg.String(), func(b *testing.B) {
			p, _ := newProtector(b, &pii.Options{Algorithm: alg})
			ctx := context.Background()
			warm := benchPlain
			if err := p.Protect(ctx, &warm); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				v := benchPlain
				if err := p.Protect(ctx, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRawOpen4 is the baseline of BenchmarkReveal.
func BenchmarkRawOpen4(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg.String(), func(b *testing.B) {
			a := rawAEAD(b, alg)
			nonce := make([]byte, a.NonceSize())
			var sealed [][]byte
			for _, f := range []string{benchPlain.Email, benchPlain.Name, benchPlain.Phone, benchPlain.Address} {
				sealed = append(sealed, a.Seal(nil, nonce, []byte(f), nil))
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range sealed {
					if _, err := a.Open(nil, nonce, s, nil); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkReveal reveals a struct with four protected string fields, warm
// key cache.
func BenchmarkReveal(b *testing.B) {
	for _, alg := range algs {
		b.Run(alg.String(), func(b *testing.B) {
			p, _ := newProtector(b, &pii.Options{Algorithm: alg})
			ctx := context.Background()
			sealed := benchPlain
			if err := p.Protect(ctx, &sealed); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				v := sealed
				if err := p.Reveal(ctx, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRevealMany reveals 10,000 records of 10,000 different subjects
// with a cold key cache: "batch" in one call (one key-store round trip),
// "one-by-one" with a call per record (a round trip each). Reported per
// record.
func BenchmarkRevealMany(b *testing.B) {
	const n = 10_000
	store := pii.NewMemoryKeyStore()
	p := newProtectorOn(b, store, &pii.Options{CacheSize: n})
	ctx := context.Background()
	sealed := make([]benchRecord, n)
	for i := range sealed {
		sealed[i] = benchPlain
		sealed[i].ID = fmt.Sprintf("customer-%06d", i)
	}
	if err := p.Protect(ctx, sealed); err != nil {
		b.Fatal(err)
	}
	work := make([]benchRecord, n)
	counted := &countingStore{KeyStore: store}
	b.Run("batch", func(b *testing.B) {
		b.ReportAllocs()
		counted.calls.Store(0)
		for b.Loop() {
			b.StopTimer()
			q := newProtectorOn(b, counted, &pii.Options{CacheSize: n}) // cold cache
			copy(work, sealed)
			b.StartTimer()
			if err := q.Reveal(ctx, work); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		b.ReportMetric(float64(counted.calls.Load())/float64(b.N), "store-calls/op")
	})
	b.Run("one-by-one", func(b *testing.B) {
		b.ReportAllocs()
		counted.calls.Store(0)
		for b.Loop() {
			b.StopTimer()
			q := newProtectorOn(b, counted, &pii.Options{CacheSize: n})
			copy(work, sealed)
			b.StartTimer()
			for i := range work {
				if err := q.Reveal(ctx, &work[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		b.ReportMetric(float64(counted.calls.Load())/float64(b.N), "store-calls/op")
	})
}

// countingStore counts GetKeys calls: each is a database round trip in a
// real deployment.
type countingStore struct {
	pii.KeyStore
	calls atomic.Int64
}

func (s *countingStore) GetKeys(ctx context.Context, refs []pii.KeyRef) ([]pii.StoredKey, error) {
	s.calls.Add(1)
	return s.KeyStore.GetKeys(ctx, refs)
}

// BenchmarkForgetThenReveal forgets one subject and reveals its record, on
// a Protector with an empty key cache and on one with 10,000 other keys
// cached, in the same loop; ratio is the second over the first and must
// stay near 1: forgetting costs the same whatever the cache holds.
func BenchmarkForgetThenReveal(b *testing.B) {
	const others = 10_000
	ctx := context.Background()
	empty := newProtectorOn(b, pii.NewMemoryKeyStore(), &pii.Options{CacheSize: 2 * others})
	full := newProtectorOn(b, pii.NewMemoryKeyStore(), &pii.Options{CacheSize: 2 * others})
	warm := make([]benchRecord, others)
	for i := range warm {
		warm[i] = benchPlain
		warm[i].ID = fmt.Sprintf("other-%06d", i)
	}
	if err := full.Protect(ctx, warm); err != nil {
		b.Fatal(err)
	}
	var tEmpty, tFull time.Duration
	i := 0
	run := func(p *pii.Protector, r *benchRecord) time.Duration {
		start := time.Now()
		if err := p.ForgetSubject(ctx, personaldata.SubjectID(r.ID)); err != nil {
			b.Fatal(err)
		}
		if err := p.Reveal(ctx, r); !errors.Is(err, pii.ErrErased) {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for b.Loop() {
		b.StopTimer()
		i++
		r1, r2 := benchPlain, benchPlain
		r1.ID, r2.ID = fmt.Sprintf("gone-%d", i), fmt.Sprintf("gone-%d", i)
		if err := empty.Protect(ctx, &r1); err != nil {
			b.Fatal(err)
		}
		if err := full.Protect(ctx, &r2); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if i%2 == 0 { // alternate, so neither side always runs first
			tEmpty += run(empty, &r1)
			tFull += run(full, &r2)
		} else {
			tFull += run(full, &r2)
			tEmpty += run(empty, &r1)
		}
	}
	b.ReportMetric(float64(tEmpty.Nanoseconds())/float64(b.N), "ns/forget-0-cached")
	b.ReportMetric(float64(tFull.Nanoseconds())/float64(b.N), "ns/forget-10k-cached")
	b.ReportMetric(float64(tFull)/float64(tEmpty), "ratio")
}

// BenchmarkRatio times Protect against four raw seals, and Reveal against
// four raw opens, in alternating batches within one loop, so that load on
// the machine weighs on both sides alike; ratio is what the budgets bound.
// ratio-med is the median of the ratios of single iterations: on a busy
// machine it is not swayed by the few iterations the scheduler preempted.
//
// The raw seals and opens are timed twice: without associated data, and
// with associated data of the length an envelope of the record binds
// (header, subject, scope, category), which every envelope needs.
// ratio-ad and ratio-ad-med compare with the second.
func BenchmarkRatio(b *testing.B) {
	const batch = 8
	for _, alg := range algs {
		a := rawAEAD(b, alg)
		fields := [][]byte{[]byte(benchPlain.Email), []byte(benchPlain.Name), []byte(benchPlain.Phone), []byte(benchPlain.Address)}
		nonce, openNonce := make([]byte, a.NonceSize()), make([]byte, a.NonceSize())
		ad := envelope.AppendAD(nil, envelope.AppendHeader(nil, envelope.Algorithm(alg)), benchPlain.ID, "default", "address")
		var sealed, sealedAD [][]byte
		for _, f := range fields {
			sealed = append(sealed, a.Seal(nil, openNonce, f, nil))
			sealedAD = append(sealedAD, a.Seal(nil, openNonce, f, ad))
		}
		p, _ := newProtector(b, &pii.Options{Algorithm: alg})
		ctx := context.Background()
		protected := benchPlain
		if err := p.Protect(ctx, &protected); err != nil {
			b.Fatal(err)
		}
		v := new(benchRecord) // reused: the record is the caller's, not the library's, allocation
		ratio := func(b *testing.B, raw, rawAD, lib func()) {
			var tRaw, tRawAD, tLib time.Duration
			var ratios, ratiosAD []float64
			for b.Loop() {
				t0 := time.Now()
				for range batch {
					raw()
				}
				t1 := time.Now()
				for range batch {
					rawAD()
				}
				t2 := time.Now()
				for range batch {
					lib()
				}
				t3 := time.Now()
				tRaw, tRawAD, tLib = tRaw+t1.Sub(t0), tRawAD+t2.Sub(t1), tLib+t3.Sub(t2)
				ratios = append(ratios, float64(t3.Sub(t2))/float64(t1.Sub(t0)))
				ratiosAD = append(ratiosAD, float64(t3.Sub(t2))/float64(t2.Sub(t1)))
			}
			b.ReportMetric(float64(tLib)/float64(tRaw), "ratio")
			b.ReportMetric(median(ratios), "ratio-med")
			b.ReportMetric(float64(tLib)/float64(tRawAD), "ratio-ad")
			b.ReportMetric(median(ratiosAD), "ratio-ad-med")
		}
		b.Run("Protect/"+alg.String(), func(b *testing.B) {
			seals := func(ad []byte) func() {
				return func() {
					for _, f := range fields {
						_, _ = rand.Read(nonce)
						_ = a.Seal(nil, nonce, f, ad)
					}
				}
			}
			ratio(b, seals(nil), seals(ad), func() {
				*v = benchPlain
				if err := p.Protect(ctx, v); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run("Reveal/"+alg.String(), func(b *testing.B) {
			opens := func(sealed [][]byte, ad []byte) func() {
				return func() {
					for _, s := range sealed {
						if _, err := a.Open(nil, openNonce, s, ad); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			ratio(b, opens(sealed, nil), opens(sealedAD, ad), func() {
				*v = protected
				if err := p.Reveal(ctx, v); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkFreshSubject protects then reveals records of subjects never
// seen before, and times in the same loop, alternating, what that
// necessarily costs per record: a random data key, wrapping it, inserting
// it in a key store, setting up the AEAD, four seals (random nonce
// included) and four opens. "batch" protects and reveals a slice of
// records per call, "one-by-one" a call per record. x-parts is the whole
// over the sum of its parts, x-parts-med the median of that ratio over
// single iterations; the parts are reported per record too.
func BenchmarkFreshSubject(b *testing.B) {
	const (
		batch = 16
		reset = 10_000 // subjects per store, so stores stay small
	)
	for _, alg := range algs {
		for _, mode := range []string{"batch", "one-by-one"} {
			b.Run(alg.String()+"/"+mode, func(b *testing.B) {
				benchFresh(b, alg, mode == "batch", batch, reset)
			})
		}
	}
}

func benchFresh(b *testing.B, alg pii.Algorithm, batched bool, batch, reset int) {
	ctx := context.Background()
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	wrapper, err := pii.NewLocalKeyWrapper("kek-bench", master)
	if err != nil {
		b.Fatal(err)
	}
	var (
		p         *pii.Protector
		libStore  *pii.MemoryKeyStore
		partStore *pii.MemoryKeyStore
		made      int
	)
	fresh := func() {
		libStore, partStore = pii.NewMemoryKeyStore(), pii.NewMemoryKeyStore()
		if p, err = pii.New(libStore, wrapper, &pii.Options{Algorithm: alg}); err != nil {
			b.Fatal(err)
		}
		made = 0
	}
	fresh()
	fields := [][]byte{[]byte(benchPlain.Email), []byte(benchPlain.Name), []byte(benchPlain.Phone), []byte(benchPlain.Address)}
	recs := make([]benchRecord, batch)
	ids := make([]string, batch)
	deks := make([][]byte, batch)
	for i := range deks {
		deks[i] = make([]byte, 32)
	}
	wrapped := make([]pii.WrappedKey, batch)
	aeads := make([]cipher.AEAD, batch)
	sealed := make([][4][]byte, batch)
	var parts [6]time.Duration // key, wrap, insert, setup, seals, opens
	var whole time.Duration
	var ratios []float64
	seq := 0
	for b.Loop() {
		if made+batch > reset {
			fresh()
		}
		made += batch
		for i := range ids {
			seq++
			ids[i] = fmt.Sprintf("subject-%09d", seq)
		}
		// The parts, for batch new subjects, each part timed over the
		// batch so that clock reads weigh little.
		t0 := time.Now()
		for i := range deks {
			_, _ = rand.Read(deks[i])
		}
		t1 := time.Now()
		for i, id := range ids {
			if wrapped[i], err = wrapper.Wrap(ctx, deks[i], []byte(id)); err != nil {
				b.Fatal(err)
			}
		}
		t2 := time.Now()
		for i, id := range ids {
			ref := pii.KeyRef{Subject: personaldata.SubjectID(id), Scope: personaldata.DefaultScope}
			if _, err := partStore.CreateKey(ctx, ref, wrapped[i], t2); err != nil {
				b.Fatal(err)
			}
		}
		t3 := time.Now()
		for i := range aeads {
			aeads[i] = newAEAD(b, alg, deks[i])
		}
		t4 := time.Now()
		for i, a := range aeads {
			for j, f := range fields {
				nonce := make([]byte, a.NonceSize())
				_, _ = rand.Read(nonce)
				sealed[i][j] = a.Seal(nonce, nonce, f, nil)
			}
		}
		t5 := time.Now()
		for i, a := range aeads {
			for _, s := range sealed[i] {
				ns := a.NonceSize()
				if _, err := a.Open(nil, s[:ns], s[ns:], nil); err != nil {
					b.Fatal(err)
				}
			}
		}
		t6 := time.Now()
		for i, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t5.Sub(t4), t6.Sub(t5)} {
			parts[i] += d
		}
		sumParts := t6.Sub(t0)
		// The whole, for batch other new subjects.
		for i := range recs {
			recs[i] = benchPlain
			recs[i].ID = ids[i] + "-lib"
		}
		start := time.Now()
		if batched {
			if err := p.Protect(ctx, recs); err != nil {
				b.Fatal(err)
			}
			if err := p.Reveal(ctx, recs); err != nil {
				b.Fatal(err)
			}
		} else {
			for i := range recs {
				if err := p.Protect(ctx, &recs[i]); err != nil {
					b.Fatal(err)
				}
				if err := p.Reveal(ctx, &recs[i]); err != nil {
					b.Fatal(err)
				}
			}
		}
		took := time.Since(start)
		whole += took
		ratios = append(ratios, float64(took)/float64(sumParts))
	}
	n := float64(b.N * batch)
	var sum time.Duration
	for i, name := range []string{"key", "wrap", "insert", "setup", "seals", "opens"} {
		sum += parts[i]
		b.ReportMetric(float64(parts[i].Nanoseconds())/n, "ns-"+name+"/record")
	}
	b.ReportMetric(float64(whole.Nanoseconds())/n, "ns/record")
	b.ReportMetric(float64(sum.Nanoseconds())/n, "ns-parts/record")
	b.ReportMetric(float64(whole)/float64(sum), "x-parts")
	b.ReportMetric(median(ratios), "x-parts-med")
}

// median returns the median of xs, reordering them.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// newAEAD sets up the AEAD of alg for key.
func newAEAD(b *testing.B, alg pii.Algorithm, key []byte) cipher.AEAD {
	if alg == pii.XChaCha20Poly1305 {
		a, err := chacha20poly1305.NewX(key)
		if err != nil {
			b.Fatal(err)
		}
		return a
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkRatioParts breaks Protect and Reveal (AES-256-GCM, warm key
// cache) down into what the envelope contract makes necessary, each timed
// in the same loop and reported as a ratio to the baseline of
// BenchmarkRatio (four raw seals with a random nonce each, or four raw
// opens): the AEAD with the associated data, the nonces read in one call,
// and the base64url text form. The medians of single iterations are
// reported.
func BenchmarkRatioParts(b *testing.B) {
	const batch = 8
	a := rawAEAD(b, pii.AES256GCM)
	fields := [][]byte{[]byte(benchPlain.Email), []byte(benchPlain.Name), []byte(benchPlain.Phone), []byte(benchPlain.Address)}
	nonce, openNonce, nonces := make([]byte, 12), make([]byte, 12), make([]byte, 4*12)
	ad := envelope.AppendAD(nil, envelope.AppendHeader(nil, envelope.AES256GCM), benchPlain.ID, "default", "address")
	var sealed, sealedAD, bins [][]byte
	for _, f := range fields {
		sealed = append(sealed, a.Seal(nil, openNonce, f, nil))
		sealedAD = append(sealedAD, a.Seal(nil, openNonce, f, ad))
		bins = append(bins, a.Seal(append(envelope.AppendHeader(nil, envelope.AES256GCM), openNonce...), openNonce, f, ad))
	}
	p, _ := newProtector(b, nil)
	ctx := context.Background()
	protected := benchPlain
	if err := p.Protect(ctx, &protected); err != nil {
		b.Fatal(err)
	}
	texts := []string{protected.Email, protected.Name, protected.Phone, protected.Address}
	buf := make([]byte, 0, 128)
	v := new(benchRecord)
	type part struct {
		name string
		run  func()
	}
	measure := func(b *testing.B, raw func(), parts []part) {
		ratios := make([][]float64, len(parts))
		for b.Loop() {
			start := time.Now()
			for range batch {
				raw()
			}
			base := time.Since(start)
			for i, pt := range parts {
				start := time.Now()
				for range batch {
					pt.run()
				}
				ratios[i] = append(ratios[i], float64(time.Since(start))/float64(base))
			}
		}
		for i, pt := range parts {
			b.ReportMetric(median(ratios[i]), pt.name)
		}
	}
	b.Run("Protect", func(b *testing.B) {
		measure(b, func() {
			for _, f := range fields {
				_, _ = rand.Read(nonce)
				_ = a.Seal(nil, nonce, f, nil)
			}
		}, []part{
			{"seals+ad", func() {
				for _, f := range fields {
					_ = a.Seal(nil, nonce, f, ad)
				}
			}},
			{"nonces", func() { _, _ = rand.Read(nonces) }},
			{"text", func() {
				for _, bin := range bins {
					buf = envelope.AppendText(buf[:0], bin)
				}
			}},
			{"protect", func() {
				*v = benchPlain
				if err := p.Protect(ctx, v); err != nil {
					b.Fatal(err)
				}
			}},
		})
	})
	b.Run("Reveal", func(b *testing.B) {
		measure(b, func() {
			for _, s := range sealed {
				if _, err := a.Open(nil, openNonce, s, nil); err != nil {
					b.Fatal(err)
				}
			}
		}, []part{
			{"opens+ad", func() {
				for _, s := range sealedAD {
					if _, err := a.Open(nil, openNonce, s, ad); err != nil {
						b.Fatal(err)
					}
				}
			}},
			{"text", func() {
				for _, s := range texts {
					buf, _ = envelope.DecodeText(buf[:0], s)
				}
			}},
			{"reveal", func() {
				*v = protected
				if err := p.Reveal(ctx, v); err != nil {
					b.Fatal(err)
				}
			}},
		})
	})
}
