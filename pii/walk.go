package pii

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii/internal/envelope"
)

// walker carries one Protect or Reveal through a value: the traversal is
// here, the work on each field in field.go.
type walker struct {
	p    *Protector
	ctx  context.Context
	mode mode

	collect bool
	refs    map[KeyRef]struct{}
	lastRef KeyRef // the last ref added to refs
	keys    map[KeyRef]*keyEntry
	keyErrs map[KeyRef]error

	memoRef KeyRef
	memo    *keyEntry

	depth   int                   // pointers followed below the root
	visited map[visitKey]struct{} // references followed, so cycles end
	stopped error                 // the context's error, once it stopped the walk
	done    int                   // top-level elements walked

	errs []*FieldError
	elem int // the element of a []string field worked on, or -1
	// text holds the strings of the struct walked (see textBuf), once
	// allocated with capacity textSize.
	text     []byte
	textSize int
	// arena, if not nil, is the memory revealed strings are taken from
	// instead (see revealhook.Into).
	arena *[]byte

	rnd   []byte // random bytes read for nonces, not used yet (in rndBuf)
	seals int    // fields left to seal in the struct walked, to size the next read

	scratch
}

// scratch is the memory a walk reuses from the last; the walker itself
// lives on the stack of its call.
type scratch struct {
	path   []seg
	buf    []byte
	pt     []byte
	ad     []byte
	rndBuf []byte
}

type seg struct {
	name string
	idx  int // -1: none; -2: a map element
}

// visitKey identifies a reference already followed: a pointer, or a slice
// or map reached through an interface. The type is part of the key, since
// a struct and its first field share an address.
type visitKey struct {
	ptr unsafe.Pointer
	typ reflect.Type
	n   int
}

// seen records k and reports whether it was recorded before.
func (w *walker) seen(k visitKey) bool {
	if w.visited == nil {
		w.visited = map[visitKey]struct{}{}
	}
	if _, ok := w.visited[k]; ok {
		return true
	}
	w.visited[k] = struct{}{}
	return false
}

// stop reports whether the context ended; it is checked between the
// top-level elements of the value only, so no element is left half-done.
func (w *walker) stop() bool {
	if w.collect || w.stopped != nil {
		return w.stopped != nil
	}
	if err := w.ctx.Err(); err != nil {
		w.stopped = err
		return true
	}
	return false
}

// root walks the value given to Protect or Reveal, element by element.
func (w *walker) root(v reflect.Value, cp *containerPlan) {
	for cp.kind == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v, cp = v.Elem(), cp.elem
		w.depth++
	}
	switch cp.kind {
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if w.stop() {
				break
			}
			w.path = append(w.path[:0], seg{idx: i})
			w.container(v.Index(i), cp.elem, "")
			w.done++
		}
		w.path = w.path[:0]
	case reflect.Map:
		w.mapValue(v, cp, "", true)
	default:
		if !w.stop() {
			w.container(v, cp, "")
			w.done++
		}
	}
}

func (w *walker) container(v reflect.Value, cp *containerPlan, subject string) {
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
			if w.seen(visitKey{ptr: v.UnsafePointer(), typ: v.Type()}) {
				return
			}
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
		w.mapValue(v, cp, subject, false)
	case reflect.Interface:
		w.dynamic(v, subject)
	}
}

// mapValue walks the elements of a map. Elements are not addressable, so
// structs, arrays and interface values are walked as copies and stored back.
func (w *walker) mapValue(v reflect.Value, cp *containerPlan, subject string, top bool) {
	n := len(w.path)
	et := v.Type().Elem()
	copied := et.Kind() == reflect.Struct || et.Kind() == reflect.Array || et.Kind() == reflect.Interface
	it := v.MapRange()
	for it.Next() {
		if top && w.stop() {
			break
		}
		w.path = append(w.path[:n], seg{idx: -2})
		if copied {
			c := reflect.New(et).Elem()
			c.Set(it.Value())
			w.container(c, cp.elem, subject)
			if !w.collect {
				v.SetMapIndex(it.Key(), c)
			}
		} else {
			w.container(it.Value(), cp.elem, subject)
		}
		if top {
			w.done++
		}
	}
	w.path = w.path[:n]
}

var errSealedInInterface = errors.New("a pii.Sealed held in an interface has no tag naming its category")

// dynamic walks what interface value v holds, by its dynamic type. A type
// whose tags are invalid, or a Sealed with no tag, fails at v's path.
func (w *walker) dynamic(v reflect.Value, subject string) {
	if v.IsNil() {
		return
	}
	ev := v.Elem()
	t := ev.Type()
	if isSealed(t) || (t.Kind() == reflect.Pointer && isSealed(t.Elem())) {
		if !w.collect {
			w.failPath(fmt.Errorf("%w: %s: %w", ErrUnsupported, t, errSealedInInterface))
		}
		return
	}
	dp := dynamicPlan(t)
	if dp.err != nil {
		if !w.collect {
			w.failPath(dp.err)
		}
		return
	}
	if dp.cp == nil {
		return // nothing tagged in there
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Array:
		// What an interface holds is not addressable: walk a copy and
		// store it back.
		if !v.CanSet() {
			if !w.collect {
				w.failPath(fmt.Errorf("%w: %s held in an interface that cannot be set", ErrUnsupported, t))
			}
			return
		}
		c := reflect.New(t).Elem()
		c.Set(ev)
		w.container(c, dp.cp, subject)
		if !w.collect {
			v.Set(c)
		}
		return
	case reflect.Slice, reflect.Map:
		if ev.IsNil() || w.seen(visitKey{ptr: ev.UnsafePointer(), typ: t, n: ev.Len()}) {
			return
		}
	}
	w.container(ev, dp.cp, subject)
}

// subjectString returns the subject held by v, or "" for a zero or empty
// one: an integer ID left at 0 is not a subject.
func subjectString(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Int() == 0 {
			return ""
		}
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Uint() == 0 {
			return ""
		}
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
	if sp.flat && v.CanSet() {
		w.flatStruct(v, sp, inherited)
		return
	}
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
	w.seals = sp.seals
	w.text, w.textSize = nil, 0
	if sp.strings > 1 && !w.collect && w.arena == nil {
		w.textSize = w.sizeText(v, sp)
	}
	for i := range sp.fields {
		f := &sp.fields[i]
		fv, ok := fieldByIndex(v, f.index)
		if !ok {
			continue
		}
		if f.op == opNested {
			w.path = append(w.path[:n], seg{name: f.name, idx: -1})
			left, text, size := w.seals, w.text, w.textSize
			w.container(fv, f.nested, subject)
			w.seals, w.text, w.textSize = left, text, size
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
			w.field(v, fv, nil, f, subj, personaldata.SubjectID(subj).Validate())
			continue
		}
		if subjErr == errSubjectUnchecked {
			subjErr = personaldata.SubjectID(subject).Validate()
		}
		w.field(v, fv, nil, f, subject, subjErr)
	}
	w.path = w.path[:n]
}

// flatStruct walks struct v of a flat plan (see structPlan.flat), which
// must be addressable, reaching its fields by offset.
func (w *walker) flatStruct(v reflect.Value, sp *structPlan, inherited string) {
	base := v.Addr().UnsafePointer()
	subject := inherited
	switch {
	case sp.flatSubj:
		subject = *(*string)(unsafe.Add(base, sp.subjOff))
	case sp.subject != nil:
		subject = ""
		if sv, ok := fieldByIndex(v, sp.subject); ok {
			subject = subjectString(sv)
		}
	}
	w.seals = sp.seals
	w.text, w.textSize = nil, 0
	if sp.strings > 1 && !w.collect && w.arena == nil {
		for i := range sp.fields {
			w.textSize += w.textLen(*(*string)(unsafe.Add(base, sp.fields[i].off)))
		}
	}
	subjErr := errSubjectUnchecked
	for i := range sp.fields {
		f := &sp.fields[i]
		ps := (*string)(unsafe.Add(base, f.off))
		if s := *ps; s == "" || (w.mode == modeReveal && !envelope.LooksText(s)) {
			continue
		}
		if subjErr == errSubjectUnchecked {
			subjErr = personaldata.SubjectID(subject).Validate()
		}
		w.field(v, reflect.Value{}, ps, f, subject, subjErr)
	}
}

// errSubjectUnchecked marks a subject not validated yet.
var errSubjectUnchecked = errors.New("unchecked")

// pathString returns the path walked to, and to the tagged field leaf
// (element w.elem of it, if not -1) if leaf is not nil: the path holds the
// containers only.
func (w *walker) pathString(leaf *fieldPlan) string {
	path := w.path
	if leaf != nil {
		path = append(path[:len(path):len(path)], seg{name: leaf.name, idx: -1})
		if w.elem >= 0 {
			path = append(path, seg{idx: w.elem})
		}
	}
	var b strings.Builder
	for _, s := range path {
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
	w.errs = append(w.errs, &FieldError{Path: w.pathString(f), Subject: ref.Subject, Scope: ref.Scope, Category: f.category, Err: err})
}

// failPath reports a failure at the current path that concerns no tagged
// field (a value held in an interface that cannot be walked).
func (w *walker) failPath(err error) {
	w.errs = append(w.errs, &FieldError{Path: w.pathString(nil), Err: err})
}
