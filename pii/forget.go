package pii

import (
	"context"
	"fmt"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// ForgetScopes crypto-shreds subject in the given scopes, of which there
// must be at least one (else an error wrapping ErrNoScope): it destroys the
// subject's key of each scope and leaves a tombstone, so the scope never
// gets a key again. From then on every ciphertext of that subject and scope,
// wherever it was copied (backups, logs, exports), reveals as erased, and
// nothing new can be encrypted for it (ErrForgotten). Other scopes of the
// subject, such as invoices under scope fiscal kept for tax law, stay
// readable.
//
// It makes one key-store call and evicts the keys from this Protector's
// cache, at a cost that does not depend on how many keys are cached. See
// [Protector.ForgetSubject] for what a Protect running at the same time may write,
// and the package documentation for how long other processes may still
// decrypt.
func (p *Protector) ForgetScopes(ctx context.Context, subject personaldata.SubjectID, scopes ...personaldata.Scope) error {
	if err := p.check(ctx); err != nil {
		return err
	}
	if _, err := validRef(subject, ""); err != nil {
		return fmt.Errorf("pii: ForgetScopes: %w", err)
	}
	if len(scopes) == 0 {
		return fmt.Errorf("pii: ForgetScopes: %w; use ForgetSubject to forget every scope", ErrNoScope)
	}
	norm := make([]personaldata.Scope, 0, len(scopes))
	for _, s := range scopes {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("pii: ForgetScopes: %w", err)
		}
		norm = append(norm, s.Normalize())
	}
	// Evict before and after the store call: a key loaded between the
	// first eviction and the shredding is dropped by the second.
	p.cache.evict(subject, norm)
	if err := p.store.ShredKeys(ctx, subject, norm, p.now()); err != nil {
		return fmt.Errorf("pii: forget subject %s: %w", quote.String(string(subject)), err)
	}
	p.cache.evict(subject, norm)
	return nil
}

// ForgetSubject crypto-shreds every scope of subject, scopes it never used
// and scope fiscal included, and leaves a subject-level tombstone: no scope
// of subject ever gets a key again, so nothing can be encrypted for it
// (ErrForgotten) and every ciphertext of it reveals as erased. To keep data
// a law says to keep, forget named scopes with [Protector.ForgetScopes]
// instead.
//
// It makes one key-store call and evicts the subject's keys from this
// Protector's cache, at a cost that does not depend on how many keys are
// cached.
//
// A Protect of the same subject running at the same time may have loaded
// the key before the tombstone and still write ciphertexts under it after
// ForgetSubject returns; those ciphertexts reveal as erased, as the key is
// gone. No key is created for the subject after the tombstone, so no
// readable ciphertext can appear later. Other processes that cached the key
// may still decrypt until their Options.CacheTTL runs out.
func (p *Protector) ForgetSubject(ctx context.Context, subject personaldata.SubjectID) error {
	if err := p.check(ctx); err != nil {
		return err
	}
	if _, err := validRef(subject, ""); err != nil {
		return fmt.Errorf("pii: ForgetSubject: %w", err)
	}
	p.cache.evict(subject, nil)
	if err := p.store.ShredSubject(ctx, subject, p.now()); err != nil {
		return fmt.Errorf("pii: forget subject %s: %w", quote.String(string(subject)), err)
	}
	p.cache.evict(subject, nil)
	return nil
}
