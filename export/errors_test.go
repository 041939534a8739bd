package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/export"
)

func plainExporter(t *testing.T, opts *export.Options) *export.Exporter {
	t.Helper()
	o := export.Options{Now: fixedClock, Entropy: newEntropy()}
	if opts != nil {
		o = *opts
		o.Now, o.Entropy = fixedClock, newEntropy()
	}
	e, err := export.New(export.Controller{Name: "Example B.V.", Contact: "privacy@example.nl"}, &o)
	require.NoError(t, err)
	return e
}

type Note struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
}

func notes(n int) func(context.Context, personaldata.SubjectID) iter.Seq2[Note, error] {
	return func(context.Context, personaldata.SubjectID) iter.Seq2[Note, error] {
		return func(yield func(Note, error) bool) {
			for i := range n {
				if !yield(Note{ID: i, Text: "note"}, nil) {
					return
				}
			}
		}
	}
}

func cat(name string) export.Category {
	return export.Category{Name: personaldata.Category(name), Title: name, Origin: export.Provided,
		Purposes: []export.Purpose{{ID: "service", Description: "Service", Basis: personaldata.Contract}}}
}

// requireFailedPackage writes a package that must fail with want, and
// checks that its bytes are not a readable zip.
func requireFailedPackage(t *testing.T, e *export.Exporter, want error) error {
	t.Helper()
	var b bytes.Buffer
	m, err := e.WritePackage(context.Background(), &b, export.Request{Subject: subject})
	require.ErrorIs(t, err, want)
	require.Nil(t, m)
	_, zerr := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	require.Error(t, zerr, "a failed package must not be a valid zip")
	return err
}

func TestRegisterRejects(t *testing.T) {
	t.Parallel()
	e := plainExporter(t, nil)
	src := export.NewMemorySource()
	for _, tc := range []struct {
		name string
		c    export.Category
	}{
		{"path traversal", cat("../etc")},
		{"slash", cat("a/b")},
		{"upper case", cat("Account")},
		{"non-ASCII", cat("accöunt")},
		{"empty", cat("")},
		{"no title", func() export.Category { c := cat("a"); c.Title = ""; return c }()},
		{"no purpose", func() export.Category { c := cat("a"); c.Purposes = nil; return c }()},
		{"bad basis", func() export.Category { c := cat("a"); c.Purposes[0].Basis = 0; return c }()},
		{"no origin", func() export.Category { c := cat("a"); c.Origin = 0; return c }()},
		{"third party unnamed", func() export.Category { c := cat("a"); c.Origin = export.ThirdParty; return c }()},
		{"derived portable", func() export.Category { c := cat("a"); c.Origin = export.Derived; c.Portable = true; return c }()},
		{"title not UTF-8", func() export.Category { c := cat("a"); c.Title = "\xff"; return c }()},
		{"recipient not UTF-8", func() export.Category { c := cat("a"); c.Recipients = []export.Recipient{{Name: "a\xfe"}}; return c }()},
		{"unnamed recipient", func() export.Category { c := cat("a"); c.Recipients = []export.Recipient{{Role: "x"}}; return c }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, e.Register(tc.c, src), export.ErrInvalidCategory)
		})
	}
	require.NoError(t, e.Register(cat("a"), src))
	require.ErrorIs(t, e.Register(cat("a"), src), export.ErrInvalidCategory, "registered twice")
	require.ErrorIs(t, e.Register(cat("b"), nil), export.ErrInvalidCategory)
	require.ErrorIs(t, e.Register(cat("c"), export.SourceFunc(func(context.Context, personaldata.SubjectID) iter.Seq2[int, error] { return nil })), export.ErrRecordType)
	require.ErrorIs(t, e.Register(cat("d"), export.SourceFunc(func(context.Context, personaldata.SubjectID) iter.Seq2[*Customer, error] { return nil })), export.ErrNoRevealer)
}

func TestUnknownCategory(t *testing.T) {
	t.Parallel()
	e := plainExporter(t, nil)
	require.NoError(t, e.Register(cat("notes"), export.SourceFunc(notes(1))))
	ctx := context.Background()
	require.ErrorIs(t, e.WriteNDJSON(ctx, io.Discard, subject, "nope"), export.ErrUnknownCategory)
	require.ErrorIs(t, e.WriteCSV(ctx, io.Discard, subject, "nope", ""), export.ErrUnknownCategory)
	require.ErrorIs(t, e.WriteCSV(ctx, io.Discard, subject, "notes", "nope"), export.ErrInvalidRequest)
	_, err := e.WritePackage(ctx, io.Discard, export.Request{Subject: subject, Categories: []personaldata.Category{"nope"}})
	require.ErrorIs(t, err, export.ErrUnknownCategory)
	_, err = e.WritePackage(ctx, io.Discard, export.Request{Subject: subject, Withhold: map[personaldata.Category]string{"nope": "x"}})
	require.ErrorIs(t, err, export.ErrUnknownCategory)
	_, err = e.WritePackage(ctx, io.Discard, export.Request{Subject: ""})
	require.ErrorIs(t, err, export.ErrInvalidRequest)
	_, err = e.WritePackage(ctx, io.Discard, export.Request{Subject: subject, Kind: 9})
	require.ErrorIs(t, err, export.ErrInvalidRequest)
}

var errDatabase = errors.New("database unreachable")

func TestFailingSource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		src  export.Source
		want error
	}{
		{"error half-way", export.SourceFunc(func(ctx context.Context, s personaldata.SubjectID) iter.Seq2[Note, error] {
			return func(yield func(Note, error) bool) {
				for i := range 3000 {
					if !yield(Note{ID: i}, nil) {
						return
					}
				}
				yield(Note{}, errDatabase)
			}
		}), errDatabase},
		{"panic half-way", export.SourceFunc(func(ctx context.Context, s personaldata.SubjectID) iter.Seq2[Note, error] {
			return func(yield func(Note, error) bool) {
				for i := range 3000 {
					if !yield(Note{ID: i}, nil) {
						return
					}
				}
				panic("secret personal data")
			}
		}), export.ErrSource},
		{"panic at once", export.SourceFunc(func(ctx context.Context, s personaldata.SubjectID) iter.Seq2[Note, error] {
			panic(errors.New("secret personal data"))
		}), export.ErrSource},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := plainExporter(t, nil)
			require.NoError(t, e.Register(cat("notes"), tc.src))
			err := requireFailedPackage(t, e, export.ErrSource)
			require.ErrorIs(t, err, tc.want)
			require.NotContains(t, err.Error(), "secret")
			var b bytes.Buffer
			require.ErrorIs(t, e.WriteJSON(context.Background(), &b, export.Request{Subject: subject}), export.ErrSource)
			require.ErrorIs(t, e.WriteNDJSON(context.Background(), &b, subject, "notes"), export.ErrSource)
			require.ErrorIs(t, e.WriteCSV(context.Background(), &b, subject, "notes", ""), export.ErrSource)
		})
	}
}

func TestWrongRecordType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		recs []any
	}{
		{"struct then another", []any{Note{ID: 1}, &Note{ID: 2}}},
		{"struct then map", []any{Note{ID: 1}, map[string]any{"id": 2}}},
		{"integer", []any{42}},
		{"string", []any{"a record"}},
		{"nil", []any{nil}},
		{"nil pointer", []any{(*Note)(nil)}},
		{"map with int keys", []any{map[int]string{1: "x"}}},
		{"func field", []any{struct{ F func() }{}}},
		{"channel field", []any{struct{ C chan int }{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := export.NewMemorySource()
			src.Add(subject, tc.recs...)
			e := plainExporter(t, nil)
			require.NoError(t, e.Register(cat("notes"), src))
			requireFailedPackage(t, e, export.ErrRecordType)
		})
	}
}

func TestNoRevealerUntyped(t *testing.T) {
	t.Parallel()
	src := export.NewMemorySource()
	src.Add(subject, customer(string(subject), 1))
	e := plainExporter(t, nil)
	require.NoError(t, e.Register(customerCategory, src))
	requireFailedPackage(t, e, export.ErrNoRevealer)
}

func TestTamperedFieldFails(t *testing.T) {
	t.Parallel()
	p := newProtector(t)
	c := customer(string(subject), 1)
	protect(t, p, c)
	other := customer("someone-else", 1)
	protect(t, p, other)
	c.Email = other.Email // a ciphertext of another subject does not open
	src := export.NewMemorySource()
	src.Add(subject, c)
	e := plainExporter(t, &export.Options{Revealer: p})
	require.NoError(t, e.Register(customerCategory, src))
	err := requireFailedPackage(t, e, export.ErrReveal)
	require.NotContains(t, err.Error(), "jan@")
}

// changing yields other records on every read.
type changing struct{ reads int }

func (c *changing) Records(context.Context, personaldata.SubjectID) iter.Seq2[any, error] {
	c.reads++
	n := c.reads
	return func(yield func(any, error) bool) { yield(Note{ID: n}, nil) }
}

func TestSourceChanged(t *testing.T) {
	t.Parallel()
	e := plainExporter(t, nil)
	require.NoError(t, e.Register(cat("notes"), &changing{}))
	requireFailedPackage(t, e, export.ErrSourceChanged)
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	e := plainExporter(t, nil)
	require.NoError(t, e.Register(cat("notes"), export.SourceFunc(notes(10000))))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var b bytes.Buffer
	_, err := e.WritePackage(ctx, &b, export.Request{Subject: subject})
	require.ErrorIs(t, err, context.Canceled)
}

func TestClosed(t *testing.T) {
	t.Parallel()
	e := plainExporter(t, nil)
	require.NoError(t, e.Close())
	require.NoError(t, e.Close())
	require.ErrorIs(t, e.Register(cat("notes"), export.SourceFunc(notes(1))), export.ErrClosed)
	_, err := e.WritePackage(context.Background(), io.Discard, export.Request{Subject: subject})
	require.ErrorIs(t, err, export.ErrClosed)
	require.ErrorIs(t, e.WriteNDJSON(context.Background(), io.Discard, subject, "notes"), export.ErrClosed)
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	_, err := export.New(export.Controller{Name: "x"}, nil)
	require.ErrorIs(t, err, export.ErrInvalidRequest)
	_, err = export.New(export.Controller{Name: "x\xff", Contact: "y"}, nil)
	require.ErrorIs(t, err, export.ErrInvalidRequest)
	_, err = export.New(export.Controller{Name: "x", Contact: "y"}, &export.Options{SubjectKey: []byte("short")})
	require.ErrorIs(t, err, export.ErrInvalidRequest)
	e, err := export.New(export.Controller{Name: "x", Contact: "y"}, nil)
	require.NoError(t, err)
	assert.Len(t, e.SubjectRef(subject), 32)
	assert.False(t, strings.Contains(e.SubjectRef(subject), string(subject)))
}
