package retention

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
)

// Options configure an [Evaluator]. The zero value and nil mean the
// documented defaults. [New] copies what it needs; the Clock and Entropy it
// is given are then used from many goroutines (Entropy under a lock), so
// Clock must be safe for concurrent use.
type Options struct {
	// Clock returns the current time for Decide, Sweep and holds.
	// Default: time.Now.
	Clock func() time.Time
	// Location is the time zone whose calendar and wall clock periods are
	// counted in, and in which the fiscal year ends. Default: time.UTC.
	Location *time.Location
	// Entropy is the randomness of hold IDs. Default: crypto/rand.Reader.
	// It is read under a lock, so it need not be safe for concurrent use.
	Entropy io.Reader
	// ReviewEvery caps how far in the future a decision's NextReview lies,
	// so that data kept indefinitely (under a hold, or waiting for an event
	// that has not happened) is looked at again. Default: no cap.
	ReviewEvery Period
}

// Facts are what the evaluator knows about one record: what data it holds,
// whose, and when the events that start a rule's clock happened. A zero
// time means the event has not happened (yet).
//
// Facts are plain values; the evaluator only reads them, so one Facts may
// be evaluated from several goroutines at once.
type Facts struct {
	Subject          personaldata.SubjectID // whose data; used to find holds
	Category         personaldata.Category  // which kind of personal data
	Kind             string                 // the host's record kind, such as "invoice"
	Collected        time.Time              // when the data was collected or the record created
	LastActivity     time.Time              // when the subject was last active
	AccountClosed    time.Time              // when the account was closed, or its deletion asked for
	ContractEnded    time.Time              // when the contract ended
	ErasureRequested time.Time              // when the subject asked for erasure
	Events           []Event                // named host events, for TriggerEvent rules
	// Holds are the legal holds placed on the record or its subject, as
	// returned by HoldStore.Active. Evaluate counts those active at now.
	Holds []Hold
}

// Event is a named host event in [Facts], such as "domain-expired". If an
// event name occurs more than once, the latest time counts. An Event is a
// plain value and safe to share.
type Event struct {
	Name string
	At   time.Time
}

// triggerTime returns when r's trigger happened, or the zero time.
func (f *Facts) triggerTime(r *Rule) time.Time {
	switch r.Trigger {
	case TriggerCollected, TriggerFiscalYearEnd:
		return f.Collected
	case TriggerLastActivity:
		return f.LastActivity
	case TriggerAccountClosed:
		return f.AccountClosed
	case TriggerContractEnded:
		return f.ContractEnded
	case TriggerErasureRequested:
		return f.ErasureRequested
	case TriggerEvent:
		var at time.Time
		for i := range f.Events {
			if f.Events[i].Name == r.Event && f.Events[i].At.After(at) {
				at = f.Events[i].At
			}
		}
		return at
	}
	return time.Time{}
}

// Evaluator applies a [Policy] to records: it decides, explains, sweeps,
// writes retention statements and manages legal holds through a
// [HoldStore].
//
// An Evaluator is safe for concurrent use.
type Evaluator struct {
	policy *Policy
	holds  HoldStore
	clock  func() time.Time
	loc    *time.Location
	review Period

	entropyMu sync.Mutex
	entropy   io.Reader
}

// New returns an Evaluator for policy that keeps legal holds in holds.
// A nil opts means the defaults of [Options]. It returns an error wrapping
// [ErrInvalidPolicy] for a nil policy, [ErrNoHoldStore] for a nil store
// and [ErrInvalidPeriod] for a bad ReviewEvery.
func New(policy *Policy, holds HoldStore, opts *Options) (*Evaluator, error) {
	if policy == nil {
		return nil, fmt.Errorf("%w: nil policy", ErrInvalidPolicy)
	}
	if holds == nil {
		return nil, ErrNoHoldStore
	}
	e := &Evaluator{policy: policy, holds: holds, clock: time.Now, loc: time.UTC, entropy: rand.Reader}
	if opts != nil {
		if opts.Clock != nil {
			e.clock = opts.Clock
		}
		if opts.Location != nil {
			e.loc = opts.Location
		}
		if opts.Entropy != nil {
			e.entropy = opts.Entropy
		}
		if err := opts.ReviewEvery.Validate(); err != nil {
			return nil, fmt.Errorf("review interval: %w", err)
		}
		e.review = opts.ReviewEvery
	}
	return e, nil
}

// Policy returns the evaluator's policy.
func (e *Evaluator) Policy() *Policy { return e.policy }

// Location returns the time zone the evaluator counts periods in.
func (e *Evaluator) Location() *time.Location { return e.loc }

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

// candidate is the best rule found so far for one role.
type candidate struct {
	idx int32
	due time.Time
}

// Evaluate decides what happens to a record with the given facts at now.
// It is pure: the same facts, policy and time give the same decision, and
// it neither reads the clock nor touches the hold store (holds come in
// Facts.Holds). It does not allocate.
//
// Conflicts are settled in this order (see the package documentation):
// an active hold; retention required by law; an erasure request; the
// longest other retention; the earliest deletion.
func (e *Evaluator) Evaluate(f Facts, now time.Time) Decision {
	p := e.policy
	now = now.In(e.loc)
	d := Decision{PolicyHash: p.hash, policy: p, loc: e.loc, winner: -1, holds: f.Holds, at: now}
	for i := range f.Holds {
		if f.Holds[i].Active(now) {
			d.ActiveHolds++
		}
	}

	var (
		started        int
		legalPending   = candidate{idx: -1} // a legal rule whose clock has not started: lowest ID
		legalRunning   = candidate{idx: -1} // running legal rule ending last
		retainPending  = candidate{idx: -1}
		retainRunning  = candidate{idx: -1}
		deadlineNext   = candidate{idx: -1} // running deadline ending first
		dueBest        = candidate{idx: -1} // due rule with the strongest action, earliest
		erasureStarted bool
		covered        bool
	)
	for _, list := range p.match(f.Category, f.Kind) {
		for _, i := range list {
			covered = true
			r := &p.rules[i]
			at := f.triggerTime(r)
			if at.IsZero() {
				switch {
				case r.legal():
					legalPending = lowerID(p, legalPending, i)
				case r.Retain:
					retainPending = lowerID(p, retainPending, i)
				}
				continue
			}
			started++
			if r.Trigger == TriggerErasureRequested {
				erasureStarted = true
			}
			due := e.due(r, at)
			if !now.Before(due) {
				if dueBest.idx < 0 || betterDue(p, i, due, dueBest) {
					dueBest = candidate{i, due}
				}
				continue
			}
			switch {
			case r.legal():
				if legalRunning.idx < 0 || later(p, i, due, legalRunning) {
					legalRunning = candidate{i, due}
				}
			case r.Retain:
				if retainRunning.idx < 0 || later(p, i, due, retainRunning) {
					retainRunning = candidate{i, due}
				}
			default:
				if deadlineNext.idx < 0 || earlier(p, i, due, deadlineNext) {
					deadlineNext = candidate{i, due}
				}
			}
		}
	}

	switch {
	case d.ActiveHolds > 0:
		d.Verdict, d.Reason = Keep, ReasonHold
	case !covered:
		d.Verdict, d.Reason = Keep, ReasonNoRule
	case legalPending.idx >= 0:
		d.keep(p, legalPending.idx, time.Time{}, ReasonLegalRetention)
	case legalRunning.idx >= 0:
		d.keep(p, legalRunning.idx, legalRunning.due, ReasonLegalRetention)
	case !erasureStarted && retainPending.idx >= 0:
		d.keep(p, retainPending.idx, time.Time{}, ReasonRetention)
	case !erasureStarted && retainRunning.idx >= 0:
		d.keep(p, retainRunning.idx, retainRunning.due, ReasonRetention)
	case dueBest.idx >= 0:
		r := &p.rules[dueBest.idx]
		d.Verdict, d.Until, d.NextReview = r.Action, dueBest.due, now
		d.winner, d.RuleID = dueBest.idx, r.ID
		d.Reason = ReasonDeletion
		if r.Trigger == TriggerErasureRequested {
			d.Reason = ReasonErasure
		}
	case deadlineNext.idx >= 0:
		reason := ReasonDeletion
		if p.rules[deadlineNext.idx].Trigger == TriggerErasureRequested {
			reason = ReasonErasure
		}
		d.keep(p, deadlineNext.idx, deadlineNext.due, reason)
	default:
		d.Verdict, d.Reason = Keep, ReasonNotStarted
	}
	if erasureStarted && d.Reason == ReasonDeletion && (retainPending.idx >= 0 || retainRunning.idx >= 0) {
		d.Reason = ReasonErasure // the request cut an ordinary retention short
	}

	// Overridden: every other rule whose clock started.
	if started > 0 {
		for _, list := range p.match(f.Category, f.Kind) {
			for _, i := range list {
				if i == d.winner || f.triggerTime(&p.rules[i]).IsZero() {
					continue
				}
				d.OverriddenCount++
				d.addOverridden(p, i)
			}
		}
	}

	if e.review != (Period{}) {
		limit := e.review.AddTo(now, e.loc)
		if d.NextReview.IsZero() || d.NextReview.After(limit) {
			d.NextReview = limit
		}
	}
	return d
}

func (d *Decision) keep(p *Policy, idx int32, until time.Time, reason Reason) {
	d.Verdict, d.Reason, d.Until, d.NextReview = Keep, reason, until, until
	d.winner, d.RuleID = idx, p.rules[idx].ID
}

// addOverridden keeps the maxOverridden overridden rules with the lowest
// IDs, sorted by ID.
func (d *Decision) addOverridden(p *Policy, i int32) {
	id := p.rules[i].ID
	n := int(d.nOver)
	pos := n
	for pos > 0 && p.rules[d.overridden[pos-1]].ID > id {
		pos--
	}
	if pos >= maxOverridden {
		return
	}
	if n < maxOverridden {
		n++
		d.nOver++
	}
	copy(d.overridden[pos+1:n], d.overridden[pos:n-1])
	d.overridden[pos] = i
}

// due returns when rule r, triggered at at, falls due.
func (e *Evaluator) due(r *Rule, at time.Time) time.Time {
	start := at.In(e.loc)
	if r.Trigger == TriggerFiscalYearEnd {
		start = e.policy.fye.FiscalYearEnd(start, e.loc)
	}
	return r.Period.AddTo(start, e.loc)
}

func lowerID(p *Policy, c candidate, i int32) candidate {
	if c.idx < 0 || p.rules[i].ID < p.rules[c.idx].ID {
		return candidate{idx: i}
	}
	return c
}

// later prefers the later end, then the lower ID.
func later(p *Policy, i int32, due time.Time, c candidate) bool {
	if !due.Equal(c.due) {
		return due.After(c.due)
	}
	return p.rules[i].ID < p.rules[c.idx].ID
}

// earlier prefers the earlier end, then the stronger action, then the
// lower ID.
func earlier(p *Policy, i int32, due time.Time, c candidate) bool {
	if !due.Equal(c.due) {
		return due.Before(c.due)
	}
	if a, b := p.rules[i].Action.strength(), p.rules[c.idx].Action.strength(); a != b {
		return a > b
	}
	return p.rules[i].ID < p.rules[c.idx].ID
}

// betterDue prefers, among rules already due, the stronger action, then
// the earlier due time, then the lower ID.
func betterDue(p *Policy, i int32, due time.Time, c candidate) bool {
	if a, b := p.rules[i].Action.strength(), p.rules[c.idx].Action.strength(); a != b {
		return a > b
	}
	if !due.Equal(c.due) {
		return due.Before(c.due)
	}
	return p.rules[i].ID < p.rules[c.idx].ID
}

// Decide evaluates a record at the evaluator's clock time, with the holds
// that the hold store reports for its subject and key (any holds already
// in facts count too).
func (e *Evaluator) Decide(ctx context.Context, key string, f Facts) (Decision, error) {
	holds, err := e.holds.Active(ctx, f.Subject, key)
	if err != nil {
		return Decision{}, fmt.Errorf("retention: decide: %w", err)
	}
	if len(holds) > 0 {
		f.Holds = append(holds, f.Holds...)
	}
	return e.Evaluate(f, e.clock()), nil
}

// PlaceHold places a legal hold on a subject or a record. The evaluator
// sets the ID (a ULID from its entropy) and PlacedAt (its clock) unless
// they are set, validates the hold and stores it. Errors wrap
// [ErrInvalidHold] or [ErrHoldExists].
func (e *Evaluator) PlaceHold(ctx context.Context, h Hold) (Hold, error) {
	if h.PlacedAt.IsZero() {
		h.PlacedAt = e.clock()
	}
	if h.ID == (ulid.ULID{}) {
		e.entropyMu.Lock()
		id, err := ulid.New(ulid.Timestamp(h.PlacedAt), e.entropy)
		e.entropyMu.Unlock()
		if err != nil {
			return Hold{}, fmt.Errorf("retention: place hold: new ID: %w", err)
		}
		h.ID = id
	}
	if err := h.Validate(); err != nil {
		return Hold{}, fmt.Errorf("retention: place hold: %w", err)
	}
	if err := e.holds.Place(ctx, h); err != nil {
		return Hold{}, fmt.Errorf("retention: place hold: %w", err)
	}
	return h, nil
}

// ReleaseHold releases hold id at the evaluator's clock time. Errors wrap
// [ErrHoldNotFound] or [ErrHoldReleased].
func (e *Evaluator) ReleaseHold(ctx context.Context, id ulid.ULID, by string) (Hold, error) {
	h, err := e.holds.Release(ctx, id, e.clock(), by)
	if err != nil {
		return h, fmt.Errorf("retention: release hold: %w", err)
	}
	return h, nil
}

// Holds returns the evaluator's hold store.
func (e *Evaluator) Holds() HoldStore { return e.holds }
