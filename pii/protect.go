package pii

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/revealhook"
)

// Protect encrypts, in place, every personal data field of v: a pointer to
// a tagged struct, or a slice, array, map or pointer leading to tagged
// structs. Nested structs, pointers, slices and maps of structs are
// followed, and so are interface values (a field of type any, a []any, a
// map[string]any, a *any), by the type of what they hold. Each field is
// sealed under the key of its subject and scope; keys are created on first
// use.
//
// Empty strings, empty byte slices, nil pointers and never-set [Sealed]
// values are left as they are. A field that already holds a ciphertext of
// this subject, scope and category is left as it is, so Protect is
// idempotent; a value that only looks like a ciphertext (it has the prefix
// but does not authenticate) is treated as plaintext and encrypted.
//
// On error, the error is an [*OpError] with a [*FieldError] per field that
// failed; those fields keep their plaintext and every other field is
// protected. A cancelled context stops the walk between two elements of v,
// and the OpError says how far it got. Calling Protect again is safe.
func (p *Protector) Protect(ctx context.Context, v any) error {
	return p.run(ctx, v, modeProtect, nil)
}

// Reveal decrypts, in place, every personal data field of v (see Protect
// for what v may be). Values of many subjects are revealed with one batched
// key-store call for the keys not cached.
//
// A field whose key was shredded gets its replacement (the redact= option,
// else the zero value) and is reported as erased. Fields that fail for any
// other reason (tampering, a missing key, a wrong KEK) keep their
// ciphertext, so nothing is lost. The error is then an [*OpError] with a
// [*FieldError] per field; errors.Is(err, ErrErased) tells whether any
// field was erased, and [OpError.OnlyErased] whether that is all.
//
// Fields that hold plaintext (never protected) are left as they are.
func (p *Protector) Reveal(ctx context.Context, v any) error {
	return p.run(ctx, v, modeReveal, nil)
}

type mode uint8

const (
	modeProtect mode = iota + 1
	modeReveal
)

func (m mode) String() string {
	if m == modeProtect {
		return "protect"
	}
	return "reveal"
}

type rootInfo struct {
	typ    reflect.Type
	cp     *containerPlan
	single bool // a pointer to one struct: no batch prefetch
	err    error
}

var roots sync.Map // reflect.Type -> *rootInfo

func rootFor(t reflect.Type) *rootInfo {
	if ri, ok := roots.Load(t); ok {
		return ri.(*rootInfo)
	}
	ri := &rootInfo{typ: t}
	switch {
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		if _, err := rootPlan(t.Elem()); err != nil {
			ri.err = err
		} else {
			ri.cp = &containerPlan{kind: reflect.Pointer, elem: &containerPlan{kind: reflect.Struct, typ: t.Elem()}}
			ri.single = true
		}
	case t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map:
		b := planBuilder{building: map[reflect.Type]*structPlan{}}
		cp, ok, err := b.container(t)
		switch {
		case err != nil:
			ri.err = err
		case ok:
			if st := cp.structType(); st != nil {
				if _, err := rootPlan(st); err != nil {
					ri.err = err
					break
				}
			}
			ri.cp = cp
		}
	default:
		ri.err = fmt.Errorf("%w: %s: want a pointer to a struct, or a slice, map or pointer leading to structs", ErrUnsupported, t)
	}
	actual, _ := roots.LoadOrStore(t, ri)
	return actual.(*rootInfo)
}

// maxAD bounds the associated data: a 4-byte header, three length bytes,
// a subject of at most 255 bytes and a scope and category of at most 64.
const maxAD = 4 + 3 + personaldata.MaxSubjectIDLen + 64 + 64

var scratches = sync.Pool{New: func() any { return new(scratch) }}

func init() {
	revealhook.Into = func(p any, ctx context.Context, v any, arena *[]byte) error {
		return p.(*Protector).run(ctx, v, modeReveal, arena)
	}
}

// run protects or reveals v; arena, if not nil, is the memory revealed
// strings are taken from (see revealhook.Into).
func (p *Protector) run(ctx context.Context, v any, m mode, arena *[]byte) error {
	if err := p.check(ctx); err != nil {
		return err
	}
	if v == nil {
		return fmt.Errorf("%w: nil", ErrUnsupported)
	}
	rv := reflect.ValueOf(v)
	ri := p.lastRoot.Load() // most callers protect one type over and over
	if ri == nil || ri.typ != rv.Type() {
		ri = rootFor(rv.Type())
		p.lastRoot.Store(ri)
	}
	if ri.err != nil {
		return ri.err
	}
	if ri.cp == nil {
		return nil // no personal data reachable from v
	}
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return fmt.Errorf("%w: nil pointer", ErrUnsupported)
	}
	if m == modeProtect && ri.single {
		if sp := ri.cp.elem.plan(); sp.flat && p.protectFlat(rv.UnsafePointer(), sp) {
			return nil
		}
	}
	s := scratches.Get().(*scratch)
	w := walker{p: p, ctx: ctx, mode: m, elem: -1, arena: arena, scratch: *s}
	w.path, w.buf, w.pt, w.ad = w.path[:0], w.buf[:0], w.pt[:0], w.ad[:0]
	if cap(w.ad) < maxAD {
		w.ad = make([]byte, 0, maxAD)
	}
	err := w.run(rv, ri)
	for _, b := range []*[]byte{&w.buf, &w.pt, &w.rndBuf} {
		if cap(*b) > 64<<10 {
			*b = nil // let a rare large value go
		}
	}
	*s = w.scratch
	scratches.Put(s)
	return err
}

func (w *walker) run(rv reflect.Value, ri *rootInfo) error {
	p, ctx, m := w.p, w.ctx, w.mode
	if !ri.single {
		// Collect the keys every field needs and fetch the uncached ones
		// in one store call.
		w.collect, w.refs = true, map[KeyRef]struct{}{}
		w.root(rv, ri.cp)
		w.collect, w.visited, w.depth, w.errs, w.done = false, nil, 0, nil, 0
		if len(w.refs) > 0 {
			refs := make([]KeyRef, 0, len(w.refs))
			for r := range w.refs {
				refs = append(refs, r)
			}
			keys, bad, err := p.keys(ctx, refs, m == modeProtect)
			if err != nil {
				if cerr := ctx.Err(); cerr != nil {
					return &OpError{Op: m.String(), Stopped: cerr}
				}
				return err
			}
			w.keys, w.keyErrs = keys, bad
		}
		w.path = w.path[:0]
	}
	w.root(rv, ri.cp)
	if len(w.errs) == 0 && w.stopped == nil {
		return nil
	}
	return &OpError{Op: m.String(), Fields: append([]*FieldError(nil), w.errs...), Stopped: w.stopped, Done: w.done}
}
