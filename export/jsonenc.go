package export

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/personaldata/personaldata/internal/quote"
)

// erasedJSON marks a field whose data was erased (its key shredded).
const erasedJSON = `{"erased":true}`

// encoder writes records as JSON. It is used by one goroutine at a time.
type encoder struct {
	erased map[string]struct{} // pii paths of erased fields of the current record; nil if none
	keys   []string            // scratch for map keys
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func (e *encoder) isErased(path string) bool {
	_, ok := e.erased[path]
	return ok
}

// erasedWithin reports whether an erased field lies at or inside path.
// Values written in their JSON form (maps, types with a MarshalJSON
// method) cannot show where inside them a field was erased (a map entry's
// path is "Field[*].Name"), so such a value is marked as erased as a whole
// rather than shown with an empty field.
func (e *encoder) erasedWithin(path string) bool {
	for p := range e.erased {
		if strings.HasPrefix(p, path) && (len(p) == len(path) || p[len(path)] == '.' || p[len(path)] == '[') {
			return true
		}
	}
	return false
}

// record appends the JSON object of record v, written by plan p.
func (e *encoder) record(b []byte, p *plan, v reflect.Value) ([]byte, error) {
	if p.st != nil {
		if p.ptr {
			v = v.Elem()
		}
		return e.object(b, p.st, v, "")
	}
	return e.mapObject(b, p.mapVal, v)
}

func (e *encoder) object(b []byte, sp *structPlan, v reflect.Value, prefix string) ([]byte, error) {
	b = append(b, '{')
	var err error
	base := addrOf(v)
	for i, f := range sp.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		var fv reflect.Value
		if base != nil && f.direct {
			p := unsafe.Add(base, f.off)
			if f.scalar && (e.erased == nil || !f.pii) {
				b = appendScalarJSON(b, f, p)
				continue
			}
			fv = valueAt(f, p)
		} else {
			var ferr error
			if fv, ferr = v.FieldByIndexErr(f.index); ferr != nil { // through a nil embedded pointer
				b = append(b, "null"...)
				continue
			}
		}
		path := ""
		if e.erased != nil {
			path = joinPath(prefix, f.goName)
		}
		if b, err = e.value(b, f, fv, path); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func (e *encoder) mapObject(b []byte, f *field, v reflect.Value) ([]byte, error) {
	e.keys = e.keys[:0]
	for it := v.MapRange(); it.Next(); {
		e.keys = append(e.keys, it.Key().String())
	}
	slices.Sort(e.keys)
	b = append(b, '{')
	var err error
	for i, k := range e.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		if b, err = e.value(b, f, v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())), ""); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// value appends the JSON form of fv, a value of field f at pii path path.
func (e *encoder) value(b []byte, f *field, fv reflect.Value, path string) ([]byte, error) {
	if e.erased != nil && (f.pii && e.isErased(path) || f.kind == kJSON && e.erasedWithin(path)) {
		return append(b, erasedJSON...), nil
	}
	if f.ptr {
		if fv.IsNil() {
			return append(b, "null"...), nil
		}
		fv = fv.Elem()
	}
	switch f.kind {
	case kString:
		return appendString(b, fv.String()), nil
	case kBool:
		return strconv.AppendBool(b, fv.Bool()), nil
	case kInt:
		return strconv.AppendInt(b, fv.Int(), 10), nil
	case kUint:
		return strconv.AppendUint(b, fv.Uint(), 10), nil
	case kFloat:
		return appendFloat(b, fv.Float(), fv.Type().Bits()), nil
	case kTime:
		return appendTime(b, timeOf(fv)), nil
	case kBytes:
		if fv.IsNil() {
			return append(b, "null"...), nil
		}
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, fv.Bytes())
		return append(b, '"'), nil
	case kText:
		t, err := fv.Interface().(interface{ MarshalText() ([]byte, error) }).MarshalText()
		if err != nil {
			return b, fmt.Errorf("%w: field %s: its MarshalText failed", ErrRecordType, quote.String(f.name))
		}
		return appendString(b, string(t)), nil
	case kStruct:
		return e.object(b, f.sub, fv, path)
	case kList:
		b = append(b, '[')
		var err error
		for i := range fv.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			p := ""
			if e.erased != nil {
				p = path + "[" + strconv.Itoa(i) + "]"
			}
			if b, err = e.value(b, f.elem, fv.Index(i), p); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case kSealed:
		inner, erased, err := sealedValue(fv)
		if err != nil {
			return b, fmt.Errorf("%w: field %s is still sealed", ErrReveal, quote.String(f.name))
		}
		if erased {
			return append(b, erasedJSON...), nil
		}
		return e.value(b, f.elem, inner, path)
	case kDynamic:
		if fv.IsNil() {
			return append(b, "null"...), nil
		}
		return e.dynamic(b, fv.Elem())
	}
	return appendJSON(b, fv, f.name)
}

// dynamic appends the JSON form of a value held in an interface.
func (e *encoder) dynamic(b []byte, v reflect.Value) ([]byte, error) {
	switch x := v.Interface().(type) {
	case string:
		return appendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		return appendFloat(b, x, 64), nil
	case time.Time:
		return appendTime(b, x), nil
	case nil:
		return append(b, "null"...), nil
	}
	return appendJSON(b, v, "")
}

// sealedValue returns the value inside a revealed pii.Sealed, or whether
// it was erased.
func sealedValue(fv reflect.Value) (reflect.Value, bool, error) {
	if s, ok := fv.Interface().(interface{ IsErased() bool }); ok && s.IsErased() {
		return reflect.Value{}, true, nil
	}
	out := fv.MethodByName("Get").Call(nil)
	if err, _ := out[1].Interface().(error); err != nil {
		return reflect.Value{}, false, err
	}
	return out[0], false, nil
}

func appendJSON(b []byte, v reflect.Value, name string) ([]byte, error) {
	j, err := json.Marshal(v.Interface())
	if err != nil {
		return b, fmt.Errorf("%w: field %s (%s) has no JSON form", ErrRecordType, quote.String(name), quote.String(v.Type().String()))
	}
	return append(b, j...), nil
}

func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Besides what JSON requires, it
// escapes <, >, & and U+2028/U+2029, so the text is also safe inside HTML
// and JavaScript; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
