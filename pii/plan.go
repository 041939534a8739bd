package pii

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
	"github.com/personaldata/personaldata/pii/internal/tags"
)

// opKind says how a field is protected or followed.
type opKind uint8

const (
	opString      opKind = iota + 1 // string (or named string type)
	opBytes                         // []byte
	opPtrString                     // *string
	opPtrBytes                      // *[]byte
	opStringSlice                   // []string: each element
	opSealed                        // Sealed[T]
	opNested                        // a struct, pointer, slice, array, map or interface that may lead to structs with PII
)

// fieldPlan is one tagged or followed field of a struct.
type fieldPlan struct {
	index    []int
	name     string
	op       opKind
	tag      tags.Tag
	rawTag   string
	category personaldata.Category
	scope    personaldata.Scope // normalised
	subject  []int              // index of the field holding this field's subject; nil: the struct's
	blind    []int              // index of the field receiving the blind index; nil: none
	bindex   string             // its name, for the inventory
	nested   *containerPlan     // for opNested
	typ      reflect.Type
	off      uintptr // offset of the field in its struct, if len(index) == 1
}

// structPlan is the parsed form of a struct type.
type structPlan struct {
	typ     reflect.Type
	subject []int // index of the subject field; nil if none
	subjKey string
	fields  []fieldPlan
	seals   int // fields that hold ciphertext (not opNested)
	strings int // of them, fields of kind opString
	// needsSubject is true when some field takes the struct's subject, so
	// the struct cannot stand alone without a subject field or an
	// enclosing struct that has one.
	needsSubject bool
	// flat is true when every field is a string field of the struct itself
	// (no embedding, no nesting) that takes the struct's subject: the walk
	// reaches them by offset. subjOff is the offset of a string subject
	// field of the struct itself, flatSubj true if there is one.
	flat     bool
	flatSubj bool
	subjOff  uintptr
	err      error
}

// containerPlan is the path from a field's type down to a struct type: zero
// or more pointers, slices, arrays and maps, then the struct, or an
// interface whose dynamic type is planned when the walk meets it.
type containerPlan struct {
	kind reflect.Kind // Pointer, Slice, Array, Map, Struct or Interface
	elem *containerPlan
	typ  reflect.Type // for Struct: the struct type
	sp   atomic.Pointer[structPlan]
}

// plan returns the struct plan of a Struct container, looked up once.
func (c *containerPlan) plan() *structPlan {
	if sp := c.sp.Load(); sp != nil {
		return sp
	}
	sp := planFor(c.typ)
	c.sp.Store(sp)
	return sp
}

// structType returns the struct type c leads to, or nil if it leads to an
// interface.
func (c *containerPlan) structType() reflect.Type {
	for c.kind != reflect.Struct {
		if c.kind == reflect.Interface {
			return nil
		}
		c = c.elem
	}
	return c.typ
}

var plans sync.Map // reflect.Type -> *structPlan

// dynPlan is the plan of a type met in an interface value.
type dynPlan struct {
	cp  *containerPlan // nil: nothing tagged is reachable
	err error
}

var dynPlans sync.Map // reflect.Type -> *dynPlan

// dynamicPlan returns the cached plan of t, the dynamic type of an
// interface value.
func dynamicPlan(t reflect.Type) *dynPlan {
	if dp, ok := dynPlans.Load(t); ok {
		return dp.(*dynPlan)
	}
	b := planBuilder{building: map[reflect.Type]*structPlan{}}
	cp, ok, err := b.container(t)
	dp := &dynPlan{err: err}
	if ok {
		dp.cp = cp
	}
	for typ, sp := range b.building {
		plans.LoadOrStore(typ, sp)
	}
	actual, _ := dynPlans.LoadOrStore(t, dp)
	return actual.(*dynPlan)
}

func isSealed(t reflect.Type) bool { return reflect.PointerTo(t).Implements(sealedType) }

// planFor returns the cached plan of struct type t, building it the first
// time. A plan that failed is cached with its error.
func planFor(t reflect.Type) *structPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan)
	}
	b := planBuilder{building: map[reflect.Type]*structPlan{}}
	p := b.build(t)
	// Store the plans built on the way (nested types) too; the first
	// stored wins so every caller sees one plan per type.
	for typ, sp := range b.building {
		plans.LoadOrStore(typ, sp)
	}
	actual, _ := plans.LoadOrStore(t, p)
	return actual.(*structPlan)
}

type planBuilder struct {
	building map[reflect.Type]*structPlan
}

var (
	errNoSubjectField = errors.New("struct has personal data fields but no pii:\"subject\" field, and is not nested in a struct that has one")
	errUnexported     = errors.New("unexported field cannot carry a pii tag")
	sealedType        = reflect.TypeFor[sealedValue]()
)

func isBytes(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
}

func subjectKind(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func (b *planBuilder) build(t reflect.Type) *structPlan {
	if sp, ok := b.building[t]; ok {
		return sp
	}
	if v, ok := plans.Load(t); ok {
		return v.(*structPlan)
	}
	sp := &structPlan{typ: t}
	b.building[t] = sp
	sp.err = b.fill(sp)
	if sp.err == nil {
		sp.setFlat()
	}
	return sp
}

// setFlat sets flat, flatSubj and subjOff.
func (sp *structPlan) setFlat() {
	sp.flat = len(sp.fields) > 0
	for i := range sp.fields {
		f := &sp.fields[i]
		if f.op != opString || len(f.index) != 1 || f.subject != nil {
			sp.flat = false
		}
	}
	if len(sp.subject) == 1 {
		sf := sp.typ.Field(sp.subject[0])
		sp.flatSubj, sp.subjOff = sf.Type.Kind() == reflect.String, sf.Offset
	}
}

type fieldInfo struct {
	f     reflect.StructField
	index []int
}

// visibleFields lists t's fields the way Go promotes them: direct fields,
// then fields of embedded structs that are not shadowed.
func visibleFields(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			continue // its fields are listed themselves
		}
		if f.Anonymous && f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			continue
		}
		out = append(out, fieldInfo{f: f, index: f.Index})
	}
	return out
}

func (b *planBuilder) fill(sp *structPlan) error {
	t := sp.typ
	fields := visibleFields(t)
	byName := map[string]fieldInfo{}
	for _, fi := range fields {
		byName[fi.f.Name] = fi
	}
	tagErr := func(f reflect.StructField, raw string, err error) error {
		return &TagError{Type: t, Field: f.Name, Tag: raw, Err: err}
	}
	for _, fi := range fields {
		f := fi.f
		raw, has := f.Tag.Lookup("pii")
		if !has {
			// Follow untagged exported fields whose type leads to PII.
			if !f.IsExported() {
				continue
			}
			if reflect.PointerTo(f.Type).Implements(sealedType) {
				return tagErr(f, raw, errors.New("a pii.Sealed field needs a pii tag naming its category"))
			}
			cp, hasPII, err := b.container(f.Type)
			if err != nil {
				return err
			}
			if hasPII {
				sp.fields = append(sp.fields, fieldPlan{index: fi.index, name: f.Name, op: opNested, nested: cp, typ: f.Type})
				if cp.needsSubject(b) {
					sp.needsSubject = true
				}
			}
			continue
		}
		tg, err := tags.Parse(raw)
		if err != nil {
			return tagErr(f, raw, err)
		}
		if !f.IsExported() && tg.Kind != tags.Ignore {
			return tagErr(f, raw, errUnexported)
		}
		switch tg.Kind {
		case tags.Ignore:
			continue
		case tags.Subject:
			if sp.subject != nil {
				return tagErr(f, raw, errors.New("second pii:\"subject\" field"))
			}
			if !subjectKind(f.Type) {
				return tagErr(f, raw, fmt.Errorf("subject field must be a string or integer, not %s", f.Type))
			}
			sp.subject, sp.subjKey = fi.index, f.Name
			continue
		}
		fp := fieldPlan{index: fi.index, name: f.Name, tag: tg, rawTag: raw, category: tg.Category, scope: tg.Scope.Normalize(), typ: f.Type, off: f.Offset}
		ft := f.Type
		switch {
		case reflect.PointerTo(ft).Implements(sealedType):
			fp.op = opSealed
		case ft.Kind() == reflect.String:
			fp.op = opString
		case isBytes(ft):
			fp.op = opBytes
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.String:
			fp.op = opPtrString
		case ft.Kind() == reflect.Pointer && isBytes(ft.Elem()):
			fp.op = opPtrBytes
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			fp.op = opStringSlice
		default:
			return tagErr(f, raw, fmt.Errorf("type %s cannot hold ciphertext; use string, []byte, a pointer to them, []string or pii.Sealed[%s]", ft, ft))
		}
		if tg.HasRedact && fp.op != opString && fp.op != opPtrString && fp.op != opStringSlice {
			return tagErr(f, raw, errors.New("redact= applies to string fields only"))
		}
		if tg.Subject != "" {
			other, ok := byName[tg.Subject]
			if !ok {
				return tagErr(f, raw, fmt.Errorf("subject=%s names no field of %s", tg.Subject, t))
			}
			if !subjectKind(other.f.Type) {
				return tagErr(f, raw, fmt.Errorf("subject=%s must name a string or integer field", tg.Subject))
			}
			fp.subject = other.index
		} else {
			sp.needsSubject = true
		}
		if tg.Index != "" {
			other, ok := byName[tg.Index]
			if !ok {
				return tagErr(f, raw, fmt.Errorf("index=%s names no field of %s", tg.Index, t))
			}
			if other.f.Type.Kind() != reflect.String || !other.f.IsExported() {
				return tagErr(f, raw, fmt.Errorf("index=%s must name an exported string field", tg.Index))
			}
			if ot, ok := other.f.Tag.Lookup("pii"); ok && ot != "-" {
				return tagErr(f, raw, fmt.Errorf("index=%s names a field tagged pii:%s; the index field must be untagged", tg.Index, quote.String(ot)))
			}
			if fp.op != opString && fp.op != opPtrString {
				return tagErr(f, raw, errors.New("index= applies to string fields only"))
			}
			fp.blind, fp.bindex = other.index, tg.Index
		}
		sp.fields = append(sp.fields, fp)
		sp.seals++
		if fp.op == opString {
			sp.strings++
		}
	}
	return nil
}

// container returns the plan from type t down to a struct with PII, and
// whether there is one. Types with no tagged struct inside are not followed.
func (b *planBuilder) container(t reflect.Type) (*containerPlan, bool, error) {
	switch t.Kind() {
	case reflect.Struct:
		if reflect.PointerTo(t).Implements(sealedType) {
			return nil, false, nil // an untagged Sealed is a programming error caught by Validate
		}
		sp := b.build(t)
		if sp.err != nil {
			return nil, false, sp.err
		}
		if !typeHasPII(t, map[reflect.Type]bool{}) {
			return nil, false, nil
		}
		return &containerPlan{kind: reflect.Struct, typ: t}, true, nil
	case reflect.Interface:
		// Followed by the dynamic type of what it holds.
		return &containerPlan{kind: reflect.Interface}, true, nil
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		if t.Kind() == reflect.Slice && isBytes(t) {
			return nil, false, nil
		}
		elem, ok, err := b.container(t.Elem())
		if err != nil || !ok {
			return nil, false, err
		}
		return &containerPlan{kind: t.Kind(), elem: elem}, true, nil
	}
	return nil, false, nil
}

// typeHasPII reports whether struct t, or any struct it leads to through
// exported fields, has a field tagged with a category, or whether t leads
// to an interface, which may hold such a struct. It reads tags only, so it
// gives the same answer for recursive types whatever the field order.
func typeHasPII(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		if isBytes(t) {
			return false
		}
		t = t.Elem()
	}
	if t.Kind() == reflect.Interface {
		return true
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return false
	}
	seen[t] = true
	for _, f := range reflect.VisibleFields(t) {
		if raw, ok := f.Tag.Lookup("pii"); ok {
			if raw != "-" && raw != "subject" {
				return true
			}
			continue
		}
		if (f.IsExported() || f.Anonymous) && typeHasPII(f.Type, seen) {
			return true
		}
	}
	return false
}

// needsSubject reports whether the struct a container leads to has fields
// that take their subject from an enclosing struct.
func (c *containerPlan) needsSubject(b *planBuilder) bool {
	st := c.structType()
	if st == nil {
		return false // known only at run time; a field with no subject fails then
	}
	sp := b.build(st)
	return sp.subject == nil && sp.needsSubject
}

// rootPlan validates t as the type of a top-level value and returns its plan.
func rootPlan(t reflect.Type) (*structPlan, error) {
	sp := planFor(t)
	if sp.err != nil {
		return nil, sp.err
	}
	if sp.subject == nil && sp.needsSubject {
		return nil, &TagError{Type: t, Err: errNoSubjectField}
	}
	return sp, nil
}
