package pii

import (
	"fmt"
	"reflect"

	"github.com/personaldata/personaldata"
)

// Field describes one personal data field of a type, for a host's data
// inventory (the record of processing of GDPR Art. 30) and for erasure
// plans. Paths use Go field names; "[]" stands for the elements of a slice,
// array or map.
//
// A field of interface type (any, or a container of interfaces such as
// map[string]any) is listed with Dynamic set and no category: what it holds
// is known only at run time, where Protect and Reveal walk it by its
// dynamic type. Its personal data cannot be listed from the type.
type Field struct {
	Path     string                // "Contacts[].Email"
	Type     string                // the field's Go type, e.g. "string" or "pii.Sealed[time.Time]"
	Category personaldata.Category // from the tag
	Scope    personaldata.Scope    // the key scope, DefaultScope if the tag names none
	Subject  string                // path of the field holding the subject of this field
	Index    string                // path of the field holding its blind index, or ""
	Redact   string                // replacement once erased ("" for the zero value)
	Dynamic  bool                  // an interface: walked by the dynamic type of what it holds
}

// Fields lists the personal data fields reachable from the type of v (a
// value, a pointer, or a reflect.Type), in field order. It fails with a
// [*TagError] if the type's tags are invalid, the same error Protect would
// return.
func Fields(v any) ([]Field, error) {
	t, ok := v.(reflect.Type)
	if !ok {
		if v == nil {
			return nil, fmt.Errorf("%w: nil", ErrUnsupported)
		}
		t = reflect.TypeOf(v)
	}
	st := t
	for st.Kind() == reflect.Pointer || st.Kind() == reflect.Slice || st.Kind() == reflect.Array || st.Kind() == reflect.Map {
		st = st.Elem()
	}
	if st.Kind() == reflect.Interface {
		return []Field{{Path: "", Type: t.String(), Subject: "", Dynamic: true}}, nil
	}
	if st.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: %s leads to no struct", ErrUnsupported, t)
	}
	if _, err := rootPlan(st); err != nil {
		return nil, err
	}
	var out []Field
	listFields(planFor(st), "", "", map[reflect.Type]bool{}, &out)
	return out, nil
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func listFields(sp *structPlan, prefix, subject string, onStack map[reflect.Type]bool, out *[]Field) {
	if onStack[sp.typ] {
		return // a recursive type: its fields are listed once
	}
	onStack[sp.typ] = true
	defer delete(onStack, sp.typ)
	if sp.subject != nil {
		subject = join(prefix, sp.subjKey)
	}
	for i := range sp.fields {
		f := &sp.fields[i]
		path := join(prefix, f.name)
		if f.op == opNested {
			c := f.nested
			for c.kind != reflect.Struct && c.kind != reflect.Interface {
				if c.kind != reflect.Pointer {
					path += "[]"
				}
				c = c.elem
			}
			if c.kind == reflect.Interface {
				*out = append(*out, Field{Path: path, Type: f.typ.String(), Subject: subject, Dynamic: true})
				continue
			}
			listFields(planFor(c.typ), path, subject, onStack, out)
			continue
		}
		fd := Field{Path: path, Type: f.typ.String(), Category: f.category, Scope: f.scope, Subject: subject, Redact: f.tag.Redact}
		if f.subject != nil {
			fd.Subject = join(prefix, f.tag.Subject)
		}
		if f.blind != nil {
			fd.Index = join(prefix, f.bindex)
		}
		*out = append(*out, fd)
	}
}

// Validate checks the pii tags of the type of v (a value, a pointer, or a
// reflect.Type) and every type it leads to, as Protect would the first time
// it sees them. Call it in a unit test for each model a host protects:
//
//	func TestModels(t *testing.T) {
//		for _, m := range []any{User{}, Invoice{}, Message{}} {
//			if err := pii.Validate(m); err != nil {
//				t.Error(err)
//			}
//		}
//	}
//
// A type with no personal data at all is valid. Validate cannot check what
// an interface field (any, map[string]any...) will hold: [Fields] lists such
// fields as Dynamic, and Protect checks the tags of each dynamic type when
// it first meets it, failing with a [*FieldError] at that path.
func Validate(v any) error {
	_, err := Fields(v)
	return err
}
