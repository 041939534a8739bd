package consent

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/personaldata/personaldata"
)

// PurposeID names a purpose of processing, such as "newsletter" or
// "testimonials". It follows the naming rule of [personaldata.Category]:
// 1 to 64 bytes of lower-case ASCII letters, digits, '-', '_' and '.',
// starting with a letter. Purposes per sender or recipient can be spelled
// "newsletter.acme".
type PurposeID string

// Validate reports whether p follows the naming rule.
func (p PurposeID) Validate() error {
	if err := personaldata.Category(p).Validate(); err != nil {
		return fmt.Errorf("%w: purpose ID: %w", ErrInvalidPurpose, err)
	}
	return nil
}

// Default says what a purpose's answer is for a subject who made no choice.
type Default uint8

// The defaults. The zero value means: derived from the legal basis — opt-in
// for [personaldata.Consent], opt-out for legitimate interests and public
// task, notice-only for the rest.
const (
	// OptIn: not allowed until the subject grants. The only default a
	// consent purpose may have (GDPR Art. 4(11): consent is an affirmative act).
	OptIn Default = iota + 1
	// OptOut: allowed until the subject withdraws or objects.
	OptOut
	// NoticeOnly: allowed; the subject is informed but has no choice.
	NoticeOnly
)

func (d Default) String() string {
	switch d {
	case OptIn:
		return "opt-in"
	case OptOut:
		return "opt-out"
	case NoticeOnly:
		return "notice-only"
	}
	return fmt.Sprintf("Default(%d)", uint8(d))
}

// A Purpose is a purpose of processing that the ledger decides about. Once
// registered it is immutable. It is a plain value, safe to share.
type Purpose struct {
	ID          PurposeID
	Description string // shown in receipts, such as "Monthly newsletter"
	// Basis is the legal ground (GDPR Art. 6(1)(a)-(f)); required.
	Basis personaldata.LegalBasis
	// Default applies to a subject who made no choice; zero means derived
	// from Basis (see [Default]).
	Default Default
	// Recipient optionally names the controller or recipient the purpose
	// concerns, for preferences per sender ("Acme B.V."). Receipts report it
	// as a third-party disclosure.
	Recipient string
	// DirectMarketing marks a purpose of direct marketing: an objection to
	// it is absolute (GDPR Art. 21(3)): only the subject's own later grant
	// lifts it, never an administrator's.
	DirectMarketing bool
	// Categories lists the kinds of personal data processed, for receipts.
	Categories []personaldata.Category
	// Sensitive marks special categories of data (GDPR Art. 9); receipts
	// report it.
	Sensitive bool
	// Validity, if positive, is how long a grant lasts when the grant
	// itself names no expiry.
	Validity time.Duration
	// Since is when the purpose came into existence: events that take
	// effect earlier are rejected with [ErrBeforePurpose]. Zero means the
	// time of registration.
	Since time.Time
}

func (p *Purpose) validate() error {
	if err := p.ID.Validate(); err != nil {
		return err
	}
	if err := p.Basis.Validate(); err != nil {
		return fmt.Errorf("%w: purpose %q: %w", ErrInvalidPurpose, p.ID, err)
	}
	if p.Default == 0 {
		switch p.Basis {
		case personaldata.Consent:
			p.Default = OptIn
		case personaldata.LegitimateInterests, personaldata.PublicTask:
			p.Default = OptOut
		default:
			p.Default = NoticeOnly
		}
	}
	if p.Default > NoticeOnly {
		return fmt.Errorf("%w: purpose %q: unknown default %d", ErrInvalidPurpose, p.ID, p.Default)
	}
	if p.Basis == personaldata.Consent && p.Default != OptIn {
		return fmt.Errorf("%w: purpose %q: consent must be opt-in, not %s", ErrInvalidPurpose, p.ID, p.Default)
	}
	if p.DirectMarketing && p.Basis != personaldata.Consent && p.Basis != personaldata.LegitimateInterests {
		return fmt.Errorf("%w: purpose %q: direct marketing rests on consent or legitimate interests, not %s", ErrInvalidPurpose, p.ID, p.Basis)
	}
	if p.Validity < 0 {
		return fmt.Errorf("%w: purpose %q: negative validity", ErrInvalidPurpose, p.ID)
	}
	for _, c := range p.Categories {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("%w: purpose %q: %w", ErrInvalidPurpose, p.ID, err)
		}
	}
	if !validTime(p.Since) {
		return fmt.Errorf("%w: purpose %q: since out of range", ErrInvalidPurpose, p.ID)
	}
	p.Categories = slices.Clone(p.Categories)
	p.Since = p.Since.UTC()
	return nil
}

func (p *Purpose) equal(q *Purpose) bool {
	return p.ID == q.ID && p.Description == q.Description && p.Basis == q.Basis &&
		p.Default == q.Default && p.Recipient == q.Recipient &&
		p.DirectMarketing == q.DirectMarketing && slices.Equal(p.Categories, q.Categories) &&
		p.Sensitive == q.Sensitive && p.Validity == q.Validity && p.Since.Equal(q.Since)
}

// A Notice is one version of a privacy statement. Versions are immutable:
// registering a version again with other contents is an error. It is a
// plain value, safe to share.
type Notice struct {
	// Version names the version, such as "2024-03"; 1 to 64 printable bytes.
	Version string
	// URL is where the text of this version is archived (receipts report it
	// as policyUrl).
	URL string
	// Language of the text, such as "nl".
	Language string
	// ContentHash is the SHA-256 of the text; required.
	ContentHash [32]byte
	// AnnouncedAt is when the version was announced to subjects.
	AnnouncedAt time.Time
	// EffectiveAt is when it takes effect. It must be at least the notice
	// period after AnnouncedAt, unless this is the first version, and after
	// the previous version's EffectiveAt. A version is in force from its
	// EffectiveAt until the next version's.
	EffectiveAt time.Time
	// Purposes covered by this version. Grants under it are accepted only
	// for these purposes.
	Purposes []PurposeID
	// FreshConsent lists the purposes, a subset of Purposes, whose
	// processing this version changes so that consent given under earlier
	// versions stops counting when this version takes effect.
	FreshConsent []PurposeID
}

func (n *Notice) equal(m *Notice) bool {
	return n.Version == m.Version && n.URL == m.URL && n.Language == m.Language &&
		n.ContentHash == m.ContentHash && n.AnnouncedAt.Equal(m.AnnouncedAt) &&
		n.EffectiveAt.Equal(m.EffectiveAt) && slices.Equal(n.Purposes, m.Purposes) &&
		slices.Equal(n.FreshConsent, m.FreshConsent)
}

func (n *Notice) covers(p PurposeID) bool { return slices.Contains(n.Purposes, p) }

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

// addPurpose validates p and returns a new registry with it. A second
// registration of an identical purpose is a no-op.
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
		return nil, fmt.Errorf("%w: purpose %q already registered with other settings", ErrInvalidPurpose, p.ID)
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

// addNotice validates n and returns a new registry with it. A second
// registration of an identical version is a no-op.
func (r *registry) addNotice(n Notice, period time.Duration) (*registry, error) {
	if n.Version == "" || len(n.Version) > 64 {
		return nil, fmt.Errorf("%w: version must be 1 to 64 bytes", ErrInvalidNotice)
	}
	for i := 0; i < len(n.Version); i++ {
		if n.Version[i] <= 0x20 || n.Version[i] >= 0x7f {
			return nil, fmt.Errorf("%w: version %q: only printable ASCII without spaces", ErrInvalidNotice, n.Version)
		}
	}
	n.AnnouncedAt, n.EffectiveAt = n.AnnouncedAt.UTC(), n.EffectiveAt.UTC()
	n.Purposes, n.FreshConsent = slices.Clone(n.Purposes), slices.Clone(n.FreshConsent)
	if old, ok := r.byVer[n.Version]; ok {
		if old.equal(&n) {
			return r, nil
		}
		return nil, fmt.Errorf("%w: version %q already registered with other contents; versions are immutable", ErrInvalidNotice, n.Version)
	}
	if n.ContentHash == ([32]byte{}) {
		return nil, fmt.Errorf("%w: version %q: no content hash", ErrInvalidNotice, n.Version)
	}
	if !validTime(n.AnnouncedAt) || !validTime(n.EffectiveAt) || n.AnnouncedAt.IsZero() || n.EffectiveAt.IsZero() {
		return nil, fmt.Errorf("%w: version %q: announcement and effective time required and in range", ErrInvalidNotice, n.Version)
	}
	if n.EffectiveAt.Before(n.AnnouncedAt) {
		return nil, fmt.Errorf("%w: version %q takes effect before it is announced", ErrInvalidNotice, n.Version)
	}
	if len(r.notices) > 0 {
		last := r.notices[len(r.notices)-1]
		if !n.EffectiveAt.After(last.EffectiveAt) {
			return nil, fmt.Errorf("%w: version %q must take effect after version %q", ErrInvalidNotice, n.Version, last.Version)
		}
		if n.EffectiveAt.Sub(n.AnnouncedAt) < period {
			return nil, fmt.Errorf("%w: version %q takes effect %s after its announcement, less than %s",
				ErrNoticePeriod, n.Version, n.EffectiveAt.Sub(n.AnnouncedAt), period)
		}
	}
	if len(n.Purposes) == 0 {
		return nil, fmt.Errorf("%w: version %q covers no purpose", ErrInvalidNotice, n.Version)
	}
	for _, p := range n.Purposes {
		if _, ok := r.purposes[p]; !ok {
			return nil, fmt.Errorf("%w: %q in notice version %q", ErrUnknownPurpose, p, n.Version)
		}
	}
	for _, p := range n.FreshConsent {
		if !n.covers(p) {
			return nil, fmt.Errorf("%w: version %q requires fresh consent for %q, which it does not cover", ErrInvalidNotice, n.Version, p)
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

// Time range the ledger accepts: what a signed 64-bit count of nanoseconds
// since 1970 can hold, with margin.
var (
	minTime = time.Date(1680, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2260, 1, 1, 0, 0, 0, 0, time.UTC)
)

// validTime reports whether t is zero or within the range the encoding holds.
func validTime(t time.Time) bool {
	return t.IsZero() || (!t.Before(minTime) && t.Before(maxTime))
}
