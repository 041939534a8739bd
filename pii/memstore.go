package pii

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// MemoryKeyStore is a [KeyStore] in process memory, for tests, examples and
// single-process programs that keep keys elsewhere durable by other means.
// Its zero value is an empty store ready to use; [NewMemoryKeyStore] is
// equivalent to new(MemoryKeyStore). It is safe for concurrent use.
type MemoryKeyStore struct {
	mu       sync.RWMutex
	keys     map[KeyRef]*StoredKey
	subjects map[personaldata.SubjectID]*memSubject
}

// memSubject is what the store knows of one subject: its scopes and the
// time of its subject-level tombstone, if any.
type memSubject struct {
	scopes   []personaldata.Scope
	shredded time.Time // zero unless ShredSubject was called
}

var _ KeyStore = (*MemoryKeyStore)(nil)

// NewMemoryKeyStore returns an empty store, the same as new(MemoryKeyStore).
func NewMemoryKeyStore() *MemoryKeyStore { return new(MemoryKeyStore) }

func copyKey(k *StoredKey) StoredKey {
	c := *k
	c.Wrapped.Ciphertext = bytes.Clone(k.Wrapped.Ciphertext)
	return c
}

// init makes the maps of a zero store. Callers hold s.mu for writing.
func (s *MemoryKeyStore) init() {
	if s.keys == nil {
		s.keys = map[KeyRef]*StoredKey{}
		s.subjects = map[personaldata.SubjectID]*memSubject{}
	}
}

// subject returns the record of subject, creating it. Callers hold s.mu
// for writing.
func (s *MemoryKeyStore) subject(id personaldata.SubjectID) *memSubject {
	s.init()
	ms := s.subjects[id]
	if ms == nil {
		ms = &memSubject{}
		s.subjects[id] = ms
	}
	return ms
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
		k, ok := s.keys[r]
		if ok {
			out[i] = copyKey(k)
		} else {
			out[i] = StoredKey{Ref: r}
		}
		if ms := s.subjects[r.Subject]; ms != nil && !ms.shredded.IsZero() {
			at := ms.shredded
			if ok && k.State == KeyShredded && k.ShreddedAt.Before(at) {
				at = k.ShreddedAt
			}
			out[i] = StoredKey{Ref: r, State: KeyShredded, CreatedAt: out[i].CreatedAt, ShreddedAt: at}
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
	ms := s.subject(ref.Subject)
	if !ms.shredded.IsZero() {
		return StoredKey{}, fmt.Errorf("%w (subject %s)", ErrForgotten, quote.String(string(ref.Subject)))
	}
	if k, ok := s.keys[ref]; ok {
		if k.State == KeyShredded {
			return StoredKey{}, fmt.Errorf("%w (subject %s, scope %s)", ErrForgotten, quote.String(string(ref.Subject)), quote.String(string(ref.Scope)))
		}
		return copyKey(k), nil
	}
	k := &StoredKey{Ref: ref, State: KeyActive, Wrapped: WrappedKey{KEKID: key.KEKID, Ciphertext: bytes.Clone(key.Ciphertext)}, CreatedAt: now}
	s.keys[ref] = k
	ms.scopes = append(ms.scopes, ref.Scope)
	return copyKey(k), nil
}

// ShredKeys implements [KeyStore].
func (s *MemoryKeyStore) ShredKeys(ctx context.Context, subject personaldata.SubjectID, scopes []personaldata.Scope, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(scopes) == 0 {
		return fmt.Errorf("pii: ShredKeys: %w", ErrNoScope)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shred(subject, scopes, now)
	return nil
}

// shred tombstones subject in scopes. Callers hold s.mu for writing.
func (s *MemoryKeyStore) shred(subject personaldata.SubjectID, scopes []personaldata.Scope, now time.Time) {
	ms := s.subject(subject)
	for _, sc := range scopes {
		ref := KeyRef{Subject: subject, Scope: sc}
		k, ok := s.keys[ref]
		if !ok {
			k = &StoredKey{Ref: ref}
			s.keys[ref] = k
			ms.scopes = append(ms.scopes, sc)
		}
		if k.State == KeyShredded {
			continue
		}
		clear(k.Wrapped.Ciphertext)
		k.State, k.Wrapped, k.ShreddedAt = KeyShredded, WrappedKey{}, now
	}
}

// ShredSubject implements [KeyStore].
func (s *MemoryKeyStore) ShredSubject(ctx context.Context, subject personaldata.SubjectID, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.subject(subject)
	s.shred(subject, ms.scopes, now)
	if ms.shredded.IsZero() {
		ms.shredded = now
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
