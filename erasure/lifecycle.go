package erasure

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// Submission is a request as it arrives.
type Submission struct {
	Subject personaldata.SubjectID
	Kind    Kind
	// Purposes of an objection (required) or a restriction (empty: all).
	Purposes []string
	// Identifiers of the person (e-mail, phone) to add to the suppression
	// list when the subject is erased. Only their keyed hashes are kept.
	Identifiers []Identifier
	// Actor records who submitted it: "subject", a staff ID.
	Actor string
}

// MaxTextLen bounds actors, reasons, evidence and purposes, in bytes.
const MaxTextLen = 1024

func checkText(what, s string, required bool) error {
	if required && s == "" {
		return fmt.Errorf("%w: %s is required", ErrInvalidRequest, what)
	}
	if len(s) > MaxTextLen {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidRequest, what, MaxTextLen)
	}
	return nil
}

// Submit records a new request in state received, due one calendar month
// after now (Art. 12(3)). If Options.RepeatWindow is set and an identical
// request (same subject, kind and purposes) was completed within it, the
// new request's RepeatOf names it: the host may then refuse it as
// excessive with RefuseExcessive.
func (s *Service) Submit(ctx context.Context, sub Submission) (Request, error) {
	if err := s.check(); err != nil {
		return Request{}, err
	}
	if err := sub.Subject.Validate(); err != nil {
		return Request{}, fmt.Errorf("%w: %w", ErrUnknownSubject, err)
	}
	if sub.Kind < KindAccess || sub.Kind > KindPortability {
		return Request{}, fmt.Errorf("%w: kind %d", ErrInvalidRequest, sub.Kind)
	}
	if err := checkText("actor", sub.Actor, true); err != nil {
		return Request{}, err
	}
	if sub.Kind == KindObjection && len(sub.Purposes) == 0 {
		return Request{}, fmt.Errorf("%w: an objection names its purposes", ErrInvalidRequest)
	}
	for _, p := range sub.Purposes {
		if err := checkText("purpose", p, true); err != nil {
			return Request{}, err
		}
	}
	now := s.o.Now()
	id, err := s.newID(now)
	if err != nil {
		return Request{}, err
	}
	r := Request{
		ID: id, Subject: sub.Subject, Kind: sub.Kind, State: StateReceived,
		Purposes: slices.Clone(sub.Purposes), ReceivedAt: now, UpdatedAt: now, Version: 1,
		History: []Transition{{To: StateReceived, At: now, Actor: sub.Actor}},
	}
	slices.Sort(r.Purposes)
	for _, ident := range sub.Identifiers {
		d, err := s.Digest(ident)
		if err != nil {
			return Request{}, err
		}
		r.Digests = append(r.Digests, d)
	}
	r.Due = deadline(&r, s.o.PromiseDays, s.o.Location)
	if s.o.RepeatWindow > 0 {
		earlier, err := s.st.Requests.List(ctx, Filter{Subject: sub.Subject, Kind: sub.Kind})
		if err != nil {
			return Request{}, fmt.Errorf("erasure: submit: %w", err)
		}
		for _, e := range earlier {
			if e.State == StateCompleted && slices.Equal(e.Purposes, r.Purposes) && now.Sub(e.UpdatedAt) <= s.o.RepeatWindow {
				r.RepeatOf = e.ID
			}
		}
	}
	if err := s.st.Requests.Create(ctx, r); err != nil {
		return Request{}, fmt.Errorf("erasure: submit: %w", err)
	}
	return r, nil
}

// Get returns request id, or an error wrapping ErrNotFound.
func (s *Service) Get(ctx context.Context, id ulid.ULID) (Request, error) {
	if err := s.check(); err != nil {
		return Request{}, err
	}
	r, err := s.st.Requests.Get(ctx, id)
	if err != nil {
		return Request{}, fmt.Errorf("erasure: get: %w", err)
	}
	return r, nil
}

// change loads request id, applies fn at the current time and stores the
// result. If fn fails, or the clock reads earlier than the request's last
// change, nothing is stored.
func (s *Service) change(ctx context.Context, id ulid.ULID, fn func(r *Request, now time.Time) error) (Request, error) {
	if err := s.check(); err != nil {
		return Request{}, err
	}
	defer s.lock(id)()
	r, err := s.st.Requests.Get(ctx, id)
	if err != nil {
		return Request{}, fmt.Errorf("erasure: request %s: %w", id, err)
	}
	now := s.o.Now()
	if now.Before(r.UpdatedAt) {
		return Request{}, fmt.Errorf("%w: %s is before the request's last change at %s", ErrClockBackwards, now.Format(time.RFC3339Nano), r.UpdatedAt.Format(time.RFC3339Nano))
	}
	if err := fn(&r, now); err != nil {
		return Request{}, err
	}
	if err := s.save(ctx, &r, now); err != nil {
		return Request{}, err
	}
	return r, nil
}

func (s *Service) save(ctx context.Context, r *Request, now time.Time) error {
	r.UpdatedAt = now
	r.NextDue = time.Time{}
	for _, st := range r.Steps {
		if st.State == StepScheduled && !st.Due.IsZero() && (r.NextDue.IsZero() || st.Due.Before(r.NextDue)) {
			r.NextDue = st.Due
		}
	}
	r.Version++
	if err := s.st.Requests.Update(ctx, *r); err != nil {
		r.Version--
		return fmt.Errorf("erasure: request %s: %w", r.ID, err)
	}
	return nil
}

func move(r *Request, to State, now time.Time, actor, reason, evidence string) error {
	if err := checkText("actor", actor, true); err != nil {
		return err
	}
	if !canMove(r.State, to) {
		return fmt.Errorf("%w: request %s is %s, cannot become %s", ErrWrongState, r.ID, r.State, to)
	}
	r.History = append(r.History, Transition{From: r.State, To: to, At: now, Actor: actor, Reason: reason, Evidence: evidence})
	r.State = to
	return nil
}

// VerifyIdentity records that the requester was identified as the subject.
// The host's promise (Options.PromiseDays) runs from now.
func (s *Service) VerifyIdentity(ctx context.Context, id ulid.ULID, actor string) (Request, error) {
	return s.change(ctx, id, func(r *Request, now time.Time) error {
		if err := move(r, StateIdentityVerified, now, actor, "", ""); err != nil {
			return err
		}
		r.VerifiedAt = now
		r.Due = deadline(r, s.o.PromiseDays, s.o.Location)
		return nil
	})
}

// Start records that work on a verified or extended request began.
func (s *Service) Start(ctx context.Context, id ulid.ULID, actor string) (Request, error) {
	return s.change(ctx, id, func(r *Request, now time.Time) error {
		return move(r, StateInProgress, now, actor, "", "")
	})
}

// Extend extends the deadline once, by one or two further months counted
// from the original deadline (Art. 12(3)), with the reason the person must
// be told. The host's own promise no longer applies.
func (s *Service) Extend(ctx context.Context, id ulid.ULID, actor string, months int, reason string) (Request, error) {
	if months < 1 || months > 2 {
		return Request{}, fmt.Errorf("%w: an extension is 1 or 2 months, not %d", ErrInvalidRequest, months)
	}
	if err := checkText("reason", reason, true); err != nil {
		return Request{}, err
	}
	return s.change(ctx, id, func(r *Request, now time.Time) error {
		if r.ExtendedMonths > 0 {
			return fmt.Errorf("%w: request %s was already extended", ErrWrongState, r.ID)
		}
		if err := move(r, StateExtended, now, actor, reason, ""); err != nil {
			return err
		}
		r.ExtendedMonths = months
		r.Due = deadline(r, s.o.PromiseDays, s.o.Location)
		return nil
	})
}

// Refuse refuses an open request with a reason told to the person and the
// evidence it rests on, and issues the refusal's receipt.
func (s *Service) Refuse(ctx context.Context, id ulid.ULID, actor, reason, evidence string) (Request, *Receipt, error) {
	if err := checkText("reason", reason, true); err != nil {
		return Request{}, nil, err
	}
	if err := checkText("evidence", evidence, false); err != nil {
		return Request{}, nil, err
	}
	r, err := s.change(ctx, id, func(r *Request, now time.Time) error {
		return move(r, StateRefused, now, actor, reason, evidence)
	})
	if err != nil {
		return Request{}, nil, err
	}
	rc, err := s.ensureReceipt(ctx, &r)
	return r, rc, err
}

// RefuseExcessive refuses a repeated request as excessive (Art. 12(5)),
// with the earlier identical request as evidence. It fails with
// ErrWrongState if the request is not a repeat.
func (s *Service) RefuseExcessive(ctx context.Context, id ulid.ULID, actor string) (Request, *Receipt, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return Request{}, nil, err
	}
	if r.RepeatOf == (ulid.ULID{}) {
		return Request{}, nil, fmt.Errorf("%w: request %s repeats no earlier request", ErrWrongState, id)
	}
	return s.Refuse(ctx, id, actor, "excessive: identical to a request completed recently (GDPR Art. 12(5))", "earlier request "+r.RepeatOf.String())
}

// Complete records that the host carried out an access, portability or
// rectification request, and issues its receipt. For a restriction or
// objection it first records the restrict or object events in the consent
// ledger. A rectification or restriction is told to every recipient
// (Art. 19) before it is completed; a recipient that cannot be told fails
// the call with an *ExecuteError and the request stays open. An erasure is
// completed by Execute.
func (s *Service) Complete(ctx context.Context, id ulid.ULID, actor string) (Request, *Receipt, error) {
	if err := checkText("actor", actor, true); err != nil {
		return Request{}, nil, err
	}
	pre, err := s.Get(ctx, id)
	if err != nil {
		return Request{}, nil, err
	}
	if pre.Kind == KindErasure {
		return Request{}, nil, fmt.Errorf("%w: an erasure is completed by Execute", ErrWrongKind)
	}
	if !canMove(pre.State, StateCompleted) {
		return Request{}, nil, fmt.Errorf("%w: request %s is %s, cannot become completed", ErrWrongState, id, pre.State)
	}
	if pre.Kind == KindRestriction || pre.Kind == KindObjection {
		if s.o.Consent == nil {
			return Request{}, nil, ErrNoConsent
		}
		op, purposes := opRestrict, pre.Purposes
		if pre.Kind == KindObjection {
			op = opObject
		}
		if len(purposes) == 0 {
			purposes = []string{""}
		}
		for _, p := range purposes {
			if err := recordConsent(ctx, s.o.Consent, op, pre.Subject, p); err != nil {
				return Request{}, nil, fmt.Errorf("erasure: request %s: record %s of purpose %s: %w", id, pre.Kind, quote.String(p), err)
			}
		}
	}
	var told []string
	if pre.Kind == KindRectification || pre.Kind == KindRestriction {
		for _, to := range s.o.Recipients {
			err := s.contain(ctx, s.o.Timeout, func(ctx context.Context) error { return s.o.Notifier.Notify(ctx, to, id, pre.Subject) })
			if err != nil {
				return Request{}, nil, &ExecuteError{RequestID: id, Steps: []*StepError{{RequestID: id, Step: StepNotify, Name: to, Err: err}}}
			}
			told = append(told, to)
		}
	}
	r, err := s.change(ctx, id, func(r *Request, now time.Time) error {
		if err := move(r, StateCompleted, now, actor, "", ""); err != nil {
			return err
		}
		for _, to := range told {
			r.Steps = append(r.Steps, Step{Kind: StepNotify, State: StepDone, Name: to, Attempts: 1, DoneAt: now})
		}
		return nil
	})
	if err != nil {
		return Request{}, nil, err
	}
	rc, err := s.ensureReceipt(ctx, &r)
	return r, rc, err
}

// Overdue lists the open requests whose deadline has passed.
func (s *Service) Overdue(ctx context.Context) ([]Request, error) {
	return s.dueWithin(ctx, 0, true)
}

// DueSoon lists the open requests due within d from now, not yet overdue,
// earliest first.
func (s *Service) DueSoon(ctx context.Context, d time.Duration) ([]Request, error) {
	return s.dueWithin(ctx, d, false)
}

func (s *Service) dueWithin(ctx context.Context, d time.Duration, overdue bool) ([]Request, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	open, err := s.st.Requests.List(ctx, Filter{Open: true})
	if err != nil {
		return nil, fmt.Errorf("erasure: list open requests: %w", err)
	}
	now := s.o.Now()
	out := open[:0]
	for _, r := range open {
		if r.Overdue(now) == overdue && (overdue || !r.Due.After(now.Add(d))) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b Request) int { return a.Due.Compare(b.Due) })
	return out, nil
}
