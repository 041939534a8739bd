package consent

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/personaldata/personaldata"
)

// Store keeps the event chains of a [Ledger]. Implementations must be safe
// for concurrent use; they need no validation of their own beyond what each
// method says, since the Ledger validates, hashes and serialises per subject
// before it calls them. A database implementation keeps one row per
// [Record] with a unique key on (Subject, Seq).
//
// Every method returns ctx.Err() (wrapped or not) when ctx is done before it
// completes.
type Store interface {
	// Append atomically appends recs to subject's chain, if and only if
	// the chain currently holds exactly after records (0 for a subject
	// without events). Otherwise it appends nothing and returns an error
	// wrapping [ErrConflict]. recs carry Subject == subject and the
	// consecutive sequence numbers after+1, after+2, ...; a store returns
	// an error (not ErrConflict) and appends nothing if they do not.
	// Appending no records is a no-op that returns nil. A store must not
	// retain recs' byte slices after it returns (copy them).
	Append(ctx context.Context, subject personaldata.SubjectID, after uint64, recs []Record) error

	// Events returns subject's records in sequence order, byte for byte as
	// appended; an empty slice and nil for a subject without events. The
	// caller may modify the result.
	Events(ctx context.Context, subject personaldata.SubjectID) ([]Record, error)

	// Subjects yields, once each, the subjects with at least one record
	// whose Purpose is purpose, or with empty purpose every subject with
	// records. Order is unspecified but stable for an unchanged store.
	// Records appended while iterating may or may not be seen. An error
	// ends the iteration after it is yielded.
	Subjects(ctx context.Context, purpose PurposeID) iter.Seq2[personaldata.SubjectID, error]
}

var _ Store = (*MemoryStore)(nil)

// MemoryStore is a [Store] in memory, for tests and small programs. The zero
// value is ready to use. It is safe for concurrent use. It iterates subjects
// in the order of their first append.
type MemoryStore struct {
	mu       sync.RWMutex
	chains   map[personaldata.SubjectID][]Record
	order    []personaldata.SubjectID
	purposes map[PurposeID][]personaldata.SubjectID
	seen     map[PurposeID]map[personaldata.SubjectID]struct{}
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

func cloneRecord(r Record) Record {
	r.Data = bytes.Clone(r.Data)
	r.Hash = bytes.Clone(r.Hash)
	return r
}

// Append implements [Store].
func (s *MemoryStore) Append(ctx context.Context, subject personaldata.SubjectID, after uint64, recs []Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	for i, r := range recs {
		if r.Subject != subject || r.Seq != after+uint64(i)+1 {
			return fmt.Errorf("consent: memory store: record %d has subject %q seq %d, want subject %q seq %d",
				i, string(r.Subject), r.Seq, string(subject), after+uint64(i)+1)
		}
	}
	cp := make([]Record, len(recs))
	for i, r := range recs {
		cp[i] = cloneRecord(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.chains == nil {
		s.chains = make(map[personaldata.SubjectID][]Record)
		s.purposes = make(map[PurposeID][]personaldata.SubjectID)
		s.seen = make(map[PurposeID]map[personaldata.SubjectID]struct{})
	}
	chain, ok := s.chains[subject]
	if uint64(len(chain)) != after {
		return fmt.Errorf("%w: subject %q has %d events, not %d", ErrConflict, string(subject), len(chain), after)
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
func (s *MemoryStore) Events(ctx context.Context, subject personaldata.SubjectID) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	chain := s.chains[subject]
	out := make([]Record, len(chain))
	for i, r := range chain {
		out[i] = cloneRecord(r)
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

// Len returns the number of records in the store.
func (s *MemoryStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, c := range s.chains {
		n += len(c)
	}
	return n
}
