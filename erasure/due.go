package erasure

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
)

// DueReport counts what RunDue did.
type DueReport struct {
	Requests    int // requests with a step due
	Shredded    int // kept scopes shredded now
	Rescheduled int // kept scopes whose retention was found to run longer
	Forgotten   int // subjects forgotten (tombstoned) after their last kept scope
	Receipts    int // supplementary receipts issued
}

// RunDue shreds the kept scopes whose retention has ended: the scheduled
// step of erasure. Call it periodically (daily is plenty). Before shredding
// a scope it asks Options.Retention again, with the facts the Inventory
// gives now, so a legal hold placed since, or a retention that runs longer,
// keeps the scope (it is rescheduled). When a subject's last kept scope is
// shredded, the subject is forgotten (tombstoned). Each request that had
// something shredded gets a supplementary receipt.
//
// Failures are recorded on their steps, which stay scheduled and are
// retried by the next run; they are returned together in an error whose
// Unwrap() []error yields one *ExecuteError per request.
func (s *Service) RunDue(ctx context.Context) (DueReport, error) {
	if err := s.check(); err != nil {
		return DueReport{}, err
	}
	var rep DueReport
	var errs []error
	now := s.o.Now()
	var after ulid.ULID
	for {
		page, err := s.st.Requests.List(ctx, Filter{ScheduledBy: now, After: after, Limit: 100})
		if err != nil {
			return rep, fmt.Errorf("erasure: run due: %w", err)
		}
		for _, r := range page {
			if err := s.runDueRequest(ctx, r.ID, &rep); err != nil {
				errs = append(errs, err)
			}
		}
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].ID
	}
	if len(errs) > 0 {
		return rep, errors.Join(errs...)
	}
	return rep, nil
}

func (s *Service) runDueRequest(ctx context.Context, id ulid.ULID, rep *DueReport) error {
	unlock := s.lock(id)
	r, err := s.st.Requests.Get(ctx, id)
	if err != nil {
		unlock()
		return fmt.Errorf("erasure: run due %s: %w", id, err)
	}
	now := s.o.Now()
	if now.Before(r.UpdatedAt) {
		unlock()
		return fmt.Errorf("%w: request %s last changed after now", ErrClockBackwards, id)
	}
	rep.Requests++
	var facts []ScopeFacts
	if s.o.Inventory != nil && s.o.Retention != nil {
		if facts, err = s.o.Inventory.Scopes(ctx, r.Subject); err != nil {
			unlock()
			return fmt.Errorf("erasure: run due %s: inventory: %w", id, err)
		}
	}
	var done []int
	var failed []*StepError
	for i := range r.Steps {
		st := &r.Steps[i]
		if st.State != StepScheduled || st.Kind != StepShredLater || st.Due.After(now) {
			continue
		}
		sf := ScopeFacts{Scope: st.Scopes[0]}
		known := false
		for _, f := range facts {
			if f.Scope.Normalize() == sf.Scope {
				sf, known = f, true
			}
		}
		if known {
			sp, err := s.decide(ctx, r.Subject, sf, r.ReceivedAt)
			if err != nil {
				failed = append(failed, s.stepFailed(&r, st, err, now))
				continue
			}
			if !sp.Now {
				st.Due, st.RuleID, st.Citation, st.Explanation = sp.Until, sp.RuleID, sp.Citation, sp.Explanation
				rep.Rescheduled++
				continue
			}
		}
		if err := s.actSafely(ctx, &r, st); err != nil {
			failed = append(failed, s.stepFailed(&r, st, err, now))
			continue
		}
		st.Attempts++
		st.State, st.DoneAt = StepDone, now
		done = append(done, i)
		rep.Shredded++
	}
	if len(failed) == 0 {
		s.forgetIfLast(ctx, &r, now, &done, &failed, rep)
	}
	if err := s.save(ctx, &r, now); err != nil {
		unlock()
		return err
	}
	unlock()
	if len(done) > 0 && r.State.Final() {
		if err := s.issue(ctx, s.receiptFor(&r, true, done)); err != nil {
			return err
		}
		rep.Receipts++
	}
	if len(failed) > 0 {
		return &ExecuteError{RequestID: r.ID, Steps: failed}
	}
	return nil
}

// forgetIfLast forgets the subject once no kept scope remains.
func (s *Service) forgetIfLast(ctx context.Context, r *Request, now time.Time, done *[]int, failed *[]*StepError, rep *DueReport) {
	fi := -1
	for i, st := range r.Steps {
		if st.Kind == StepShredLater && st.State != StepDone {
			return
		}
		if st.Kind == StepForgetSubject && st.State == StepScheduled {
			fi = i
		}
	}
	if fi < 0 {
		return
	}
	st := &r.Steps[fi]
	st.Due = now
	if err := s.actSafely(ctx, r, st); err != nil {
		*failed = append(*failed, s.stepFailed(r, st, err, now))
		return
	}
	st.Attempts++
	st.State, st.DoneAt = StepDone, now
	*done = append(*done, fi)
	rep.Forgotten++
}

// stepFailed records a failure of a scheduled step, which stays scheduled.
func (s *Service) stepFailed(r *Request, st *Step, err error, now time.Time) *StepError {
	st.Attempts++
	if len(st.Failures) < MaxFailures {
		st.Failures = append(st.Failures, now.UTC().Format(time.RFC3339)+" "+capText(err.Error()))
	}
	return &StepError{RequestID: r.ID, Step: st.Kind, Name: stepName(st), Err: err}
}

// Kept lists the scopes of subject still kept by its erasure requests, and
// until when.
func (s *Service) Kept(ctx context.Context, subject personaldata.SubjectID) ([]KeptScope, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rs, err := s.st.Requests.List(ctx, Filter{Subject: subject, Kind: KindErasure})
	if err != nil {
		return nil, fmt.Errorf("erasure: kept: %w", err)
	}
	var out []KeptScope
	for _, r := range rs {
		for _, st := range r.Steps {
			if st.Kind == StepShredLater && st.State == StepScheduled {
				out = append(out, KeptScope{Scope: st.Scopes[0], Until: st.Due, RuleID: st.RuleID, Citation: st.Citation, Explanation: st.Explanation})
			}
		}
	}
	return out, nil
}
