package pii

import (
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii/internal/envelope"
)

// The work on one field: seal or open it under the key of its subject.

// hasWork reports whether field value fv, protected by op, needs a key in
// this mode.
func (w *walker) hasWork(fv reflect.Value, op opKind) bool {
	switch op {
	case opString:
		s := fv.String()
		return s != "" && (w.mode == modeProtect || envelope.LooksText(s))
	case opBytes:
		b := fv.Bytes()
		return len(b) > 0 && (w.mode == modeProtect || envelope.Looks(b))
	case opPtrString:
		return !fv.IsNil() && w.hasWork(fv.Elem(), opString)
	case opPtrBytes:
		return !fv.IsNil() && w.hasWork(fv.Elem(), opBytes)
	case opStringSlice:
		for i := range fv.Len() {
			if w.hasWork(fv.Index(i), opString) {
				return true
			}
		}
		return false
	case opSealed:
		sv := fv.Addr().Interface().(sealedValue)
		st := sv.core().state
		return (w.mode == modeProtect && st == statePlain) || (w.mode == modeReveal && st == stateSealed)
	}
	return false
}

// field protects or reveals one field whose subject is subject; subjErr is
// the result of validating it. For a string field, ps may point at it, and
// fv is then not read.
func (w *walker) field(parent, fv reflect.Value, ps *string, f *fieldPlan, subject string, subjErr error) {
	ref := KeyRef{Subject: personaldata.SubjectID(subject), Scope: f.scope}
	if err := subjErr; err != nil {
		if !w.collect {
			w.fail(f, ref, fmt.Errorf("%w: %w", ErrNoSubject, err))
		}
		return
	}
	if w.collect {
		// Neighbouring fields and records mostly share their key.
		if len(w.refs) == 0 || ref != w.lastRef {
			w.refs[ref] = struct{}{}
			w.lastRef = ref
		}
		return
	}
	e, err := w.entry(ref)
	if err != nil && !(w.mode == modeReveal && errors.Is(err, ErrErased)) {
		w.fail(f, ref, err)
		return
	}
	switch f.op {
	case opString:
		if ps == nil {
			ps = stringAt(fv)
		}
		w.str(parent, ps, f, ref, e)
	case opPtrString:
		w.str(parent, stringAt(fv.Elem()), f, ref, e)
	case opStringSlice:
		for i := range fv.Len() {
			w.elem = i
			w.str(parent, stringAt(fv.Index(i)), f, ref, e)
		}
		w.elem = -1
	case opBytes:
		w.bytes(fv, f, ref, e)
	case opPtrBytes:
		w.bytes(fv.Elem(), f, ref, e)
	case opSealed:
		w.sealed(fv.Addr().Interface().(sealedValue), f, ref, e)
	}
}

// entry returns the key of ref, from the keys fetched before the walk or
// through [Protector.key]; which error a shredded key gives is decided
// there. In reveal mode a nil entry with ErrErased means the key was
// shredded.
func (w *walker) entry(ref KeyRef) (*keyEntry, error) {
	if w.memo != nil && w.memoRef == ref {
		return w.memo, nil
	}
	if e := w.keys[ref]; e != nil {
		w.memoRef, w.memo = ref, e
		return e, nil
	}
	if err := w.keyErrs[ref]; err != nil {
		return nil, err
	}
	e, err := w.p.key(w.ctx, ref, w.mode == modeProtect)
	if err != nil {
		if w.keyErrs == nil {
			w.keyErrs = map[KeyRef]error{}
		}
		w.keyErrs[ref] = err
		return nil, err
	}
	w.memoRef, w.memo = ref, e
	return e, nil
}

// seal appends the binary envelope of plaintext to dst.
func (w *walker) seal(dst []byte, e *keyEntry, ref KeyRef, category personaldata.Category, plaintext []byte) ([]byte, error) {
	nonce, err := w.nonce()
	if err != nil {
		return nil, err
	}
	return w.p.sealBinary(dst, w.ad[:0], e, ref, category, plaintext, nonce)
}

// nonce returns a fresh nonce. The nonces of the fields of one struct are
// read from crypto/rand in one call: each byte read is used once, and what
// a walk leaves unused is dropped with it.
func (w *walker) nonce() ([]byte, error) {
	ns := w.p.alg.NonceSize()
	if len(w.rnd) < ns {
		n := ns * max(w.seals, 1)
		if cap(w.rndBuf) < n {
			w.rndBuf = make([]byte, n)
		}
		w.rnd = w.rndBuf[:n]
		if _, err := rand.Read(w.rnd); err != nil {
			w.rnd = nil
			return nil, err
		}
	}
	nonce := w.rnd[:ns:ns]
	w.rnd = w.rnd[ns:]
	w.seals--
	return nonce, nil
}

// sizeText returns the memory the string fields of struct v (of plan sp)
// take once protected or revealed, for one allocation to hold them all:
// they are stored together, and the fields of one struct live as long as
// each other.
func (w *walker) sizeText(v reflect.Value, sp *structPlan) int {
	n := 0
	for i := range sp.fields {
		f := &sp.fields[i]
		if f.op != opString {
			continue
		}
		if fv, ok := fieldByIndex(v, f.index); ok {
			n += w.textLen(fv.String())
		}
	}
	return n
}

// textLen returns the memory string field s takes once protected or
// revealed. A string that looks protected already counts in reveal mode
// only.
func (w *walker) textLen(s string) int {
	switch {
	case w.mode == modeProtect && s != "" && !envelope.LooksText(s):
		return envelope.TextLen(envelope.SealedLen(w.p.alg, len(s)))
	case w.mode == modeReveal && envelope.LooksText(s):
		return max(0, envelope.OpenedLen(len(s)))
	}
	return 0
}

// textBuf returns empty memory of capacity n for one string: from the
// memory of the struct's strings while it lasts, else on its own.
func (w *walker) textBuf(n int) []byte {
	if w.arena != nil {
		a := *w.arena
		if cap(a)-len(a) < n {
			// Strings made from the full memory keep it alive.
			a = make([]byte, 0, max(2*cap(a), n, 4<<10))
		}
		l := len(a)
		*w.arena = a[:l+n]
		return a[l : l : l+n]
	}
	if w.text == nil && w.textSize > 0 {
		w.text = make([]byte, 0, w.textSize)
	}
	if l := len(w.text); cap(w.text)-l >= n {
		w.text = w.text[:l+n]
		return w.text[l : l : l+n]
	}
	return make([]byte, 0, n)
}

func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// stringAt returns a pointer to string value fv, which must be settable.
// A named string type shares the representation of string.
func stringAt(fv reflect.Value) *string {
	if !fv.CanSet() {
		panic("pii: internal error: string field cannot be set")
	}
	return (*string)(fv.Addr().UnsafePointer())
}

// opens reports whether bin is a ciphertext of ref and category under e.
func (w *walker) opens(bin []byte, e *keyEntry, ref KeyRef, category personaldata.Category) bool {
	env, err := envelope.Parse(bin)
	if err != nil {
		return false
	}
	pt, err := openEnvelope(w.pt[:0], w.ad[:0], e, env, ref, category)
	if pt != nil {
		w.pt = pt[:0]
	}
	return err == nil
}

func (w *walker) str(parent reflect.Value, ps *string, f *fieldPlan, ref KeyRef, e *keyEntry) {
	s := *ps
	if w.mode == modeProtect {
		if s == "" {
			return
		}
		if envelope.LooksText(s) {
			bin, err := envelope.DecodeText(w.buf[:0], s)
			w.buf = bin[:0]
			if err == nil && w.opens(bin, e, ref, f.category) {
				return // already protected
			}
		}
		if f.blind != nil {
			if w.p.indexer == nil {
				w.fail(f, ref, ErrNoIndexKey)
				return
			}
			parent.FieldByIndex(f.blind).SetString(w.p.indexer.Index(f.category, normalizer(f.tag.Normalize), s))
		}
		bin, err := w.seal(w.buf[:0], e, ref, f.category, bytesOf(s))
		if err != nil {
			w.fail(f, ref, err)
			return
		}
		w.buf = bin[:0]
		text := envelope.AppendText(w.textBuf(envelope.TextLen(len(bin))), bin)
		*ps = unsafe.String(unsafe.SliceData(text), len(text))
		return
	}
	if !envelope.LooksText(s) {
		return
	}
	bin, err := envelope.DecodeText(w.buf[:0], s)
	w.buf = bin[:0]
	if err != nil {
		w.fail(f, ref, fmt.Errorf("%w: %w", ErrMalformed, err))
		return
	}
	env, err := envelope.Parse(bin)
	if err != nil {
		w.fail(f, ref, fmt.Errorf("%w: %w", ErrMalformed, err))
		return
	}
	if e == nil {
		*ps = f.tag.Redact
		w.fail(f, ref, ErrErased)
		return
	}
	// Open into memory of the plaintext's size that becomes the string.
	pt, err := openEnvelope(w.textBuf(len(env.Ciphertext)-envelope.TagSize), w.ad[:0], e, env, ref, f.category)
	if err != nil {
		w.fail(f, ref, err)
		return
	}
	*ps = unsafe.String(unsafe.SliceData(pt), len(pt))
}

func (w *walker) bytes(fv reflect.Value, f *fieldPlan, ref KeyRef, e *keyEntry) {
	b := fv.Bytes()
	if w.mode == modeProtect {
		if len(b) == 0 || (envelope.Looks(b) && w.opens(b, e, ref, f.category)) {
			return
		}
		out, err := w.seal(make([]byte, 0, envelope.SealedLen(w.p.alg, len(b))), e, ref, f.category, b)
		if err != nil {
			w.fail(f, ref, err)
			return
		}
		fv.SetBytes(out)
		return
	}
	if !envelope.Looks(b) {
		return
	}
	env, err := envelope.Parse(b)
	if err != nil {
		w.fail(f, ref, fmt.Errorf("%w: %w", ErrMalformed, err))
		return
	}
	if e == nil {
		fv.SetBytes(nil)
		w.fail(f, ref, ErrErased)
		return
	}
	pt, err := openEnvelope(nil, w.ad[:0], e, env, ref, f.category)
	if err != nil {
		w.fail(f, ref, err)
		return
	}
	fv.SetBytes(pt)
}

func (w *walker) sealed(sv sealedValue, f *fieldPlan, ref KeyRef, e *keyEntry) {
	c := sv.core()
	if w.mode == modeProtect {
		plain, err := sv.marshalPlain()
		if err != nil {
			w.fail(f, ref, err)
			return
		}
		out, err := w.seal(make([]byte, 0, envelope.SealedLen(w.p.alg, len(plain))), e, ref, f.category, plain)
		clear(plain)
		if err != nil {
			w.fail(f, ref, err)
			return
		}
		sv.zeroPlain()
		c.state, c.env = stateSealed, out
		return
	}
	env, err := envelope.Parse(c.env)
	if err != nil {
		w.fail(f, ref, fmt.Errorf("%w: %w", ErrMalformed, err))
		return
	}
	if e == nil {
		sv.zeroPlain()
		c.state, c.env = stateErased, nil
		w.fail(f, ref, ErrErased)
		return
	}
	pt, err := openEnvelope(nil, w.ad[:0], e, env, ref, f.category)
	if err != nil {
		w.fail(f, ref, err)
		return
	}
	err = sv.unmarshalPlain(pt)
	clear(pt)
	if err != nil {
		w.fail(f, ref, err)
		return
	}
	c.state, c.env = statePlain, nil
}
