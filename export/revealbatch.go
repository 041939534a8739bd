package export

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/revealhook"
	"github.com/personaldata/personaldata/pii"
)

// chunkRecords is how many records of a page one goroutine takes to reveal
// at a time. A *pii.Protector reveals them in one call, which looks each
// key up once for the chunk rather than once per record.
const chunkRecords = 32

// revealChunk reveals chunk c of pg and marks it ready. Each
// record gets the erased paths or the error that revealing it alone would
// have given; a Revealer's panic fails the chunk's records with ErrSource,
// as in a pass on one goroutine.
func revealChunk(ctx context.Context, rv Revealer, pg *page, c int, name personaldata.Category) {
	a := c * chunkRecords
	b := min(a+chunkRecords, pg.n)
	ch := &pg.chunks[c]
	cur := a // the first record not revealed yet, the first for a whole chunk
	defer func() {
		if v := recover(); v != nil {
			err := fmt.Errorf("%w: category %s: panic (%T) after %d records", ErrSource, name, v, pg.first+int64(cur))
			for k := cur; k < b; k++ {
				pg.errs[k] = err
			}
		}
		ch.ready.Store(true)
		close(ch.revealed)
	}()
	if _, ok := rv.(*pii.Protector); !ok {
		for ; cur < b; cur++ {
			pg.erased[cur], pg.errs[cur] = reveal(ctx, rv, pg.recs.Index(cur).Addr(), name, pg.first+int64(cur))
		}
		return
	}
	// The page's records are copies that only the pass's writer reads,
	// each before the page is reused: their strings can live in memory
	// that the page reuses too.
	err := revealhook.Into(rv, ctx, pg.recs.Slice(a, b).Interface(), &ch.arena)
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
