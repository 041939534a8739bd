package pii

import (
	"fmt"
	"log/slog"
	"reflect"
	"strings"
)

// Redacted is a value whose personal data fields are hidden when it is
// printed with fmt or logged with log/slog. Create one with [Redact].
type Redacted struct {
	v any
}

// Redact wraps v (a tagged struct, a pointer to one, or a slice or map of
// them) so that fmt and log/slog show it with each non-empty personal data
// field replaced by its category in brackets ("[email]") and everything else
// as usual. Subject IDs are shown: they identify a record, not a person.
//
//	slog.Info("signup", "user", pii.Redact(u))
//	// user.ID=42 user.Email=[email] user.Plan=pro
//
// Interface values (a field of type any, a []any, a map[string]any) are
// printed by the dynamic type of what they hold, with the same redaction.
// A map that may lead to personal data prints as its number of entries, as
// its keys may be personal data too.
//
// Redact reads v when it is printed, not when it is wrapped. A type whose
// tags are invalid prints as a placeholder naming the type, never its
// content.
func Redact(v any) Redacted { return Redacted{v: v} }

// String renders the value like fmt's %+v, with personal data hidden.
func (r Redacted) String() string {
	var b strings.Builder
	writeRedacted(&b, reflect.ValueOf(r.v), 0)
	return b.String()
}

// Format renders String for every verb.
func (r Redacted) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

// LogValue implements [slog.LogValuer]: a struct becomes a group of its
// fields, with personal data hidden.
func (r Redacted) LogValue() slog.Value { return logValue(reflect.ValueOf(r.v), 0) }

const maxDepth = 16

func placeholder(f *fieldPlan, v reflect.Value) string {
	if isEmpty(v) {
		return ""
	}
	return "[" + string(f.category) + "]"
}

func isEmpty(v reflect.Value) bool {
	if reflect.PointerTo(v.Type()).Implements(sealedType) {
		if !v.CanAddr() {
			c := reflect.New(v.Type()).Elem()
			c.Set(v)
			v = c
		}
		return v.Addr().Interface().(sealedValue).isEmpty()
	}
	switch v.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// redactable returns the struct plan of v's type if it has one we can use.
func redactable(v reflect.Value) (*structPlan, bool) {
	if v.Kind() != reflect.Struct {
		return nil, false
	}
	sp := planFor(v.Type())
	return sp, sp.err == nil
}

func writeRedacted(b *strings.Builder, v reflect.Value, depth int) {
	if !v.IsValid() {
		b.WriteString("<nil>")
		return
	}
	if depth > maxDepth {
		b.WriteString("...")
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("<nil>")
			return
		}
		if v.Kind() == reflect.Pointer {
			b.WriteByte('&')
		}
		writeRedacted(b, v.Elem(), depth+1)
		return
	case reflect.Slice, reflect.Array:
		if !typeHasPII(v.Type(), map[reflect.Type]bool{}) {
			break
		}
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeRedacted(b, v.Index(i), depth+1)
		}
		b.WriteByte(']')
		return
	case reflect.Map:
		if !typeHasPII(v.Type(), map[reflect.Type]bool{}) {
			break
		}
		// Keys may be personal data too: count them, never print them.
		fmt.Fprintf(b, "map[%d entries]", v.Len())
		return
	case reflect.Struct:
		if !typeHasPII(v.Type(), map[reflect.Type]bool{}) {
			break
		}
		sp, ok := redactable(v)
		if !ok {
			b.WriteString("[unprintable " + v.Type().String() + ": invalid pii tags]")
			return
		}
		writeStruct(b, v, sp, depth)
		return
	}
	if v.CanInterface() {
		fmt.Fprintf(b, "%+v", v.Interface())
	} else {
		b.WriteString("?")
	}
}

func writeStruct(b *strings.Builder, v reflect.Value, sp *structPlan, depth int) {
	tagged := taggedByName(sp)
	b.WriteByte('{')
	first := true
	for _, fi := range visibleFields(v.Type()) {
		if !fi.f.IsExported() {
			continue
		}
		fv, ok := fieldByIndex(v, fi.index)
		if !ok {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(fi.f.Name)
		b.WriteByte(':')
		if f := tagged[fi.f.Name]; f != nil {
			b.WriteString(placeholder(f, fv))
			continue
		}
		writeRedacted(b, fv, depth+1)
	}
	b.WriteByte('}')
}

func logValue(v reflect.Value, depth int) slog.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && !v.IsNil() {
		v = v.Elem()
	}
	if !v.IsValid() || (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		return slog.StringValue("<nil>")
	}
	if v.Kind() != reflect.Struct || !typeHasPII(v.Type(), map[reflect.Type]bool{}) || depth > maxDepth {
		var b strings.Builder
		writeRedacted(&b, v, depth)
		return slog.StringValue(b.String())
	}
	sp, ok := redactable(v)
	if !ok {
		return slog.StringValue("[unprintable " + v.Type().String() + ": invalid pii tags]")
	}
	tagged := taggedByName(sp)
	var attrs []slog.Attr
	for _, fi := range visibleFields(v.Type()) {
		if !fi.f.IsExported() {
			continue
		}
		fv, ok := fieldByIndex(v, fi.index)
		if !ok {
			continue
		}
		if f := tagged[fi.f.Name]; f != nil {
			attrs = append(attrs, slog.String(fi.f.Name, placeholder(f, fv)))
			continue
		}
		if fv.Kind() == reflect.Struct || fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface {
			attrs = append(attrs, slog.Attr{Key: fi.f.Name, Value: logValue(fv, depth+1)})
			continue
		}
		if typeHasPII(fv.Type(), map[reflect.Type]bool{}) {
			var b strings.Builder
			writeRedacted(&b, fv, depth+1)
			attrs = append(attrs, slog.String(fi.f.Name, b.String()))
			continue
		}
		if fv.CanInterface() {
			attrs = append(attrs, slog.Any(fi.f.Name, fv.Interface()))
		}
	}
	return slog.GroupValue(attrs...)
}

// taggedByName maps the names of sp's personal data fields to their plans.
func taggedByName(sp *structPlan) map[string]*fieldPlan {
	m := make(map[string]*fieldPlan, len(sp.fields))
	for i := range sp.fields {
		if sp.fields[i].op != opNested {
			m[sp.fields[i].name] = &sp.fields[i]
		}
	}
	return m
}
