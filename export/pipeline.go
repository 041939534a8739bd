package export

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"

	"github.com/personaldata/personaldata"
)

// A pass over records that need revealing decrypts on a second core, if
// there is one, while the calling goroutine writes: one goroutine reads the source, copies the
// records into pages it owns and hands each page over; both goroutines
// then reveal the records of the page, each taking the next chunk not yet
// taken, and the caller writes them in order. Pages go back to the reader
// once written, so memory stays flat; a *pii.Protector reveals a chunk's
// strings into memory of the chunk's own, reused with its page.

const (
	pageRecords = 256 // records per page
	pagesQueued = 2   // pages read ahead of the writer
)

// pipelined says whether a pass over r reads and reveals records on a
// second goroutine: only for a typed source of flat struct records with
// pii fields, read in full, with a Revealer. Flat records (see flatType)
// hold nothing that the source may reuse behind a pointer, so a copy of
// one is the record's own, and revealing it writes nothing the source
// holds. On one core the pipeline still pays: records are revealed a chunk
// at a time, and the goroutines take turns once per page.
func (j *job) pipelined(r *registration, limit int64) bool {
	p := r.plan
	return limit == 0 && !r.builtin && j.e.opts.Revealer != nil &&
		p != nil && p.st != nil && p.st.hasPII && p.st.flat
}

// flatType says whether values of t hold no pointer, slice, map,
// interface, channel or function, through any field (unexported ones
// included) or array element. Strings are immutable and a time.Time's
// location is never changed, so both count as flat.
func flatType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return true
	case reflect.Array:
		return flatType(t.Elem())
	case reflect.Struct:
		if t == timeType {
			return true
		}
		for i := range t.NumField() {
			if !flatType(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// page is a run of records copied from the source.
type page struct {
	recs   reflect.Value // []T of pageRecords records, the first n in use
	n      int
	first  int64 // the number of the first record
	_      [64]byte
	taken  atomic.Int32 // chunks whose reveal has been taken by a goroutine
	_      [64 - 4]byte // alone on its cache line: both goroutines add to it
	chunks [pageRecords / chunkRecords]chunk
	erased [pageRecords]map[string]struct{}
	errs   [pageRecords]error
	end    error // after the n records: the pass's error; errEnd if none
	last   bool  // no page follows
}

// chunk is the state of chunkRecords records of a page, alone on its
// cache lines: goroutines revealing neighbouring chunks would otherwise
// slow each other down on every string.
type chunk struct {
	_        [64]byte
	ready    atomic.Bool   // revealed
	revealed chan struct{} // closed once revealed
	// arena is the memory the chunk's strings are revealed into by a
	// *pii.Protector; it is reused once the page has been written.
	arena []byte
	_     [64]byte
}

// errEnd marks the last page of a pass that ended without error.
var errEnd = errors.New("end")

// revealTaken reveals the chunks of pg that no goroutine has taken yet,
// until done is closed.
func revealTaken(ctx context.Context, rv Revealer, pg *page, name personaldata.Category, done <-chan struct{}) {
	for {
		c := int(pg.taken.Add(1)) - 1
		if c*chunkRecords >= pg.n {
			return
		}
		select {
		case <-done:
			return
		default:
		}
		revealChunk(ctx, rv, pg, c, name)
	}
}

// eachPipelined is each for a pass that pipelined allows. It counts the
// records written in *n.
func (j *job) eachPipelined(ctx context.Context, r *registration, n *int64, fn func(n int64, it *item) error) error {
	ctx = context.WithValue(ctx, nowKey{}, j.now)
	pctx, cancel := context.WithCancel(ctx)
	p := r.plan
	rv := j.e.opts.Revealer
	full := make(chan *page, pagesQueued)
	free := make(chan *page, pagesQueued+2)
	for range cap(free) {
		free <- &page{recs: reflect.MakeSlice(reflect.SliceOf(p.st.typ), pageRecords, pageRecords)}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go j.produce(ctx, pctx, r, rv, full, free, done, finished)
	defer func() {
		// Stop the reader and wait for it, so that nothing reads the
		// source or reveals once the pass has returned.
		close(done)
		cancel()
		<-finished
	}()
	var it item
	it.p = p
	for pg := range full {
		for i := range pg.n {
			num := *n + 1
			for ch := &pg.chunks[i/chunkRecords]; !ch.ready.Load(); {
				if c := int(pg.taken.Add(1)) - 1; c*chunkRecords < pg.n {
					revealChunk(pctx, rv, pg, c, r.cat.Name)
				} else {
					// Another goroutine is revealing record i: wait for it.
					<-ch.revealed
				}
			}
			*n = num
			if err := pg.errs[i]; err != nil {
				return err
			}
			rec := pg.recs.Index(i)
			if p.ptr {
				rec = rec.Addr()
			}
			it.v, it.erased = rec, pg.erased[i]
			if err := fn(num, &it); err != nil {
				if err == errStop {
					return nil
				}
				return err
			}
		}
		if pg.last {
			if pg.end == errEnd {
				return ctx.Err()
			}
			return pg.end
		}
		free <- pg
	}
	return ctx.Err()
}

// produce reads the records of r into pages for eachPipelined and sends
// them on full, taking empty pages from free, until the source ends, fails
// or done is closed. It closes finished when it returns.
func (j *job) produce(ctx, pctx context.Context, r *registration, rv Revealer, full chan<- *page, free <-chan *page, done <-chan struct{}, finished chan<- struct{}) {
	defer close(finished)
	name, p := r.cat.Name, r.plan
	var pg *page
	var n int64
	get := func() bool {
		select {
		case pg = <-free:
		case <-done:
			return false
		}
		pg.n, pg.first, pg.end, pg.last = 0, n+1, nil, false
		pg.taken.Store(0)
		for i := range pg.erased {
			pg.erased[i], pg.errs[i] = nil, nil
		}
		for c := range pg.chunks {
			ch := &pg.chunks[c]
			ch.ready.Store(false)
			ch.revealed = make(chan struct{})
			ch.arena = ch.arena[:0]
		}
		return true
	}
	// send hands pg over, ending the pass with end if not nil, and
	// reveals what the writer has not taken.
	send := func(end error) bool {
		if end != nil {
			pg.end, pg.last = end, true
		}
		sent := pg
		pg = nil
		select {
		case full <- sent:
		case <-done:
			return false
		}
		revealTaken(pctx, rv, sent, name, done)
		return end == nil && get()
	}
	defer func() {
		if v := recover(); v != nil {
			// The panic value may hold personal data: only its type is kept.
			err := fmt.Errorf("%w: category %s: panic (%T) after %d records", ErrSource, name, v, n)
			if pg != nil || get() {
				send(err)
			}
		}
	}()
	if !get() {
		return
	}
	for rec, serr := range r.src.Records(pctx, j.req.Subject) {
		if serr != nil {
			send(fmt.Errorf("%w: category %s after %d records: %w", ErrSource, name, n, serr))
			return
		}
		if n&255 == 0 {
			if err := ctx.Err(); err != nil {
				send(err)
				return
			}
		}
		select {
		case <-done: // the writer has stopped
			return
		default:
		}
		n++
		v := reflect.ValueOf(rec)
		if !v.IsValid() || v.Kind() == reflect.Pointer && v.IsNil() {
			send(fmt.Errorf("%w: category %s, record %d is nil", ErrRecordType, name, n))
			return
		}
		if v.Type() != p.typ {
			send(fmt.Errorf("%w: category %s, record %d is %s, earlier records are %s", ErrRecordType, name, n, v.Type(), p.typ))
			return
		}
		if p.ptr {
			v = v.Elem()
		}
		pg.recs.Index(pg.n).Set(v)
		pg.n++
		if pg.n == pageRecords && !send(nil) {
			return
		}
	}
	err := ctx.Err()
	if err == nil {
		err = errEnd
	}
	send(err)
}
