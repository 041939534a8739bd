package consent

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// Reason is the machine-readable ground of a [Decision].
type Reason string

// The reasons. Each names the rule that decided; see the table in the
// package documentation.
const (
	ReasonGranted              Reason = "granted"                // a grant in force
	ReasonNoConsent            Reason = "no-consent"             // opt-in purpose, no grant
	ReasonWithdrawn            Reason = "withdrawn"              // consent withdrawn
	ReasonExpired              Reason = "expired"                // the grant expired
	ReasonFreshConsentRequired Reason = "fresh-consent-required" // a later notice version requires fresh consent
	ReasonGuardianRequired     Reason = "guardian-required"      // the only grant came from a child without a guardian
	ReasonObjected             Reason = "objected"               // the subject objected
	ReasonPrivacySignal        Reason = "privacy-signal"         // a browser privacy signal opted out, no explicit choice before it
	ReasonRestricted           Reason = "restricted"             // processing restricted (GDPR Art. 18)
	ReasonErased               Reason = "erased"                 // the subject was erased
	ReasonContract             Reason = "contract"               // contract basis, no choice
	ReasonLegalObligation      Reason = "legal-obligation"       // legal obligation basis, no choice
	ReasonVitalInterests       Reason = "vital-interests"        // vital interests basis, no choice
	ReasonPublicTask           Reason = "public-task"            // public task basis, no objection
	ReasonLegitimateInterests  Reason = "legitimate-interests"   // legitimate interests basis, no objection
	ReasonNotGranted           Reason = "not-granted"            // opt-in purpose on another basis, no grant
	ReasonBeforePurpose        Reason = "before-purpose"         // the purpose did not exist yet
)

// A Decision answers whether a subject's data may be processed for a
// purpose at a time, and why. It is a plain value, safe to share.
type Decision struct {
	Allowed bool
	Subject personaldata.SubjectID
	Purpose PurposeID
	At      time.Time
	Basis   personaldata.LegalBasis
	Reason  Reason
	// EventID is the event the decision rests on; zero if none.
	EventID ulid.ULID
	// NoticeVersion is the notice version of that event, if any.
	NoticeVersion string
	// Until, if not zero, is when the decision changes by itself: the
	// grant's expiry, or a notice version requiring fresh consent taking
	// effect.
	Until time.Time
}

// restrictedIn reports whether the last restriction event in list
// restricts.
func restrictedIn(list []entry) (bool, *entry) {
	for i := len(list) - 1; i >= 0; i-- {
		switch list[i].typ {
		case EventRestrict:
			return true, &list[i]
		case EventLiftRestriction:
			return false, nil
		}
	}
	return false, nil
}

// Decide answers whether subject's data may be processed for purpose at
// time at, and why. It reads only the in-memory index. A subject without
// events is decided by the purpose's basis alone (see the table in the
// package documentation): a service announcement on contract needs no
// event first. It returns an error for an unknown purpose, a time outside
// the range the ledger holds ([ErrTimeRange], the range of [Ledger.Record]),
// a subject whose stored chain is broken, or a closed ledger.
func (l *Ledger) Decide(ctx context.Context, subject personaldata.SubjectID, purpose PurposeID, at time.Time) (Decision, error) {
	if l.closed.Load() {
		return Decision{}, ErrClosed
	}
	p := l.reg.Load().purposes[purpose]
	if p == nil {
		return Decision{}, fmt.Errorf("consent: decide: %w: %s", ErrUnknownPurpose, quote.String(string(purpose)))
	}
	if !inRange(at) {
		return Decision{}, fmt.Errorf("consent: decide: %w: %s", ErrTimeRange, at.Format(time.RFC3339))
	}
	d := Decision{Subject: subject, Purpose: purpose, At: at, Basis: p.Basis}
	h := l.hot(subject)
	if h.isBroken {
		return Decision{}, fmt.Errorf("consent: decide: %w", h.full.broken)
	}
	evaluate(&d, p, &h, at.UnixNano())
	return d, nil
}

// Filter yields the subjects of subjects that may be processed for purpose
// at time at, in order: the host's own list, such as its customers, whether
// they have events or not; each is decided as by [Ledger.Decide]. An
// unknown purpose, a time out of range, a closed ledger, a done ctx or a
// subject whose chain is broken is yielded as an error; iteration stops
// after an error of the first four kinds, and goes on after a broken
// subject. Filter reads only the in-memory index. To filter only the
// subjects with events of a purpose, range over [Store.Subjects].
func (l *Ledger) Filter(ctx context.Context, purpose PurposeID, subjects iter.Seq[personaldata.SubjectID], at time.Time) iter.Seq2[personaldata.SubjectID, error] {
	return func(yield func(personaldata.SubjectID, error) bool) {
		if l.closed.Load() {
			yield("", ErrClosed)
			return
		}
		p := l.reg.Load().purposes[purpose]
		if p == nil {
			yield("", fmt.Errorf("consent: filter: %w: %s", ErrUnknownPurpose, quote.String(string(purpose))))
			return
		}
		if !inRange(at) {
			yield("", fmt.Errorf("consent: filter: %w: %s", ErrTimeRange, at.Format(time.RFC3339)))
			return
		}
		t := at.UnixNano()
		var d Decision
		n := 0
		for subject := range subjects {
			if n++; n&1023 == 0 {
				if err := ctx.Err(); err != nil {
					yield("", err)
					return
				}
			}
			h := l.hot(subject)
			if h.isBroken {
				if !yield(subject, fmt.Errorf("consent: filter: %w", h.full.broken)) {
					return
				}
				continue
			}
			d.Allowed = false
			evaluate(&d, p, &h, t)
			if d.Allowed && !yield(subject, nil) {
				return
			}
		}
	}
}

func (d *Decision) rest(e *entry, r Reason, allowed bool) {
	d.Allowed, d.Reason = allowed, r
	if e != nil {
		d.EventID, d.NoticeVersion = e.id, ""
		if e.notice != nil {
			d.NoticeVersion = e.notice.Version
		}
	} else {
		d.EventID, d.NoticeVersion = ulid.ULID{}, ""
	}
	d.Until = time.Time{}
}

// scanTimelines returns the timeline of p in st by scanning.
func scanTimelines(st *subjectState, p *purposeInfo) []entry {
	for i := range st.purposes {
		if st.purposes[i].idx == p.idx || (st.unreg && st.purposes[i].idx < 0 && st.purposes[i].purpose == p.ID) {
			return st.purposes[i].entries
		}
	}
	return nil
}

// evaluate fills d for purpose p and the subject h at t; h is zero for a
// subject without events.
func evaluate(d *Decision, p *purposeInfo, h *hot, t int64) {
	if t < p.since {
		d.rest(nil, ReasonBeforePurpose, false)
		return
	}
	if h.hasSubj {
		st := h.full
		for i := upto(st.subj, t) - 1; i >= 0; i-- {
			if st.subj[i].typ == EventErase && p.Basis != personaldata.LegalObligation {
				d.rest(&st.subj[i], ReasonErased, false)
				return
			}
		}
		if r, e := restrictedIn(st.subj[:upto(st.subj, t)]); r {
			d.rest(e, ReasonRestricted, false)
			return
		}
	}
	var list []entry
	if h.spansOK && p.idx >= 0 && p.idx < posLen {
		sp := h.spans[p.idx]
		list = h.all[sp[0] : sp[0]+sp[1]]
	} else if h.full != nil {
		list = scanTimelines(h.full, p)
	}
	n := upto(list, t)
	if h.restricts {
		if r, e := restrictedIn(list[:n]); r {
			d.rest(e, ReasonRestricted, false)
			return
		}
	}
	switch p.Basis {
	case personaldata.Contract:
		d.rest(nil, ReasonContract, true)
		return
	case personaldata.LegalObligation:
		d.rest(nil, ReasonLegalObligation, true)
		return
	case personaldata.VitalInterests:
		d.rest(nil, ReasonVitalInterests, true)
		return
	}
	// Find the last choice that counts, walking back from t.
	var skipped *entry
	var skipReason Reason
	for i := n - 1; i >= 0; i-- {
		e := &list[i]
		switch e.typ {
		case EventGrant:
			if e.minor && e.actor != ActorGuardian && p.Basis == personaldata.Consent {
				if skipped == nil {
					skipped, skipReason = e, ReasonGuardianRequired
				}
				continue
			}
			// A grant takes back an earlier objection; for direct
			// marketing, whatever the basis, only the subject's own (or
			// their guardian's) does.
			if p.DirectMarketing && e.actor == ActorAdministrator {
				if obj := standingObjection(list, i, p.Basis); obj >= 0 {
					d.rest(&list[obj], ReasonObjected, false)
					return
				}
			}
			grantDecision(d, p, e, t)
			return
		case EventWithdraw, EventObject:
			if e.method == MethodPrivacySignal && explicitBefore(list, i) {
				continue // recorded, but never overrides an explicit choice
			}
			r := ReasonObjected
			switch {
			case e.method == MethodPrivacySignal:
				r = ReasonPrivacySignal
			case p.Basis == personaldata.Consent && e.typ == EventWithdraw:
				r = ReasonWithdrawn
			}
			d.rest(e, r, false)
			return
		case EventExpire:
			if p.Basis == personaldata.Consent || p.Default == OptIn {
				d.rest(e, ReasonExpired, false)
				return
			}
		}
	}
	if skipped != nil {
		d.rest(skipped, skipReason, false)
		return
	}
	switch {
	case p.Basis == personaldata.Consent:
		d.rest(nil, ReasonNoConsent, false)
	case p.Default == OptIn:
		d.rest(nil, ReasonNotGranted, false)
	default:
		d.rest(nil, liReason(p), true)
	}
}

// inRange reports whether a decision may be asked about t: the range of
// event times, the zero time excluded.
func inRange(t time.Time) bool { return !t.IsZero() && validTime(t) }

func liReason(p *purposeInfo) Reason {
	if p.Basis == personaldata.PublicTask {
		return ReasonPublicTask
	}
	return ReasonLegitimateInterests
}

// explicitBefore reports whether a choice not made by a privacy signal
// precedes list[k].
func explicitBefore(list []entry, k int) bool {
	for j := k - 1; j >= 0; j-- {
		switch list[j].typ {
		case EventGrant, EventWithdraw, EventObject:
			if list[j].method != MethodPrivacySignal {
				return true
			}
		}
	}
	return false
}

// standingObjection returns the index of an objection before list[i] that
// no grant of the subject or a guardian took back, or -1. On the consent
// basis a withdrawal is not an objection.
func standingObjection(list []entry, i int, basis personaldata.LegalBasis) int {
	for j := i - 1; j >= 0; j-- {
		switch list[j].typ {
		case EventObject, EventWithdraw:
			if list[j].method == MethodPrivacySignal && explicitBefore(list, j) {
				continue
			}
			if list[j].typ == EventWithdraw && basis == personaldata.Consent {
				continue
			}
			return j
		case EventGrant:
			if list[j].actor != ActorAdministrator {
				return -1
			}
		}
	}
	return -1
}

// grantDecision decides on the grant e that is the last choice before t.
func grantDecision(d *Decision, p *purposeInfo, e *entry, t int64) {
	if e.expires != 0 && t >= e.expires {
		d.rest(e, ReasonExpired, false)
		return
	}
	// The first notice version after the one the grant was given under that
	// requires fresh consent for p ends it.
	lapse := int64(0)
	if i, _ := slices.BinarySearch(p.fresh, e.noticeEff()+1); i < len(p.fresh) {
		lapse = p.fresh[i]
		if t >= lapse {
			d.rest(e, ReasonFreshConsentRequired, false)
			return
		}
	}
	r := ReasonGranted
	if p.Basis != personaldata.Consent {
		r = liReason(p)
	}
	d.rest(e, r, true)
	until := e.expires
	if lapse != 0 && (until == 0 || lapse < until) {
		until = lapse
	}
	if until != 0 {
		d.Until = time.Unix(0, until).UTC()
	}
}
