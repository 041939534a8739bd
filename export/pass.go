package export

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/revealhook"
	"github.com/personaldata/personaldata/pii"
)

// item is one record ready to be written.
type item struct {
	v      reflect.Value       // the record: a pointer to a struct, a struct or a map
	p      *plan               // how to write it
	erased map[string]struct{} // pii paths of erased fields; nil if none
}

// errStop ends a pass early without an error.
var errStop = errors.New("stop")

// each reads the records of r for the job's subject and calls fn with each,
// numbered from 1. It revealed encrypted fields, marks erased ones, checks
// the record type, and turns a source's error or panic into ErrSource.
// limit > 0 stops after that many records.
func (j *job) each(ctx context.Context, r *registration, limit int64, fn func(n int64, it *item) error) (n int64, err error) {
	name := r.cat.Name
	defer func() {
		if v := recover(); v != nil {
			// The panic value may hold personal data: only its type is kept.
			err = fmt.Errorf("%w: category %s: panic (%T) after %d records", ErrSource, name, v, n)
		}
	}()
	if j.pipelined(r, limit) {
		err = j.eachPipelined(ctx, r, &n, fn)
		return n, err
	}
	want := r.plan
	var it item
	// scratch holds struct records yielded as values, and flat ones
	// yielded as pointers, while they are revealed; each is done with
	// before the next is read. A pass that keeps no record's strings
	// (limit 0: no index.html rows) reveals them into arena, reused.
	sc := scratch{reuse: limit == 0}
	ctx = context.WithValue(ctx, nowKey{}, j.now)
	for rec, serr := range r.src.Records(ctx, j.req.Subject) {
		if serr != nil {
			return n, fmt.Errorf("%w: category %s after %d records: %w", ErrSource, name, n, serr)
		}
		if n&255 == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		n++
		if err := j.prepare(ctx, r, rec, &want, &it, &sc, n); err != nil {
			return n, err
		}
		if err := fn(n, &it); err != nil {
			if err == errStop {
				return n, nil
			}
			return n, err
		}
		if limit > 0 && n >= limit {
			return n, nil
		}
	}
	return n, ctx.Err()
}

// scratch is the memory a pass on one goroutine reveals records in.
type scratch struct {
	v     reflect.Value // a pointer to a record of the pass's struct type
	arena []byte        // memory for revealed strings (see revealhook.Into)
	reuse bool          // records' strings may go in arena
}

func (j *job) prepare(ctx context.Context, r *registration, rec any, want **plan, it *item, sc *scratch, n int64) error {
	name := r.cat.Name
	var pre prepared
	if r.builtin {
		pre, _ = rec.(prepared)
		rec = pre.v
	}
	v := reflect.ValueOf(rec)
	if !v.IsValid() || v.Kind() == reflect.Pointer && v.IsNil() {
		return fmt.Errorf("%w: category %s, record %d is nil", ErrRecordType, name, n)
	}
	if *want == nil {
		p, err := j.e.plans.get(v.Type())
		if err != nil {
			return fmt.Errorf("category %s, record %d: %w", name, n, err)
		}
		*want = p
	} else if v.Type() != (*want).typ {
		return fmt.Errorf("%w: category %s, record %d is %s, earlier records are %s", ErrRecordType, name, n, v.Type(), (*want).typ)
	}
	p := *want
	it.v, it.p, it.erased = v, p, nil
	if p.st == nil {
		if v.IsNil() {
			return fmt.Errorf("%w: category %s, record %d is a nil map", ErrRecordType, name, n)
		}
		return nil
	}
	if r.builtin {
		it.erased = pre.erased
		return nil
	}
	rv := j.e.opts.Revealer
	if !p.st.hasPII && (!p.st.hasDynamic || rv == nil) {
		return nil
	}
	if rv == nil {
		return fmt.Errorf("%w: category %s", ErrNoRevealer, name)
	}
	ptr := v
	if pp, ok := rv.(*pii.Protector); ok && sc.reuse && p.st.flat {
		// A copy of a flat record is its own: reveal it into memory
		// reused for the next record, and leave the source's as it was.
		if !sc.v.IsValid() {
			sc.v = reflect.New(p.st.typ)
		}
		if p.ptr {
			sc.v.Elem().Set(v.Elem())
			it.v = sc.v
		} else {
			sc.v.Elem().Set(v)
			it.v = sc.v.Elem()
		}
		sc.arena = sc.arena[:0]
		err := revealhook.Into(pp, ctx, sc.v.Interface(), &sc.arena)
		it.erased, err = revealed(err, name, n)
		return err
	}
	if !p.ptr {
		if !sc.v.IsValid() {
			sc.v = reflect.New(v.Type())
		}
		ptr = sc.v
		ptr.Elem().Set(v)
		it.v = ptr.Elem()
	}
	erased, err := reveal(ctx, rv, ptr, name, n)
	it.erased = erased
	return err
}

// reveal reveals the struct ptr points to, record n of category name, and
// returns the pii paths of its erased fields (nil if none).
func reveal(ctx context.Context, rv Revealer, ptr reflect.Value, name personaldata.Category, n int64) (map[string]struct{}, error) {
	return revealed(rv.Reveal(ctx, ptr.Interface()), name, n)
}

// revealed returns the pii paths of the erased fields that err, the
// error of revealing record n of category name, reports, or the error
// to fail the pass with.
func revealed(err error, name personaldata.Category, n int64) (map[string]struct{}, error) {
	if err == nil {
		return nil, nil
	}
	erased, bad := erasedPaths(err)
	if bad != nil || len(erased) == 0 {
		if bad == nil {
			bad = err
		}
		return nil, fmt.Errorf("%w: category %s, record %d: %w", ErrReveal, name, n, bad)
	}
	return erased, nil
}

// erasedPaths collects the paths of the fields a Revealer reported as
// erased. It returns the first failure that is not an erasure, if any.
func erasedPaths(err error) (map[string]struct{}, error) {
	set := map[string]struct{}{}
	var bad error
	eachFieldError(err, func(fe *pii.FieldError) bool {
		if errors.Is(fe.Err, pii.ErrErased) {
			set[fe.Path] = struct{}{}
			return true
		}
		bad = fe
		return false
	}, func(e error) bool {
		bad = e
		return false
	})
	return set, bad
}

// eachFieldError walks the tree of err (Unwrap() error and
// Unwrap() []error) and calls field for each *pii.FieldError in it and
// other for each leaf that is not one, until either returns false.
func eachFieldError(err error, field func(*pii.FieldError) bool, other func(error) bool) {
	var walk func(error) bool
	walk = func(e error) bool {
		if fe, ok := e.(*pii.FieldError); ok {
			return field(fe)
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				if !walk(c) {
					return false
				}
			}
			return true
		case interface{ Unwrap() error }:
			return walk(u.Unwrap())
		}
		return other(e)
	}
	walk(err)
}
