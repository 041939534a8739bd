package erasure

import (
	"context"
	"errors"
	"fmt"

	"github.com/oklog/ulid/v2"
)

// BatchReport counts what ExecuteBatch did.
type BatchReport struct {
	Completed int // requests completed, receipt issued
	Failed    int // requests left in progress with failed steps
}

// ExecuteBatch executes many erasure requests (closed accounts, a bulk
// clean-up) at a fraction of the cost of one Execute each: it runs the
// same steps in the same order, but stores each request once, after all
// its steps ran, and appends the receipts to the chain in one run.
//
// The price is in retries: Execute stores each step's outcome as it
// happens and never repeats a completed step, while after a crash in the
// middle of ExecuteBatch the steps of the requests not yet stored run
// again. Every step is idempotent, so that repeats work, not harm.
//
// Requests that are not erasures, not verified, or fail, are reported in
// the returned error (Unwrap() []error); the others are completed.
func (s *Service) ExecuteBatch(ctx context.Context, ids []ulid.ULID, actor string) (BatchReport, error) {
	if err := s.check(); err != nil {
		return BatchReport{}, err
	}
	if err := checkText("actor", actor, true); err != nil {
		return BatchReport{}, err
	}
	var rep BatchReport
	var errs []error
	var finished []*Request
	for _, id := range ids {
		r, err := s.batchOne(ctx, id, actor)
		if err != nil {
			rep.Failed++
			errs = append(errs, err)
			continue
		}
		if r != nil {
			finished = append(finished, r)
		}
	}
	if len(finished) > 0 {
		rcs := make([]*Receipt, len(finished))
		for i, r := range finished {
			rcs[i] = s.receiptFor(r, false, nil)
		}
		if err := s.issueAll(ctx, rcs); err != nil {
			return rep, errors.Join(append(errs, err)...)
		}
		rep.Completed = len(finished)
	}
	if len(errs) > 0 {
		return rep, errors.Join(errs...)
	}
	return rep, nil
}

func (s *Service) batchOne(ctx context.Context, id ulid.ULID, actor string) (*Request, error) {
	defer s.lock(id)()
	r, err := s.st.Requests.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("erasure: batch %s: %w", id, err)
	}
	if r.Kind != KindErasure {
		return nil, fmt.Errorf("%w: request %s is %s", ErrWrongKind, id, r.Kind)
	}
	if r.State == StateCompleted {
		if _, err := s.ensureReceipt(ctx, &r); err != nil {
			return nil, err
		}
		return nil, nil
	}
	changed, xerr := s.execute(ctx, &r, actor, false)
	if !changed {
		return nil, xerr // nothing ran
	}
	if err := s.save(ctx, &r, r.UpdatedAt); err != nil {
		return nil, errors.Join(xerr, err)
	}
	if xerr != nil {
		return nil, xerr
	}
	return &r, nil
}

// issueAll chains, signs and stores receipts in order, reading the chain
// head once.
func (s *Service) issueAll(ctx context.Context, rcs []*Receipt) error {
	s.chainMu.Lock()
	defer s.chainMu.Unlock()
	var head *StoredReceipt
	for _, rc := range rcs {
		h, err := s.issueLocked(ctx, rc, head)
		if err != nil {
			return err
		}
		head = &h
	}
	return nil
}
