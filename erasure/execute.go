package erasure

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata/internal/quote"
)

// Execute carries out an erasure request whose requester's identity was
// verified. The first call computes the plan (see Plan) at the request's
// receipt time and stores it as the request's steps; every call then runs
// the steps not done yet, in the safe order described in the package
// documentation, storing each step's outcome as soon as it is known. A
// step once done is never run again, so Execute is safe to retry after any
// failure or crash.
//
// When every step due now is done the request is completed and its
// receipt issued; kept scopes remain scheduled for RunDue. If steps fail,
// the request stays in progress with the failures recorded on their steps,
// and the error is an *ExecuteError listing them. Executing a completed
// request only makes sure its receipt exists.
//
// If the request store fails after a step ran but before its outcome was
// stored, the next Execute runs that step again (every step is
// idempotent); what the lost run counted is not reported.
func (s *Service) Execute(ctx context.Context, id ulid.ULID, actor string) (Request, *Receipt, error) {
	if err := s.check(); err != nil {
		return Request{}, nil, err
	}
	if err := checkText("actor", actor, true); err != nil {
		return Request{}, nil, err
	}
	unlock := s.lock(id)
	r, err := s.st.Requests.Get(ctx, id)
	if err != nil {
		unlock()
		return Request{}, nil, fmt.Errorf("erasure: execute %s: %w", id, err)
	}
	if r.Kind != KindErasure {
		unlock()
		return Request{}, nil, fmt.Errorf("%w: request %s is %s", ErrWrongKind, id, r.Kind)
	}
	if r.State != StateCompleted {
		_, err = s.execute(ctx, &r, actor, true)
	}
	unlock()
	if err != nil {
		return r, nil, err
	}
	rc, err := s.ensureReceipt(ctx, &r)
	return r, rc, err
}

// execute runs the pending steps of r; persist saves after each step.
// changed reports whether r changed (and, without persist, needs saving).
func (s *Service) execute(ctx context.Context, r *Request, actor string, persist bool) (changed bool, err error) {
	err = s.executeSteps(ctx, r, actor, persist, &changed, nil, true)
	return changed, err
}

// executeSteps plans r if needed and runs its pending and failed steps
// that sel selects (nil: all), in order. With finish, a request whose
// every step is done or scheduled is completed.
func (s *Service) executeSteps(ctx context.Context, r *Request, actor string, persist bool, changed *bool, sel func(*Step) bool, finish bool) error {
	if r.State == StateReceived || r.State == StateRefused {
		return fmt.Errorf("%w: request %s is %s; verify the identity first", ErrWrongState, r.ID, r.State)
	}
	now := s.o.Now()
	if now.Before(r.UpdatedAt) {
		return fmt.Errorf("%w: request %s last changed after now", ErrClockBackwards, r.ID)
	}
	if len(r.Steps) == 0 {
		p, err := s.plan(ctx, r.Subject, r.ReceivedAt, now)
		if err != nil {
			return err
		}
		r.Steps = steps(p, len(r.Digests) > 0)
		*changed = true
		if r.State != StateInProgress {
			if err := move(r, StateInProgress, now, actor, "", ""); err != nil {
				return err
			}
		}
		if persist {
			if err := s.save(ctx, r, now); err != nil {
				return err
			}
		} else {
			r.UpdatedAt = now
		}
	}
	var failed []*StepError
	for i := range r.Steps {
		st := &r.Steps[i]
		if st.State != StepPending && st.State != StepFailed || sel != nil && !sel(st) {
			continue
		}
		if err := ctx.Err(); err != nil {
			failed = append(failed, &StepError{RequestID: r.ID, Step: st.Kind, Name: stepName(st), Err: err})
			break
		}
		*changed = true
		if err := s.runStep(ctx, r, st, persist); err != nil {
			failed = append(failed, &StepError{RequestID: r.ID, Step: st.Kind, Name: stepName(st), Err: err})
			if errors.Is(err, ErrClockBackwards) {
				break
			}
		}
	}
	if len(failed) > 0 {
		return &ExecuteError{RequestID: r.ID, Steps: failed}
	}
	if !finish {
		return nil
	}
	for _, st := range r.Steps {
		if st.State != StepDone && st.State != StepScheduled {
			return nil // failed in an earlier phase of a batch
		}
	}
	now = s.o.Now()
	if now.Before(r.UpdatedAt) {
		return fmt.Errorf("%w: request %s last changed after now", ErrClockBackwards, r.ID)
	}
	if err := move(r, StateCompleted, now, actor, "", ""); err != nil {
		return err
	}
	*changed = true
	if persist {
		return s.save(ctx, r, now)
	}
	r.UpdatedAt = now
	return nil
}

func stepName(st *Step) string {
	if st.Name != "" {
		return st.Name
	}
	if len(st.Scopes) > 0 {
		return fmt.Sprint(st.Scopes)
	}
	return st.Kind.String()
}

// runStep runs one step and records its outcome on st (and, with persist,
// in the store). The error is the step's failure.
func (s *Service) runStep(ctx context.Context, r *Request, st *Step, persist bool) error {
	var err error
	if st.Kind == StepErase {
		err = s.runEraser(ctx, r, st, persist)
	} else {
		err = s.actSafely(ctx, r, st)
	}
	now := s.o.Now()
	if now.Before(r.UpdatedAt) {
		return fmt.Errorf("%w: request %s last changed after now", ErrClockBackwards, r.ID)
	}
	st.Attempts++
	if err != nil {
		st.State = StepFailed
		if len(st.Failures) < MaxFailures {
			st.Failures = append(st.Failures, now.UTC().Format(time.RFC3339)+" "+capText(err.Error()))
		}
	} else {
		st.State, st.DoneAt = StepDone, now
	}
	if persist {
		if serr := s.save(ctx, r, now); serr != nil {
			return errors.Join(err, serr)
		}
	} else {
		r.UpdatedAt = now
	}
	return err
}

// act carries out a step other than an eraser's.
func (s *Service) act(ctx context.Context, r *Request, st *Step) error {
	switch st.Kind {
	case StepSuppress:
		entries := make([]SuppressionEntry, len(r.Digests))
		for i, d := range r.Digests {
			entries[i] = SuppressionEntry{Digest: d, RequestID: r.ID, AddedAt: s.o.Now()}
		}
		return s.st.Suppression.Add(ctx, entries)
	case StepConsent:
		if s.o.Consent == nil {
			return ErrNoConsent
		}
		return recordConsent(ctx, s.o.Consent, opErase, r.Subject, "")
	case StepShred, StepShredLater:
		return s.shredder.ForgetScopes(ctx, r.Subject, st.Scopes...)
	case StepForgetSubject:
		return s.shredder.ForgetSubject(ctx, r.Subject)
	case StepNotify:
		if s.o.Notifier == nil {
			return errors.New("erasure: no Notifier configured")
		}
		return s.o.Notifier.Notify(ctx, st.Name, r.ID, r.Subject)
	}
	return fmt.Errorf("%w: unknown step kind %d", ErrInvalidRequest, st.Kind)
}

// runEraser asks a host system page by page, keeping the cursor and the
// counts on st after every page.
func (s *Service) runEraser(ctx context.Context, r *Request, st *Step, persist bool) error {
	var sys *System
	for i := range s.o.Systems {
		if s.o.Systems[i].Name == st.Name {
			sys = &s.o.Systems[i]
		}
	}
	if sys == nil {
		return fmt.Errorf("erasure: system %s is no longer registered", quote.String(st.Name))
	}
	timeout := sys.Timeout
	if timeout <= 0 {
		timeout = s.o.Timeout
	}
	for {
		var res EraseResult
		call := EraseCall{RequestID: r.ID, Subject: r.Subject, Cursor: st.Cursor, PageSize: s.o.PageSize}
		err := s.contain(ctx, timeout, func(ctx context.Context) error {
			var err error
			res, err = sys.Eraser.Erase(ctx, call)
			return err
		})
		if err != nil {
			return err
		}
		st.Removed += res.Removed
		st.Anonymised += res.Anonymised
		st.IndexEntries += res.IndexEntries
		st.Retained = mergeRetained(st.Retained, res.Retained)
		st.Cursor = res.Next
		if res.Next == "" {
			return nil
		}
		if persist {
			now := s.o.Now()
			if now.Before(r.UpdatedAt) {
				return fmt.Errorf("%w: request %s last changed after now", ErrClockBackwards, r.ID)
			}
			if err := s.save(ctx, r, now); err != nil {
				return err
			}
		}
	}
}

func mergeRetained(have, add []Retained) []Retained {
next:
	for _, a := range add {
		for i := range have {
			if have[i].Reason == a.Reason {
				have[i].Count += a.Count
				continue next
			}
		}
		have = append(have, a)
	}
	return have
}

// contain runs fn with a timeout, turning a panic into ErrEraserPanicked
// and an overrun into ErrTimeout. A call that ignores its context keeps
// running in its goroutine until it returns; its result is then dropped.
func (s *Service) contain(ctx context.Context, timeout time.Duration, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- fmt.Errorf("%w (%T)", ErrEraserPanicked, v)
			}
		}()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return fmt.Errorf("%w after %s: %w", ErrTimeout, timeout, err)
		}
		return err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w after %s", ErrTimeout, timeout)
		}
		return ctx.Err()
	}
}

// actSafely runs a step other than an eraser's in this goroutine, with
// the timeout on its context and a panic turned into an error. The
// shredder, ledger and stores honour contexts; a Notifier is host code and
// runs contained like an eraser.
func (s *Service) actSafely(ctx context.Context, r *Request, st *Step) (err error) {
	if st.Kind == StepNotify {
		return s.contain(ctx, s.o.Timeout, func(ctx context.Context) error { return s.act(ctx, r, st) })
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w (%T)", ErrEraserPanicked, v)
		}
	}()
	return s.act(ctx, r, st)
}

// capText keeps an error message short; it is stored on the request and
// shown in receipts.
func capText(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
