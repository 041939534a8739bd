package retention

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/personaldata/personaldata/internal/quote"
)

// SweepOptions configure one sweep. The zero value is a real sweep from
// the first record. The sweep calls the functions it is given from the
// goroutine that called Sweep.
type SweepOptions struct {
	// DryRun evaluates every record, re-checks holds and reports what would
	// happen, but calls neither the Disposer nor Review.
	DryRun bool
	// After resumes an interrupted sweep: records whose key is at or
	// before After are skipped. Pass the Cursor of the interrupted
	// sweep's Report (or the last one given to Checkpoint). The host may
	// also start its iterator after the cursor itself, which is cheaper.
	// The cursor never passes a record that failed, so a resumed sweep
	// retries every failure of the sweep it resumes.
	After string
	// Compare orders record keys; records must arrive in strictly
	// ascending order under it, or the sweep stops with ErrOutOfOrder.
	// Default: strings.Compare (byte order, as SQL's binary collation).
	Compare func(a, b string) int
	// Review is called for records whose verdict is Review; nil means such
	// records are only counted. An error counts as a failure. Like the
	// Disposer, it must be idempotent: a resumed sweep may call it again
	// for a record it was called for after an earlier failure.
	Review func(ctx context.Context, r Record, d Decision) error
	// Checkpoint, if set, is called with the cursor (Report.Cursor) every
	// CheckpointEvery records and once at the end, so that the host can
	// persist it and resume from it after a crash. The cursor does not move
	// past a failed record, so the same cursor may be passed again. An
	// error stops the sweep.
	Checkpoint      func(ctx context.Context, cursor string) error
	CheckpointEvery int // default 1000
	// MaxFailures caps how many failed records the SweepError keeps; the
	// rest are counted. Default 100.
	MaxFailures int
}

// Report says what a sweep did. Its size depends on the number of rules,
// not on the number of records.
//
// A Report is a plain value; it is not safe to modify while another
// goroutine reads it.
type Report struct {
	DryRun     bool
	Now        time.Time // the evaluation time of every record
	PolicyHash Hash
	// Seen counts records evaluated; Skipped those at or before the
	// resume cursor.
	Seen, Skipped int
	// ByVerdict counts records by final verdict, after the hold re-check.
	ByVerdict map[Action]int
	// ByRule counts records by winning rule ID; "" counts records no rule
	// decided (holds, data no rule covers).
	ByRule map[string]int
	// Held counts records kept because of a legal hold.
	Held int
	// Deleted, Anonymised and Reviewed count actions carried out; they
	// stay zero in a dry run.
	Deleted, Anonymised, Reviewed int
	// AlreadyGone counts records the Disposer reported as not found.
	AlreadyGone int
	// Failed counts records that could not be handled; see SweepError.
	Failed int
	// Cursor is where to resume, as SweepOptions.After: the key of the
	// last record up to which every record was handled (acted on, found
	// gone or kept). It stops before the first record that failed, so a
	// resumed sweep retries the failures; records after it that were
	// handled are evaluated again, which the idempotent Disposer makes
	// harmless. Without failures it is the last record handled.
	Cursor string
}

// Sweep walks records, evaluates each at the evaluator's clock time (read
// once, at the start) and carries out what is due through disposer (which
// may be nil for a dry run).
//
// Right before acting on a record, Sweep asks the hold store for the
// record's active holds and evaluates again; a record under a hold is
// kept. Deleting or anonymising a record that is already gone counts as
// done, so a sweep can be repeated or resumed after an interruption
// (SweepOptions.After, Report.Cursor). Sweep keeps nothing per record:
// memory does not grow with the number of records.
//
// Failures of single records (the Disposer, Review or the hold check
// failed) do not stop the sweep. Sweep stops at an error from records, at
// an empty key ([ErrInvalidRecord]) or a key out of order
// ([ErrOutOfOrder]), at a Checkpoint error, or when ctx is done; the
// Report then covers the records handled so far. If any record failed,
// the error is a [*SweepError] listing the failures, with the cause of
// the stop in its Err field (nil if the sweep ran to the end); otherwise
// a stop returns its cause, wrapped. Either way Report.Cursor is where to
// resume, and resuming retries every failure.
//
// Sweep may be called from several goroutines, on disjoint sets of
// records.
func (e *Evaluator) Sweep(ctx context.Context, records iter.Seq2[Record, error], disposer Disposer, opts SweepOptions) (Report, error) {
	now := e.clock().In(e.loc)
	rep := Report{
		DryRun: opts.DryRun, Now: now, PolicyHash: e.policy.hash, Cursor: opts.After,
		ByVerdict: map[Action]int{}, ByRule: map[string]int{},
	}
	if disposer == nil && !opts.DryRun {
		return rep, errors.New("retention: Sweep: nil Disposer")
	}
	compare := opts.Compare
	if compare == nil {
		compare = strings.Compare
	}
	every := opts.CheckpointEvery
	if every <= 0 {
		every = 1000
	}
	maxFail := opts.MaxFailures
	if maxFail <= 0 {
		maxFail = 100
	}
	var fails SweepError
	fail := func(rec *Record, d *Decision, err error) {
		rep.Failed++
		if len(fails.Failures) < maxFail {
			fails.Failures = append(fails.Failures, &RecordError{Key: rec.Key, RuleID: d.RuleID, Verdict: d.Verdict, Err: err})
		} else {
			fails.Omitted++
		}
	}
	// stopped returns the result of a sweep stopped by cause.
	stopped := func(cause error) (Report, error) {
		if rep.Failed > 0 {
			fails.Err = cause
			return rep, &fails
		}
		return rep, fmt.Errorf("retention: sweep: %w", cause)
	}
	var prev string
	first := true
	sinceCheckpoint := 0
	for rec, err := range records {
		if err != nil {
			return stopped(fmt.Errorf("reading records: %w", err))
		}
		if err := ctx.Err(); err != nil {
			return stopped(err)
		}
		if rec.Key == "" {
			return stopped(fmt.Errorf("%w: empty key after %s", ErrInvalidRecord, quote.String(prev)))
		}
		if !first && compare(rec.Key, prev) <= 0 {
			return stopped(fmt.Errorf("%w: %s after %s", ErrOutOfOrder, quote.String(rec.Key), quote.String(prev)))
		}
		first, prev = false, rec.Key
		if opts.After != "" && compare(rec.Key, opts.After) <= 0 {
			rep.Skipped++
			continue
		}
		rep.Seen++
		d := e.evaluate(&rec.Facts, now)
		ok := true
		if d.Due() {
			// Re-check holds right before acting.
			holds, err := e.holds.Active(ctx, rec.Facts.Subject, rec.Key)
			switch {
			case err != nil && ctx.Err() != nil:
				rep.Seen--
				return stopped(ctx.Err())
			case err != nil:
				fail(&rec, &d, fmt.Errorf("checking holds: %w", err))
				ok = false
			case len(holds) > 0:
				f := rec.Facts
				f.Holds = append(holds, f.Holds...)
				d = e.evaluate(&f, now)
			}
		}
		if ok && d.Due() && !opts.DryRun {
			var err error
			switch d.Verdict {
			case Delete:
				err = disposer.Delete(ctx, rec)
			case Anonymise:
				err = disposer.Anonymise(ctx, rec)
			case Review:
				if opts.Review != nil {
					err = opts.Review(ctx, rec, d)
				}
			}
			switch {
			case err == nil:
				switch d.Verdict {
				case Delete:
					rep.Deleted++
				case Anonymise:
					rep.Anonymised++
				case Review:
					rep.Reviewed++
				}
			case errors.Is(err, ErrNotFound):
				rep.AlreadyGone++
			case ctx.Err() != nil:
				// Interrupted while acting: the record is neither done nor
				// failed; the cursor stays before it.
				rep.Seen--
				return stopped(ctx.Err())
			default:
				fail(&rec, &d, err)
				ok = false
			}
		}
		rep.ByVerdict[d.Verdict]++
		rep.ByRule[d.RuleID]++
		if d.Reason == ReasonHold {
			rep.Held++
		}
		if ok && rep.Failed == 0 {
			rep.Cursor = rec.Key
		}
		if sinceCheckpoint++; opts.Checkpoint != nil && sinceCheckpoint >= every {
			sinceCheckpoint = 0
			if err := opts.Checkpoint(ctx, rep.Cursor); err != nil {
				return stopped(fmt.Errorf("checkpoint: %w", err))
			}
		}
	}
	if opts.Checkpoint != nil && sinceCheckpoint > 0 {
		if err := opts.Checkpoint(ctx, rep.Cursor); err != nil {
			return stopped(fmt.Errorf("checkpoint: %w", err))
		}
	}
	if rep.Failed > 0 {
		return rep, &fails
	}
	return rep, nil
}
