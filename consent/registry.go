package consent

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/personaldata/personaldata/internal/quote"
)

// registry is an immutable snapshot of the registered purposes and notices.
// Registration replaces it (copy on write), so readers need no lock.
type registry struct {
	purposes map[PurposeID]*purposeInfo
	order    []PurposeID
	notices  []*Notice // sorted by EffectiveAt
	byVer    map[string]*Notice
}

type purposeInfo struct {
	Purpose
	since int64
	idx   int // registration order, the key of timelines in the index
	// fresh holds, sorted, the effective times (unix ns) of the notice
	// versions that require fresh consent for this purpose.
	fresh []int64
}

// AddPurpose registers p and stores its definition, so that a ledger
// restarted over the same store knows it (with the same Since, when p.Since
// is zero). Registering an identical purpose again is a no-op; the same ID
// with other settings is an error wrapping [ErrInvalidPurpose].
func (l *Ledger) AddPurpose(ctx context.Context, p Purpose) error {
	if l.closed.Load() {
		return ErrClosed
	}
	l.regMu.Lock()
	defer l.regMu.Unlock()
	old := l.reg.Load()
	r, err := old.addPurpose(p, l.now())
	if err != nil {
		return fmt.Errorf("consent: add purpose: %w", err)
	}
	if r == old {
		return nil
	}
	pi := r.purposes[p.ID]
	d, err := encodePurpose(&pi.Purpose)
	if err == nil {
		err = l.store.Define(ctx, d)
	}
	if errors.Is(err, ErrConflict) {
		err = fmt.Errorf("%w: another ledger defined it otherwise: %w", ErrInvalidPurpose, err)
	}
	if err != nil {
		return fmt.Errorf("consent: add purpose %s: %w", quote.String(string(p.ID)), err)
	}
	l.reg.Store(r)
	return nil
}

// AddNotice registers a version of the privacy statement and stores it, so
// that the archive of versions survives a restart. Versions are registered
// in the order they take effect and are immutable; one that takes effect
// less than the notice period after its announcement is rejected with
// [ErrNoticePeriod] (the first version excepted: it changes nothing).
// Registering an identical version again is a no-op.
func (l *Ledger) AddNotice(ctx context.Context, n Notice) error {
	if l.closed.Load() {
		return ErrClosed
	}
	l.regMu.Lock()
	defer l.regMu.Unlock()
	old := l.reg.Load()
	r, err := old.addNotice(n, l.opts.NoticePeriod)
	if err != nil {
		return fmt.Errorf("consent: add notice: %w", err)
	}
	if r == old {
		return nil
	}
	d, err := encodeNotice(r.byVer[n.Version])
	if err == nil {
		err = l.store.Define(ctx, d)
	}
	if errors.Is(err, ErrConflict) {
		err = fmt.Errorf("%w: another ledger defined it otherwise: %w", ErrInvalidNotice, err)
	}
	if err != nil {
		return fmt.Errorf("consent: add notice %s: %w", quote.String(n.Version), err)
	}
	l.reg.Store(r)
	return nil
}

// loadDefinitions registers the purposes and notices of the store, as they
// were registered: the notice period is not checked again.
func (l *Ledger) loadDefinitions(ctx context.Context) error {
	defs, err := l.store.Definitions(ctx)
	if err != nil {
		return fmt.Errorf("consent: load definitions: %w", err)
	}
	r := l.reg.Load()
	for i, d := range defs {
		p, n, err := decodeDefinition(d)
		if err == nil && p != nil {
			r, err = r.addPurpose(*p, time.Time{})
		} else if err == nil {
			r, err = r.addNotice(*n, 0)
		}
		if err != nil {
			return fmt.Errorf("consent: load definition %d (%s %s): %w: %w", i, quote.String(string(d.Kind)), quote.String(d.ID), ErrTampered, err)
		}
	}
	l.reg.Store(r)
	return nil
}

// Purpose returns the registered purpose id.
func (l *Ledger) Purpose(id PurposeID) (Purpose, bool) {
	p, ok := l.reg.Load().purposes[id]
	if !ok {
		return Purpose{}, false
	}
	out := p.Purpose
	out.Categories = slices.Clone(out.Categories)
	return out, true
}

// Purposes returns the registered purposes in registration order.
func (l *Ledger) Purposes() []Purpose {
	r := l.reg.Load()
	out := make([]Purpose, 0, len(r.order))
	for _, id := range r.order {
		p, _ := l.Purpose(id)
		out = append(out, p)
	}
	return out
}

func cloneNotice(n *Notice) Notice {
	out := *n
	out.Purposes = slices.Clone(n.Purposes)
	out.FreshConsent = slices.Clone(n.FreshConsent)
	return out
}

// Notices returns every registered notice version, the archive, in the
// order they take effect.
func (l *Ledger) Notices() []Notice {
	r := l.reg.Load()
	out := make([]Notice, len(r.notices))
	for i, n := range r.notices {
		out[i] = cloneNotice(n)
	}
	return out
}

// NoticeAt returns the notice version in force at t.
func (l *Ledger) NoticeAt(t time.Time) (Notice, bool) {
	if !validTime(t) {
		return Notice{}, false
	}
	n := l.reg.Load().noticeAt(t.UnixNano())
	if n == nil {
		return Notice{}, false
	}
	return cloneNotice(n), true
}

// NoticeVersion returns the registered notice version, current or archived;
// an error wrapping [ErrUnknownNotice] if there is none.
func (l *Ledger) NoticeVersion(version string) (Notice, error) {
	n := l.reg.Load().byVer[version]
	if n == nil {
		return Notice{}, fmt.Errorf("consent: notice version: %w: %s", ErrUnknownNotice, quote.String(version))
	}
	return cloneNotice(n), nil
}

func (r *registry) clone() *registry {
	c := &registry{
		purposes: make(map[PurposeID]*purposeInfo, len(r.purposes)+1),
		order:    slices.Clone(r.order),
		notices:  slices.Clone(r.notices),
		byVer:    make(map[string]*Notice, len(r.byVer)+1),
	}
	for k, v := range r.purposes {
		c.purposes[k] = v
	}
	for k, v := range r.byVer {
		c.byVer[k] = v
	}
	return c
}

// noticeAt returns the version in force at t (unix ns), or nil.
func (r *registry) noticeAt(t int64) *Notice {
	i := sort.Search(len(r.notices), func(i int) bool { return r.notices[i].EffectiveAt.UnixNano() > t })
	if i == 0 {
		return nil
	}
	return r.notices[i-1]
}

// addPurpose validates p and returns a new registry with it, or r itself
// when an identical purpose is registered already. A zero p.Since becomes
// now, or matches the registered purpose's.
func (r *registry) addPurpose(p Purpose, now time.Time) (*registry, error) {
	zeroSince := p.Since.IsZero()
	if zeroSince {
		p.Since = now
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	if old, ok := r.purposes[p.ID]; ok {
		if old.equal(&p) || (zeroSince && sameButSince(&old.Purpose, &p)) {
			return r, nil
		}
		return nil, fmt.Errorf("%w: purpose %s already registered with other settings", ErrInvalidPurpose, quote.String(string(p.ID)))
	}
	if zeroSince && now.IsZero() {
		return nil, fmt.Errorf("%w: purpose %s: no since", ErrInvalidPurpose, quote.String(string(p.ID)))
	}
	c := r.clone()
	pi := &purposeInfo{Purpose: p, since: p.Since.UnixNano(), idx: len(c.order)}
	for _, n := range c.notices {
		if slices.Contains(n.FreshConsent, p.ID) {
			pi.fresh = append(pi.fresh, n.EffectiveAt.UnixNano())
		}
	}
	c.purposes[p.ID] = pi
	c.order = append(c.order, p.ID)
	return c, nil
}

func sameButSince(a, b *Purpose) bool {
	x := *b
	x.Since = a.Since
	return a.equal(&x)
}

// addNotice validates n and returns a new registry with it, or r itself
// when an identical version is registered already.
func (r *registry) addNotice(n Notice, period time.Duration) (*registry, error) {
	if n.Version == "" || len(n.Version) > 64 {
		return nil, fmt.Errorf("%w: version must be 1 to 64 bytes", ErrInvalidNotice)
	}
	for i := 0; i < len(n.Version); i++ {
		if n.Version[i] <= 0x20 || n.Version[i] >= 0x7f {
			return nil, fmt.Errorf("%w: version %s: only printable ASCII without spaces", ErrInvalidNotice, quote.String(n.Version))
		}
	}
	v := quote.String(n.Version)
	if n.Text != "" {
		h := sha256.Sum256([]byte(n.Text))
		if n.ContentHash == ([32]byte{}) {
			n.ContentHash = h
		} else if n.ContentHash != h {
			return nil, fmt.Errorf("%w: version %s: content hash does not match the text", ErrInvalidNotice, v)
		}
	}
	n.AnnouncedAt, n.EffectiveAt = n.AnnouncedAt.UTC(), n.EffectiveAt.UTC()
	n.Purposes, n.FreshConsent = slices.Clone(n.Purposes), slices.Clone(n.FreshConsent)
	if old, ok := r.byVer[n.Version]; ok {
		if old.equal(&n) {
			return r, nil
		}
		return nil, fmt.Errorf("%w: version %s already registered with other contents; versions are immutable", ErrInvalidNotice, v)
	}
	if n.ContentHash == ([32]byte{}) {
		return nil, fmt.Errorf("%w: version %s: no content hash", ErrInvalidNotice, v)
	}
	if !validTime(n.AnnouncedAt) || !validTime(n.EffectiveAt) || n.AnnouncedAt.IsZero() || n.EffectiveAt.IsZero() {
		return nil, fmt.Errorf("%w: version %s: announcement and effective time required and in range", ErrInvalidNotice, v)
	}
	if n.EffectiveAt.Before(n.AnnouncedAt) {
		return nil, fmt.Errorf("%w: version %s takes effect before it is announced", ErrInvalidNotice, v)
	}
	if len(r.notices) > 0 {
		last := r.notices[len(r.notices)-1]
		if !n.EffectiveAt.After(last.EffectiveAt) {
			return nil, fmt.Errorf("%w: version %s must take effect after version %s", ErrInvalidNotice, v, quote.String(last.Version))
		}
		if n.EffectiveAt.Sub(n.AnnouncedAt) < period {
			return nil, fmt.Errorf("%w: version %s takes effect %s after its announcement, less than %s",
				ErrNoticePeriod, v, days(n.EffectiveAt.Sub(n.AnnouncedAt)), days(period))
		}
	}
	if len(n.Purposes) == 0 {
		return nil, fmt.Errorf("%w: version %s covers no purpose", ErrInvalidNotice, v)
	}
	for _, p := range n.Purposes {
		if _, ok := r.purposes[p]; !ok {
			return nil, fmt.Errorf("%w: %s in notice version %s", ErrUnknownPurpose, quote.String(string(p)), v)
		}
	}
	for _, p := range n.FreshConsent {
		if !n.covers(p) {
			return nil, fmt.Errorf("%w: version %s requires fresh consent for %s, which it does not cover", ErrInvalidNotice, v, quote.String(string(p)))
		}
	}
	c := r.clone()
	np := &n
	c.notices = append(c.notices, np)
	c.byVer[n.Version] = np
	for _, p := range n.FreshConsent {
		old := c.purposes[p]
		pi := *old
		pi.fresh = append(slices.Clone(old.fresh), n.EffectiveAt.UnixNano())
		c.purposes[p] = &pi
	}
	return c, nil
}

// days formats a period for people: whole days when it is whole days.
// days says d in days, as a privacy statement counts a notice period:
// whole days, or days and hours ("13 days and 15 hours"), never "327h0m0s".
func days(d time.Duration) string {
	whole, rest := d/(24*time.Hour), (d%(24*time.Hour)).Round(time.Hour)/time.Hour
	plural := func(n time.Duration, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case rest == 0:
		return plural(whole, "day")
	case whole == 0:
		return plural(rest, "hour")
	}
	return plural(whole, "day") + " and " + plural(rest, "hour")
}
