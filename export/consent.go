package export

import (
	"context"
	"encoding/hex"
	"errors"
	"iter"
	"reflect"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/pii"
)

// The categories an Exporter with a consent ledger adds to every export.
const (
	ConsentEvents    personaldata.Category = "consent-events"
	ConsentDecisions personaldata.Category = "consent-decisions"
	ConsentReceipts  personaldata.Category = "consent-receipts"
)

// ConsentEvent is a record of the ConsentEvents category: one event of
// the subject's consent history. Contact and Evidence are the personal data
// the event carried, revealed; nil if it carried none.
type ConsentEvent struct {
	Subject       string     `json:"subject" pii:"subject"`
	ID            string     `json:"id"`
	Seq           uint64     `json:"seq"`
	Type          string     `json:"type"`
	Purpose       string     `json:"purpose"`
	EffectiveAt   time.Time  `json:"effective_at"`
	RecordedAt    time.Time  `json:"recorded_at"`
	NoticeVersion string     `json:"notice_version"`
	Method        string     `json:"method"`
	Actor         string     `json:"actor"`
	Minor         bool       `json:"minor"`
	ExpiresAt     *time.Time `json:"expires_at"`
	EvidenceHash  string     `json:"evidence_hash"`
	Contact       *string    `json:"contact" pii:"consent-record"`
	Evidence      *string    `json:"evidence" pii:"consent-record"`
	Hash          string     `json:"hash"`
}

// ConsentDecision is a record of the ConsentDecisions category: whether a
// purpose may process the subject's data at the time of the export, and why.
type ConsentDecision struct {
	Purpose       string                  `json:"purpose"`
	Description   string                  `json:"description"`
	Basis         personaldata.LegalBasis `json:"basis"`
	Allowed       bool                    `json:"allowed"`
	Reason        string                  `json:"reason"`
	Event         string                  `json:"event"`
	NoticeVersion string                  `json:"notice_version"`
	Until         *time.Time              `json:"until"`
}

// prepared is a record the exporter made itself, with its erased fields.
type prepared struct {
	v      any
	erased map[string]struct{}
}

type builtinSource func(ctx context.Context, subject personaldata.SubjectID) iter.Seq2[any, error]

func (f builtinSource) Records(ctx context.Context, subject personaldata.SubjectID) iter.Seq2[any, error] {
	return f(ctx, subject)
}

var consentPurpose = []Purpose{{ID: "consent-proof", Basis: personaldata.LegalObligation,
	Description: "Showing which choices you made about consent, when and how (GDPR Art. 7(1))"}}

func consentRegistrations(l *consent.Ledger) []*registration {
	var plans plans
	plan := func(t reflect.Type) *plan { p, _ := plans.get(t); return p }
	return []*registration{{
		builtin: true, plan: plan(reflect.TypeFor[*ConsentEvent]()),
		cat: Category{Name: ConsentEvents, Title: "Consent choices", Origin: Provided, Portable: true, Purposes: consentPurpose,
			Description: "Every consent choice recorded about you (given, withdrawn, objected, restricted), when it took effect, how it was made and which version of the privacy statement you were shown."},
		src: builtinSource(func(ctx context.Context, s personaldata.SubjectID) iter.Seq2[any, error] {
			return consentEvents(ctx, l, s)
		}),
	}, {
		builtin: true, plan: plan(reflect.TypeFor[*ConsentDecision]()),
		cat: Category{Name: ConsentDecisions, Title: "Current consent decisions", Origin: Derived, Purposes: consentPurpose,
			Description: "For each purpose: whether we may process your data for it now, on which legal ground, and why."},
		src: builtinSource(func(ctx context.Context, s personaldata.SubjectID) iter.Seq2[any, error] {
			return consentDecisions(ctx, l, s)
		}),
	}, {
		builtin: true, plan: plan(reflect.TypeFor[*consent.Receipt]()),
		cat: Category{Name: ConsentReceipts, Title: "Consent receipts", Origin: Derived, Purposes: consentPurpose,
			Description: "A consent receipt (Kantara Consent Receipt v1.1) for each consent you gave."},
		src: builtinSource(func(ctx context.Context, s personaldata.SubjectID) iter.Seq2[any, error] {
			return consentReceipts(ctx, l, s)
		}),
	}}
}

func consentEvents(ctx context.Context, l *consent.Ledger, subject personaldata.SubjectID) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		evs, err := l.History(ctx, subject)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, ev := range evs {
			r := &ConsentEvent{
				Subject: string(ev.Subject), ID: ev.ID.String(), Seq: ev.Seq, Type: ev.Type.String(), Purpose: string(ev.Purpose),
				EffectiveAt: ev.EffectiveAt.UTC(), RecordedAt: ev.RecordedAt.UTC(), NoticeVersion: ev.NoticeVersion,
				Method: ev.Method.String(), Actor: ev.Actor.String(), Minor: ev.Minor, Hash: hex.EncodeToString(ev.Hash[:]),
			}
			if !ev.ExpiresAt.IsZero() {
				t := ev.ExpiresAt.UTC()
				r.ExpiresAt = &t
			}
			if ev.EvidenceHash != ([32]byte{}) {
				r.EvidenceHash = hex.EncodeToString(ev.EvidenceHash[:])
			}
			var erased map[string]struct{}
			if ev.Sealed != nil {
				pd, err := l.Reveal(ctx, ev)
				switch {
				case err == nil:
					r.Contact, r.Evidence = &pd.Contact, &pd.Evidence
				case errors.Is(err, pii.ErrErased) || errors.Is(err, consent.ErrErased):
					erased = map[string]struct{}{"Contact": {}, "Evidence": {}}
				default:
					yield(nil, err)
					return
				}
			}
			if !yield(prepared{r, erased}, nil) {
				return
			}
		}
	}
}

func consentDecisions(ctx context.Context, l *consent.Ledger, subject personaldata.SubjectID) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		now := time.Now()
		if t, ok := ctx.Value(nowKey{}).(time.Time); ok {
			now = t
		}
		for _, p := range l.Purposes() {
			d, err := l.Decide(ctx, subject, p.ID, now)
			if err != nil {
				yield(nil, err)
				return
			}
			r := &ConsentDecision{Purpose: string(p.ID), Description: p.Description, Basis: d.Basis,
				Allowed: d.Allowed, Reason: string(d.Reason), NoticeVersion: d.NoticeVersion}
			if d.EventID != ([16]byte{}) {
				r.Event = d.EventID.String()
			}
			if !d.Until.IsZero() {
				t := d.Until.UTC()
				r.Until = &t
			}
			if !yield(prepared{r, nil}, nil) {
				return
			}
		}
	}
}

func consentReceipts(ctx context.Context, l *consent.Ledger, subject personaldata.SubjectID) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		evs, err := l.History(ctx, subject)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, ev := range evs {
			if ev.Type != consent.EventGrant {
				continue
			}
			rc, err := l.Receipt(ctx, subject, ev.ID)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(prepared{rc, nil}, nil) {
				return
			}
		}
	}
}

// nowKey carries the export's time to built-in sources.
type nowKey struct{}
