package piitest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
)

// start runs n goroutines that call fn(i) all at once, and waits for them.
func start(n int, fn func(i int)) {
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			fn(i)
		})
	}
	close(gate)
	wg.Wait()
}

func testConcurrentCreate(t *testing.T, s pii.KeyStore) {
	const goroutines = 64
	for round := range 4 {
		r := ref(fmt.Sprintf("new-subject-%d", round), fiscal)
		keys := make([]pii.WrappedKey, goroutines)
		for i := range keys {
			keys[i] = newWrapped(kekID)
		}
		got := make([]pii.StoredKey, goroutines)
		errs := make([]error, goroutines)
		start(goroutines, func(i int) {
			got[i], errs[i] = s.CreateKey(t.Context(), r, keys[i], t0)
		})
		winner := -1
		for i := range keys {
			if bytes.Equal(keys[i].Ciphertext, got[0].Wrapped.Ciphertext) {
				winner = i
			}
		}
		notEqual(t, -1, winner, "CreateKey returned a key no caller passed")
		for i := range got {
			noError(t, errs[i], "concurrent CreateKey %d", i)
			requireActive(t, got[i], r, keys[winner], t0)
		}
		requireActive(t, getKey(t, s, r), r, keys[winner], t0)
	}
	hasLen(t, allKeys(t, s), 4)
}

func testConcurrentCreateShred(t *testing.T, s pii.KeyStore) {
	const goroutines = 32
	shredAt := t0.Add(time.Hour)
	for round := range 4 {
		r := def(fmt.Sprintf("racing-%d", round))
		got := make([]pii.StoredKey, goroutines)
		errs := make([]error, goroutines)
		var shredErr error
		start(goroutines+1, func(i int) {
			if i == goroutines {
				shredErr = s.ShredKeys(t.Context(), r.Subject, []personaldata.Scope{r.Scope}, shredAt)
				return
			}
			got[i], errs[i] = s.CreateKey(t.Context(), r, newWrapped(kekID), t0)
		})
		noError(t, shredErr, "ShredKeys racing CreateKey")
		var first *pii.StoredKey
		for i := range got {
			if errs[i] != nil {
				errorIs(t, errs[i], pii.ErrForgotten, "CreateKey racing ShredKeys")
				continue
			}
			if first == nil {
				first = &got[i]
			}
			requireActive(t, got[i], r, first.Wrapped, t0) // one key ever exists
		}
		requireShredded(t, getKey(t, s, r), r, shredAt)
		_, err := s.CreateKey(t.Context(), r, newWrapped(kekID), t0)
		errorIs(t, err, pii.ErrForgotten, "CreateKey after ShredKeys returned")
	}
	empty(t, allKeys(t, s))
}

// testConcurrentMixed runs every operation on many subjects at once while
// readers list and look up keys, for the race detector and for states that
// are never valid (an active key without bytes, a shredded one with some).
func testConcurrentMixed(t *testing.T, s pii.KeyStore) {
	const workers, readers = 16, 4
	subject := func(i int) string { return fmt.Sprintf("worker-%d", i) }
	var refs []pii.KeyRef
	for i := range workers {
		refs = append(refs, def(subject(i)), ref(subject(i), fiscal))
	}
	var done atomic.Bool
	var left atomic.Int32
	left.Store(workers)
	check := func(k pii.StoredKey) bool {
		switch k.State {
		case pii.KeyMissing:
			return expect(t, len(k.Wrapped.Ciphertext) == 0, "missing %v with key bytes", k.Ref)
		case pii.KeyActive:
			return expect(t, len(k.Wrapped.Ciphertext) > 0, "active %v without key bytes", k.Ref)
		case pii.KeyShredded:
			return expect(t, len(k.Wrapped.Ciphertext) == 0, "shredded %v with key bytes", k.Ref)
		}
		return expect(t, false, "%v in bad state %s", k.Ref, k.State)
	}
	start(workers+readers, func(i int) {
		ctx := t.Context()
		if i >= workers {
			for !done.Load() {
				ks, err := s.GetKeys(ctx, refs)
				if !expect(t, err == nil, "GetKeys: %v", err) || !expect(t, len(ks) == len(refs), "GetKeys returned %d keys for %d refs", len(ks), len(refs)) {
					return
				}
				for j, k := range ks {
					if !expect(t, refs[j] == k.Ref, "GetKeys returned %v for %v", k.Ref, refs[j]) || !check(k) {
						return
					}
				}
				for k, err := range s.Keys(ctx) {
					if !expect(t, err == nil, "Keys: %v", err) || !expect(t, k.State == pii.KeyActive, "Keys yielded %v in state %s", k.Ref, k.State) || !check(k) {
						return
					}
				}
			}
			return
		}
		defer func() {
			if left.Add(-1) == 0 {
				done.Store(true)
			}
		}()
		d, f := def(subject(i)), ref(subject(i), fiscal)
		for round := range 3 {
			kd, kf := newWrapped(kekID), newWrapped(kekID)
			if round > 0 {
				// Shredded last round: a tombstone never gets a key.
				_, err := s.CreateKey(ctx, d, kd, t0)
				if !expect(t, errors.Is(err, pii.ErrForgotten), "CreateKey after shred: %v, want ErrForgotten", err) {
					return
				}
				continue
			}
			got, err := s.CreateKey(ctx, d, kd, t0)
			if !expect(t, err == nil, "CreateKey %v: %v", d, err) || !expect(t, bytes.Equal(kd.Ciphertext, got.Wrapped.Ciphertext), "CreateKey %v returned another key", d) {
				return
			}
			if _, err := s.CreateKey(ctx, f, kf, t0); !expect(t, err == nil, "CreateKey %v: %v", f, err) {
				return
			}
			nf := newWrapped(kekID2)
			if err := s.ReplaceKey(ctx, f, kf, nf); !expect(t, err == nil, "ReplaceKey: %v", err) {
				return
			}
			if err := s.ShredKeys(ctx, d.Subject, []personaldata.Scope{d.Scope}, t0); !expect(t, err == nil, "ShredKeys: %v", err) {
				return
			}
			ks, err := s.GetKeys(ctx, []pii.KeyRef{d, f})
			if !expect(t, err == nil, "GetKeys: %v", err) || !expect(t, len(ks) == 2, "GetKeys returned %d keys for 2 refs", len(ks)) {
				return
			}
			expect(t, ks[0].State == pii.KeyShredded, "%v after ShredKeys: %s", d, ks[0].State)
			expect(t, ks[1].State == pii.KeyActive, "%v after ReplaceKey: %s", f, ks[1].State)
			expect(t, bytes.Equal(nf.Ciphertext, ks[1].Wrapped.Ciphertext), "%v after ReplaceKey holds another key", f)
		}
	})
	keys := allKeys(t, s)
	hasLen(t, keys, workers, "one fiscal key per worker remains")
	for i := range workers {
		requireShredded(t, getKey(t, s, def(subject(i))), def(subject(i)), t0)
	}
}

func testConcurrentCreateShredSubject(t *testing.T, s pii.KeyStore) {
	const goroutines = 32
	shredAt := t0.Add(time.Hour)
	for round := range 4 {
		subject := fmt.Sprintf("racing-subject-%d", round)
		refs := make([]pii.KeyRef, goroutines)
		got := make([]pii.StoredKey, goroutines)
		errs := make([]error, goroutines)
		var shredErr error
		start(goroutines+1, func(i int) {
			if i == goroutines {
				shredErr = s.ShredSubject(t.Context(), personaldata.SubjectID(subject), shredAt)
				return
			}
			// Each goroutine its own scope: most of them new to the store.
			refs[i] = ref(subject, personaldata.Scope(fmt.Sprintf("scope-%d", i%8)))
			got[i], errs[i] = s.CreateKey(t.Context(), refs[i], newWrapped(kekID), t0)
		})
		noError(t, shredErr, "ShredSubject racing CreateKey")
		for i := range got {
			if errs[i] != nil {
				errorIs(t, errs[i], pii.ErrForgotten, "CreateKey racing ShredSubject")
				continue
			}
			equal(t, pii.KeyActive, got[i].State, "CreateKey %v", refs[i])
		}
		for _, r := range refs {
			k := getKey(t, s, r)
			equal(t, pii.KeyShredded, k.State, "%v after ShredSubject returned", r)
			empty(t, k.Wrapped.Ciphertext, "%v after ShredSubject returned", r)
		}
		_, err := s.CreateKey(t.Context(), ref(subject, "later"), newWrapped(kekID), t0)
		errorIs(t, err, pii.ErrForgotten, "CreateKey after ShredSubject returned")
	}
	empty(t, allKeys(t, s))
}
