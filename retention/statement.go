package retention

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// Statement says how long data of one category (and record kind) is kept
// and why, in words that an access export's manifest and an erasure
// refusal can show the data subject.
//
// A Statement is a plain value and safe to share.
type Statement struct {
	Category personaldata.Category `json:"category"`
	Kind     string                `json:"kind,omitempty"`
	// Summary describes every rule that covers the data, retention required
	// by law first, in plain English.
	Summary string `json:"summary"`
	// RuleIDs lists the covering rules in the order Summary describes them.
	RuleIDs []string `json:"rules"`
	// Basis is the legal basis of the governing rule: the retention required
	// by law if there is one, else the longest other retention, else the
	// first deletion deadline; or, for a statement about a record, the rule
	// that decided.
	Basis personaldata.LegalBasis `json:"basis"`
	// Citation lists the distinct citations of the covering rules,
	// separated by "; ".
	Citation string `json:"citation,omitempty"`
	// EarliestDisposal is, for a statement about a record, the earliest
	// time the data may be deleted or anonymised; zero if that is not known
	// yet (a hold, or a clock that has not started). Zero in a statement
	// about a category.
	EarliestDisposal time.Time `json:"earliest_disposal,omitzero"`
	// PolicyHash is the hash of the policy the statement comes from.
	PolicyHash Hash `json:"policy_hash"`
}

// Statement returns the retention statement for data of category and
// kind (either may be empty to mean "any"). It returns an error wrapping
// [ErrNoRule] if no rule covers such data.
func (p *Policy) Statement(category personaldata.Category, kind string) (Statement, error) {
	var rules []*Rule
	for _, list := range p.match(category, kind) {
		for _, i := range list {
			rules = append(rules, &p.rules[i])
		}
	}
	if len(rules) == 0 {
		return Statement{}, fmt.Errorf("%w: category %s, kind %s", ErrNoRule, quote.String(string(category)), quote.String(kind))
	}
	// Legal retention first, longest first; then other retention, longest
	// first; then deadlines, shortest first; ties by ID.
	rank := func(r *Rule) int {
		switch {
		case r.legal():
			return 0
		case r.Retain:
			return 1
		}
		return 2
	}
	slices.SortFunc(rules, func(a, b *Rule) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		c := cmp.Compare(a.Period.approxDays(), b.Period.approxDays())
		if rank(a) < 2 {
			c = -c
		}
		if c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	st := Statement{Category: category, Kind: kind, Basis: rules[0].Basis, PolicyHash: p.hash}
	var sum, cites []string
	for _, r := range rules {
		st.RuleIDs = append(st.RuleIDs, r.ID)
		s := describe(r)
		sum = append(sum, capitalise(s)+".")
		if r.Citation != "" && !slices.Contains(cites, r.Citation) {
			cites = append(cites, r.Citation)
		}
	}
	st.Summary = strings.Join(sum, " ")
	st.Citation = strings.Join(cites, "; ")
	return st, nil
}

// approxDays orders periods by length; only for sorting.
func (p Period) approxDays() int { return p.Years*366 + p.Months*31 + p.Days }

// Statement returns the retention statement for the host record with key
// key and facts f, decided now as [Evaluator.Decide] decides (legal holds
// included): the category statement of the policy, with the earliest
// disposal date of this record and the legal basis of the rule that
// decided. Use it to explain an erasure refusal ("kept until ... because
// ...") or in an access export. Under a legal hold EarliestDisposal is
// zero: no date can be promised.
//
// Errors wrap [ErrNoRule] if no rule covers the data, or come from the
// hold store.
func (e *Evaluator) Statement(ctx context.Context, key string, f Facts) (Statement, error) {
	st, err := e.policy.Statement(f.Category, f.Kind)
	if err != nil {
		return Statement{}, err
	}
	d, err := e.Decide(ctx, key, f)
	if err != nil {
		return Statement{}, err
	}
	if r, ok := d.Rule(); ok {
		st.Basis = r.Basis
	}
	if d.Reason != ReasonHold {
		st.EarliestDisposal = d.Until
	}
	return st, nil
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
