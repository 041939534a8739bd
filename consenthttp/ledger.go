package consenthttp

import (
	"context"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// ledger is every call this package makes to the consent ledger, kept in
// one place: the purposes, the notice in force, a decision, and recording a
// change.
type ledger struct{ l *consent.Ledger }

func (l ledger) purposes() []consent.Purpose { return l.l.Purposes() }

func (l ledger) purpose(id consent.PurposeID) (consent.Purpose, bool) {
	for _, p := range l.l.Purposes() {
		if p.ID == id {
			return p, true
		}
	}
	return consent.Purpose{}, false
}

// notice returns the version of the privacy statement in force at t, or
// the zero Notice if the ledger has none.
func (l ledger) notice(t time.Time) consent.Notice {
	n, _ := l.l.NoticeAt(t)
	return n
}

func (l ledger) decide(ctx context.Context, s personaldata.SubjectID, p consent.PurposeID, at time.Time) (consent.Decision, error) {
	return l.l.Decide(ctx, s, p, at)
}

func (l ledger) record(ctx context.Context, c consent.Change) error {
	_, err := l.l.Record(ctx, c)
	return err
}

// switchable reports whether the subject may switch p off: the ledger
// accepts a withdrawal or objection only for purposes that rest on the
// subject's consent or on a ground one can object to.
func switchable(p consent.Purpose) bool {
	switch p.Basis {
	case personaldata.Consent, personaldata.LegitimateInterests, personaldata.PublicTask:
		return true
	}
	return false
}

// offType is the event that switches p off: a withdrawal of consent, an
// objection to processing on any other ground.
func offType(p consent.Purpose) consent.EventType {
	if p.Basis == personaldata.Consent {
		return consent.EventWithdraw
	}
	return consent.EventObject
}

// offByChoice reports whether d already rests on the subject's own
// withdrawal or objection, or on an erasure, so that switching off again
// would change nothing.
func offByChoice(d consent.Decision) bool {
	if d.Allowed {
		return false
	}
	switch d.Reason {
	case consent.ReasonWithdrawn, consent.ReasonObjected, consent.ReasonErased:
		return true
	}
	return false
}
