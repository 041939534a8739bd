package export

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
)

// chunkRecords is how many records of a page one goroutine takes to reveal
// at a time. A *pii.Protector reveals them in one call, which looks each
// key up once for the chunk rather than once per record.
const chunkRecords = 32

// revealChunk reveals chunk c of pg and marks its records ready. Each
// record gets the erased paths or the error that revealing it alone would
// have given; a Revealer's panic fails the chunk's records with ErrSource,
// as in a pass on one goroutine.
func revealChunk(ctx context.Context, rv Revealer, pg *page, c int, name personaldata.Category) {
	a := c * chunkRecords
	b := min(a+chunkRecords, pg.n)
	cur := a // the record being revealed, the first for a whole chunk
	defer close(pg.revealed[c])
	defer func() {
		if v := recover(); v != nil {
			err := fmt.Errorf("%w: category %s: panic (%T) after %d records", ErrSource, name, v, pg.first+int64(cur))
			for k := a; k < b; k++ {
				if !pg.ready[k].Load() {
					pg.errs[k] = err
				}
			}
		}
		for k := a; k < b; k++ {
			pg.ready[k].Store(true)
		}
	}()
	if _, ok := rv.(*pii.Protector); !ok {
		for k := a; k < b; k++ {
			cur = k
			pg.erased[k], pg.errs[k] = reveal(ctx, rv, pg.recs.Index(k).Addr(), name, pg.first+int64(k))
			pg.ready[k].Store(true)
		}
		return
	}
	err := rv.Reveal(ctx, pg.recs.Slice(a, b).Interface())
	if err != nil {
		splitRevealError(err, pg, a, b, name)
	}
}

// splitRevealError hands the failures of a chunk's reveal to its records
// [a, b): erased fields to the record that holds them, and the first other
// failure, as the error of revealing that record alone, to that record
// and the ones after it.
func splitRevealError(err error, pg *page, a, b int, name personaldata.Category) {
	fail, failK := error(nil), b
	set := func(k int, e error) {
		if k < failK {
			fail, failK = e, k
		}
	}
	eachFieldError(err, func(fe *pii.FieldError) bool {
		i, rest, ok := cutIndex(fe.Path)
		if !ok || a+i >= b {
			set(a, fe)
			return true
		}
		k := a + i
		if errors.Is(fe.Err, pii.ErrErased) {
			if pg.erased[k] == nil {
				pg.erased[k] = map[string]struct{}{}
			}
			pg.erased[k][rest] = struct{}{}
			return true
		}
		one := *fe
		one.Path = rest
		set(k, &one)
		return true
	}, func(e error) bool {
		set(a, e)
		return true
	})
	if fail == nil {
		return
	}
	fail = fmt.Errorf("%w: category %s, record %d: %w", ErrReveal, name, pg.first+int64(failK), fail)
	for k := failK; k < b; k++ {
		pg.errs[k] = fail
	}
}

// cutIndex splits a pii path "[i].rest" of a slice element's field.
func cutIndex(path string) (int, string, bool) {
	if !strings.HasPrefix(path, "[") {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(path[1:], "].")
	if !ok || rest == "" {
		return 0, "", false
	}
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 {
		return 0, "", false
	}
	return i, rest, true
}
