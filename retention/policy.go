package retention

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/personaldata/personaldata"
)

// Trigger names the event that starts a rule's clock.
//
// The zero Trigger is not valid, so a forgotten field is caught by
// validation. A Trigger is a plain value and safe to share.
type Trigger uint8

// The triggers a rule can name. Each reads one timestamp of the [Facts].
const (
	TriggerCollected        Trigger = iota + 1 // Facts.Collected: the data was collected or the record created
	TriggerLastActivity                        // Facts.LastActivity: the subject was last active
	TriggerAccountClosed                       // Facts.AccountClosed: the account was closed or its deletion asked for
	TriggerContractEnded                       // Facts.ContractEnded: the contract ended
	TriggerFiscalYearEnd                       // the end of the fiscal year in which Facts.Collected falls
	TriggerErasureRequested                    // Facts.ErasureRequested: the subject asked for erasure
	TriggerEvent                               // the named host event Rule.Event in Facts.Events
)

var triggerNames = [...]string{
	TriggerCollected:        "collected",
	TriggerLastActivity:     "last-activity",
	TriggerAccountClosed:    "account-closed",
	TriggerContractEnded:    "contract-ended",
	TriggerFiscalYearEnd:    "fiscal-year-end",
	TriggerErasureRequested: "erasure-requested",
	TriggerEvent:            "event",
}

func (t Trigger) valid() bool { return t >= TriggerCollected && t <= TriggerEvent }

// String returns the trigger's name, such as "fiscal-year-end".
func (t Trigger) String() string {
	if !t.valid() {
		return fmt.Sprintf("Trigger(%d)", uint8(t))
	}
	return triggerNames[t]
}

// ParseTrigger parses the name String returns.
func ParseTrigger(s string) (Trigger, error) {
	for t := TriggerCollected; t <= TriggerEvent; t++ {
		if triggerNames[t] == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownTrigger, s)
}

// MarshalText implements [encoding.TextMarshaler].
func (t Trigger) MarshalText() ([]byte, error) {
	if !t.valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnknownTrigger, uint8(t))
	}
	return []byte(triggerNames[t]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (t *Trigger) UnmarshalText(text []byte) error {
	v, err := ParseTrigger(string(text))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Action is what happens to data: a rule's action when its period is over,
// and the verdict of a [Decision]. Keep is only a verdict; rules take one of
// Delete, Anonymise or Review.
//
// The zero Action is not valid. An Action is a plain value and safe to
// share.
type Action uint8

// The actions and verdicts.
const (
	Keep      Action = iota + 1 // leave the data as it is
	Delete                      // delete the data
	Anonymise                   // remove what identifies the subject, keep the rest
	Review                      // ask a person to decide
)

var actionNames = [...]string{Keep: "keep", Delete: "delete", Anonymise: "anonymise", Review: "review"}

func (a Action) valid() bool { return a >= Keep && a <= Review }

// strength orders the disposal actions: when several rules are due, the
// one that removes most wins.
func (a Action) strength() int {
	switch a {
	case Delete:
		return 3
	case Anonymise:
		return 2
	case Review:
		return 1
	}
	return 0
}

// String returns the action's name, such as "anonymise".
func (a Action) String() string {
	if !a.valid() {
		return fmt.Sprintf("Action(%d)", uint8(a))
	}
	return actionNames[a]
}

// ParseAction parses the name String returns; "anonymize" is accepted too.
func ParseAction(s string) (Action, error) {
	if s == "anonymize" {
		return Anonymise, nil
	}
	for a := Keep; a <= Review; a++ {
		if actionNames[a] == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownAction, s)
}

// MarshalText implements [encoding.TextMarshaler].
func (a Action) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnknownAction, uint8(a))
	}
	return []byte(actionNames[a]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (a *Action) UnmarshalText(text []byte) error {
	v, err := ParseAction(string(text))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

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

// PolicySpec is the definition of a policy, as written in Go or JSON. Turn
// it into a [Policy] with [NewPolicy] or [ParsePolicy].
//
// The JSON form:
//
//	{
//	  "name": "mail-and-hosting",
//	  "fiscal_year_end": "12-31",
//	  "rules": [
//	    {"id": "invoices", "category": "billing", "trigger": "fiscal-year-end",
//	     "period": "P7Y", "action": "delete", "basis": "legal-obligation",
//	     "citation": "AWR art. 52 lid 4"}
//	  ]
//	}
//
// A PolicySpec is a plain value; it is not safe to modify while another
// goroutine reads it.
type PolicySpec struct {
	// Name identifies the policy in statements; optional.
	Name string `json:"name,omitempty"`
	// FiscalYearEnd is the last day of the fiscal year; zero means 31
	// December.
	FiscalYearEnd MonthDay `json:"fiscal_year_end,omitzero"`
	// Rules are the rules; their order does not matter.
	Rules []Rule `json:"rules"`
}

// Hash is the SHA-256 of a policy's canonical encoding. It is a plain value
// and safe to share.
type Hash [32]byte

// String returns the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements [encoding.TextMarshaler] as lower-case hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler], reading 64 hex
// digits.
func (h *Hash) UnmarshalText(text []byte) error {
	var v Hash
	if len(text) != 2*len(v) {
		return fmt.Errorf("%w: policy hash must be %d hex digits", ErrInvalidPolicy, 2*len(v))
	}
	if _, err := hex.Decode(v[:], text); err != nil {
		return fmt.Errorf("%w: policy hash is not hex", ErrInvalidPolicy)
	}
	*h = v
	return nil
}

// Policy is a validated, immutable set of rules with a stable [Hash]. Build
// one with [NewPolicy] or [ParsePolicy].
//
// A Policy is safe for concurrent use.
type Policy struct {
	name  string
	fye   MonthDay
	rules []Rule // in the order given
	hash  Hash

	// Rule index. For data of category c and kind k, the covering rules
	// fall into four disjoint buckets: rules naming both c and k, rules
	// naming c only, rules naming k only and rules naming neither.
	both     map[catKind][]int32
	catOnly  map[personaldata.Category][]int32
	kindOnly map[string][]int32
	anyData  []int32
}

// NewPolicy validates spec and returns the policy it defines. Errors wrap
// [ErrInvalidPolicy], or are a [*RuleError] naming the first bad rule.
func NewPolicy(spec PolicySpec) (*Policy, error) {
	if err := validText(spec.Name, "name"); err != nil {
		return nil, fmt.Errorf("%w: name: %w", ErrInvalidPolicy, errors.Unwrap(err))
	}
	if err := spec.FiscalYearEnd.Validate(); err != nil {
		return nil, err
	}
	if len(spec.Rules) == 0 {
		return nil, fmt.Errorf("%w: no rules", ErrInvalidPolicy)
	}
	if len(spec.Rules) > MaxRules {
		return nil, fmt.Errorf("%w: more than %d rules", ErrInvalidPolicy, MaxRules)
	}
	seen := make(map[string]int, len(spec.Rules))
	for i := range spec.Rules {
		r := &spec.Rules[i]
		if err := r.Validate(); err != nil {
			return nil, &RuleError{RuleID: r.ID, Index: i, Err: err}
		}
		if j, dup := seen[r.ID]; dup {
			return nil, &RuleError{RuleID: r.ID, Index: i, Err: fmt.Errorf("%w: also rule #%d", ErrDuplicateRule, j)}
		}
		seen[r.ID] = i
	}
	p := &Policy{name: spec.Name, fye: spec.FiscalYearEnd, rules: slices.Clone(spec.Rules)}
	p.hash = p.computeHash()
	p.buildIndex()
	return p, nil
}

// maxPolicyBytes bounds the JSON ParsePolicy reads.
const maxPolicyBytes = 1 << 20

// ParsePolicy parses a policy from its JSON form (see [PolicySpec]) and
// validates it. Decoding is strict: unknown fields, trailing data and more
// than 1 MiB of input are errors wrapping [ErrInvalidPolicy].
func ParsePolicy(data []byte) (*Policy, error) {
	if len(data) > maxPolicyBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidPolicy, maxPolicyBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var spec PolicySpec
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the policy object", ErrInvalidPolicy)
	}
	return NewPolicy(spec)
}

// Name returns the policy's name.
func (p *Policy) Name() string { return p.name }

// FiscalYearEnd returns the last day of the policy's fiscal year.
func (p *Policy) FiscalYearEnd() MonthDay { return p.fye.normalize() }

// Hash returns the SHA-256 of the policy's canonical encoding.
//
// The encoding covers the name, the fiscal year end and every field of
// every rule, with rules sorted by ID: reordering rules does not change the
// hash (nor any decision), changing any field of any rule does.
func (p *Policy) Hash() Hash { return p.hash }

// Rules returns a copy of the rules, in the order they were given.
func (p *Policy) Rules() []Rule { return slices.Clone(p.rules) }

// Rule returns the rule with the given ID.
func (p *Policy) Rule(id string) (Rule, bool) {
	for i := range p.rules {
		if p.rules[i].ID == id {
			return p.rules[i], true
		}
	}
	return Rule{}, false
}

// Spec returns a copy of the definition of p.
func (p *Policy) Spec() PolicySpec {
	return PolicySpec{Name: p.name, FiscalYearEnd: p.fye, Rules: p.Rules()}
}

// MarshalJSON encodes p in the JSON form ParsePolicy reads.
func (p *Policy) MarshalJSON() ([]byte, error) { return json.Marshal(p.Spec()) }

// String returns the policy's name, rule count and hash prefix.
func (p *Policy) String() string {
	return fmt.Sprintf("retention.Policy{%q, %d rules, %s}", p.name, len(p.rules), p.hash.String()[:12])
}

func (p *Policy) computeHash() Hash {
	order := make([]int, len(p.rules))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(p.rules[a].ID, p.rules[b].ID) })
	var buf []byte
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	num := func(n int) { buf = binary.AppendVarint(buf, int64(n)) }
	str("personaldata/retention/policy/v1")
	str(p.name)
	str(p.fye.normalize().String())
	num(len(p.rules))
	for _, i := range order {
		r := &p.rules[i]
		str(r.ID)
		str(string(r.Category))
		str(r.Kind)
		str(r.Trigger.String())
		str(r.Event)
		num(r.Period.Years)
		num(r.Period.Months)
		num(r.Period.Days)
		str(r.Action.String())
		if r.Retain {
			num(1)
		} else {
			num(0)
		}
		str(r.Basis.String())
		str(r.Citation)
		str(r.Summary)
	}
	return sha256.Sum256(buf)
}

type catKind struct {
	c personaldata.Category
	k string
}

func (p *Policy) buildIndex() {
	p.both = map[catKind][]int32{}
	p.catOnly = map[personaldata.Category][]int32{}
	p.kindOnly = map[string][]int32{}
	for i := range p.rules {
		r := &p.rules[i]
		switch {
		case r.Category != "" && r.Kind != "":
			k := catKind{r.Category, r.Kind}
			p.both[k] = append(p.both[k], int32(i))
		case r.Category != "":
			p.catOnly[r.Category] = append(p.catOnly[r.Category], int32(i))
		case r.Kind != "":
			p.kindOnly[r.Kind] = append(p.kindOnly[r.Kind], int32(i))
		default:
			p.anyData = append(p.anyData, int32(i))
		}
	}
}

// match returns the indexes of the rules covering data of category c and
// kind k, in four disjoint lists. It does not allocate.
func (p *Policy) match(c personaldata.Category, k string) [4][]int32 {
	var m [4][]int32
	if c != "" && k != "" && len(p.both) > 0 {
		m[0] = p.both[catKind{c, k}]
	}
	if c != "" {
		m[1] = p.catOnly[c]
	}
	if k != "" {
		m[2] = p.kindOnly[k]
	}
	m[3] = p.anyData
	return m
}
