package export_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"iter"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/export"
	"github.com/personaldata/personaldata/internal/revealhook"
	"github.com/personaldata/personaldata/pii"
)

// benchRecord has 10 fields, 4 of them encrypted.
type benchRecord struct {
	ID      string    `json:"id" pii:"subject"`
	Email   string    `json:"email" pii:"email"`
	Name    string    `json:"name" pii:"name"`
	Phone   string    `json:"phone" pii:"phone"`
	Street  string    `json:"street" pii:"address"`
	City    string    `json:"city"`
	Plan    string    `json:"plan"`
	Logins  int       `json:"logins"`
	Created time.Time `json:"created"`
	Active  bool      `json:"active"`
}

func benchPlain(i int) benchRecord {
	return benchRecord{ID: string(subject), Email: "jan.de.vries" + strconv.Itoa(i) + "@example.nl", Name: "Jan de Vries",
		Phone: "+31 6 1234 " + strconv.Itoa(10000+i%90000), Street: "Dorpsstraat " + strconv.Itoa(i%300), City: "Utrecht",
		Plan: "pro", Logins: i, Created: testNow.Add(-time.Duration(i) * time.Minute), Active: i%2 == 0}
}

// sliceSource yields the records of a slice through one reused value, as a
// database cursor would.
type sliceSource []benchRecord

func (s sliceSource) Records(ctx context.Context, _ personaldata.SubjectID) iter.Seq2[*benchRecord, error] {
	return func(yield func(*benchRecord, error) bool) {
		var r benchRecord
		for i := range s {
			r = s[i]
			if !yield(&r, nil) {
				return
			}
		}
	}
}

// revealOnly reveals every protected record into one scratch value, its
// strings into memory reused for the next record, as the export does: the
// decryption an export cannot avoid, measured apart, and leaving no
// garbage for the other phases to collect.
func revealOnly(p *pii.Protector, protected []benchRecord) func() {
	return func() {
		var r benchRecord
		var arena []byte
		for i := range protected {
			r = protected[i]
			arena = arena[:0]
			if err := revealhook.Into(p, context.Background(), &r, &arena); err != nil {
				panic(err)
			}
		}
	}
}

func benchSetup(b *testing.B, n int) (*export.Exporter, []benchRecord, func()) {
	b.Helper()
	p := newProtector(b)
	plain := make([]benchRecord, n)
	protected := make([]benchRecord, n)
	for i := range n {
		plain[i] = benchPlain(i)
		protected[i] = plain[i]
	}
	if err := p.Protect(context.Background(), protected); err != nil {
		b.Fatal(err)
	}
	e, err := export.New(export.Controller{Name: "x", Contact: "y"}, &export.Options{Revealer: p})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Register(cat("bench"), export.SourceFunc(sliceSource(protected).Records)); err != nil {
		b.Fatal(err)
	}
	return e, plain, revealOnly(p, protected)
}

// countWriter counts bytes written.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func baselineJSON(w io.Writer, recs []benchRecord) {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			panic(err)
		}
	}
	bw.Flush()
}

func baselineCSV(w io.Writer, recs []benchRecord) {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	row := make([]string, 10)
	for i := range recs {
		r := &recs[i]
		row[0], row[1], row[2], row[3], row[4], row[5], row[6] = r.ID, r.Email, r.Name, r.Phone, r.Street, r.City, r.Plan
		row[7], row[8], row[9] = strconv.Itoa(r.Logins), r.Created.Format(time.RFC3339Nano), strconv.FormatBool(r.Active)
		if err := cw.Write(row); err != nil {
			panic(err)
		}
	}
	cw.Flush()
	bw.Flush()
}

// benchRatio runs the export and its plain baseline (encoding/json or
// encoding/csv over the same records in plaintext) in each iteration, and
// reports the export's throughput and its time as a multiple of the
// baseline's. The export includes revealing 4 fields per record; reveal,
// if not nil, does only that, and its time is reported as a multiple of
// the baseline too. Where the process's CPU time can be read, the same
// ratios of CPU time are reported as well (-cpu metrics): on a machine
// shared with other work they vary less than wall-clock ratios, since
// time spent waiting for a core counts in neither.
func benchRatio(b *testing.B, export func(io.Writer) error, baseline func(io.Writer), reveal func()) {
	var base, exp, rev, cbase, cexp, crev time.Duration
	var bytes int64
	for b.Loop() {
		t0, c0 := time.Now(), cpuTime()
		baseline(io.Discard)
		t1, c1 := time.Now(), cpuTime()
		var cw countWriter
		if err := export(&cw); err != nil {
			b.Fatal(err)
		}
		t2, c2 := time.Now(), cpuTime()
		if reveal != nil {
			t2r, c2r := time.Now(), cpuTime()
			reveal()
			rev += time.Since(t2r)
			crev += cpuTime() - c2r
		}
		exp += t2.Sub(t1)
		cexp += c2 - c1
		base += t1.Sub(t0)
		cbase += c1 - c0
		bytes = cw.n
	}
	b.ReportMetric(float64(exp)/float64(base), "x-baseline")
	if reveal != nil {
		b.ReportMetric(float64(rev)/float64(base), "reveal-x-baseline")
	}
	if cbase > 0 {
		b.ReportMetric(float64(cexp)/float64(cbase), "x-baseline-cpu")
		if reveal != nil {
			b.ReportMetric(float64(crev)/float64(cbase), "reveal-x-baseline-cpu")
		}
	}
	b.ReportMetric(float64(bytes)*float64(b.N)/exp.Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N)/1e6, "baseline-ms")
}

// BenchmarkExportNDJSON exports 100,000 records (10 fields, 4 encrypted)
// as NDJSON, against encoding/json of the same records in plaintext.
func BenchmarkExportNDJSON(b *testing.B) {
	e, plain, reveal := benchSetup(b, 100_000)
	ctx := context.Background()
	benchRatio(b, func(w io.Writer) error { return e.WriteNDJSON(ctx, w, subject, "bench") },
		func(w io.Writer) { baselineJSON(w, plain) }, reveal)
}

// BenchmarkExportCSV is BenchmarkExportNDJSON for the CSV view, against
// encoding/csv.
func BenchmarkExportCSV(b *testing.B) {
	e, plain, reveal := benchSetup(b, 100_000)
	ctx := context.Background()
	benchRatio(b, func(w io.Writer) error { return e.WriteCSV(ctx, w, subject, "bench", "") },
		func(w io.Writer) { baselineCSV(w, plain) }, reveal)
}

// generated yields n records made from one protected template, so that
// the source itself keeps nothing per record.
type generated struct {
	n        int
	template benchRecord
}

func (g generated) Records(ctx context.Context, _ personaldata.SubjectID) iter.Seq2[*benchRecord, error] {
	return func(yield func(*benchRecord, error) bool) {
		var r benchRecord
		for i := range g.n {
			r = g.template
			r.Logins = i
			if !yield(&r, nil) {
				return
			}
		}
	}
}

// peakHeap writes a package of n generated records to io.Discard and
// returns the highest heap in use seen while it ran.
func peakHeap(t testing.TB, p *pii.Protector, template benchRecord, n int) uint64 {
	e, err := export.New(export.Controller{Name: "x", Contact: "y"}, &export.Options{Revealer: p})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Register(cat("bench"), export.SourceFunc(generated{n, template}.Records)); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	_, err = e.WritePackage(context.Background(), io.Discard, export.Request{Subject: subject})
	close(done)
	<-stopped
	if err != nil {
		t.Fatal(err)
	}
	return peak.Load()
}

// TestExportMemoryFlat writes packages of 1,000 and 1,000,000 records
// (10 fields, 4 encrypted) and checks that the peak heap does not grow with
// the number of records.
func TestExportMemoryFlat(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("writes a package of 1,000,000 records (skipped with -short and -race)")
	}
	p := newProtector(t)
	template := benchPlain(1)
	if err := p.Protect(context.Background(), &template); err != nil {
		t.Fatal(err)
	}
	small := peakHeap(t, p, template, 1_000)
	start := time.Now()
	large := peakHeap(t, p, template, 1_000_000)
	t.Logf("peak heap: %d KB at 1,000 records, %d KB at 1,000,000 records (%.1fs)", small/1024, large/1024, time.Since(start).Seconds())
	if large > 2*small+(4<<20) {
		t.Errorf("peak heap grows with the records: %d KB at 1,000, %d KB at 1,000,000", small/1024, large/1024)
	}
}

// plainRecord is benchRecord without pii tags: nothing to reveal.
type plainRecord struct {
	ID      string    `json:"id"`
	Email   string    `json:"email"`
	Name    string    `json:"name"`
	Phone   string    `json:"phone"`
	Street  string    `json:"street"`
	City    string    `json:"city"`
	Plan    string    `json:"plan"`
	Logins  int       `json:"logins"`
	Created time.Time `json:"created"`
	Active  bool      `json:"active"`
}

func plainSetup(b *testing.B, n int) (*export.Exporter, []benchRecord) {
	b.Helper()
	plain := make([]benchRecord, n)
	recs := make([]plainRecord, n)
	for i := range n {
		plain[i] = benchPlain(i)
		recs[i] = plainRecord(plain[i])
	}
	e, err := export.New(export.Controller{Name: "x", Contact: "y"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	src := func(context.Context, personaldata.SubjectID) iter.Seq2[*plainRecord, error] {
		return func(yield func(*plainRecord, error) bool) {
			for i := range recs {
				if !yield(&recs[i], nil) {
					return
				}
			}
		}
	}
	if err := e.Register(cat("bench"), export.SourceFunc(src)); err != nil {
		b.Fatal(err)
	}
	return e, plain
}

// BenchmarkExportNDJSONPlain is BenchmarkExportNDJSON without encrypted
// fields: the exporter's own cost against encoding/json.
func BenchmarkExportNDJSONPlain(b *testing.B) {
	e, plain := plainSetup(b, 100_000)
	ctx := context.Background()
	benchRatio(b, func(w io.Writer) error { return e.WriteNDJSON(ctx, w, subject, "bench") },
		func(w io.Writer) { baselineJSON(w, plain) }, nil)
}

// BenchmarkExportCSVPlain is BenchmarkExportCSV without encrypted fields.
func BenchmarkExportCSVPlain(b *testing.B) {
	e, plain := plainSetup(b, 100_000)
	ctx := context.Background()
	benchRatio(b, func(w io.Writer) error { return e.WriteCSV(ctx, w, subject, "bench", "") },
		func(w io.Writer) { baselineCSV(w, plain) }, nil)
}
