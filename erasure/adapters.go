package erasure

import (
	"context"
	"errors"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/retention"
)

// The types of sibling packages this package speaks are kept to this file,
// so that the rest of the package depends only on the small interfaces
// below.

// RetentionFacts are the facts retention decides on.
type RetentionFacts = retention.Facts

// RetentionDecider decides how long a key scope is kept.
// *retention.Evaluator implements it; its Decide honours legal holds. Give
// it the Service's clock.
type RetentionDecider interface {
	Decide(ctx context.Context, key string, f retention.Facts) (retention.Decision, error)
}

// ConsentRecorder records erase, restrict and object events.
// *consent.Ledger implements it.
type ConsentRecorder interface {
	Record(ctx context.Context, c consent.Change) (consent.Event, error)
}

type consentOp uint8

const (
	opErase consentOp = iota + 1
	opRestrict
	opObject
)

// recordConsent records one event. An erased subject already has its
// erase event, so consent.ErrErased on an erase counts as done.
func recordConsent(ctx context.Context, rec ConsentRecorder, op consentOp, subject personaldata.SubjectID, purpose string) error {
	typ := map[consentOp]consent.EventType{opErase: consent.EventErase, opRestrict: consent.EventRestrict, opObject: consent.EventObject}[op]
	_, err := rec.Record(ctx, consent.Change{
		Type:    typ,
		Subject: subject,
		Purpose: consent.PurposeID(purpose),
		Method:  consent.MethodAdministrator,
		Actor:   consent.ActorAdministrator,
	})
	if err != nil && op == opErase && errors.Is(err, consent.ErrErased) {
		return nil
	}
	return err
}

// scopeDecision is what retention says about one scope.
type scopeDecision struct {
	due                           bool
	until                         time.Time
	ruleID, citation, explanation string
}

func decideScope(ctx context.Context, d RetentionDecider, key string, f retention.Facts) (scopeDecision, error) {
	dec, err := d.Decide(ctx, key, f)
	if err != nil {
		return scopeDecision{}, err
	}
	sd := scopeDecision{due: dec.Due(), explanation: dec.Explain()}
	if r, ok := dec.Rule(); ok {
		sd.ruleID, sd.citation = r.ID, r.Citation
	}
	if !sd.due {
		sd.until = dec.Until
		if sd.until.IsZero() {
			sd.until = dec.NextReview
		}
	}
	return sd, nil
}
