package retention

import (
	"context"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// HoldStore stores legal holds for an [Evaluator], which is the only
// caller: hosts place, release and read holds through the Evaluator's
// methods ([Evaluator.PlaceHold], [Evaluator.ReleaseHold],
// [Evaluator.Hold], [Evaluator.ActiveHolds], [Evaluator.ListHolds]).
// [MemoryHoldStore] is the in-memory implementation; package
// retention/retentiontest has the conformance suite every implementation
// must pass.
//
// Implementations stay thin: the Evaluator assigns IDs and times, validates
// holds (a store may validate again) and wraps errors. The library does not
// serialise calls: implementations must be safe for concurrent use, and
// every method must see the effect of every call that returned before it
// started. In particular, once Place has returned, Active reports the hold,
// which is what lets a sweep re-check holds right before it deletes; and of
// two concurrent Release calls for one hold exactly one succeeds.
//
// Every method returns ctx.Err() (or an error wrapping it) when ctx is done
// before it starts. Times are stored to at least microsecond precision;
// Get, Active and List return them in any location.
type HoldStore interface {
	// Place stores h, which is not released. It returns an error wrapping
	// ErrInvalidHold if h.Validate fails or h.ReleasedAt is set, and
	// ErrHoldExists if a hold with h.ID is stored (the stored hold is left
	// unchanged): placing is not idempotent, an ID is used once.
	Place(ctx context.Context, h Hold) error
	// Release marks hold id as released at the given time by the given
	// person and returns the updated hold. It returns ErrHoldNotFound for an
	// unknown ID and ErrHoldReleased, with the stored hold (unchanged: the
	// first release is kept), for a hold already released.
	Release(ctx context.Context, id ulid.ULID, at time.Time, by string) (Hold, error)
	// Get returns hold id, released or not, or ErrHoldNotFound.
	Get(ctx context.Context, id ulid.ULID) (Hold, error)
	// Active returns the holds not released that are placed on subject or
	// on recordKey, ordered by ID; an empty subject or key matches nothing.
	// With none it returns an empty slice and a nil error.
	Active(ctx context.Context, subject personaldata.SubjectID, recordKey string) ([]Hold, error)
	// List returns all holds, ordered by ID; released ones only if
	// includeReleased is set.
	List(ctx context.Context, includeReleased bool) ([]Hold, error)
}

// Hold is a legal hold: an order to keep all data of a subject, or one
// record, whatever the policy says, for instance while a dispute or an
// investigation is open. A hold has no end date: it lasts until it is
// released.
//
// Reason, Citation and PlacedBy are case references and staff IDs; they
// must not contain personal data. Hold is a plain value and safe to share.
type Hold struct {
	// ID identifies the hold; a ULID, so IDs sort by placement time.
	ID ulid.ULID
	// Subject puts every record of this subject on hold. Exactly one of
	// Subject and RecordKey is set.
	Subject personaldata.SubjectID
	// RecordKey puts one host record on hold.
	RecordKey string
	// Reason says why, as a case reference ("court order 2026/117").
	Reason string
	// Citation names the provision behind the hold, if any.
	Citation string
	// PlacedBy identifies who placed the hold (a staff ID).
	PlacedBy string
	// PlacedAt is when the hold was placed.
	PlacedAt time.Time
	// ReleasedAt is when the hold was released; zero while it is active.
	ReleasedAt time.Time
	// ReleasedBy identifies who released the hold.
	ReleasedBy string
}

// Active reports whether h is in force at t: not released, or released
// after t. PlacedAt does not matter: a hold counts from the moment it is
// stored, so a sweep that started earlier still respects it.
func (h Hold) Active(t time.Time) bool {
	return h.ReleasedAt.IsZero() || t.Before(h.ReleasedAt)
}

// Validate reports whether h can be stored: a non-zero ID, either a subject
// or a record key, and well-formed text fields. Errors wrap [ErrInvalidHold].
func (h Hold) Validate() error {
	if h.ID == (ulid.ULID{}) {
		return fmt.Errorf("%w: no ID", ErrInvalidHold)
	}
	if (h.Subject == "") == (h.RecordKey == "") {
		return fmt.Errorf("%w: needs a subject or a record key, not both", ErrInvalidHold)
	}
	if h.Subject != "" {
		if err := h.Subject.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidHold, err)
		}
	}
	if len(h.RecordKey) > 512 {
		return fmt.Errorf("%w: record key longer than 512 bytes", ErrInvalidHold)
	}
	for _, f := range [...]struct{ v, name string }{
		{h.Reason, "reason"}, {h.Citation, "citation"}, {h.PlacedBy, "placed-by"}, {h.ReleasedBy, "released-by"},
	} {
		if err := validText(f.v, f.name); err != nil {
			return fmt.Errorf("%w: %s is malformed", ErrInvalidHold, f.name)
		}
	}
	if h.Reason == "" {
		return fmt.Errorf("%w: needs a reason", ErrInvalidHold)
	}
	return nil
}

// String describes the hold by ID, what it covers and its state; it shows
// neither the reason nor who placed it.
func (h Hold) String() string {
	on := "subject " + quote.String(string(h.Subject))
	if h.Subject == "" {
		on = "record " + quote.String(h.RecordKey)
	}
	state := "active"
	if !h.ReleasedAt.IsZero() {
		state = "released"
	}
	return "hold " + h.ID.String() + " on " + on + " (" + state + ")"
}
