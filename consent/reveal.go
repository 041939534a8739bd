package consent

import (
	"context"
	"fmt"
)

// Reveal opens the personal data of e, an event from [Ledger.History]. It
// returns an error wrapping [ErrNotFound] if e carries none, [ErrErased] if
// the ledger recorded the subject's erasure, and otherwise wraps the
// Sealer's error — after the subject's key was shredded, pii.ErrErased.
func (l *Ledger) Reveal(ctx context.Context, e Event) (PersonalData, error) {
	if l.closed.Load() {
		return PersonalData{}, ErrClosed
	}
	if len(e.Sealed) == 0 {
		return PersonalData{}, fmt.Errorf("consent: reveal event %s: %w: no personal data", e.ID, ErrNotFound)
	}
	if st := l.state(e.Subject); st != nil && st.erased {
		return PersonalData{}, fmt.Errorf("consent: reveal event %s: %w", e.ID, ErrErased)
	}
	if l.opts.Sealer == nil {
		return PersonalData{}, fmt.Errorf("consent: reveal event %s: %w", e.ID, ErrNoSealer)
	}
	b, err := l.opts.Sealer.Open(ctx, e.Subject, l.opts.Scope, l.opts.Category, e.Sealed)
	if err != nil {
		return PersonalData{}, fmt.Errorf("consent: reveal event %s: %w", e.ID, err)
	}
	p, err := decodePersonal(b)
	if err != nil {
		return PersonalData{}, fmt.Errorf("consent: reveal event %s: %w: %w", e.ID, ErrTampered, err)
	}
	return p, nil
}
