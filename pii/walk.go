package pii

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii/internal/envelope"
)

// Protect encrypts, in place, every personal data field of v: a pointer to
// a tagged struct, or a slice, array, map or pointer leading to tagged
// structs. Nested structs, pointers, slices and maps of structs are
// followed. Each field is sealed under the key of its subject and scope;
// keys are created on first use.
//
// Empty strings, empty byte slices and nil pointers are left as they are.
// A field that already holds a ciphertext of this subject, scope and
// category is left as it is, so Protect is idempotent; a value that only
// looks like a ciphertext (it has the prefix but does not authenticate) is
// treated as plaintext and encrypted.
//
// On error, some fields may already be encrypted and others not: the error
// joins one [*FieldError] per field that failed, and those fields keep
// their plaintext. Calling Protect again is safe.
func (p *Protector) Protect(ctx context.Context, v any) error {
	return p.run(ctx, v, modeProtect)
}

// Reveal decrypts, in place, every personal data field of v (see Protect
// for what v may be). Values of many subjects are revealed with one batched
// key-store call for the keys not cached.
//
// A field whose key was shredded gets its replacement (the redact= option,
// else the zero value) and is reported as erased. Fields that fail for any
// other reason (tampering, a missing key, a wrong KEK) keep their
// ciphertext, so nothing is lost. The error is then a [*RevealError] with a
// [*FieldError] per field; errors.Is(err, ErrErased) tells whether any field
// was erased, and [RevealError.OnlyErased] whether that is all.
//
// Fields that hold plaintext (never protected) are left as they are.
func (p *Protector) Reveal(ctx context.Context, v any) error {
	return p.run(ctx, v, modeReveal)
}

type mode uint8

const (
	modeProtect mode = iota + 1
	modeReveal
)

type rootInfo struct {
	cp     *containerPlan
	single bool // a pointer to one struct: no batch prefetch
	err    error
}

var roots sync.Map // reflect.Type -> *rootInfo

func rootFor(t reflect.Type) *rootInfo {
	if ri, ok := roots.Load(t); ok {
		return ri.(*rootInfo)
	}
	ri := &rootInfo{}
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
			c := cp
			for c.kind != reflect.Struct {
				c = c.elem
			}
			if _, err := rootPlan(c.typ); err != nil {
				ri.err = err
			} else {
				ri.cp = cp
			}
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

type seg struct {
	name string
	idx  int // -1: none; -2: a map element
}

type walker struct {
	p    *Protector
	ctx  context.Context
	mode mode

	collect bool
	refs    map[KeyRef]struct{}
	keys    map[KeyRef]*keyEntry
	keyErrs map[KeyRef]error

	memoRef KeyRef
	memo    *keyEntry

	depth   int                     // pointers followed below the root
	visited map[unsafe.Pointer]bool // pointers followed, so cycles end

	path []seg
	errs []*FieldError
	buf  []byte
	pt   []byte
	ad   []byte
}

var walkers = sync.Pool{New: func() any { return new(walker) }}

func (p *Protector) run(ctx context.Context, v any, m mode) error {
	if err := p.check(ctx); err != nil {
		return err
	}
	if v == nil {
		return fmt.Errorf("%w: nil", ErrUnsupported)
	}
	rv := reflect.ValueOf(v)
	ri := rootFor(rv.Type())
	if ri.err != nil {
		return ri.err
	}
	if ri.cp == nil {
		return nil // no personal data reachable from v
	}
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return fmt.Errorf("%w: nil pointer", ErrUnsupported)
	}
	w := walkers.Get().(*walker)
	*w = walker{p: p, ctx: ctx, mode: m, path: w.path[:0], buf: w.buf[:0], pt: w.pt[:0], ad: w.ad[:0]}
	if cap(w.ad) < maxAD {
		w.ad = make([]byte, 0, maxAD)
	}
	defer func() {
		if cap(w.buf) > 64<<10 {
			w.buf = nil
		}
		if cap(w.pt) > 64<<10 {
			w.pt = nil
		}
		*w = walker{path: w.path[:0], buf: w.buf[:0], pt: w.pt[:0], ad: w.ad[:0]}
		walkers.Put(w)
	}()
	if !ri.single {
		// Collect the keys every field needs and fetch the uncached ones
		// in one store call.
		w.collect, w.refs = true, map[KeyRef]struct{}{}
		w.container(rv, ri.cp, "")
		w.collect, w.visited = false, nil
		if len(w.refs) > 0 {
			refs := make([]KeyRef, 0, len(w.refs))
			for r := range w.refs {
				refs = append(refs, r)
			}
			keys, bad, err := p.keys(ctx, refs)
			if err != nil {
				return err
			}
			w.keys, w.keyErrs = keys, bad
		}
		w.path = w.path[:0]
	}
	w.container(rv, ri.cp, "")
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(w.errs) == 0 {
		return nil
	}
	fields := append([]*FieldError(nil), w.errs...)
	if m == modeReveal {
		return &RevealError{Fields: fields}
	}
	errs := make([]error, len(fields))
	for i, f := range fields {
		errs[i] = f
	}
	return errors.Join(errs...)
}

func (w *walker) container(v reflect.Value, cp *containerPlan, subject string) {
	if w.ctx.Err() != nil {
		return
	}
	switch cp.kind {
	case reflect.Struct:
		w.structValue(v, cp.plan(), subject)
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if w.depth > 0 {
			// Below the root a value may point back at itself (an object
			// graph with cycles): each pointer is followed once.
			ptr := v.UnsafePointer()
			if w.visited == nil {
				w.visited = map[unsafe.Pointer]bool{}
			}
			if w.visited[ptr] {
				return
			}
			w.visited[ptr] = true
		}
		w.depth++
		w.container(v.Elem(), cp.elem, subject)
		w.depth--
	case reflect.Slice, reflect.Array:
		n := len(w.path)
		for i := range v.Len() {
			w.path = append(w.path[:n], seg{idx: i})
			w.container(v.Index(i), cp.elem, subject)
		}
		w.path = w.path[:n]
	case reflect.Map:
		n := len(w.path)
		et := v.Type().Elem()
		it := v.MapRange()
		for it.Next() {
			w.path = append(w.path[:n], seg{idx: -2})
			if et.Kind() == reflect.Struct || et.Kind() == reflect.Array {
				cp2 := reflect.New(et).Elem()
				cp2.Set(it.Value())
				w.container(cp2, cp.elem, subject)
				if !w.collect {
					v.SetMapIndex(it.Key(), cp2)
				}
			} else {
				w.container(it.Value(), cp.elem, subject)
			}
		}
		w.path = w.path[:n]
	}
}

func subjectString(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	}
	return ""
}

func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	if len(index) == 1 {
		return v.Field(index[0]), true
	}
	f, err := v.FieldByIndexErr(index)
	return f, err == nil
}

func (w *walker) structValue(v reflect.Value, sp *structPlan, inherited string) {
	subject := inherited
	if sp.subject != nil {
		if sv, ok := fieldByIndex(v, sp.subject); ok {
			subject = subjectString(sv)
		} else {
			subject = ""
		}
	}
	subjErr := errSubjectUnchecked
	n := len(w.path)
	for i := range sp.fields {
		f := &sp.fields[i]
		fv, ok := fieldByIndex(v, f.index)
		if !ok {
			continue
		}
		w.path = append(w.path[:n], seg{name: f.name, idx: -1})
		if f.op == opNested {
			w.container(fv, f.nested, subject)
			continue
		}
		if !w.hasWork(fv, f.op) {
			continue
		}
		if f.subject != nil {
			subj := ""
			if sv, ok := fieldByIndex(v, f.subject); ok {
				subj = subjectString(sv)
			}
			w.field(v, fv, f, subj, personaldata.SubjectID(subj).Validate())
			continue
		}
		if subjErr == errSubjectUnchecked {
			subjErr = personaldata.SubjectID(subject).Validate()
		}
		w.field(v, fv, f, subject, subjErr)
	}
	w.path = w.path[:n]
}

// errSubjectUnchecked marks a subject not validated yet.
var errSubjectUnchecked = errors.New("unchecked")

func (w *walker) pathString() string {
	var b strings.Builder
	for _, s := range w.path {
		switch {
		case s.name != "":
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.name)
		case s.idx >= 0:
			fmt.Fprintf(&b, "[%d]", s.idx)
		default:
			b.WriteString("[*]") // map keys may be personal data
		}
	}
	return b.String()
}

func (w *walker) fail(f *fieldPlan, ref KeyRef, err error) {
	w.errs = append(w.errs, &FieldError{Path: w.pathString(), Subject: ref.Subject, Scope: ref.Scope, Category: f.category, Err: err})
}

// hasWork reports whether field value fv, protected by op, needs a key in
// this mode.
func (w *walker) hasWork(fv reflect.Value, op opKind) bool {
	switch op {
	case opString:
		s := fv.String()
		return s != "" && (w.mode == modeProtect || envelope.LooksText(s))
	case opBytes:
		b := fv.Bytes()
		return len(b) > 0 && (w.mode == modeProtect || envelope.Looks(b))
	case opPtrString:
		return !fv.IsNil() && w.hasWork(fv.Elem(), opString)
	case opPtrBytes:
		return !fv.IsNil() && w.hasWork(fv.Elem(), opBytes)
	case opStringSlice:
		for i := range fv.Len() {
			if w.hasWork(fv.Index(i), opString) {
				return true
			}
		}
		return false
	case opSealed:
		sv := fv.Addr().Interface().(sealedValue)
		st := sv.core().state
		return (w.mode == modeProtect && st == statePlain && !sv.isZero()) || (w.mode == modeReveal && st == stateSealed)
	}
	return false
}

// field protects or reveals one field whose subject is subject; subjErr is
// the result of validating it.
func (w *walker) field(parent, fv reflect.Value, f *fieldPlan, subject string, subjErr error) {
	ref := KeyRef{Subject: personaldata.SubjectID(subject), Scope: f.scope}
	if err := subjErr; err != nil {
		if !w.collect {
			w.fail(f, ref, fmt.Errorf("%w: %w", ErrNoSubject, err))
		}
		return
	}
	if w.collect {
		w.refs[ref] = struct{}{}
		return
	}
	e, err := w.entry(ref)
	if err != nil && !(w.mode == modeReveal && errors.Is(err, ErrErased)) {
		w.fail(f, ref, err)
		return
	}
	switch f.op {
	case opString:
		w.str(parent, fv, f, ref, e)
	case opPtrString:
		w.str(parent, fv.Elem(), f, ref, e)
	case opStringSlice:
		n := len(w.path)
		for i := range fv.Len() {
			w.path = append(w.path[:n], seg{idx: i})
			w.str(parent, fv.Index(i), f, ref, e)
		}
		w.path = w.path[:n]
	case opBytes:
		w.bytes(fv, f, ref, e)
	case opPtrBytes:
		w.bytes(fv.Elem(), f, ref, e)
	case opSealed:
		w.sealed(fv.Addr().Interface().(sealedValue), f, ref, e)
	}
}

// entry returns the key of ref. In reveal mode a nil entry with ErrErased
// means the key was shredded.
func (w *walker) entry(ref KeyRef) (*keyEntry, error) {
	if w.memo != nil && w.memoRef == ref {
		return w.memo, nil
	}
	if e := w.keys[ref]; e != nil {
		w.memoRef, w.memo = ref, e
		return e, nil
	}
	if err := w.keyErrs[ref]; err != nil {
		if w.mode == modeProtect && errors.Is(err, ErrKeyNotFound) {
			delete(w.keyErrs, ref) // created below
		} else if w.mode == modeProtect && errors.Is(err, ErrErased) {
			return nil, ErrForgotten
		} else {
			return nil, err
		}
	}
	e, err := w.p.key(w.ctx, ref, w.mode == modeProtect)
	if err != nil {
		if w.keyErrs == nil {
			w.keyErrs = map[KeyRef]error{}
		}
		w.keyErrs[ref] = err
		return nil, err
	}
	w.memoRef, w.memo = ref, e
	return e, nil
}

func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// opens reports whether bin is a ciphertext of ref and category under e.
func (w *walker) opens(bin []byte, e *keyEntry, ref KeyRef, category personaldata.Category) bool {
	env, err := envelope.Parse(bin)
	if err != nil {
		return false
	}
	pt, err := openEnvelope(w.pt[:0], w.ad[:0], e, env, ref, category)
	if pt != nil {
		w.pt = pt[:0]
	}
	return err == nil
}

func (w *walker) str(parent, fv reflect.Value, f *fieldPlan, ref KeyRef, e *keyEntry) {
	s := fv.String()
	if w.mode == modeProtect {
		if s == "" {
			return
		}
		if envelope.LooksText(s) {
			bin, err := envelope.DecodeText(w.buf[:0], s)
			w.buf = bin[:0]
			if err == nil && w.opens(bin, e, ref, f.category) {
				return // already protected
			}
		}
		if f.blind != nil {
			if w.p.indexer == nil {
				w.fail(f, ref, ErrNoIndexKey)
				return
			}
			parent.FieldByIndex(f.blind).SetString(w.p.indexer.Index(f.category, normalizer(f.tag.Normalize), s))
		}
		bin, err := w.p.sealBinary(w.buf[:0], w.ad[:0], e, ref, f.category, bytesOf(s))
		if err != nil {
			w.fail(f, ref, err)
			return
		}
		w.buf = bin[:0]
		text := envelope.AppendText(make([]byte, 0, envelope.TextLen(len(bin))), bin)
		fv.SetString(unsafe.String(unsafe.SliceData(text), len(text)))
		return
	}
	if !envelope.LooksText(s) {
		return
	}
	bin, err := envelope.DecodeText(w.buf[:0], s)
	w.buf = bin[:0]
	if err != nil {
		w.fail(f, ref, fmt.Errorf("%w: %w", ErrMalformed, err))
		return
	}
	env, err := envelope.Parse(bin)
	if err != nil {
		w.fail(f, ref, fmt.Errorf("%w: %w", ErrMalformed, err))
		return
	}
	if e == nil {
		fv.SetString(f.tag.Redact)
		w.fail(f, ref, ErrErased)
		return
	}
	pt, err := openEnvelope(w.pt[:0], w.ad[:0], e, env, ref, f.category)
	if err != nil {
		w.fail(f, ref, err)
		return
	}
	w.pt = pt[:0]
	fv.SetString(string(pt))
}

func (w *walker) bytes(fv reflect.Value, f *fieldPlan, ref KeyRef, e *keyEntry) {
	b := fv.Bytes()
	if w.mode == modeProtect {
		if len(b) == 0 || (envelope.Looks(b) && w.opens(b, e, ref, f.category)) {
			return
		}
		out, err := w.p.sealBinary(make([]byte, 0, envelope.SealedLen(w.p.alg, len(b))), w.ad[:0], e, ref, f.category, b)
		if err != nil {
			w.fail(f, ref, err)
			return
		}
		fv.SetBytes(out)
		return
	}
	if !envelope.Looks(b) {
		return
	}
	env, err := envelope.Parse(b)
	if err != nil {
		w.fail(f, ref, fmt.Errorf("%w: %w", ErrMalformed, err))
		return
	}
	if e == nil {
		fv.SetBytes(nil)
		w.fail(f, ref, ErrErased)
		return
	}
	pt, err := openEnvelope(nil, w.ad[:0], e, env, ref, f.category)
	if err != nil {
		w.fail(f, ref, err)
		return
	}
	fv.SetBytes(pt)
}

func (w *walker) sealed(sv sealedValue, f *fieldPlan, ref KeyRef, e *keyEntry) {
	c := sv.core()
	if w.mode == modeProtect {
		plain, err := sv.marshalPlain()
		if err != nil {
			w.fail(f, ref, fmt.Errorf("pii: encode sealed value: %w", err))
			return
		}
		out, err := w.p.sealBinary(make([]byte, 0, envelope.SealedLen(w.p.alg, len(plain))), w.ad[:0], e, ref, f.category, plain)
		clear(plain)
		if err != nil {
			w.fail(f, ref, err)
			return
		}
		sv.zeroPlain()
		c.state, c.env = stateSealed, out
		return
	}
	env, err := envelope.Parse(c.env)
	if err != nil {
		w.fail(f, ref, fmt.Errorf("%w: %w", ErrMalformed, err))
		return
	}
	if e == nil {
		sv.zeroPlain()
		c.state, c.env = stateErased, nil
		w.fail(f, ref, ErrErased)
		return
	}
	pt, err := openEnvelope(nil, w.ad[:0], e, env, ref, f.category)
	if err != nil {
		w.fail(f, ref, err)
		return
	}
	if err := sv.unmarshalPlain(pt); err != nil {
		w.fail(f, ref, fmt.Errorf("%w: sealed value does not decode: %w", ErrMalformed, err))
		return
	}
	c.state, c.env = statePlain, nil
}
