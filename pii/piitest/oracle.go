package piitest

import (
	"reflect"
	"strconv"
)

// This walker is an independent oracle: AssertProtected checks pii's own
// walker, so it must not reuse it (a value pii's walker fails to reach
// would then pass unseen). It is written from the documented rules alone.
//
// walk calls fn for every field tagged with a pii category reachable from
// v, the way Protect and Reveal reach them, with the field's path. Interface
// values are followed by the dynamic type of what they hold; a pii.Sealed
// held in an interface is passed to fn too, as it cannot be protected
// there. Every field passed to fn is addressable (map elements and what
// interfaces hold are copies).
func walk(v any, fn func(path string, f reflect.Value)) {
	rv := reflect.ValueOf(v)
	if !rv.CanAddr() && rv.Kind() != reflect.Pointer {
		c := reflect.New(rv.Type()).Elem()
		c.Set(rv)
		rv = c
	}
	w := walker{fn: fn, seen: map[visit]bool{}, pii: map[reflect.Type]bool{}}
	w.value("", rv)
}

type visit struct {
	ptr uintptr
	typ reflect.Type
}

type walker struct {
	fn   func(string, reflect.Value)
	seen map[visit]bool        // pointers followed, so a cyclic value ends
	pii  map[reflect.Type]bool // types known to lead to personal data
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (w *walker) value(path string, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		k := visit{v.Pointer(), v.Type()}
		if w.seen[k] {
			return
		}
		w.seen[k] = true
		w.value(path, v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			w.value(path+"["+strconv.Itoa(i)+"]", v.Index(i))
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			c := reflect.New(v.Type().Elem()).Elem()
			c.Set(it.Value())
			w.value(path+"[*]", c)
		}
	case reflect.Struct:
		if isSealedType(v.Type()) {
			w.fn(path, v) // reached through an interface: untagged
			return
		}
		w.structValue(path, v)
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		e := v.Elem()
		if e.Kind() == reflect.Slice || e.Kind() == reflect.Map {
			k := visit{e.Pointer(), e.Type()}
			if e.IsNil() || w.seen[k] {
				return
			}
			w.seen[k] = true
		}
		c := reflect.New(e.Type()).Elem()
		c.Set(e)
		w.value(path, c)
	}
}

func (w *walker) structValue(path string, v reflect.Value) {
	for _, sf := range reflect.VisibleFields(v.Type()) {
		if sf.Anonymous {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				continue // its fields are visible themselves
			}
		}
		f, err := v.FieldByIndexErr(sf.Index)
		if err != nil {
			continue // promoted through a nil embedded pointer
		}
		raw, tagged := sf.Tag.Lookup("pii")
		if !tagged {
			if sf.IsExported() && w.leadsToPII(sf.Type) {
				w.value(join(path, sf.Name), f)
			}
			continue
		}
		if !sf.IsExported() || raw == "-" || raw == "subject" {
			continue
		}
		w.fn(join(path, sf.Name), f)
	}
}

// leadsToPII reports whether values of t may hold tagged fields, following
// the types Protect follows.
func (w *walker) leadsToPII(t reflect.Type) bool {
	has, ok := w.pii[t]
	if !ok {
		has = typeHasPII(t, map[reflect.Type]bool{})
		w.pii[t] = has
	}
	return has
}

func typeHasPII(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		if t.Elem().Kind() == reflect.Uint8 {
			return false
		}
		t = t.Elem()
	}
	if t.Kind() == reflect.Interface {
		return true // may hold anything: followed at run time
	}
	if t.Kind() != reflect.Struct || seen[t] || isSealedType(t) {
		return false
	}
	seen[t] = true
	for _, sf := range reflect.VisibleFields(t) {
		if raw, ok := sf.Tag.Lookup("pii"); ok {
			if raw != "-" && raw != "subject" {
				return true
			}
			continue
		}
		if (sf.IsExported() || sf.Anonymous) && typeHasPII(sf.Type, seen) {
			return true
		}
	}
	return false
}
