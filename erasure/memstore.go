package erasure

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/oklog/ulid/v2"
)

// MemoryStore keeps requests, receipts and the suppression list in process
// memory, for tests, examples and single-process programs. It implements
// RequestStore, ReceiptStore and SuppressionStore. The zero value is an
// empty store ready to use, like the one NewMemoryStore returns. It is safe
// for concurrent use.
type MemoryStore struct {
	mu       sync.RWMutex
	requests map[ulid.ULID]*Request
	receipts []StoredReceipt
	byID     map[ulid.ULID]int
	byReq    map[ulid.ULID][]int
	supp     map[string]SuppressionEntry
}

var (
	_ RequestStore     = (*MemoryStore)(nil)
	_ ReceiptStore     = (*MemoryStore)(nil)
	_ SuppressionStore = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty store; it is equivalent to new(MemoryStore).
func NewMemoryStore() *MemoryStore { return new(MemoryStore) }

// Stores returns s as every store a Service needs.
func (s *MemoryStore) Stores() Stores { return Stores{Requests: s, Receipts: s, Suppression: s} }

// Create implements RequestStore.
func (s *MemoryStore) Create(ctx context.Context, r Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.requests[r.ID]; ok {
		return fmt.Errorf("%w: request %s", ErrExists, r.ID)
	}
	if s.requests == nil {
		s.requests = map[ulid.ULID]*Request{}
	}
	c := r.Clone()
	s.requests[r.ID] = &c
	return nil
}

// Get implements RequestStore.
func (s *MemoryStore) Get(ctx context.Context, id ulid.ULID) (Request, error) {
	if err := ctx.Err(); err != nil {
		return Request{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.requests[id]
	if !ok {
		return Request{}, fmt.Errorf("%w: request %s", ErrNotFound, id)
	}
	return r.Clone(), nil
}

// Update implements RequestStore.
func (s *MemoryStore) Update(ctx context.Context, r Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.requests[r.ID]
	if !ok {
		return fmt.Errorf("%w: request %s", ErrNotFound, r.ID)
	}
	if old.Version+1 != r.Version {
		return fmt.Errorf("%w: request %s is at version %d, not %d", ErrConflict, r.ID, old.Version, r.Version-1)
	}
	c := r.Clone()
	s.requests[r.ID] = &c
	return nil
}

// List implements RequestStore.
func (s *MemoryStore) List(ctx context.Context, f Filter) ([]Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var out []*Request
	for _, r := range s.requests {
		if f.Match(r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *Request) int { return a.ID.Compare(b.ID) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	res := make([]Request, len(out))
	for i, r := range out {
		res[i] = r.Clone()
	}
	s.mu.RUnlock()
	return res, nil
}

// Append implements ReceiptStore.
func (s *MemoryStore) Append(ctx context.Context, r StoredReceipt) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[r.ID]; ok {
		return fmt.Errorf("%w: receipt %s", ErrExists, r.ID)
	}
	if r.Seq != uint64(len(s.receipts))+1 {
		return fmt.Errorf("%w: receipt chain is at %d, not %d", ErrConflict, len(s.receipts), r.Seq-1)
	}
	if s.byID == nil {
		s.byID = map[ulid.ULID]int{}
	}
	if s.byReq == nil {
		s.byReq = map[ulid.ULID][]int{}
	}
	s.byID[r.ID] = len(s.receipts)
	s.byReq[r.RequestID] = append(s.byReq[r.RequestID], len(s.receipts))
	s.receipts = append(s.receipts, r)
	return nil
}

// Last implements ReceiptStore.
func (s *MemoryStore) Last(ctx context.Context) (StoredReceipt, error) {
	if err := ctx.Err(); err != nil {
		return StoredReceipt{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.receipts) == 0 {
		return StoredReceipt{}, fmt.Errorf("%w: no receipts", ErrNotFound)
	}
	return s.receipts[len(s.receipts)-1], nil
}

// ByRequest implements ReceiptStore.
func (s *MemoryStore) ByRequest(ctx context.Context, id ulid.ULID) ([]StoredReceipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]StoredReceipt, 0, len(s.byReq[id]))
	for _, i := range s.byReq[id] {
		out = append(out, s.receipts[i])
	}
	return out, nil
}

// Since implements ReceiptStore.
func (s *MemoryStore) Since(ctx context.Context, after uint64, limit int) ([]StoredReceipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if after >= uint64(len(s.receipts)) {
		return []StoredReceipt{}, nil
	}
	out := s.receipts[after:]
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return slices.Clone(out), nil
}

// Add implements SuppressionStore.
func (s *MemoryStore) Add(ctx context.Context, entries []SuppressionEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.supp == nil {
		s.supp = map[string]SuppressionEntry{}
	}
	for _, e := range entries {
		if _, ok := s.supp[e.Digest]; !ok {
			s.supp[e.Digest] = e
		}
	}
	return nil
}

// Lookup implements SuppressionStore.
func (s *MemoryStore) Lookup(ctx context.Context, digests []string) ([]SuppressionEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []SuppressionEntry{}
	for _, d := range digests {
		if e, ok := s.supp[d]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}
