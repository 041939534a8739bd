package erasure

import (
	"context"
	"errors"
	"fmt"

	"github.com/oklog/ulid/v2"
)

// BatchEraser is an optional ability of an Eraser: erasing the rows of many
// subjects in one call ("DELETE ... WHERE subject IN (...)"). ExecuteBatch
// uses it when a system's Eraser has it, and Erase otherwise.
//
// EraseBatch returns one result per call, in order; each call pages on its
// own (its Cursor and Next). An error fails the whole call, and the batch
// then asks the system subject by subject with Erase.
type BatchEraser interface {
	EraseBatch(ctx context.Context, calls []EraseCall) ([]EraseResult, error)
}

// BatchReport counts what ExecuteBatch did.
type BatchReport struct {
	Completed int // requests completed, receipt issued
	Failed    int // requests left in progress with failed steps, or refused
}

// batchChunk is how many requests ExecuteBatch holds in memory at once.
const batchChunk = 500

// ExecuteBatch executes many erasure requests (closed accounts, a bulk
// clean-up) at a fraction of the cost of one Execute each. It runs the
// same steps in the same order for each request, but phase by phase over
// up to 500 requests at a time: first the suppression, consent and shred
// steps of each, then each host system once for all of them (through
// BatchEraser, if the system has it), then the notifications. Each request
// is stored once, after its steps ran, and the receipts are appended to
// the chain in one run, in the order of ids.
//
// The price is in retries: Execute stores each step's outcome as it
// happens and never repeats a completed step, while after a crash in the
// middle of ExecuteBatch the steps of the requests not yet stored run
// again. Every step is idempotent, so that repeats work, not harm.
// ExecuteBatch relies on the store's version check rather than the
// per-request lock of Execute: a request changed meanwhile fails with
// ErrConflict and is left to a later Execute.
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
	var finished []*Receipt
	for len(ids) > 0 {
		n := min(len(ids), batchChunk)
		items := s.batchRun(ctx, ids[:n], actor)
		ids = ids[n:]
		for _, it := range items {
			switch {
			case it.err != nil:
				rep.Failed++
				errs = append(errs, it.err)
			case it.r.State == StateCompleted && it.changed:
				finished = append(finished, s.receiptFor(&it.r, false, nil))
			}
		}
	}
	if len(finished) > 0 {
		if err := s.issueAll(ctx, finished); err != nil {
			return rep, errors.Join(append(errs, err)...)
		}
		rep.Completed = len(finished)
	}
	return rep, errors.Join(errs...)
}

type batchItem struct {
	r       Request
	changed bool
	failed  []*StepError
	err     error
}

// batchRun executes one chunk, phase by phase, and stores each request.
func (s *Service) batchRun(ctx context.Context, ids []ulid.ULID, actor string) []*batchItem {
	items := make([]*batchItem, 0, len(ids))
	var live []*batchItem
	for _, id := range ids {
		it := &batchItem{}
		items = append(items, it)
		r, err := s.st.Requests.Get(ctx, id)
		switch {
		case err != nil:
			it.err = fmt.Errorf("erasure: batch %s: %w", id, err)
		case r.Kind != KindErasure:
			it.err = fmt.Errorf("%w: request %s is %s", ErrWrongKind, id, r.Kind)
		case r.State == StateCompleted:
			_, it.err = s.ensureReceipt(ctx, &r)
		default:
			it.r = r
			live = append(live, it)
		}
	}
	phase := func(sel func(*Step) bool, finish bool) {
		for _, it := range live {
			if it.err != nil {
				continue
			}
			err := s.executeSteps(ctx, &it.r, actor, false, &it.changed, sel, finish)
			var xe *ExecuteError
			if errors.As(err, &xe) {
				it.failed = append(it.failed, xe.Steps...)
			} else if err != nil {
				it.err = err
			}
		}
	}
	phase(func(st *Step) bool { return st.Kind != StepErase && st.Kind != StepNotify }, false)
	for _, sys := range s.o.Systems {
		s.batchErase(ctx, sys, live)
	}
	phase(func(st *Step) bool { return st.Kind == StepNotify }, true)
	for _, it := range live {
		if it.err == nil && len(it.failed) > 0 {
			it.err = &ExecuteError{RequestID: it.r.ID, Steps: it.failed}
		}
		if !it.changed {
			continue
		}
		if err := s.save(ctx, &it.r, it.r.UpdatedAt); err != nil {
			it.err = errors.Join(it.err, err)
		}
	}
	return items
}

// batchErase asks one system about every request of the chunk.
func (s *Service) batchErase(ctx context.Context, sys System, live []*batchItem) {
	type job struct {
		it *batchItem
		st *Step
	}
	var jobs []job
	for _, it := range live {
		if it.err != nil {
			continue
		}
		for i := range it.r.Steps {
			st := &it.r.Steps[i]
			if st.Kind == StepErase && st.Name == sys.Name && (st.State == StepPending || st.State == StepFailed) {
				jobs = append(jobs, job{it, st})
			}
		}
	}
	be, ok := sys.Eraser.(BatchEraser)
	timeout := sys.Timeout
	if timeout <= 0 {
		timeout = s.o.Timeout
	}
	for ok && len(jobs) > 0 {
		calls := make([]EraseCall, len(jobs))
		for i, j := range jobs {
			calls[i] = EraseCall{RequestID: j.it.r.ID, Subject: j.it.r.Subject, Cursor: j.st.Cursor, PageSize: s.o.PageSize}
		}
		var res []EraseResult
		err := s.contain(ctx, timeout, func(ctx context.Context) error {
			var err error
			res, err = be.EraseBatch(ctx, calls)
			return err
		})
		if err != nil || len(res) != len(calls) {
			break // ask subject by subject below
		}
		now := s.o.Now()
		var more []job
		for i, j := range jobs {
			st := j.st
			st.Removed += res[i].Removed
			st.Anonymised += res[i].Anonymised
			st.IndexEntries += res[i].IndexEntries
			st.Retained = mergeRetained(st.Retained, res[i].Retained)
			st.Cursor = res[i].Next
			j.it.changed = true
			if res[i].Next != "" {
				more = append(more, j)
				continue
			}
			st.Attempts++
			st.State, st.DoneAt = StepDone, now
			j.it.r.UpdatedAt = now
		}
		jobs = more
	}
	for _, j := range jobs {
		j.it.changed = true
		if err := s.runStep(ctx, &j.it.r, j.st, false); err != nil {
			j.it.failed = append(j.it.failed, &StepError{RequestID: j.it.r.ID, Step: StepErase, Name: sys.Name, Err: err})
		}
	}
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
