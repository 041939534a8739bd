package personaldata

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/personaldata/personaldata/internal/quote"
)

// Errors returned by the validation methods of this package.
var (
	// ErrInvalidSubject reports a SubjectID that is empty, too long, not
	// UTF-8 or contains control characters.
	ErrInvalidSubject = errors.New("personaldata: invalid subject ID")
	// ErrInvalidCategory reports a Category or Scope that does not follow
	// the naming rule.
	ErrInvalidCategory = errors.New("personaldata: invalid category or scope name")
	// ErrInvalidLegalBasis reports a LegalBasis outside GDPR Art. 6(1)(a)-(f).
	ErrInvalidLegalBasis = errors.New("personaldata: invalid legal basis")
)

// MaxSubjectIDLen is the longest SubjectID, in bytes, that Validate accepts.
const MaxSubjectIDLen = 255

// SubjectID identifies a data subject: the natural person the data is about.
// It is the host's own stable identifier (a user ID, an account number), not
// personal data like an e-mail address: it is stored in the clear, used as a
// key and may appear in errors, so it must not itself reveal who the person is.
type SubjectID string

// Validate reports whether s can identify a subject: non-empty, at most
// [MaxSubjectIDLen] bytes of UTF-8 without control characters.
func (s SubjectID) Validate() error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrInvalidSubject)
	}
	if len(s) > MaxSubjectIDLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidSubject, MaxSubjectIDLen)
	}
	printable := true
	for i := 0; i < len(s) && printable; i++ {
		printable = s[i] >= 0x20 && s[i] < 0x7f
	}
	if printable {
		return nil // the common case: printable ASCII
	}
	if !utf8.ValidString(string(s)) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalidSubject)
	}
	for _, r := range string(s) {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("%w: control character", ErrInvalidSubject)
		}
	}
	return nil
}

// Category names a kind of personal data: "email", "name", "address",
// "billing", "ip-address". Categories tie together a struct tag, a retention
// rule, an export file and a line in a privacy statement.
//
// A category is 1 to 64 bytes of lower-case ASCII letters, digits, '-', '_'
// and '.', starting with a letter.
type Category string

// Validate reports whether c follows the naming rule.
func (c Category) Validate() error { return validName(string(c), "category") }

// Scope names a data key of a subject. Data of one subject in one scope is
// encrypted under one key, so it is erased together: the default scope holds
// everything that goes when the person asks, while a scope such as "fiscal"
// holds invoices that tax law requires to be kept for seven more years.
//
// The empty Scope means [DefaultScope]. Otherwise a scope follows the same
// naming rule as a [Category].
type Scope string

// DefaultScope is the scope of personal data whose tag names no scope.
const DefaultScope Scope = "default"

// Normalize returns s, or DefaultScope if s is empty.
func (s Scope) Normalize() Scope {
	if s == "" {
		return DefaultScope
	}
	return s
}

// Validate reports whether s is empty or follows the naming rule.
func (s Scope) Validate() error {
	if s == "" {
		return nil
	}
	return validName(string(s), "scope")
}

func validName(s, what string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("%w: %s must be 1 to 64 bytes", ErrInvalidCategory, what)
	}
	if s[0] < 'a' || s[0] > 'z' {
		return fmt.Errorf("%w: %s %s must start with a lower-case letter", ErrInvalidCategory, what, quote.String(s))
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%w: %s %s has a byte outside [a-z0-9._-]", ErrInvalidCategory, what, quote.String(s))
		}
	}
	return nil
}

// LegalBasis is one of the six lawful grounds for processing personal data
// of GDPR Art. 6(1). The zero value is not a valid basis, so a forgotten
// field is caught by Validate.
type LegalBasis uint8

// The legal bases of GDPR Art. 6(1)(a)-(f).
const (
	Consent             LegalBasis = iota + 1 // Art. 6(1)(a): the subject consented
	Contract                                  // Art. 6(1)(b): needed to perform a contract with the subject
	LegalObligation                           // Art. 6(1)(c): needed to comply with a legal obligation
	VitalInterests                            // Art. 6(1)(d): protects someone's vital interests
	PublicTask                                // Art. 6(1)(e): a task in the public interest or official authority
	LegitimateInterests                       // Art. 6(1)(f): the controller's legitimate interests
)

var legalBases = [...]struct{ name, article string }{
	Consent:             {"consent", "GDPR Art. 6(1)(a)"},
	Contract:            {"contract", "GDPR Art. 6(1)(b)"},
	LegalObligation:     {"legal-obligation", "GDPR Art. 6(1)(c)"},
	VitalInterests:      {"vital-interests", "GDPR Art. 6(1)(d)"},
	PublicTask:          {"public-task", "GDPR Art. 6(1)(e)"},
	LegitimateInterests: {"legitimate-interests", "GDPR Art. 6(1)(f)"},
}

// Validate reports whether b is one of the six bases.
func (b LegalBasis) Validate() error {
	if b < Consent || b > LegitimateInterests {
		return fmt.Errorf("%w: %d", ErrInvalidLegalBasis, uint8(b))
	}
	return nil
}

// String returns the basis's name, such as "consent" or "legal-obligation".
func (b LegalBasis) String() string {
	if b.Validate() != nil {
		return fmt.Sprintf("LegalBasis(%d)", uint8(b))
	}
	return legalBases[b].name
}

// Article returns the provision the basis rests on, such as "GDPR Art. 6(1)(a)".
func (b LegalBasis) Article() string {
	if b.Validate() != nil {
		return ""
	}
	return legalBases[b].article
}

// ParseLegalBasis parses the name String returns.
func ParseLegalBasis(s string) (LegalBasis, error) {
	for b := Consent; b <= LegitimateInterests; b++ {
		if legalBases[b].name == s {
			return b, nil
		}
	}
	return 0, fmt.Errorf("%w: %s", ErrInvalidLegalBasis, quote.String(s))
}

// MarshalText implements [encoding.TextMarshaler] with the name String returns.
func (b LegalBasis) MarshalText() ([]byte, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return []byte(legalBases[b].name), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (b *LegalBasis) UnmarshalText(text []byte) error {
	v, err := ParseLegalBasis(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}
