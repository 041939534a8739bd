package erasure

import (
	"context"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
)

// RequestStore keeps requests: the log of what was asked and done, which is
// the source of truth for Service.Reapply after a backup restore, so keep
// it apart from the data it erases (or at least out of its backups).
//
// The Service validates every request, assigns IDs, times and versions,
// and serialises changes to one request within a process; across processes
// it relies on Update's version check. Implementations must be safe for
// concurrent use and store a Request exactly as given (a deep copy: the
// Service keeps using its own).
type RequestStore interface {
	// Create stores r, whose Version is 1. It returns ErrExists, storing
	// nothing, if a request with r.ID is stored.
	Create(ctx context.Context, r Request) error
	// Get returns request id, or ErrNotFound.
	Get(ctx context.Context, id ulid.ULID) (Request, error)
	// Update replaces the stored request r.ID with r if the stored Version
	// is r.Version-1 (compare and swap), and returns ErrConflict, changing
	// nothing, otherwise; ErrNotFound if r.ID is not stored.
	Update(ctx context.Context, r Request) error
	// List returns the requests that match every set field of f, ordered
	// by ID, at most f.Limit of them (all if Limit is 0).
	List(ctx context.Context, f Filter) ([]Request, error)
}

// Filter selects requests in RequestStore.List. Zero fields match all.
type Filter struct {
	Subject personaldata.SubjectID
	Kind    Kind
	// Open selects requests whose State is not final.
	Open bool
	// ScheduledBy selects requests with a non-zero NextDue at or before it.
	ScheduledBy time.Time
	// UpdatedSince selects requests with UpdatedAt at or after it.
	UpdatedSince time.Time
	// After selects IDs greater than After, for paging.
	After ulid.ULID
	Limit int
}

// Match reports whether r is selected by f, ignoring After and Limit
// beyond the ID comparison. Stores may use it; SQL stores express it as a
// WHERE clause.
func (f Filter) Match(r *Request) bool {
	switch {
	case f.Subject != "" && r.Subject != f.Subject,
		f.Kind != 0 && r.Kind != f.Kind,
		f.Open && r.State.Final(),
		!f.ScheduledBy.IsZero() && (r.NextDue.IsZero() || r.NextDue.After(f.ScheduledBy)),
		!f.UpdatedSince.IsZero() && r.UpdatedAt.Before(f.UpdatedSince),
		r.ID.Compare(f.After) <= 0 && f.After != (ulid.ULID{}):
		return false
	}
	return true
}

// StoredReceipt is a signed receipt as the store keeps it. Token is the
// compact JWS; the other fields repeat parts of its payload for look-ups.
type StoredReceipt struct {
	Seq       uint64 // position in the chain, from 1
	ID        ulid.ULID
	RequestID ulid.ULID
	IssuedAt  time.Time
	Token     string
}

// ReceiptStore keeps the receipt chain. The Service builds, signs and
// chains receipts and serialises appends within a process; across
// processes it relies on Append's sequence check. Implementations must be
// safe for concurrent use.
type ReceiptStore interface {
	// Append stores r if r.Seq is one more than the Seq of the last stored
	// receipt (1 for the first). It returns ErrConflict if not and
	// ErrExists if r.ID is stored, storing nothing either way.
	Append(ctx context.Context, r StoredReceipt) error
	// Last returns the receipt with the highest Seq, or ErrNotFound if
	// the chain is empty.
	Last(ctx context.Context) (StoredReceipt, error)
	// ByRequest returns the receipts of request id, ordered by Seq; an
	// empty slice and no error if there are none.
	ByRequest(ctx context.Context, id ulid.ULID) ([]StoredReceipt, error)
	// Since returns receipts with Seq greater than after, ordered by Seq,
	// at most limit of them (all if limit is 0).
	Since(ctx context.Context, after uint64, limit int) ([]StoredReceipt, error)
}

// SuppressionEntry records that a person with an identifier was erased,
// by the identifier's keyed hash only.
type SuppressionEntry struct {
	// Digest is the keyed hash of the normalised identifier
	// (see Service.Digest): 43 characters of base64url.
	Digest    string
	RequestID ulid.ULID
	AddedAt   time.Time
}

// SuppressionStore keeps the suppression list. Implementations must be
// safe for concurrent use.
type SuppressionStore interface {
	// Add stores entries. It is idempotent: an entry whose Digest is
	// stored is skipped, and the first one kept.
	Add(ctx context.Context, entries []SuppressionEntry) error
	// Lookup returns the stored entries among digests, in the order of
	// digests, skipping those not stored; an empty slice if none is.
	Lookup(ctx context.Context, digests []string) ([]SuppressionEntry, error)
}

// Stores are the storage a Service needs. One value (such as a
// MemoryStore) may implement all three.
type Stores struct {
	Requests    RequestStore
	Receipts    ReceiptStore
	Suppression SuppressionStore
}
