package pii

import (
	"context"
	"errors"
	"fmt"

	"github.com/personaldata/personaldata/internal/quote"
)

// RewrapStats counts what [Protector.Rewrap] did.
type RewrapStats struct {
	Rewrapped int // keys now wrapped by the new KEK
	Unchanged int // keys already wrapped by it
	Skipped   int // keys changed or shredded concurrently; nothing to do
}

// Rewrap rotates the key-encryption key: every active key in p's store
// that is not wrapped by to is unwrapped by the wrapper of p (its own or one
// of Options.Previous) that names its KEK, and wrapped again by to.
// Ciphertexts of personal data are untouched. It is idempotent and can be
// resumed after a failure by running it again. Keys shredded or replaced
// concurrently are skipped. A key that no wrapper of p can unwrap stops the
// rotation with an error wrapping ErrWrongKEK. A nil to is an error.
//
// Once every key is rewrapped, create Protectors with to as their wrapper
// and the old one in Options.Previous until every process has switched.
// Protectors in other processes keep working during the rotation if their
// Options.Previous holds to or the old wrappers.
func (p *Protector) Rewrap(ctx context.Context, to KeyWrapper) (RewrapStats, error) {
	var st RewrapStats
	if to == nil {
		return st, errors.New("pii: Rewrap: nil KeyWrapper")
	}
	if err := p.check(ctx); err != nil {
		return st, err
	}
	toID := to.KEKID()
	for k, err := range p.store.Keys(ctx) {
		if err != nil {
			return st, fmt.Errorf("pii: rewrap: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if k.State != KeyActive {
			continue
		}
		if k.Wrapped.KEKID == toID {
			st.Unchanged++
			continue
		}
		old, ok := p.wrappers[k.Wrapped.KEKID]
		if !ok {
			return st, fmt.Errorf("pii: rewrap subject %s scope %s: %w: no wrapper for KEK %s", quote.String(string(k.Ref.Subject)), quote.String(string(k.Ref.Scope)), ErrWrongKEK, quote.String(k.Wrapped.KEKID))
		}
		ad := wrapAD(k.Ref)
		dek, err := old.Unwrap(ctx, k.Wrapped, ad)
		if err != nil {
			return st, fmt.Errorf("pii: rewrap subject %s scope %s: %w", quote.String(string(k.Ref.Subject)), quote.String(string(k.Ref.Scope)), err)
		}
		nw, err := to.Wrap(ctx, dek, ad)
		clear(dek)
		if err != nil {
			return st, fmt.Errorf("pii: rewrap: %w", err)
		}
		switch err := p.store.ReplaceKey(ctx, k.Ref, k.Wrapped, nw); {
		case err == nil:
			st.Rewrapped++
		case errors.Is(err, ErrKeyChanged), errors.Is(err, ErrKeyNotFound):
			st.Skipped++
		default:
			return st, fmt.Errorf("pii: rewrap: %w", err)
		}
	}
	return st, nil
}
