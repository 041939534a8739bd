package export

import (
	"encoding"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/personaldata/personaldata/internal/quote"
)

// csvPlain marks the bytes a text cell may hold without quoting or
// checking: ASCII other than comma, double quote, CR and LF.
var csvPlain = func() (t [256]bool) {
	for b := range utf8.RuneSelf {
		t[b] = b != ',' && b != '"' && b != '\r' && b != '\n'
	}
	return t
}()

// csvLead marks the first bytes that make a cell need work: a space (the
// cell is quoted) and the characters of formulaStart (neutralised).
var csvLead = func() (t [256]bool) {
	t[' '] = true
	for i := range len(formulaStart) {
		t[formulaStart[i]] = true
	}
	return t
}()

// scalar adds the cell of scalar field f stored at p.
func (c *csvWriter) scalar(f *field, p unsafe.Pointer) {
	switch {
	case f.kind == kString:
		c.putText(*(*string)(p))
	case c.out != nil:
		c.cell = appendScalarCell(c.cell[:0], f, p)
		c.put(c.cell, false)
	default:
		if c.ncell > 0 {
			c.line = append(c.line, ',')
		}
		c.ncell++
		c.line = appendScalarCell(c.line, f, p)
	}
}

// value adds the cell of v, a value of field f, by the flattening rules of
// the package documentation.
func (c *csvWriter) value(f *field, v reflect.Value, path, column string) error {
	if f.kind == kString && !f.ptr && (c.enc.erased == nil || !f.pii || !c.enc.isErased(path)) {
		c.putText(v.String())
		return nil
	}
	cell, text, err := c.appendCell(c.cell[:0], f, v, path, column)
	c.cell = cell
	if err != nil {
		return err
	}
	c.put(cell, text)
	return nil
}

func (c *csvWriter) appendCell(b []byte, f *field, v reflect.Value, path, column string) ([]byte, bool, error) {
	if c.enc.erased != nil && (f.pii && c.enc.isErased(path) || f.kind == kJSON && c.enc.erasedWithin(path)) {
		c.erased = append(c.erased, column)
		return append(b, ErasedCell...), true, nil
	}
	if f.ptr {
		if v.IsNil() {
			return b, false, nil
		}
		v = v.Elem()
	}
	switch f.kind {
	case kString:
		return append(b, v.String()...), true, nil
	case kBool:
		return strconv.AppendBool(b, v.Bool()), false, nil
	case kInt:
		return strconv.AppendInt(b, v.Int(), 10), false, nil
	case kUint:
		return strconv.AppendUint(b, v.Uint(), 10), false, nil
	case kFloat:
		if x := v.Float(); !math.IsNaN(x) && !math.IsInf(x, 0) {
			b = strconv.AppendFloat(b, x, 'g', -1, v.Type().Bits())
		}
		return b, false, nil
	case kTime:
		return timeOf(v).AppendFormat(b, time.RFC3339Nano), false, nil
	case kBytes:
		return base64.StdEncoding.AppendEncode(b, v.Bytes()), false, nil
	case kText:
		t, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return b, false, fmt.Errorf("%w: field %s: its MarshalText failed", ErrRecordType, quote.String(f.name))
		}
		return append(b, t...), true, nil
	case kSealed:
		inner, erased, err := sealedValue(v)
		if err != nil {
			return b, false, fmt.Errorf("%w: field %s is still sealed", ErrReveal, quote.String(f.name))
		}
		if erased {
			c.erased = append(c.erased, column)
			return append(b, ErasedCell...), true, nil
		}
		return c.appendCell(b, f.elem, inner, path, column)
	case kDynamic:
		if v.IsNil() {
			return b, false, nil
		}
		switch x := v.Elem().Interface().(type) {
		case string:
			return append(b, x...), true, nil
		case time.Time:
			return x.AppendFormat(b, time.RFC3339Nano), false, nil
		}
		b, err := c.enc.dynamic(b, v.Elem())
		return b, true, err
	}
	switch v.Kind() {
	case reflect.Map, reflect.Interface, reflect.Pointer: // not slices: JSON writes a nil slice as []
		if v.IsNil() {
			return b, false, nil // null is an empty cell, as a nil pointer
		}
	}
	b, err := c.enc.value(b, f, v, path)
	return b, true, err
}

// timeOf returns the time.Time in v without allocating when v is
// addressable.
func timeOf(v reflect.Value) time.Time {
	if v.CanAddr() {
		return *v.Addr().Interface().(*time.Time)
	}
	return v.Interface().(time.Time)
}

// plain8 reports whether the 8 bytes in w are all csvPlain: none has the
// high bit set or equals a comma, a double quote, CR or LF.
func plain8(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	zero := func(x uint64) uint64 { return (x - lo) &^ x & hi } // nonzero iff a byte of x is 0
	return (w&hi)|zero(w^(','*lo))|zero(w^('"'*lo))|zero(w^('\r'*lo))|zero(w^('\n'*lo)) == 0
}

// appendCSVText appends one text field: valid UTF-8, an apostrophe in front
// of a leading formula character, quoted if it holds a comma, a quote, a
// line break or leading space. The common cell, plain ASCII that needs
// none of this, is scanned once and copied.
func appendCSVText(dst []byte, cell string) []byte {
	i := 0
	b := unsafe.Slice(unsafe.StringData(cell), len(cell)) // read only
	for ; i+8 <= len(b); i += 8 {
		if !plain8(binary.LittleEndian.Uint64(b[i:])) {
			break
		}
	}
	for i < len(cell) && csvPlain[cell[i]] {
		i++
	}
	if i == len(cell) && (cell == "" || !csvLead[cell[0]]) {
		return append(dst, cell...)
	}
	return appendCSVTextSlow(dst, cell)
}

func appendCSVTextSlow(dst []byte, cell string) []byte {
	quote, ascii := false, true
	for i := 0; i < len(cell); i++ {
		switch b := cell[i]; {
		case b >= utf8.RuneSelf:
			ascii = false
		case b == ',' || b == '"' || b == '\r' || b == '\n':
			quote = true
		}
	}
	if !ascii && !utf8.ValidString(cell) {
		cell = string([]rune(cell))
	}
	neutral := len(cell) > 0 && strings.IndexByte(formulaStart, cell[0]) >= 0
	quote = quote || len(cell) > 0 && cell[0] == ' '
	if quote {
		dst = append(dst, '"')
	}
	if neutral {
		dst = append(dst, '\'')
	}
	if !quote {
		return append(dst, cell...)
	}
	for {
		i := strings.IndexByte(cell, '"')
		if i < 0 {
			break
		}
		dst = append(dst, cell[:i+1]...)
		dst = append(dst, '"')
		cell = cell[i+1:]
	}
	dst = append(dst, cell...)
	return append(dst, '"')
}

// appendScalarCell appends the CSV cell of scalar field f stored at p,
// other than a string: it needs neither quoting nor neutralising.
func appendScalarCell(b []byte, f *field, p unsafe.Pointer) []byte {
	switch f.kind {
	case kBool:
		return strconv.AppendBool(b, *(*bool)(p))
	case kInt:
		return strconv.AppendInt(b, intAt(p, f.typ.Kind()), 10)
	case kUint:
		return strconv.AppendUint(b, uintAt(p, f.typ.Kind()), 10)
	case kFloat:
		if x, bits := floatAt(p, f.typ.Kind()); !math.IsNaN(x) && !math.IsInf(x, 0) {
			b = strconv.AppendFloat(b, x, 'g', -1, bits)
		}
		return b
	}
	return (*time.Time)(p).AppendFormat(b, time.RFC3339Nano)
}

const formulaStart = "=+-@\t\r"

// validUTF8 replaces each byte of s that is not part of valid UTF-8 by
// U+FFFD, as the JSON encoder does.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}

// NeutraliseCell returns s with an apostrophe in front if it starts with
// '=', '+', '-', '@', a tab or a carriage return, the characters with which
// a spreadsheet starts a formula (OWASP "CSV injection"); otherwise s as it
// is. The CSV view applies it to every text cell; JSON is never changed.
func NeutraliseCell(s string) string {
	if s != "" && strings.IndexByte(formulaStart, s[0]) >= 0 {
		return "'" + s
	}
	return s
}
