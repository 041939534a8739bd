package retention

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/personaldata/personaldata"
)

// Rule says how long some data is kept and what happens then: data of
// Category and Kind is kept for Period after Trigger, then Action is taken.
//
// There are three kinds of rules, and the kind decides how a rule fares in
// a conflict (see the package documentation):
//
//   - Retention required by law: Basis is [personaldata.LegalObligation].
//     Period is a minimum the law imposes; Citation must name the provision.
//     It beats an erasure request.
//   - Other retention: Retain is set. Period is a minimum the controller has
//     committed to (an archive, evidence); the longest such rule wins over
//     deletion deadlines, but an erasure request beats it.
//   - Deletion deadlines: everything else, including rules triggered by an
//     erasure request. Period is a maximum; the earliest one wins.
//
// Rule is a plain value and safe to share; a [Policy] keeps its own copy.
type Rule struct {
	// ID names the rule in decisions, reports and statements: 1 to 64
	// bytes of ASCII letters, digits, '.', '_' and '-'.
	ID string `json:"id"`
	// Category limits the rule to data of this category; empty means any.
	Category personaldata.Category `json:"category,omitempty"`
	// Kind limits the rule to records of this host kind ("invoice",
	// "account"); empty means any. Same naming rule as a category.
	Kind string `json:"kind,omitempty"`
	// Trigger starts the clock.
	Trigger Trigger `json:"trigger"`
	// Event names the host event for TriggerEvent; empty otherwise.
	Event string `json:"event,omitempty"`
	// Period is how long the data is kept after the trigger.
	Period Period `json:"period"`
	// Action is taken when the period is over: Delete, Anonymise or Review.
	Action Action `json:"action"`
	// Retain marks the period as a minimum the controller committed to
	// rather than a deadline. Implied by Basis LegalObligation; not allowed
	// with TriggerErasureRequested.
	Retain bool `json:"retain,omitempty"`
	// Basis is the legal ground for keeping the data during Period.
	Basis personaldata.LegalBasis `json:"basis"`
	// Citation names the provision that requires or allows the retention,
	// such as "AWR art. 52 lid 4". Required with LegalObligation.
	Citation string `json:"citation,omitempty"`
	// Summary explains the rule to the data subject in one sentence. When
	// empty, statements and explanations describe the rule from its fields.
	Summary string `json:"summary,omitempty"`
}

// legal reports whether r is retention required by law.
func (r *Rule) legal() bool { return r.Basis == personaldata.LegalObligation }

// retains reports whether r's period is a minimum.
func (r *Rule) retains() bool { return r.Retain || r.legal() }

// MaxRules is the most rules a policy may have.
const MaxRules = 1024

// maxTextLen bounds citations, summaries and the policy name.
const maxTextLen = 1024

// Validate reports what is wrong with r, as an error wrapping
// [ErrInvalidRule], [ErrUnknownTrigger], [ErrUnknownAction] or
// [ErrInvalidPeriod]. It does not wrap it in a [*RuleError]; [NewPolicy]
// does.
func (r *Rule) Validate() error {
	if err := validID(r.ID); err != nil {
		return err
	}
	if r.Category != "" {
		if err := r.Category.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidRule, err)
		}
	}
	if r.Kind != "" {
		if err := personaldata.Category(r.Kind).Validate(); err != nil {
			return fmt.Errorf("%w: kind must follow the category naming rule", ErrInvalidRule)
		}
	}
	if !r.Trigger.valid() {
		return fmt.Errorf("%w: %d", ErrUnknownTrigger, uint8(r.Trigger))
	}
	if r.Trigger == TriggerEvent {
		if err := personaldata.Category(r.Event).Validate(); err != nil {
			return fmt.Errorf("%w: trigger \"event\" needs an event name following the category naming rule", ErrInvalidRule)
		}
	} else if r.Event != "" {
		return fmt.Errorf("%w: event name set but trigger is %q", ErrInvalidRule, r.Trigger)
	}
	if err := r.Period.Validate(); err != nil {
		return err
	}
	if !r.Action.valid() || r.Action == Keep {
		return fmt.Errorf("%w: a rule must delete, anonymise or review, not %s", ErrUnknownAction, r.Action)
	}
	if err := r.Basis.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRule, err)
	}
	if r.Trigger == TriggerErasureRequested && r.retains() {
		return fmt.Errorf("%w: a rule triggered by an erasure request is a deadline; it cannot retain or have basis legal-obligation", ErrInvalidRule)
	}
	if r.legal() && strings.TrimSpace(r.Citation) == "" {
		return fmt.Errorf("%w: basis legal-obligation needs a citation", ErrInvalidRule)
	}
	if err := validText(r.Citation, "citation"); err != nil {
		return err
	}
	return validText(r.Summary, "summary")
}

func validID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("%w: ID must be 1 to 64 bytes", ErrInvalidRule)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%w: ID has a byte outside [A-Za-z0-9._-]", ErrInvalidRule)
		}
	}
	return nil
}

func validText(s, what string) error {
	if len(s) > maxTextLen {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidRule, what, maxTextLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not UTF-8", ErrInvalidRule, what)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return fmt.Errorf("%w: %s has a control character", ErrInvalidRule, what)
		}
	}
	return nil
}
