package retention

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/personaldata/personaldata"
)

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
