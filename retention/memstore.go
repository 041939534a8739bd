package retention

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
)

// MemoryHoldStore is a [HoldStore] in memory, for tests, examples and
// hosts with a single process: holds are lost when the process ends. The
// zero value is an empty store ready to use, as is the one
// [NewMemoryHoldStore] returns.
//
// A MemoryHoldStore is safe for concurrent use.
type MemoryHoldStore struct {
	mu        sync.RWMutex
	holds     map[ulid.ULID]Hold
	bySubject map[personaldata.SubjectID][]ulid.ULID // active holds only
	byRecord  map[string][]ulid.ULID                 // active holds only
}

var _ HoldStore = (*MemoryHoldStore)(nil)

// NewMemoryHoldStore returns an empty MemoryHoldStore; it is equivalent to
// new(MemoryHoldStore).
func NewMemoryHoldStore() *MemoryHoldStore { return new(MemoryHoldStore) }

// Place implements [HoldStore].
func (s *MemoryHoldStore) Place(ctx context.Context, h Hold) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.Validate(); err != nil {
		return err
	}
	if !h.ReleasedAt.IsZero() || h.ReleasedBy != "" {
		return fmt.Errorf("%w: a new hold cannot be released", ErrInvalidHold)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holds == nil {
		s.holds = map[ulid.ULID]Hold{}
		s.bySubject = map[personaldata.SubjectID][]ulid.ULID{}
		s.byRecord = map[string][]ulid.ULID{}
	}
	if _, ok := s.holds[h.ID]; ok {
		return fmt.Errorf("%w: %s", ErrHoldExists, h.ID)
	}
	s.holds[h.ID] = h
	if h.Subject != "" {
		s.bySubject[h.Subject] = append(s.bySubject[h.Subject], h.ID)
	}
	if h.RecordKey != "" {
		s.byRecord[h.RecordKey] = append(s.byRecord[h.RecordKey], h.ID)
	}
	return nil
}

// Release implements [HoldStore].
func (s *MemoryHoldStore) Release(ctx context.Context, id ulid.ULID, at time.Time, by string) (Hold, error) {
	if err := ctx.Err(); err != nil {
		return Hold{}, err
	}
	if at.IsZero() {
		return Hold{}, fmt.Errorf("%w: release time is zero", ErrInvalidHold)
	}
	if err := validText(by, "released-by"); err != nil {
		return Hold{}, fmt.Errorf("%w: released-by is malformed", ErrInvalidHold)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.holds[id]
	if !ok {
		return Hold{}, fmt.Errorf("%w: %s", ErrHoldNotFound, id)
	}
	if !h.ReleasedAt.IsZero() {
		return h, fmt.Errorf("%w: %s", ErrHoldReleased, id)
	}
	h.ReleasedAt, h.ReleasedBy = at, by
	s.holds[id] = h
	s.bySubject[h.Subject] = removeID(s.bySubject[h.Subject], id)
	if len(s.bySubject[h.Subject]) == 0 {
		delete(s.bySubject, h.Subject)
	}
	s.byRecord[h.RecordKey] = removeID(s.byRecord[h.RecordKey], id)
	if len(s.byRecord[h.RecordKey]) == 0 {
		delete(s.byRecord, h.RecordKey)
	}
	return h, nil
}

func removeID(ids []ulid.ULID, id ulid.ULID) []ulid.ULID {
	return slices.DeleteFunc(ids, func(x ulid.ULID) bool { return x == id })
}

// Get implements [HoldStore].
func (s *MemoryHoldStore) Get(ctx context.Context, id ulid.ULID) (Hold, error) {
	if err := ctx.Err(); err != nil {
		return Hold{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	h, ok := s.holds[id]
	if !ok {
		return Hold{}, fmt.Errorf("%w: %s", ErrHoldNotFound, id)
	}
	return h, nil
}

// Active implements [HoldStore]. It does not allocate when no hold
// applies.
func (s *MemoryHoldStore) Active(ctx context.Context, subject personaldata.SubjectID, recordKey string) ([]Hold, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var bySub, byRec []ulid.ULID
	if subject != "" {
		bySub = s.bySubject[subject]
	}
	if recordKey != "" {
		byRec = s.byRecord[recordKey]
	}
	if len(bySub)+len(byRec) == 0 {
		return []Hold{}, nil
	}
	out := make([]Hold, 0, len(bySub)+len(byRec))
	for _, id := range bySub {
		out = append(out, s.holds[id])
	}
	for _, id := range byRec {
		out = append(out, s.holds[id])
	}
	slices.SortFunc(out, func(a, b Hold) int { return a.ID.Compare(b.ID) })
	return out, nil
}

// List implements [HoldStore].
func (s *MemoryHoldStore) List(ctx context.Context, includeReleased bool) ([]Hold, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	out := make([]Hold, 0, len(s.holds))
	for _, h := range s.holds {
		if includeReleased || h.ReleasedAt.IsZero() {
			out = append(out, h)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Hold) int { return a.ID.Compare(b.ID) })
	return out, nil
}
