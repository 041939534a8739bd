package export

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/personaldata/personaldata/internal/quote"
	"github.com/personaldata/personaldata/pii"
)

// kind is how a value is written.
type kind uint8

const (
	kString  kind = iota + 1 // string, named string types
	kBool                    // bool
	kInt                     // signed integers
	kUint                    // unsigned integers
	kFloat                   // float32, float64
	kTime                    // time.Time, RFC 3339
	kBytes                   // []byte, standard base64
	kText                    // encoding.TextMarshaler, as a string
	kStruct                  // nested struct: an object; CSV columns "parent.child"
	kList                    // slice or array: an array; a CSV child table
	kSealed                  // pii.Sealed[T]: the revealed T
	kDynamic                 // interface: decided per value
	kJSON                    // anything else: its encoding/json form
)

// field is one field of a struct plan, or the element of a list or the
// value inside a Sealed.
type field struct {
	name   string // JSON name, also the CSV column name segment
	key    []byte // `"name":`, ready to append
	goName string // Go field name, as pii reports paths
	index  []int
	// off is the field's offset in the struct that lists it; direct says
	// that it is reached without following a pointer (no embedded
	// pointer on the way), so that off alone locates it.
	off    uintptr
	direct bool
	decl   reflect.Type // the type as declared
	typ    reflect.Type // after one pointer is removed
	kind   kind
	// scalar: a string, bool, number or time.Time, not through a
	// pointer, that can be read at its address (see fieldat.go).
	scalar bool
	ptr    bool // a pointer: nil is written as null
	pii    bool // carries a pii category: may be erased
	sub    *structPlan
	elem   *field
}

// structPlan lists the exported fields of a struct type in field order.
type structPlan struct {
	typ    reflect.Type
	fields []*field
	hasPII bool // a pii field is reachable, so a record may have erased fields
	// hasDynamic: an interface field is reachable; what it holds is known
	// only per value, so records are revealed when a Revealer is configured.
	hasDynamic bool
	// flat: records hold nothing behind a pointer, slice, map or
	// interface (see flatType), so a copy of one is its own.
	flat bool
}

// plan is how the records of one Go type are written.
type plan struct {
	typ    reflect.Type // the type as yielded
	ptr    bool         // records are pointers to structs
	st     *structPlan  // struct records; nil for map records
	mapVal *field       // map records: how values are written
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	piiPkgPath    = "github.com/personaldata/personaldata/pii"
)

// plans caches plans per record type.
type plans struct{ m sync.Map } // reflect.Type -> planResult

type planResult struct {
	p   *plan
	err error
}

func (ps *plans) get(t reflect.Type) (*plan, error) {
	if r, ok := ps.m.Load(t); ok {
		r := r.(planResult)
		return r.p, r.err
	}
	p, err := buildPlan(t)
	ps.m.Store(t, planResult{p, err})
	return p, err
}

func buildPlan(t reflect.Type) (*plan, error) {
	p := &plan{typ: t}
	st := t
	if st.Kind() == reflect.Pointer {
		p.ptr = true
		st = st.Elem()
	}
	switch {
	case st.Kind() == reflect.Struct && st != timeType:
		b := planBuilder{building: map[reflect.Type]bool{}}
		sp, err := b.structPlan(st)
		if err != nil {
			return nil, err
		}
		// pii decides what it protects, maps and pointers included: a
		// record with any protected field is revealed.
		fs, err := pii.Fields(st)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRecordType, err)
		}
		for _, f := range fs {
			if f.Dynamic {
				sp.hasDynamic = true
			} else {
				sp.hasPII = true
			}
		}
		sp.flat = flatType(st)
		p.st = sp
		return p, nil
	case !p.ptr && t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		b := planBuilder{building: map[reflect.Type]bool{}}
		f, err := b.field(t.Elem(), "value", "")
		if err != nil {
			return nil, err
		}
		p.mapVal = f
		return p, nil
	}
	return nil, fmt.Errorf("%w: %s is not a struct, a pointer to a struct or a map with string keys", ErrRecordType, quote.String(t.String()))
}

type planBuilder struct{ building map[reflect.Type]bool }

func (b *planBuilder) structPlan(t reflect.Type) (*structPlan, error) {
	sp := &structPlan{typ: t}
	b.building[t] = true
	defer delete(b.building, t)
	seen := map[string]bool{}
	for _, sf := range reflect.VisibleFields(t) {
		if sf.Anonymous && (sf.Type.Kind() == reflect.Struct || sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct) {
			continue // its promoted fields are listed themselves
		}
		if !sf.IsExported() {
			continue
		}
		name := sf.Name
		if tag, ok := sf.Tag.Lookup("json"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" && !strings.Contains(tag, ",") {
				continue
			}
			if n != "" && n != "-" {
				name = n
			}
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: %s has two fields named %s", ErrRecordType, quote.String(t.String()), quote.String(name))
		}
		seen[name] = true
		f, err := b.field(sf.Type, name, sf.Name)
		if err != nil {
			return nil, err
		}
		f.index = sf.Index
		f.off, f.direct = offset(t, sf.Index)
		if tag, ok := sf.Tag.Lookup("pii"); ok {
			n, _, _ := strings.Cut(tag, ",")
			f.pii = n != "" && n != "-" && n != "subject"
			if f.elem != nil && f.kind == kList {
				f.elem.pii = f.pii // []string: each element is sealed
			}
		}
		if f.pii || f.sub != nil && f.sub.hasPII || f.elem != nil && (f.elem.pii || f.elem.sub != nil && f.elem.sub.hasPII) {
			sp.hasPII = true
		}
		sp.fields = append(sp.fields, f)
	}
	return sp, nil
}

// field plans a value of type t.
func (b *planBuilder) field(t reflect.Type, name, goName string) (*field, error) {
	f := &field{name: name, goName: goName, key: appendString(nil, name), decl: t}
	f.key = append(f.key, ':')
	if t.Kind() == reflect.Pointer && t != timeType {
		f.ptr = true
		t = t.Elem()
	}
	f.typ = t
	switch {
	case t == timeType:
		f.kind = kTime
	case t.PkgPath() == piiPkgPath && strings.HasPrefix(t.Name(), "Sealed["):
		get, ok := t.MethodByName("Get")
		if !ok || get.Type.NumOut() != 2 {
			return nil, fmt.Errorf("%w: %s has no Get method", ErrRecordType, quote.String(t.String()))
		}
		inner, err := b.field(get.Type.Out(0), name, "")
		if err != nil {
			return nil, err
		}
		f.kind, f.elem = kSealed, inner
	case t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler):
		f.kind = kJSON
	case t.Implements(textMarshaler):
		f.kind = kText
	default:
		switch t.Kind() {
		case reflect.String:
			f.kind = kString
		case reflect.Bool:
			f.kind = kBool
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			f.kind = kInt
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			f.kind = kUint
		case reflect.Float32, reflect.Float64:
			f.kind = kFloat
		case reflect.Slice, reflect.Array:
			if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
				f.kind = kBytes
				break
			}
			elem, err := b.field(t.Elem(), name, "")
			if err != nil {
				return nil, err
			}
			f.kind, f.elem = kList, elem
		case reflect.Struct:
			if b.building[t] {
				f.kind = kJSON // a recursive type: written as its JSON form
				break
			}
			sp, err := b.structPlan(t)
			if err != nil {
				return nil, err
			}
			f.kind, f.sub = kStruct, sp
		case reflect.Interface:
			f.kind = kDynamic
		case reflect.Map:
			f.kind = kJSON
		default:
			return nil, fmt.Errorf("%w: field %s of type %s cannot be exported", ErrRecordType, quote.String(name), quote.String(t.String()))
		}
	}
	switch f.kind {
	case kString, kBool, kInt, kUint, kFloat, kTime:
		f.scalar = !f.ptr
	}
	return f, nil
}

// offset returns the offset of the field at index within struct type t,
// and whether it lies inside t's own memory: false if an embedded pointer
// is on the way.
func offset(t reflect.Type, index []int) (uintptr, bool) {
	var off uintptr
	for i, x := range index {
		sf := t.Field(x)
		off += sf.Offset
		if i < len(index)-1 {
			if sf.Type.Kind() != reflect.Struct {
				return 0, false
			}
			t = sf.Type
		}
	}
	return off, true
}
