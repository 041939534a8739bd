package export

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/personaldata/personaldata/internal/quote"
)

// ErasedCell is what a CSV cell or an index.html cell holds for an erased
// field; the row's _erased column names the erased columns.
const ErasedCell = "[erased]"

// csvColumn is one column of a CSV table: a leaf value reached from the
// table's root struct through chain.
type csvColumn struct {
	name  string
	chain []*field // from the root struct to the leaf, the leaf last
}

// csvTable is the main table of a category or one of its child tables.
type csvTable struct {
	name   string   // "" for the main table; else the list column's name
	list   []*field // child tables: the chain to the list field
	elem   *field   // child tables: the list's element
	cols   []csvColumn
	hasPII bool
}

// tables returns the CSV tables of a struct plan: the main table first,
// then one child table per list field, in field order.
func tables(sp *structPlan) []*csvTable {
	main := &csvTable{hasPII: sp.hasPII}
	out := []*csvTable{main}
	var walk func(sp *structPlan, prefix string, chain []*field)
	walk = func(sp *structPlan, prefix string, chain []*field) {
		for _, f := range sp.fields {
			name := prefix + f.name
			ch := append(slices.Clip(chain), f)
			switch f.kind {
			case kStruct:
				walk(f.sub, name+".", ch)
			case kList:
				t := &csvTable{name: name, list: ch, elem: f.elem, hasPII: sp.hasPII}
				if f.elem.kind == kStruct {
					t.cols = leafColumns(f.elem.sub, "", nil)
				} else {
					t.cols = []csvColumn{{name: "value"}}
				}
				out = append(out, t)
			default:
				main.cols = append(main.cols, csvColumn{name: name, chain: ch})
			}
		}
	}
	walk(sp, "", nil)
	return out
}

// leafColumns flattens nested structs of a list element; lists inside an
// element are written as JSON text in one cell.
func leafColumns(sp *structPlan, prefix string, chain []*field) []csvColumn {
	var cols []csvColumn
	for _, f := range sp.fields {
		ch := append(slices.Clip(chain), f)
		if f.kind == kStruct {
			cols = append(cols, leafColumns(f.sub, prefix+f.name+".", ch)...)
			continue
		}
		cols = append(cols, csvColumn{name: prefix + f.name, chain: ch})
	}
	return cols
}

func (t *csvTable) header() []string {
	h := []string{"_row"}
	if t.list != nil {
		h = append(h, "_index")
	}
	for _, c := range t.cols {
		h = append(h, c.name)
	}
	if t.hasPII {
		h = append(h, "_erased")
	}
	return h
}

// csvWriter writes the rows of one table: as CSV to w, or, for the page,
// as cells to out.
type csvWriter struct {
	t      *csvTable
	enc    encoder
	w      io.Writer            // CSV output
	out    func([]string) error // page output, instead of w
	line   []byte               // the CSV row being built
	cells  []string             // the page row being built
	ncell  int
	cell   []byte   // scratch for one cell
	erased []string // columns erased in the current row
	rows   int64
}

func (c *csvWriter) startRow() {
	c.line, c.cells, c.ncell, c.erased = c.line[:0], c.cells[:0], 0, c.erased[:0]
}

// put adds one cell to the row. Text cells are made valid UTF-8 and, in
// CSV, neutralised and quoted as needed; other cells (numbers, times,
// booleans) need neither.
func (c *csvWriter) put(cell []byte, text bool) {
	if c.out != nil {
		c.cells = append(c.cells, validUTF8(string(cell)))
		return
	}
	if c.ncell > 0 {
		c.line = append(c.line, ',')
	}
	c.ncell++
	if !text {
		c.line = append(c.line, cell...)
		return
	}
	c.line = appendCSVText(c.line, cell)
}

func (c *csvWriter) endRow() error {
	if c.t != nil && c.t.hasPII {
		c.cell = c.cell[:0]
		for i, name := range c.erased {
			if i > 0 {
				c.cell = append(c.cell, ' ')
			}
			c.cell = append(c.cell, name...)
		}
		c.put(c.cell, true)
	}
	c.rows++
	if c.out != nil {
		return c.out(c.cells)
	}
	c.line = append(c.line, '\n')
	_, err := c.w.Write(c.line)
	return err
}

// appendCSVText appends one text field: valid UTF-8, an apostrophe in front
// of a leading formula character, quoted if it holds a comma, a quote, a
// line break or leading space.
func appendCSVText(dst, cell []byte) []byte {
	quote, ascii := false, true
	for _, b := range cell {
		switch {
		case b >= utf8.RuneSelf:
			ascii = false
		case b == ',' || b == '"' || b == '\r' || b == '\n':
			quote = true
		}
	}
	if !ascii && !utf8.Valid(cell) {
		cell = []byte(string([]rune(string(cell))))
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
		i := bytes.IndexByte(cell, '"')
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

// header writes the header row.
func (c *csvWriter) header(names []string) error {
	c.startRow()
	for _, h := range names {
		c.put([]byte(h), true)
	}
	if c.out != nil {
		return c.out(c.cells)
	}
	c.line = append(c.line, '\n')
	_, err := c.w.Write(c.line)
	return err
}

// write writes the rows of record it (number n) to the table: one row for
// the main table, one per list element for a child table.
func (c *csvWriter) write(n int64, it *item) error {
	v := it.v
	if it.p.ptr {
		v = v.Elem()
	}
	c.enc.erased = it.erased
	if c.t.list == nil {
		c.startRow()
		c.cell = strconv.AppendInt(c.cell[:0], n, 10)
		c.put(c.cell, false)
		for _, col := range c.t.cols {
			if err := c.column(col, v, ""); err != nil {
				return err
			}
		}
		return c.endRow()
	}
	lv, path, ok := follow(v, c.t.list, it.erased != nil)
	if !ok {
		return nil // a nil struct pointer on the way: no elements
	}
	lf := c.t.list[len(c.t.list)-1]
	if lf.ptr {
		if lv.IsNil() {
			return nil
		}
		lv = lv.Elem()
	}
	for i := range lv.Len() {
		c.startRow()
		c.cell = strconv.AppendInt(c.cell[:0], n, 10)
		c.put(c.cell, false)
		c.cell = strconv.AppendInt(c.cell[:0], int64(i), 10)
		c.put(c.cell, false)
		ev := lv.Index(i)
		epath := ""
		if it.erased != nil {
			epath = path + "[" + strconv.Itoa(i) + "]"
		}
		switch {
		case c.t.elem.kind != kStruct:
			if err := c.value(c.t.elem, ev, epath, "value"); err != nil {
				return err
			}
		case c.t.elem.ptr && ev.IsNil():
			for range c.t.cols {
				c.put(nil, false)
			}
		default:
			if c.t.elem.ptr {
				ev = ev.Elem()
			}
			for _, col := range c.t.cols {
				if err := c.column(col, ev, epath); err != nil {
					return err
				}
			}
		}
		if err := c.endRow(); err != nil {
			return err
		}
	}
	return nil
}

// follow walks chain from struct v and returns the last field's value and
// its pii path; ok is false if a nil pointer is met on the way.
func follow(v reflect.Value, chain []*field, wantPath bool) (reflect.Value, string, bool) {
	path := ""
	for i, f := range chain {
		var fv reflect.Value
		if len(f.index) == 1 {
			fv = v.Field(f.index[0])
		} else {
			var err error
			if fv, err = v.FieldByIndexErr(f.index); err != nil {
				return reflect.Value{}, "", false
			}
		}
		if wantPath {
			path = joinPath(path, f.goName)
		}
		if i == len(chain)-1 {
			return fv, path, true
		}
		if f.ptr {
			if fv.IsNil() {
				return reflect.Value{}, "", false
			}
			fv = fv.Elem()
		}
		v = fv
	}
	return v, path, true
}

func (c *csvWriter) column(col csvColumn, v reflect.Value, prefix string) error {
	fv, path, ok := follow(v, col.chain, c.enc.erased != nil)
	if !ok {
		c.put(nil, false)
		return nil
	}
	if prefix != "" {
		path = prefix + "." + path
	}
	return c.value(col.chain[len(col.chain)-1], fv, path, col.name)
}

// value adds the cell of v, a value of field f, by the flattening rules of
// the package documentation.
func (c *csvWriter) value(f *field, v reflect.Value, path, column string) error {
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

// mapRow writes the row of a map record with the given columns.
func (c *csvWriter) mapRow(n int64, it *item, cols []string) error {
	c.enc.erased = nil
	c.startRow()
	c.cell = strconv.AppendInt(c.cell[:0], n, 10)
	c.put(c.cell, false)
	kt := it.v.Type().Key()
	for _, k := range cols {
		mv := it.v.MapIndex(reflect.ValueOf(k).Convert(kt))
		if !mv.IsValid() {
			c.put(nil, false)
			continue
		}
		if err := c.value(it.p.mapVal, mv, "", k); err != nil {
			return err
		}
	}
	return c.endRow()
}

// timeOf returns the time.Time in v without allocating when v is
// addressable.
func timeOf(v reflect.Value) time.Time {
	if v.CanAddr() {
		return *v.Addr().Interface().(*time.Time)
	}
	return v.Interface().(time.Time)
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
