package consent

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

var _ Store = (*MemoryStore)(nil)

// MemoryStore is a [Store] in memory, for tests and small programs. The zero
// value is ready to use, and so is [NewMemoryStore]'s. It is safe for
// concurrent use. It iterates subjects in the order of their first append.
type MemoryStore struct {
	mu       sync.RWMutex
	chains   map[personaldata.SubjectID][]StoredEvent
	order    []personaldata.SubjectID
	purposes map[PurposeID][]personaldata.SubjectID
	seen     map[PurposeID]map[personaldata.SubjectID]struct{}
	defs     []StoredDefinition
}

// NewMemoryStore returns an empty MemoryStore; it is equivalent to
// new(MemoryStore).
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

func cloneStoredEvent(r StoredEvent) StoredEvent {
	r.Data = bytes.Clone(r.Data)
	r.Hash = bytes.Clone(r.Hash)
	return r
}

// Append implements [Store].
func (s *MemoryStore) Append(ctx context.Context, subject personaldata.SubjectID, after uint64, events []StoredEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	for i, r := range events {
		if r.Subject != subject || r.Seq != after+uint64(i)+1 {
			return fmt.Errorf("consent: memory store: event %d has subject %s seq %d, want subject %s seq %d",
				i, quote.String(string(r.Subject)), r.Seq, quote.String(string(subject)), after+uint64(i)+1)
		}
	}
	cp := make([]StoredEvent, len(events))
	for i, r := range events {
		cp[i] = cloneStoredEvent(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.chains == nil {
		s.chains = make(map[personaldata.SubjectID][]StoredEvent)
		s.purposes = make(map[PurposeID][]personaldata.SubjectID)
		s.seen = make(map[PurposeID]map[personaldata.SubjectID]struct{})
	}
	chain, ok := s.chains[subject]
	if uint64(len(chain)) != after {
		return fmt.Errorf("%w: subject %s has %d events, not %d", ErrConflict, quote.String(string(subject)), len(chain), after)
	}
	if !ok {
		s.order = append(s.order, subject)
	}
	s.chains[subject] = append(chain, cp...)
	for _, r := range cp {
		set := s.seen[r.Purpose]
		if set == nil {
			set = make(map[personaldata.SubjectID]struct{})
			s.seen[r.Purpose] = set
		}
		if _, ok := set[subject]; !ok {
			set[subject] = struct{}{}
			s.purposes[r.Purpose] = append(s.purposes[r.Purpose], subject)
		}
	}
	return nil
}

// Events implements [Store].
func (s *MemoryStore) Events(ctx context.Context, subject personaldata.SubjectID) ([]StoredEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	chain := s.chains[subject]
	out := make([]StoredEvent, len(chain))
	for i, r := range chain {
		out[i] = cloneStoredEvent(r)
	}
	s.mu.RUnlock()
	return out, nil
}

// Subjects implements [Store].
func (s *MemoryStore) Subjects(ctx context.Context, purpose PurposeID) iter.Seq2[personaldata.SubjectID, error] {
	return func(yield func(personaldata.SubjectID, error) bool) {
		s.mu.RLock()
		var list []personaldata.SubjectID
		if purpose == "" {
			list = s.order
		} else {
			list = s.purposes[purpose]
		}
		list = list[:len(list):len(list)] // appends never touch what we read
		s.mu.RUnlock()
		for i, subj := range list {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					yield("", err)
					return
				}
			}
			if !yield(subj, nil) {
				return
			}
		}
	}
}

// Define implements [Store].
func (s *MemoryStore) Define(ctx context.Context, d StoredDefinition) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.defs {
		if old.Kind == d.Kind && old.ID == d.ID {
			if bytes.Equal(old.Data, d.Data) {
				return nil
			}
			return fmt.Errorf("%w: %s %s is defined otherwise", ErrConflict, d.Kind, quote.String(d.ID))
		}
	}
	d.Data = bytes.Clone(d.Data)
	s.defs = append(s.defs, d)
	return nil
}

// Definitions implements [Store].
func (s *MemoryStore) Definitions(ctx context.Context) ([]StoredDefinition, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]StoredDefinition, len(s.defs))
	for i, d := range s.defs {
		out[i] = d
		out[i].Data = bytes.Clone(d.Data)
	}
	return out, nil
}

// Len returns the number of events in the store.
func (s *MemoryStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, c := range s.chains {
		n += len(c)
	}
	return n
}
