package retention

import (
	"time"
)

// candidate is the best rule found so far for one role.
type candidate struct {
	idx int32
	due time.Time
}

// EvaluateIgnoringHolds decides what happens to a record with the given
// facts at now, without asking the hold store: only the holds the caller
// put in f.Holds count. Use [Evaluator.Decide] unless holds are checked
// another way: a record under a hold that EvaluateIgnoringHolds does not
// see may be found due for deletion.
//
// It is pure: the same facts, policy and time give the same decision; it
// neither reads the clock nor touches the hold store, and it does not
// allocate, so it suits hot loops (planning, reports, what-if questions).
//
// Conflicts are settled in this order (see the package documentation):
// an active hold; retention required by law; an erasure request; the
// longest other retention; the earliest deletion.
func (e *Evaluator) EvaluateIgnoringHolds(f Facts, now time.Time) Decision {
	return e.evaluate(&f, now)
}

// evaluate is EvaluateIgnoringHolds on a pointer, for the callers that
// have added the hold store's holds to f.
func (e *Evaluator) evaluate(f *Facts, now time.Time) Decision {
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
