package pii

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/personaldata/personaldata"
)

// MemoryKeyStore is a [KeyStore] in process memory, for tests, examples and
// single-process programs that keep keys elsewhere durable by other means.
// It is safe for concurrent use. Its zero value is not usable; call
// [NewMemoryKeyStore].
type MemoryKeyStore struct {
	mu   sync.RWMutex
	keys map[KeyRef]*StoredKey
	subj map[personaldata.SubjectID][]personaldata.Scope
}

var _ KeyStore = (*MemoryKeyStore)(nil)

// NewMemoryKeyStore returns an empty store.
func NewMemoryKeyStore() *MemoryKeyStore {
	return &MemoryKeyStore{
		keys: map[KeyRef]*StoredKey{},
		subj: map[personaldata.SubjectID][]personaldata.Scope{},
	}
}

func copyKey(k *StoredKey) StoredKey {
	c := *k
	c.Wrapped.Ciphertext = bytes.Clone(k.Wrapped.Ciphertext)
	return c
}

// GetKeys implements [KeyStore].
func (s *MemoryKeyStore) GetKeys(ctx context.Context, refs []KeyRef) ([]StoredKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]StoredKey, len(refs))
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i, r := range refs {
		if k, ok := s.keys[r]; ok {
			out[i] = copyKey(k)
		} else {
			out[i] = StoredKey{Ref: r}
		}
	}
	return out, nil
}

// CreateKey implements [KeyStore].
func (s *MemoryKeyStore) CreateKey(ctx context.Context, ref KeyRef, key WrappedKey, now time.Time) (StoredKey, error) {
	if err := ctx.Err(); err != nil {
		return StoredKey{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[ref]; ok {
		if k.State == KeyShredded {
			return StoredKey{}, fmt.Errorf("%w (subject %q, scope %s)", ErrForgotten, ref.Subject, ref.Scope)
		}
		return copyKey(k), nil
	}
	k := &StoredKey{Ref: ref, State: KeyActive, Wrapped: WrappedKey{KEKID: key.KEKID, Ciphertext: bytes.Clone(key.Ciphertext)}, CreatedAt: now}
	s.keys[ref] = k
	s.subj[ref.Subject] = append(s.subj[ref.Subject], ref.Scope)
	return copyKey(k), nil
}

// ShredKeys implements [KeyStore].
func (s *MemoryKeyStore) ShredKeys(ctx context.Context, subject personaldata.SubjectID, scopes []personaldata.Scope, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(scopes) == 0 {
		scopes = slices.Clone(s.subj[subject])
	}
	for _, sc := range scopes {
		ref := KeyRef{Subject: subject, Scope: sc}
		k, ok := s.keys[ref]
		if !ok {
			k = &StoredKey{Ref: ref}
			s.keys[ref] = k
			s.subj[subject] = append(s.subj[subject], sc)
		}
		if k.State == KeyShredded {
			continue
		}
		clear(k.Wrapped.Ciphertext)
		k.State, k.Wrapped, k.ShreddedAt = KeyShredded, WrappedKey{}, now
	}
	return nil
}

// ReplaceKey implements [KeyStore].
func (s *MemoryKeyStore) ReplaceKey(ctx context.Context, ref KeyRef, old, new WrappedKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[ref]
	if !ok {
		return ErrKeyNotFound
	}
	if k.State != KeyActive || k.Wrapped.KEKID != old.KEKID || !bytes.Equal(k.Wrapped.Ciphertext, old.Ciphertext) {
		return ErrKeyChanged
	}
	k.Wrapped = WrappedKey{KEKID: new.KEKID, Ciphertext: bytes.Clone(new.Ciphertext)}
	return nil
}

// Keys implements [KeyStore]. It yields a snapshot taken when iteration starts.
func (s *MemoryKeyStore) Keys(ctx context.Context) iter.Seq2[StoredKey, error] {
	return func(yield func(StoredKey, error) bool) {
		s.mu.RLock()
		snap := make([]StoredKey, 0, len(s.keys))
		for _, k := range s.keys {
			if k.State == KeyActive {
				snap = append(snap, copyKey(k))
			}
		}
		s.mu.RUnlock()
		for _, k := range snap {
			if err := ctx.Err(); err != nil {
				yield(StoredKey{}, err)
				return
			}
			if !yield(k, nil) {
				return
			}
		}
	}
}
