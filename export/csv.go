package export

import (
	"encoding/base64"
	"encoding/csv"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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

// csvWriter writes the rows of one table.
type csvWriter struct {
	out    func([]string) error
	t      *csvTable
	enc    encoder
	row    []string
	erased []string
	buf    []byte
	rows   int64
	raw    bool // no formula neutralisation (the HTML view)
}

func newCSVWriter(w *csv.Writer, t *csvTable) *csvWriter {
	return &csvWriter{out: w.Write, t: t}
}

// write writes the rows of record it (number n) to the table: one row for
// the main table, one per list element for a child table.
func (c *csvWriter) write(n int64, it *item) error {
	v := it.v
	if it.p.ptr {
		v = v.Elem()
	}
	c.enc.erased = it.erased
	rowID := strconv.FormatInt(n, 10)
	if c.t.list == nil {
		c.row = append(c.row[:0], rowID)
		c.erased = c.erased[:0]
		for _, col := range c.t.cols {
			if err := c.column(col, v, ""); err != nil {
				return err
			}
		}
		return c.flush()
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
		c.row = append(c.row[:0], rowID, strconv.Itoa(i))
		c.erased = c.erased[:0]
		ev := lv.Index(i)
		epath := ""
		if it.erased != nil {
			epath = path + "[" + strconv.Itoa(i) + "]"
		}
		if c.t.elem.kind != kStruct {
			s, err := c.cell(c.t.elem, ev, epath, "value")
			if err != nil {
				return err
			}
			c.row = append(c.row, s)
		} else {
			if c.t.elem.ptr {
				if ev.IsNil() {
					for range c.t.cols {
						c.row = append(c.row, "")
					}
					if err := c.flush(); err != nil {
						return err
					}
					continue
				}
				ev = ev.Elem()
			}
			for _, col := range c.t.cols {
				if err := c.column(col, ev, epath); err != nil {
					return err
				}
			}
		}
		if err := c.flush(); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) flush() error {
	if c.t.hasPII {
		c.row = append(c.row, strings.Join(c.erased, " "))
	}
	c.rows++
	return c.out(c.row)
}

// follow walks chain from struct v and returns the last field's value and
// its pii path; ok is false if a nil pointer is met on the way.
func follow(v reflect.Value, chain []*field, wantPath bool) (reflect.Value, string, bool) {
	path := ""
	for i, f := range chain {
		fv, err := v.FieldByIndexErr(f.index)
		if err != nil {
			return reflect.Value{}, "", false
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
		c.row = append(c.row, "")
		return nil
	}
	if prefix != "" {
		path = prefix + "." + path
	}
	s, err := c.cell(col.chain[len(col.chain)-1], fv, path, col.name)
	if err != nil {
		return err
	}
	c.row = append(c.row, s)
	return nil
}

// cell renders one value by the flattening rules of the package docs.
func (c *csvWriter) cell(f *field, v reflect.Value, path, column string) (string, error) {
	if f.pii && c.enc.erased != nil && c.enc.isErased(path) {
		c.erased = append(c.erased, column)
		return ErasedCell, nil
	}
	if f.ptr {
		if v.IsNil() {
			return "", nil
		}
		v = v.Elem()
	}
	switch f.kind {
	case kString:
		return c.text(v.String()), nil
	case kBool:
		return strconv.FormatBool(v.Bool()), nil
	case kInt:
		return strconv.FormatInt(v.Int(), 10), nil
	case kUint:
		return strconv.FormatUint(v.Uint(), 10), nil
	case kFloat:
		return string(appendFloat(nil, v.Float(), v.Type().Bits())), nil
	case kTime:
		return v.Interface().(time.Time).Format(time.RFC3339Nano), nil
	case kBytes:
		return base64.StdEncoding.EncodeToString(v.Bytes()), nil
	case kText:
		b, err := v.Interface().(interface{ MarshalText() ([]byte, error) }).MarshalText()
		if err != nil {
			return "", err
		}
		return c.text(string(b)), nil
	case kSealed:
		inner, erased, err := sealedValue(v)
		if err != nil {
			return "", err
		}
		if erased {
			c.erased = append(c.erased, column)
			return ErasedCell, nil
		}
		return c.cell(f.elem, inner, path, column)
	case kDynamic:
		if v.IsNil() {
			return "", nil
		}
		return c.dynamicCell(v.Elem())
	}
	b, err := c.enc.value(c.buf[:0], f, v, path)
	c.buf = b
	if err != nil {
		return "", err
	}
	return c.text(string(b)), nil
}

func (c *csvWriter) dynamicCell(v reflect.Value) (string, error) {
	switch x := v.Interface().(type) {
	case string:
		return c.text(x), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case nil:
		return "", nil
	}
	b, err := c.enc.dynamic(c.buf[:0], v)
	c.buf = b
	if err != nil {
		return "", err
	}
	return c.text(string(b)), nil
}

// mapRow writes the row of a map record with the given columns.
func (c *csvWriter) mapRow(n int64, it *item, cols []string) error {
	c.row = append(c.row[:0], strconv.FormatInt(n, 10))
	kt := it.v.Type().Key()
	for _, k := range cols {
		mv := it.v.MapIndex(reflect.ValueOf(k).Convert(kt))
		if !mv.IsValid() {
			c.row = append(c.row, "")
			continue
		}
		s, err := c.cell(it.p.mapVal, mv, "", k)
		if err != nil {
			return err
		}
		c.row = append(c.row, s)
	}
	c.rows++
	return c.out(c.row)
}

func (c *csvWriter) text(s string) string {
	if c.raw {
		return validUTF8(s)
	}
	return textCell(s)
}

// textCell makes s safe for a spreadsheet: valid UTF-8, and a leading
// apostrophe when it starts with a character that would make a formula.
func textCell(s string) string {
	return NeutraliseCell(validUTF8(s))
}

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
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}
