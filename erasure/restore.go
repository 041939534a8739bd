package erasure

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
)

// ReapplyReport counts what Reapply did.
type ReapplyReport struct {
	Requests int // erasure requests with steps done since the backup
	Steps    int // steps carried out again
}

// Reapply is the restore guard. After the host restores a backup of its
// database (or of its key store) taken at since, it re-applies every
// erasure step done at or after since: keys shredded again, the subject
// forgotten again, every host system asked to erase again from its first
// page, the suppression list and the consent ledger brought up to date.
// Recipients are not told twice. The request log (RequestStore) is the
// source of truth: keep it apart from the restored database, or restore it
// from a later copy.
//
// Every step is idempotent, so Reapply may be run again after a failure,
// or with an earlier since to be safe. It changes no request. Failures are
// returned together, one *ExecuteError per request.
func (s *Service) Reapply(ctx context.Context, since time.Time) (ReapplyReport, error) {
	if err := s.check(); err != nil {
		return ReapplyReport{}, err
	}
	var rep ReapplyReport
	var errs []error
	var after ulid.ULID
	for {
		page, err := s.st.Requests.List(ctx, Filter{Kind: KindErasure, UpdatedSince: since, After: after, Limit: 100})
		if err != nil {
			return rep, fmt.Errorf("erasure: reapply: %w", err)
		}
		for i := range page {
			r := &page[i]
			var failed []*StepError
			counted := false
			for j := range r.Steps {
				st := r.Steps[j]
				if st.State != StepDone || st.DoneAt.Before(since) || st.Kind == StepNotify {
					continue
				}
				if !counted {
					rep.Requests++
					counted = true
				}
				var err error
				if st.Kind == StepErase {
					st.Cursor = ""
					err = s.runEraser(ctx, r, &st, false)
				} else {
					err = s.actSafely(ctx, r, &st)
				}
				if err != nil {
					failed = append(failed, &StepError{RequestID: r.ID, Step: st.Kind, Name: stepName(&st), Err: err})
					continue
				}
				rep.Steps++
			}
			if len(failed) > 0 {
				errs = append(errs, &ExecuteError{RequestID: r.ID, Steps: failed})
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
