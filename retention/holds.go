package retention

import (
	"context"
	"fmt"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
)

// The Evaluator's legal-hold methods are the only way to the hold store:
// the evaluator assigns IDs and times, validates input and wraps errors, so
// that a [HoldStore] implementation stays thin.

// PlaceHold places a legal hold on a subject or a record. The evaluator
// sets the ID (a ULID from its entropy) and PlacedAt (its clock) unless
// they are set, validates the hold and stores it. Errors wrap
// [ErrInvalidHold] or [ErrHoldExists].
func (e *Evaluator) PlaceHold(ctx context.Context, h Hold) (Hold, error) {
	if h.PlacedAt.IsZero() {
		h.PlacedAt = e.clock()
	}
	if h.ID == (ulid.ULID{}) {
		e.entropyMu.Lock()
		id, err := ulid.New(ulid.Timestamp(h.PlacedAt), e.entropy)
		e.entropyMu.Unlock()
		if err != nil {
			return Hold{}, fmt.Errorf("retention: place hold: new ID: %w", err)
		}
		h.ID = id
	}
	if err := h.Validate(); err != nil {
		return Hold{}, fmt.Errorf("retention: place hold: %w", err)
	}
	if !h.ReleasedAt.IsZero() || h.ReleasedBy != "" {
		return Hold{}, fmt.Errorf("retention: place hold: %w: a new hold cannot be released", ErrInvalidHold)
	}
	if err := e.holds.Place(ctx, h); err != nil {
		return Hold{}, fmt.Errorf("retention: place hold: %w", err)
	}
	return h, nil
}

// ReleaseHold releases hold id at the evaluator's clock time, recording
// who released it (a staff ID, not personal data). Errors wrap
// [ErrHoldNotFound] or [ErrHoldReleased]; with ErrHoldReleased the hold as
// stored is returned too.
func (e *Evaluator) ReleaseHold(ctx context.Context, id ulid.ULID, by string) (Hold, error) {
	if err := validText(by, "released-by"); err != nil {
		return Hold{}, fmt.Errorf("retention: release hold: %w: released-by is malformed", ErrInvalidHold)
	}
	h, err := e.holds.Release(ctx, id, e.clock(), by)
	if err != nil {
		return h, fmt.Errorf("retention: release hold: %w", err)
	}
	return h, nil
}

// Hold returns hold id, released or not. Errors wrap [ErrHoldNotFound].
func (e *Evaluator) Hold(ctx context.Context, id ulid.ULID) (Hold, error) {
	h, err := e.holds.Get(ctx, id)
	if err != nil {
		return Hold{}, fmt.Errorf("retention: get hold: %w", err)
	}
	return h, nil
}

// ActiveHolds returns the holds in force on subject or on the record with
// key recordKey (either may be empty), ordered by ID: what [Evaluator.Decide]
// and [Evaluator.Sweep] respect.
func (e *Evaluator) ActiveHolds(ctx context.Context, subject personaldata.SubjectID, recordKey string) ([]Hold, error) {
	hs, err := e.holds.Active(ctx, subject, recordKey)
	if err != nil {
		return nil, fmt.Errorf("retention: active holds: %w", err)
	}
	return hs, nil
}

// ListHolds returns every hold, ordered by ID; released ones only if
// includeReleased is set.
func (e *Evaluator) ListHolds(ctx context.Context, includeReleased bool) ([]Hold, error) {
	hs, err := e.holds.List(ctx, includeReleased)
	if err != nil {
		return nil, fmt.Errorf("retention: list holds: %w", err)
	}
	return hs, nil
}
