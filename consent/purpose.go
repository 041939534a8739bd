package consent

import (
	"fmt"
	"slices"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
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
		return fmt.Errorf("%w: purpose %s: %w", ErrInvalidPurpose, quote.String(string(p.ID)), err)
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
		return fmt.Errorf("%w: purpose %s: unknown default %d", ErrInvalidPurpose, quote.String(string(p.ID)), p.Default)
	}
	if p.Basis == personaldata.Consent && p.Default != OptIn {
		return fmt.Errorf("%w: purpose %s: consent must be opt-in, not %s", ErrInvalidPurpose, quote.String(string(p.ID)), p.Default)
	}
	if p.DirectMarketing && p.Basis != personaldata.Consent && p.Basis != personaldata.LegitimateInterests {
		return fmt.Errorf("%w: purpose %s: direct marketing rests on consent or legitimate interests, not %s", ErrInvalidPurpose, quote.String(string(p.ID)), p.Basis)
	}
	if p.Validity < 0 {
		return fmt.Errorf("%w: purpose %s: negative validity", ErrInvalidPurpose, quote.String(string(p.ID)))
	}
	for _, c := range p.Categories {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("%w: purpose %s: %w", ErrInvalidPurpose, quote.String(string(p.ID)), err)
		}
	}
	if !validTime(p.Since) {
		return fmt.Errorf("%w: purpose %s: since out of range", ErrInvalidPurpose, quote.String(string(p.ID)))
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
	// Text is the text of this version, optional, so that the ledger
	// archives it with the version (at most about [MaxDefinitionLen]
	// bytes). Keep either Text or URL, or both.
	Text string
	// ContentHash is the SHA-256 of the text. Required without Text; with
	// Text, zero means computed from it, and any other value must match.
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
	return n.Version == m.Version && n.URL == m.URL && n.Language == m.Language && n.Text == m.Text &&
		n.ContentHash == m.ContentHash && n.AnnouncedAt.Equal(m.AnnouncedAt) &&
		n.EffectiveAt.Equal(m.EffectiveAt) && slices.Equal(n.Purposes, m.Purposes) &&
		slices.Equal(n.FreshConsent, m.FreshConsent)
}

func (n *Notice) covers(p PurposeID) bool { return slices.Contains(n.Purposes, p) }

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
