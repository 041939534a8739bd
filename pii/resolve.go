package pii

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// Key resolution: every path from a KeyRef to a ready key goes through
// fromStored, which holds the one rule on shredded keys.

func validRef(subject personaldata.SubjectID, scope personaldata.Scope) (KeyRef, error) {
	if err := subject.Validate(); err != nil {
		return KeyRef{}, fmt.Errorf("%w: %w", ErrNoSubject, err)
	}
	if err := scope.Validate(); err != nil {
		return KeyRef{}, err
	}
	return KeyRef{Subject: subject, Scope: scope.Normalize()}, nil
}

// key returns the ready key of ref, from the cache or the store. With
// create, a missing key is created; without, it is ErrKeyNotFound. A
// shredded key is ErrForgotten with create and ErrErased without.
func (p *Protector) key(ctx context.Context, ref KeyRef, create bool) (*keyEntry, error) {
	if e := p.cache.get(ref, p.elapsed()); e != nil {
		return e, nil
	}
	gen := p.cache.generation()
	ks, err := p.store.GetKeys(ctx, []KeyRef{ref})
	if err != nil {
		return nil, fmt.Errorf("pii: key store: %w", err)
	}
	if len(ks) != 1 {
		return nil, fmt.Errorf("pii: key store returned %d keys for 1 ref", len(ks))
	}
	ks[0].Ref = ref
	return p.fromStored(ctx, ks[0], create, gen)
}

func (p *Protector) fromStored(ctx context.Context, k StoredKey, create bool, gen uint64) (*keyEntry, error) {
	switch k.State {
	case KeyActive:
		return p.unwrap(ctx, k, gen)
	case KeyShredded:
		if create {
			return nil, ErrForgotten
		}
		return nil, ErrErased
	}
	if !create {
		return nil, ErrKeyNotFound
	}
	return p.create(ctx, k.Ref, gen)
}

func (p *Protector) unwrap(ctx context.Context, k StoredKey, gen uint64) (*keyEntry, error) {
	w, ok := p.wrappers[k.Wrapped.KEKID]
	if !ok {
		return nil, fmt.Errorf("%w: no wrapper for KEK %s", ErrWrongKEK, quote.String(k.Wrapped.KEKID))
	}
	dek, err := w.Unwrap(ctx, k.Wrapped, wrapAD(k.Ref))
	if err != nil {
		if errors.Is(err, ErrWrongKEK) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrWrongKEK, err)
	}
	e, err := newKeyEntry(k.Ref, dek, p.alg)
	clear(dek)
	if err != nil {
		return nil, fmt.Errorf("%w: unwrapped key: %w", ErrWrongKEK, err)
	}
	p.cache.put(e, p.elapsed(), gen)
	return e, nil
}

// create makes the key of ref. Goroutines of this process asking for the
// same ref share one attempt; across processes the store's create-if-absent
// picks the winner, and everyone uses the key the store returns.
func (p *Protector) create(ctx context.Context, ref KeyRef, gen uint64) (*keyEntry, error) {
	p.createMu.Lock()
	if c, ok := p.creating[ref]; ok {
		p.createMu.Unlock()
		select {
		case <-c.done:
			return c.entry, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &creation{done: make(chan struct{})}
	p.creating[ref] = c
	p.createMu.Unlock()

	c.entry, c.err = p.createOnce(ctx, ref, gen)
	close(c.done)
	p.createMu.Lock()
	delete(p.creating, ref)
	p.createMu.Unlock()
	return c.entry, c.err
}

func (p *Protector) createOnce(ctx context.Context, ref KeyRef, gen uint64) (*keyEntry, error) {
	dek := make([]byte, 32)
	defer clear(dek)
	if _, err := rand.Read(dek); err != nil {
		return nil, err
	}
	w, err := p.wrapper.Wrap(ctx, dek, wrapAD(ref))
	if err != nil {
		return nil, fmt.Errorf("pii: wrap new key: %w", err)
	}
	stored, err := p.store.CreateKey(ctx, ref, w, p.now())
	if err != nil {
		if errors.Is(err, ErrForgotten) {
			return nil, ErrForgotten
		}
		return nil, fmt.Errorf("pii: key store: %w", err)
	}
	if stored.State == KeyActive && stored.Wrapped.KEKID == w.KEKID && bytes.Equal(stored.Wrapped.Ciphertext, w.Ciphertext) {
		e, err := newKeyEntry(ref, dek, p.alg)
		if err != nil {
			return nil, err
		}
		p.cache.put(e, p.elapsed(), gen)
		return e, nil
	}
	return p.fromStored(ctx, stored, false, gen) // another creator won
}

// keys resolves many refs with one store call for those not cached (and,
// with create, one CreateKey call per missing key). The result has an entry
// or an error per ref.
func (p *Protector) keys(ctx context.Context, refs []KeyRef, create bool) (map[KeyRef]*keyEntry, map[KeyRef]error, error) {
	got := make(map[KeyRef]*keyEntry, len(refs))
	bad := map[KeyRef]error{}
	now := p.elapsed()
	var miss []KeyRef
	for _, r := range refs {
		if e := p.cache.get(r, now); e != nil {
			got[r] = e
		} else {
			miss = append(miss, r)
		}
	}
	if len(miss) == 0 {
		return got, bad, nil
	}
	gen := p.cache.generation()
	ks, err := p.store.GetKeys(ctx, miss)
	if err != nil {
		return nil, nil, fmt.Errorf("pii: key store: %w", err)
	}
	if len(ks) != len(miss) {
		return nil, nil, fmt.Errorf("pii: key store returned %d keys for %d refs", len(ks), len(miss))
	}
	for i, k := range ks {
		k.Ref = miss[i]
		if e, err := p.fromStored(ctx, k, create, gen); err != nil {
			bad[k.Ref] = err
		} else {
			got[k.Ref] = e
		}
	}
	return got, bad, nil
}
