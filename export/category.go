package export

import (
	"fmt"
	"unicode/utf8"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// Origin says where the data of a category comes from (GDPR Art. 15(1)(g)
// and Art. 20(1), which covers data the person provided).
type Origin uint8

// The origins.
const (
	// Provided: the person gave it (a sign-up form, a message they sent).
	Provided Origin = iota + 1
	// Observed: recorded while the person used the service (log-ins, IP
	// addresses, consent choices). Portability covers it too.
	Observed
	// Derived: inferred or computed by the controller (a score, a segment).
	Derived
	// ThirdParty: received from someone else; name them in
	// [Category.SourceName].
	ThirdParty
)

var originNames = [...]string{Provided: "provided", Observed: "observed", Derived: "derived", ThirdParty: "third-party"}

// String returns the origin's name, such as "provided" or "third-party".
func (o Origin) String() string {
	if o < Provided || o > ThirdParty {
		return fmt.Sprintf("Origin(%d)", uint8(o))
	}
	return originNames[o]
}

// MarshalText implements [encoding.TextMarshaler] with the name String returns.
func (o Origin) MarshalText() ([]byte, error) {
	if o < Provided || o > ThirdParty {
		return nil, fmt.Errorf("%w: origin %d", ErrInvalidCategory, uint8(o))
	}
	return []byte(originNames[o]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (o *Origin) UnmarshalText(b []byte) error {
	for i := Provided; i <= ThirdParty; i++ {
		if originNames[i] == string(b) {
			*o = i
			return nil
		}
	}
	return fmt.Errorf("%w: origin %s", ErrInvalidCategory, quote.Bytes(b))
}

// Purpose is a purpose a category is processed for, with its legal ground
// (GDPR Art. 15(1)(a) and Art. 6(1)).
type Purpose struct {
	ID          string                  `json:"id"`          // such as "billing"
	Description string                  `json:"description"` // shown to the person
	Basis       personaldata.LegalBasis `json:"basis"`       // required
}

// Recipient is someone the data is disclosed to (GDPR Art. 15(1)(c)),
// named rather than described: the Court of Justice (C-154/21) gives the
// person the right to know the recipients themselves.
type Recipient struct {
	Name    string `json:"name"`              // such as "ECL Direct SAS"; required
	Role    string `json:"role,omitempty"`    // such as "processor (accounting)"
	Country string `json:"country,omitempty"` // where the data goes, such as "FR"
	// Safeguards names the safeguards of a transfer outside the EEA
	// (GDPR Art. 15(2), 46), such as "EU standard contractual clauses".
	Safeguards string `json:"safeguards,omitempty"`
}

// Category describes one kind of data in an export: what it is, where it
// comes from, why it is processed, who receives it. The retention statement
// comes from the [Options.Retention] evaluator, for Name and Kind.
//
// A Category is a plain value, safe to share once built.
type Category struct {
	// Name is the category, such as "account" or "invoices". It names the
	// directory data/<Name>/ in a package, so it must follow the naming
	// rule of [personaldata.Category].
	Name personaldata.Category
	// Kind is the host record kind the retention policy knows the data by
	// (retention.Rule.Kind); empty means any.
	Kind string
	// Title and Description are shown to the person; Title is required.
	Title       string
	Description string
	// Origin is required. SourceName names the third party the data came
	// from (required when Origin is ThirdParty).
	Origin     Origin
	SourceName string
	// Portable marks data within the right to data portability (GDPR
	// Art. 20): provided or observed data processed on consent or a
	// contract. Portability packages hold only portable categories.
	Portable bool
	// Purposes lists what the data is processed for; at least one.
	Purposes []Purpose
	// Recipients lists who receives the data, by name; empty if nobody.
	Recipients []Recipient
	// AutomatedDecisions describes automated decision-making or profiling
	// that uses the data, its logic and its consequences (GDPR Art.
	// 15(1)(h)); empty means there is none.
	AutomatedDecisions string
}

func (c *Category) validate() error {
	if err := c.Name.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCategory, err)
	}
	bad := func(what string) error {
		return fmt.Errorf("%w: category %s: %s", ErrInvalidCategory, c.Name, what)
	}
	switch {
	case c.Title == "":
		return bad("no title")
	case c.Origin < Provided || c.Origin > ThirdParty:
		return bad("no valid origin")
	case c.Origin == ThirdParty && c.SourceName == "":
		return bad("third-party origin without a source name")
	case len(c.Purposes) == 0:
		return bad("no purpose")
	case c.Portable && c.Origin != Provided && c.Origin != Observed:
		return bad("only provided or observed data is portable")
	}
	texts := []string{c.Kind, c.Title, c.Description, c.SourceName, c.AutomatedDecisions}
	for _, p := range c.Purposes {
		texts = append(texts, p.ID, p.Description)
	}
	for _, r := range c.Recipients {
		texts = append(texts, r.Name, r.Role, r.Country, r.Safeguards)
	}
	for _, s := range texts {
		if !utf8.ValidString(s) {
			return bad("text that is not UTF-8")
		}
	}
	for i, p := range c.Purposes {
		if p.ID == "" || p.Description == "" {
			return bad(fmt.Sprintf("purpose %d has no ID or description", i))
		}
		if err := p.Basis.Validate(); err != nil {
			return fmt.Errorf("%w: category %s: purpose %s: %w", ErrInvalidCategory, c.Name, quote.String(p.ID), err)
		}
	}
	for i, r := range c.Recipients {
		if r.Name == "" {
			return bad(fmt.Sprintf("recipient %d has no name", i))
		}
	}
	return nil
}

// clone copies the slices of c, so that a registered category cannot be
// changed by its caller.
func (c Category) clone() Category {
	c.Purposes = append([]Purpose(nil), c.Purposes...)
	c.Recipients = append([]Recipient(nil), c.Recipients...)
	return c
}
