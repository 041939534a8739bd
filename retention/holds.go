package retention

import (
	"context"
	"fmt"

	"github.com/oklog/ulid/v2"
)

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
	if err := e.holds.Place(ctx, h); err != nil {
		return Hold{}, fmt.Errorf("retention: place hold: %w", err)
	}
	return h, nil
}

// ReleaseHold releases hold id at the evaluator's clock time. Errors wrap
// [ErrHoldNotFound] or [ErrHoldReleased].
func (e *Evaluator) ReleaseHold(ctx context.Context, id ulid.ULID, by string) (Hold, error) {
	h, err := e.holds.Release(ctx, id, e.clock(), by)
	if err != nil {
		return h, fmt.Errorf("retention: release hold: %w", err)
	}
	return h, nil
}

// Holds returns the evaluator's hold store.
func (e *Evaluator) Holds() HoldStore { return e.holds }
