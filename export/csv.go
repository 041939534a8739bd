package export

import (
	"io"
	"reflect"
	"slices"
	"strconv"
	"unsafe"
)

// ErasedCell is what a CSV cell or an index.html cell holds for an erased
// field; the row's _erased column names the erased columns.
const ErasedCell = "[erased]"

// csvColumn is one column of a CSV table: a leaf value reached from the
// table's root struct through chain.
type csvColumn struct {
	name  string
	chain []*field // from the root struct to the leaf, the leaf last
	leaf  *field
	path  string // the leaf's pii path from the root
	// off is the leaf's offset from the root; direct says that no pointer
	// lies on the way, so that off alone locates it.
	off    uintptr
	direct bool
	fast   bool // direct, and the leaf is a scalar
}

func newColumn(name string, chain []*field) csvColumn {
	c := csvColumn{name: name, chain: chain, leaf: chain[len(chain)-1], direct: true}
	for i, f := range chain {
		c.path = joinPath(c.path, f.goName)
		c.off += f.off
		if !f.direct || f.ptr && i < len(chain)-1 {
			c.direct = false
		}
	}
	c.fast = c.direct && c.leaf.scalar
	return c
}

// csvTable is the main table of a category or one of its child tables.
type csvTable struct {
	name   string   // "" for the main table; else the list column's name
	list   []*field // child tables: the chain to the list field
	path   string   // child tables: the list field's pii path
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
				t := &csvTable{name: name, list: ch, path: newColumn(name, ch).path, elem: f.elem, hasPII: sp.hasPII}
				if f.elem.kind == kStruct {
					t.cols = leafColumns(f.elem.sub, "", nil)
				} else {
					t.cols = []csvColumn{{name: "value"}}
				}
				out = append(out, t)
			default:
				main.cols = append(main.cols, newColumn(name, ch))
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
		cols = append(cols, newColumn(prefix+f.name, ch))
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
	c.line = appendCSVText(c.line, unsafe.String(unsafe.SliceData(cell), len(cell)))
}

// putText adds one text cell held in a string.
func (c *csvWriter) putText(s string) {
	if c.out != nil {
		c.cells = append(c.cells, validUTF8(s))
		return
	}
	if c.ncell > 0 {
		c.line = append(c.line, ',')
	}
	c.ncell++
	c.line = appendCSVText(c.line, s)
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

// header writes the header row.
func (c *csvWriter) header(names []string) error {
	c.startRow()
	for _, h := range names {
		c.putText(h)
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
		if err := c.columns(v, ""); err != nil {
			return err
		}
		return c.endRow()
	}
	lv, ok := follow(v, c.t.list)
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
			epath = c.t.path + "[" + strconv.Itoa(i) + "]"
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
			if err := c.columns(ev, epath); err != nil {
				return err
			}
		}
		if err := c.endRow(); err != nil {
			return err
		}
	}
	return nil
}

// follow walks chain from struct v and returns the last field's value;
// ok is false if a nil pointer is met on the way.
func follow(v reflect.Value, chain []*field) (reflect.Value, bool) {
	for i, f := range chain {
		var fv reflect.Value
		if len(f.index) == 1 {
			fv = v.Field(f.index[0])
		} else {
			var err error
			if fv, err = v.FieldByIndexErr(f.index); err != nil {
				return reflect.Value{}, false
			}
		}
		if i == len(chain)-1 {
			return fv, true
		}
		if f.ptr {
			if fv.IsNil() {
				return reflect.Value{}, false
			}
			fv = fv.Elem()
		}
		v = fv
	}
	return v, true
}

// columns adds the cells of the table's columns of struct v, whose pii
// path is prefix. A row has its number before these cells.
func (c *csvWriter) columns(v reflect.Value, prefix string) error {
	base := addrOf(v)
	for i := range c.t.cols {
		col := &c.t.cols[i]
		if base != nil && col.fast && c.out == nil && (c.enc.erased == nil || !col.leaf.pii) {
			p := unsafe.Add(base, col.off)
			c.line = append(c.line, ',')
			c.ncell++
			if col.leaf.kind == kString {
				c.line = appendCSVText(c.line, *(*string)(p))
			} else {
				c.line = appendScalarCell(c.line, col.leaf, p)
			}
			continue
		}
		if err := c.column(col, v, base, prefix); err != nil {
			return err
		}
	}
	return nil
}

// column adds the cell of col in struct v, whose address is base (nil if
// v is not addressable); prefix is the pii path of v.
func (c *csvWriter) column(col *csvColumn, v reflect.Value, base unsafe.Pointer, prefix string) error {
	f := col.leaf
	var fv reflect.Value
	if base != nil && col.direct {
		p := unsafe.Add(base, col.off)
		if f.scalar && (c.enc.erased == nil || !f.pii) {
			c.scalar(f, p)
			return nil
		}
		fv = valueAt(f, p)
	} else {
		var ok bool
		if fv, ok = follow(v, col.chain); !ok {
			c.put(nil, false)
			return nil
		}
	}
	path := ""
	if c.enc.erased != nil {
		path = col.path
		if prefix != "" {
			path = prefix + "." + path
		}
	}
	return c.value(f, fv, path, col.name)
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
