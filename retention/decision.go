package retention

import (
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Reason says which step of the conflict order decided a [Decision]. A
// Reason is a plain value and safe to share.
type Reason uint8

// The reasons, in the conflict order.
const (
	ReasonNoRule         Reason = iota // no rule covers the data: kept
	ReasonHold                         // a legal hold is active: kept
	ReasonLegalRetention               // retention required by law is running
	ReasonErasure                      // an erasure request decided
	ReasonRetention                    // the longest other retention is running
	ReasonDeletion                     // a rule is due, or the earliest deletion deadline is ahead
	ReasonNotStarted                   // rules cover the data, but no clock has started
)

var reasonNames = [...]string{"no-rule", "hold", "legal-retention", "erasure-request", "retention", "deletion", "not-started"}

// String returns the reason's name, such as "legal-retention".
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// maxOverridden is how many overridden rules a Decision lists; it counts
// the rest.
const maxOverridden = 8

// Decision is the outcome of evaluating one record: what to do, until
// when, why, and which rules lost. It holds no personal data beyond the
// subject's ID in the holds it refers to.
//
// A Decision is a plain value and safe to share. It refers to the
// evaluator's Policy and to the Holds slice of the evaluated Facts, which
// must not be modified while the Decision is in use.
type Decision struct {
	// Verdict is Keep, Delete, Anonymise or Review.
	Verdict Action
	// Reason says which step of the conflict order decided.
	Reason Reason
	// Until is, for Keep, when keeping ends; zero means indefinitely (a
	// hold, or a clock that has not started). For the other verdicts it is
	// when the action fell due, at or before the evaluation time.
	Until time.Time
	// NextReview is when to evaluate again if nothing else changes: Until
	// for Keep, the evaluation time for the other verdicts, capped by
	// Options.ReviewEvery. Zero means only when the facts change.
	NextReview time.Time
	// RuleID is the ID of the winning rule, empty if no rule decided (a
	// hold, or no rule covers the data).
	RuleID string
	// ActiveHolds counts the active holds among Facts.Holds.
	ActiveHolds int
	// OverriddenCount counts the other rules whose clocks have started and
	// that did not decide.
	OverriddenCount int
	// PolicyHash is the hash of the policy that decided.
	PolicyHash Hash

	policy     *Policy
	loc        *time.Location
	winner     int32
	nOver      uint8
	overridden [maxOverridden]int32
	holds      []Hold
	at         time.Time
}

// Indefinite reports whether the verdict is Keep with no end date.
func (d Decision) Indefinite() bool { return d.Verdict == Keep && d.Until.IsZero() }

// Due reports whether the verdict asks for an action now.
func (d Decision) Due() bool { return d.Verdict != Keep && d.Verdict != 0 }

// Rule returns the winning rule, if a rule decided.
func (d Decision) Rule() (Rule, bool) {
	if d.policy == nil || d.winner < 0 {
		return Rule{}, false
	}
	return d.policy.rules[d.winner], true
}

// Overridden returns the rules that did not decide although their clocks
// had started, at most 8 of them (OverriddenCount has the total), sorted
// by ID.
func (d Decision) Overridden() []Rule {
	out := make([]Rule, d.nOver)
	for i := range out {
		out[i] = d.policy.rules[d.overridden[i]]
	}
	return out
}

// Holds returns the holds that were active when the decision was made.
func (d Decision) Holds() []Hold {
	var out []Hold
	for _, h := range d.holds {
		if h.Active(d.at) {
			out = append(out, h)
		}
	}
	return out
}

// String returns a one-line summary without personal data, such as
// `keep until 2032-01-01 (legal-retention, rule "invoices")` or
// `delete since 2026-05-31 (deletion, rule "mail-log")`.
func (d Decision) String() string {
	var b strings.Builder
	b.WriteString(d.Verdict.String())
	if d.Verdict == Keep {
		if d.Until.IsZero() {
			b.WriteString(" indefinitely")
		} else {
			b.WriteString(" until " + d.Until.Format(time.DateOnly))
		}
	} else if !d.Until.IsZero() {
		b.WriteString(" since " + d.Until.Format(time.DateOnly))
	}
	b.WriteString(" (" + d.Reason.String())
	if d.RuleID != "" {
		b.WriteString(", rule " + strconv.Quote(d.RuleID))
	}
	if d.ActiveHolds > 0 {
		b.WriteString(", " + plural(d.ActiveHolds, "hold"))
	}
	b.WriteString(")")
	return b.String()
}

// LogValue implements [slog.LogValuer]: the verdict, reason, rule, dates,
// hold count and policy hash prefix; nothing about the subject.
func (d Decision) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs, slog.String("verdict", d.Verdict.String()), slog.String("reason", d.Reason.String()))
	if d.RuleID != "" {
		attrs = append(attrs, slog.String("rule", d.RuleID))
	}
	if !d.Until.IsZero() {
		attrs = append(attrs, slog.Time("until", d.Until))
	}
	if !d.NextReview.IsZero() {
		attrs = append(attrs, slog.Time("next_review", d.NextReview))
	}
	if d.ActiveHolds > 0 {
		attrs = append(attrs, slog.Int("holds", d.ActiveHolds))
	}
	attrs = append(attrs, slog.String("policy", d.PolicyHash.String()[:12]))
	return slog.GroupValue(attrs...)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
