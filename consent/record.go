package consent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// Record validates c, seals its personal data and appends it to the
// subject's chain. Nothing is appended when it returns an error.
func (l *Ledger) Record(ctx context.Context, c Change) (Event, error) {
	evs, err := l.RecordBatch(ctx, []Change{c})
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

// RecordBatch records changes of one subject atomically: all are appended,
// or none. Each change is validated against the chain as it stands after the
// changes before it.
func (l *Ledger) RecordBatch(ctx context.Context, changes []Change) ([]Event, error) {
	if l.closed.Load() {
		return nil, ErrClosed
	}
	if len(changes) == 0 {
		return nil, nil
	}
	subject := changes[0].Subject
	if err := subject.Validate(); err != nil {
		return nil, fmt.Errorf("consent: record: %w: %w", ErrInvalidEvent, err)
	}
	reg := l.reg.Load()
	now := l.now()
	evs := make([]Event, len(changes))
	for i := range changes {
		if changes[i].Subject != subject {
			return nil, fmt.Errorf("consent: record: %w: a batch holds events of one subject", ErrInvalidEvent)
		}
		if err := l.prepare(ctx, reg, now, &changes[i], &evs[i]); err != nil {
			return nil, fmt.Errorf("consent: record %s for subject %s: %w", changes[i].Type, quote.String(string(subject)), err)
		}
	}
	s := l.slot(subject)
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		st := l.state(subject)
		if st == nil {
			st = &subjectState{}
		}
		if st.broken != nil {
			return nil, fmt.Errorf("consent: record: %w", st.broken)
		}
		if st.refused != nil {
			return nil, fmt.Errorf("consent: record: %w", st.refused)
		}
		recs := make([]StoredEvent, len(evs))
		prev, seq := st.head, st.seq
		erased := st.erased
		for i := range evs {
			e := &evs[i]
			if erased {
				return nil, fmt.Errorf("consent: record %s for subject %s: %w", e.Type, quote.String(string(subject)), ErrErased)
			}
			erased = e.Type == EventErase
			seq++
			e.Seq, e.PrevHash = seq, prev
			recs[i] = e.record()
			e.Hash = l.hasher.sum(recs[i].Data)
			recs[i].Hash = bytes.Clone(e.Hash[:])
			prev = e.Hash
		}
		err := l.store.Append(ctx, subject, st.seq, recs)
		if errors.Is(err, ErrConflict) && attempt < l.opts.Retry.Attempts {
			// Another writer appended first: wait, catch up and try again.
			if werr := l.backoff(ctx, attempt); werr != nil {
				return nil, fmt.Errorf("consent: record for subject %s: %w", quote.String(string(subject)), errors.Join(err, werr))
			}
			nst, cerr, lerr := l.load(ctx, subject, l.reg.Load(), st.known())
			if lerr != nil {
				return nil, lerr
			}
			if cerr != nil {
				// The chain no longer extends what this ledger verified:
				// keep the verified state and append nothing.
				return nil, fmt.Errorf("consent: record: %w", cerr)
			}
			l.setState(subject, nst)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("consent: record for subject %s: %w", quote.String(string(subject)), err)
		}
		l.setState(subject, st.with(evs, reg))
		return evs, nil
	}
}

// prepare validates c and fills e, apart from the chain fields.
func (l *Ledger) prepare(ctx context.Context, reg *registry, now time.Time, c *Change, e *Event) error {
	if !c.Type.valid() {
		return fmt.Errorf("%w: unknown type %d", ErrInvalidEvent, uint8(c.Type))
	}
	if !c.Method.valid() {
		return fmt.Errorf("%w: unknown method %d", ErrInvalidEvent, uint8(c.Method))
	}
	if !c.Actor.valid() {
		return fmt.Errorf("%w: unknown actor %d", ErrInvalidEvent, uint8(c.Actor))
	}
	eff := c.EffectiveAt.UTC()
	if c.EffectiveAt.IsZero() {
		eff = now
	}
	if !validTime(eff) || !validTime(c.ExpiresAt) || !validTime(c.BirthDate) {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, ErrTimeRange)
	}
	if eff.After(now) {
		return fmt.Errorf("%w: takes effect after it is recorded", ErrInvalidEvent)
	}
	var p *purposeInfo
	switch {
	case c.Type == EventErase:
		if c.Purpose != "" {
			return fmt.Errorf("%w: erasure concerns the subject, not one purpose", ErrInvalidEvent)
		}
	case c.Purpose == "" && (c.Type == EventRestrict || c.Type == EventLiftRestriction):
	default:
		p = reg.purposes[c.Purpose]
		if p == nil {
			if c.Purpose == "" {
				return fmt.Errorf("%w: no purpose", ErrInvalidEvent)
			}
			return fmt.Errorf("%w: %s", ErrUnknownPurpose, quote.String(string(c.Purpose)))
		}
		if eff.UnixNano() < p.since {
			return fmt.Errorf("%w: %s exists since %s", ErrBeforePurpose, quote.String(string(c.Purpose)), p.Since.Format(time.RFC3339))
		}
	}
	if p != nil && (c.Type == EventWithdraw || c.Type == EventObject) {
		switch p.Basis {
		case personaldata.Contract, personaldata.LegalObligation, personaldata.VitalInterests:
			return fmt.Errorf("%w: purpose %s rests on %s (%s), not on the subject's choice",
				ErrWithdrawalRefused, quote.String(string(c.Purpose)), p.Basis, p.Basis.Article())
		}
	}
	if c.Type == EventGrant && c.Method == MethodPrivacySignal {
		return fmt.Errorf("%w: a privacy signal can only withdraw or object", ErrInvalidEvent)
	}
	notice := c.NoticeVersion
	qn := quote.String(notice)
	if notice != "" {
		n := reg.byVer[notice]
		if n == nil {
			return fmt.Errorf("%w: %s", ErrUnknownNotice, qn)
		}
		if reg.noticeAt(eff.UnixNano()) != n {
			return fmt.Errorf("%w: version %s is not in force at %s", ErrNoticeNotInForce, qn, eff.Format(time.RFC3339))
		}
		if c.Type == EventGrant && !n.covers(c.Purpose) {
			return fmt.Errorf("%w: version %s does not cover purpose %s", ErrNoticeNotInForce, qn, quote.String(string(c.Purpose)))
		}
	} else if c.Type == EventGrant && len(reg.notices) > 0 {
		n := reg.noticeAt(eff.UnixNano())
		if n == nil {
			return fmt.Errorf("%w: no version in force at %s", ErrNoticeNotInForce, eff.Format(time.RFC3339))
		}
		if !n.covers(c.Purpose) {
			return fmt.Errorf("%w: version %s in force does not cover purpose %s", ErrNoticeNotInForce, quote.String(n.Version), quote.String(string(c.Purpose)))
		}
		notice = n.Version
	} else if n := reg.noticeAt(eff.UnixNano()); n != nil {
		notice = n.Version
	}
	expires := c.ExpiresAt.UTC()
	if c.ExpiresAt.IsZero() {
		expires = time.Time{}
		if c.Type == EventGrant && p != nil && p.Validity > 0 {
			expires = eff.Add(p.Validity)
			if !validTime(expires) {
				return fmt.Errorf("%w: expiry: %w", ErrInvalidEvent, ErrTimeRange)
			}
		}
	} else {
		if c.Type != EventGrant {
			return fmt.Errorf("%w: only a grant expires", ErrInvalidEvent)
		}
		if !expires.After(eff) {
			return fmt.Errorf("%w: expires before it takes effect", ErrInvalidEvent)
		}
	}
	minor := false
	if !c.BirthDate.IsZero() {
		bd := c.BirthDate.UTC()
		if bd.After(eff) {
			return fmt.Errorf("%w: birth date after the event", ErrInvalidEvent)
		}
		minor = age(bd, eff) < l.opts.AgeOfConsent
	}
	var sealed []byte
	if !c.Personal.empty() {
		if len(c.Personal.Contact) > MaxContactLen || len(c.Personal.Evidence) > MaxEvidenceLen {
			return fmt.Errorf("%w: personal data too long", ErrInvalidEvent)
		}
		if l.opts.Sealer == nil {
			return ErrNoSealer
		}
		var err error
		sealed, err = l.opts.Sealer.Seal(ctx, c.Subject, l.opts.Scope, l.opts.Category, encodePersonal(c.Personal))
		if err != nil {
			return fmt.Errorf("consent: seal personal data: %w", err)
		}
		if len(sealed) == 0 || len(sealed) > maxSealedLen {
			return fmt.Errorf("consent: seal personal data: sealer returned %d bytes", len(sealed))
		}
	}
	id, err := l.newID(now)
	if err != nil {
		return err
	}
	*e = Event{
		ID: id, Subject: c.Subject, Type: c.Type, Purpose: c.Purpose,
		EffectiveAt: eff, RecordedAt: now, NoticeVersion: notice,
		Method: c.Method, Actor: c.Actor, EvidenceHash: c.EvidenceHash,
		ExpiresAt: expires, Minor: minor, Sealed: sealed,
	}
	return nil
}

// age returns the age in whole years at t of someone born at bd.
func age(bd, t time.Time) int {
	y := t.Year() - bd.Year()
	if t.Month() < bd.Month() || (t.Month() == bd.Month() && t.Day() < bd.Day()) {
		y--
	}
	return y
}

// backoff waits before retry attempt n (from 0): a random time up to
// min(Max, Base<<n), or until ctx is done.
func (l *Ledger) backoff(ctx context.Context, n int) error {
	r := &l.opts.Retry
	ceil := r.Max
	if n < 32 && r.Base<<n < r.Max && r.Base<<n > 0 {
		ceil = r.Base << n
	}
	t := time.NewTimer(rand.N(ceil) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
