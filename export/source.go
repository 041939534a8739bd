package export

import (
	"context"
	"iter"
	"reflect"

	"github.com/personaldata/personaldata"
)

// Source yields the records of one category of one subject. Records are
// pii-tagged structs, pointers to them, or maps with string keys (see the
// package documentation for how each is written).
//
// Contract:
//   - Records may be called more than once for one package, once for each
//     view it feeds (NDJSON, CSV, child tables, index.html). Every call for
//     the same export must yield the same records in the same order: read
//     them from one snapshot or transaction. The exporter compares the
//     views and fails with [ErrSourceChanged] if they differ.
//   - The exporter may reveal encrypted fields in place (it copies flat
//     records first; see the package documentation). Yield values that no
//     one else uses meanwhile; a value may be reused for the next record,
//     since the exporter is done with a record when it asks for the next.
//   - A yielded error, or a panic, fails the export with [ErrSource].
//   - The iterator should stop when ctx is done.
//
// Implementations must be safe for concurrent use if the Exporter is used
// from several goroutines.
type Source interface {
	Records(ctx context.Context, subject personaldata.SubjectID) iter.Seq2[any, error]
}

// SourceFunc adapts a typed iterator function to a [Source]. Knowing T, the
// exporter checks the record type when the category is registered rather
// than at the first record.
func SourceFunc[T any](f func(ctx context.Context, subject personaldata.SubjectID) iter.Seq2[T, error]) Source {
	return funcSource[T](f)
}

type funcSource[T any] func(ctx context.Context, subject personaldata.SubjectID) iter.Seq2[T, error]

func (f funcSource[T]) Records(ctx context.Context, subject personaldata.SubjectID) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for r, err := range f(ctx, subject) {
			if !yield(r, err) {
				return
			}
		}
	}
}

func (f funcSource[T]) recordType() reflect.Type { return reflect.TypeFor[T]() }

// typedSource is implemented by sources that know their record type.
type typedSource interface{ recordType() reflect.Type }
