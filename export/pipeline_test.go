package export_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/export"
	"github.com/personaldata/personaldata/pii"
)

// pipeRecords returns n protected records of 10 subjects, the default
// scope of one of them shredded, so that some fields are erased.
func pipeRecords(t *testing.T, p *pii.Protector, n int) []benchRecord {
	t.Helper()
	recs := make([]benchRecord, n)
	for i := range recs {
		recs[i] = benchPlain(i)
		recs[i].ID = "subject-" + strconv.Itoa(i%10)
	}
	protect(t, p, recs)
	forgetDefaultScope(t, p, "subject-3")
	return recs
}

// reusing yields recs through one reused value, as a database cursor
// would; fail, if set, decides what happens at each record.
type reusing struct {
	recs []benchRecord
	fail func(i int) error
}

func (s reusing) Records(ctx context.Context, _ personaldata.SubjectID) iter.Seq2[*benchRecord, error] {
	return func(yield func(*benchRecord, error) bool) {
		var r benchRecord
		for i := range s.recs {
			if s.fail != nil {
				if err := s.fail(i); err != nil {
					yield(nil, err)
					return
				}
			}
			r = s.recs[i]
			if !yield(&r, nil) {
				return
			}
		}
	}
}

// onlyReveal hides the *pii.Protector behind the Revealer interface, so
// that records are revealed one at a time.
type onlyReveal struct {
	p    *pii.Protector
	fail func(*benchRecord) error
}

func (o onlyReveal) Reveal(ctx context.Context, v any) error {
	if o.fail != nil {
		if err := o.fail(v.(*benchRecord)); err != nil {
			return err
		}
	}
	return o.p.Reveal(ctx, v)
}

// untyped hides the record type of a typed source, so that its passes
// reveal on the calling goroutine, one record at a time.
type untyped struct{ src export.Source }

func (u untyped) Records(ctx context.Context, s personaldata.SubjectID) iter.Seq2[any, error] {
	return u.src.Records(ctx, s)
}

// withProcs runs f with GOMAXPROCS set to n: 1 reads and reveals on the
// calling goroutine only, 2 lets a pass reveal on a second one.
func withProcs(n int, f func()) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	f()
}

type pipeResult struct {
	csv, ndjson, json, pkg []byte
	err                    string
	progress               []export.Progress
}

func runPipe(t *testing.T, rv export.Revealer, src export.Source, procs int) pipeResult {
	t.Helper()
	var res pipeResult
	e, err := export.New(export.Controller{Name: "x", Contact: "y"}, &export.Options{Revealer: rv, Now: fixedClock,
		Entropy: newEntropy(), SubjectKey: make([]byte, 32),
		Progress: func(p export.Progress) { res.progress = append(res.progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Register(cat("bench"), src); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	withProcs(procs, func() {
		var errs []error
		var b bytes.Buffer
		errs = append(errs, e.WriteCSV(ctx, &b, subject, "bench", ""))
		res.csv = bytes.Clone(b.Bytes())
		b.Reset()
		errs = append(errs, e.WriteNDJSON(ctx, &b, subject, "bench"))
		res.ndjson = bytes.Clone(b.Bytes())
		b.Reset()
		errs = append(errs, e.WriteJSON(ctx, &b, export.Request{Subject: subject}))
		res.json = bytes.Clone(b.Bytes())
		b.Reset()
		_, err := e.WritePackage(ctx, &b, export.Request{Subject: subject})
		errs = append(errs, err)
		res.pkg = bytes.Clone(b.Bytes())
		for _, err := range errs {
			if err != nil {
				res.err += err.Error() + "\n"
			}
		}
	})
	return res
}

// TestPipelineSameOutput checks that a pass through the pipeline writes
// the bytes and progress reports a pass on one goroutine writes, on one
// core and on two, with erased fields, records reused by the source,
// pages not full and, at 3,000 records, pages (and the memory their
// strings are revealed into) reused several times. The reference is an
// untyped source with a Revealer that is not a *pii.Protector: records
// revealed one by one, in place, into memory of their own.
func TestPipelineSameOutput(t *testing.T) {
	p := newProtector(t)
	recs := pipeRecords(t, p, 3000)
	for _, n := range []int{0, 1, 31, 32, 256, 257, 1000, 3000} {
		typed := export.SourceFunc(reusing{recs: recs[:n]}.Records)
		srcs := []export.Source{untyped{typed}, typed}
		if n == 0 {
			// Without a record an untyped source has no columns, and
			// nothing is revealed either way.
			srcs = srcs[1:]
		}
		ref := runPipe(t, onlyReveal{p: p}, srcs[0], 1)
		if ref.err != "" {
			t.Fatalf("%d records: %s", n, ref.err)
		}
		for _, src := range srcs {
			for _, rv := range []export.Revealer{p, onlyReveal{p: p}} {
				for _, procs := range []int{1, 2} {
					got := runPipe(t, rv, src, procs)
					at := fmt.Sprintf("%T, %T, GOMAXPROCS %d, %d records", src, rv, procs, n)
					if got.err != "" {
						t.Fatalf("%s: %s", at, got.err)
					}
					if !bytes.Equal(ref.csv, got.csv) || !bytes.Equal(ref.ndjson, got.ndjson) ||
						!bytes.Equal(ref.json, got.json) || !bytes.Equal(ref.pkg, got.pkg) {
						t.Fatalf("%s: output differs from the reference", at)
					}
					if len(ref.progress) != len(got.progress) {
						t.Fatalf("%s: %d progress reports, want %d", at, len(got.progress), len(ref.progress))
					}
					for i := range ref.progress {
						if ref.progress[i] != got.progress[i] {
							t.Fatalf("%s: progress %d is %+v, want %+v", at, i, got.progress[i], ref.progress[i])
						}
					}
				}
			}
		}
	}
	ref := runPipe(t, p, export.SourceFunc(reusing{recs: recs}.Records), 1)
	if !bytes.Contains(ref.csv, []byte(export.ErasedCell)) {
		t.Fatal("no erased cell written")
	}
	if !bytes.Contains(ref.ndjson, []byte(`"email":"jan.de.vries2999@example.nl"`)) {
		t.Fatal("the last record's e-mail address is not in the NDJSON")
	}
}

// waitGoroutines waits until no more goroutines run than before.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after the export, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// failingWriter fails once more than n bytes were written.
type failingWriter struct{ n int }

var errWriter = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errWriter
	}
	return len(p), nil
}

// TestPipelineFailures checks that every way a pass can fail stops the
// goroutine that reveals, and fails with the error a pass on one goroutine
// (an untyped source) gives, on one core and on two.
func TestPipelineFailures(t *testing.T) {
	p := newProtector(t)
	recs := pipeRecords(t, p, 2000)
	bad := recs[900].Email
	recs[900].Email = bad[:len(bad)-2] + "AA" // fails to authenticate
	good := slicesClone(recs)
	good[900].Email = bad
	errSrc := errors.New("cursor closed")
	cases := []struct {
		name string
		rv   export.Revealer
		src  reusing
		w    io.Writer
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{name: "SourceError", rv: p, src: reusing{recs: good, fail: func(i int) error {
			if i == 600 {
				return errSrc
			}
			return nil
		}}, want: export.ErrSource},
		{name: "SourcePanic", rv: p, src: reusing{recs: good, fail: func(i int) error {
			if i == 600 {
				panic("boom")
			}
			return nil
		}}, want: export.ErrSource},
		{name: "RevealFails", rv: p, src: reusing{recs: recs}, want: export.ErrReveal},
		{name: "RevealFailsOneByOne", rv: onlyReveal{p: p}, src: reusing{recs: recs}, want: export.ErrReveal},
		{name: "RevealerError", rv: onlyReveal{p: p, fail: func(r *benchRecord) error {
			if r.Logins == 700 {
				return errSrc
			}
			return nil
		}}, src: reusing{recs: good}, want: export.ErrReveal},
		{name: "RevealerPanic", rv: onlyReveal{p: p, fail: func(r *benchRecord) error {
			if r.Logins == 700 {
				panic("boom")
			}
			return nil
		}}, src: reusing{recs: good}, want: export.ErrSource},
		{name: "WriterFails", rv: p, src: reusing{recs: good}, w: &failingWriter{n: 70 << 10}, want: errWriter},
		{name: "Cancelled", rv: p, src: reusing{recs: good}, ctx: func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, want: context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			typed := export.SourceFunc(tc.src.Records)
			var msgs []string
			for _, src := range []export.Source{untyped{typed}, typed} {
				e, err := export.New(export.Controller{Name: "x", Contact: "y"}, &export.Options{Revealer: tc.rv})
				if err != nil {
					t.Fatal(err)
				}
				if err := e.Register(cat("bench"), src); err != nil {
					t.Fatal(err)
				}
				for _, procs := range []int{1, 2} {
					ctx := context.Background()
					if tc.ctx != nil {
						var cancel context.CancelFunc
						ctx, cancel = tc.ctx()
						defer cancel()
					}
					w := tc.w
					if fw, ok := w.(*failingWriter); ok {
						w = &failingWriter{n: fw.n}
					} else if w == nil {
						w = io.Discard
					}
					before := runtime.NumGoroutine()
					withProcs(procs, func() { err = e.WriteCSV(ctx, w, subject, "bench", "") })
					waitGoroutines(t, before)
					if !errors.Is(err, tc.want) {
						t.Fatalf("%T, GOMAXPROCS %d: error %v, want %v", src, procs, err, tc.want)
					}
					msgs = append(msgs, err.Error())
				}
			}
			for _, m := range msgs[1:] {
				if m != msgs[0] {
					t.Fatalf("errors differ:\none goroutine: %s\npipeline:     %s", msgs[0], m)
				}
			}
		})
	}
}

func slicesClone(r []benchRecord) []benchRecord { return append([]benchRecord(nil), r...) }

// TestPipelineGoroutine checks that a pass reveals flat records of a typed
// source on one extra goroutine, on one core as on two, and records of
// other types, or of an untyped source, on the calling goroutine only.
func TestPipelineGoroutine(t *testing.T) {
	p := newProtector(t)
	recs := pipeRecords(t, p, 1000)
	c := customer("subject-1", 1)
	protect(t, p, c)
	for _, tc := range []struct {
		name  string
		src   export.Source
		procs int
		extra int
	}{
		{"Flat", export.SourceFunc(reusing{recs: recs}.Records), 2, 1},
		{"FlatOneCore", export.SourceFunc(reusing{recs: recs}.Records), 1, 1},
		{"FlatUntyped", untyped{export.SourceFunc(reusing{recs: recs}.Records)}, 2, 0},
		{"WithSlices", export.SourceFunc(func(context.Context, personaldata.SubjectID) iter.Seq2[*Customer, error] {
			return func(yield func(*Customer, error) bool) {
				for range 1000 {
					r := *c
					if !yield(&r, nil) {
						return
					}
				}
			}
		}), 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			var most atomic.Int64
			rv := countingRevealer{p: p, most: &most}
			e, err := export.New(export.Controller{Name: "x", Contact: "y"}, &export.Options{Revealer: rv})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Register(cat("bench"), tc.src); err != nil {
				t.Fatal(err)
			}
			withProcs(tc.procs, func() { err = e.WriteCSV(context.Background(), io.Discard, subject, "bench", "") })
			if err != nil {
				t.Fatal(err)
			}
			waitGoroutines(t, before)
			if got := int(most.Load()) - before; got != tc.extra {
				t.Fatalf("%d more goroutines while revealing, want %d", got, tc.extra)
			}
		})
	}
}

type countingRevealer struct {
	p    *pii.Protector
	most *atomic.Int64
}

func (c countingRevealer) Reveal(ctx context.Context, v any) error {
	n := int64(runtime.NumGoroutine())
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
	return c.p.Reveal(ctx, v)
}
