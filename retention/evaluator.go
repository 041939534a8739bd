package retention

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"sync"
	"time"
)

// Evaluator applies a [Policy] to records: it decides ([Evaluator.Decide]),
// explains, sweeps ([Evaluator.Sweep]), writes retention statements
// ([Evaluator.Statement]) and manages legal holds ([Evaluator.PlaceHold]
// and the other hold methods) in a [HoldStore] that only it reaches.
//
// An Evaluator is safe for concurrent use.
type Evaluator struct {
	policy *Policy
	holds  HoldStore
	clock  func() time.Time
	loc    *time.Location
	review Period

	entropyMu sync.Mutex
	entropy   io.Reader
}

// Options configure an [Evaluator]. The zero value and nil mean the
// documented defaults. [New] copies what it needs; the Clock and Entropy it
// is given are then used from many goroutines (Entropy under a lock), so
// Clock must be safe for concurrent use.
type Options struct {
	// Clock returns the current time for Decide, Sweep and holds.
	// Default: time.Now.
	Clock func() time.Time
	// Location is the time zone whose calendar and wall clock periods are
	// counted in, and in which the fiscal year ends. Default: time.UTC.
	Location *time.Location
	// Entropy is the randomness of hold IDs. Default: crypto/rand.Reader.
	// It is read under a lock, so it need not be safe for concurrent use.
	Entropy io.Reader
	// ReviewEvery caps how far in the future a decision's NextReview lies,
	// so that data kept indefinitely (under a hold, or waiting for an event
	// that has not happened) is looked at again. Default: no cap.
	ReviewEvery Period
}

// New returns an Evaluator for policy that keeps legal holds in holds.
// A nil opts means the defaults of [Options].
//
// A nil policy or hold store is an error, never a panic: "retention: New:
// nil Policy" (wrapping [ErrInvalidPolicy]) and "retention: New: nil
// HoldStore" ([ErrNoHoldStore]). A bad ReviewEvery is an error wrapping
// [ErrInvalidPeriod].
func New(policy *Policy, holds HoldStore, opts *Options) (*Evaluator, error) {
	if policy == nil {
		return nil, errNilPolicy
	}
	if holds == nil {
		return nil, ErrNoHoldStore
	}
	e := &Evaluator{policy: policy, holds: holds, clock: time.Now, loc: time.UTC, entropy: rand.Reader}
	if opts != nil {
		if opts.Clock != nil {
			e.clock = opts.Clock
		}
		if opts.Location != nil {
			e.loc = opts.Location
		}
		if opts.Entropy != nil {
			e.entropy = opts.Entropy
		}
		if err := opts.ReviewEvery.Validate(); err != nil {
			return nil, fmt.Errorf("retention: New: ReviewEvery: %w", err)
		}
		e.review = opts.ReviewEvery
	}
	return e, nil
}

// errNilPolicy is what New returns for a nil policy.
var errNilPolicy error = &wrapped{msg: "retention: New: nil Policy", err: ErrInvalidPolicy}

// wrapped is an error with its own message that wraps a sentinel.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// Policy returns the evaluator's policy.
func (e *Evaluator) Policy() *Policy { return e.policy }

// Location returns the time zone the evaluator counts periods in.
func (e *Evaluator) Location() *time.Location { return e.loc }

// Decide decides what happens to the host record with key key and facts
// f, now: it asks the hold store for the holds in force on f.Subject and
// on key, and evaluates at the evaluator's clock time. This is the call to
// make before deleting, anonymising or refusing to erase anything: data
// under a legal hold is kept ([ReasonHold]). Holds already in f.Holds
// count too.
//
// It fails only if the hold store fails; it then decides nothing.
// [Evaluator.EvaluateIgnoringHolds] is the same evaluation without the
// hold store, for hot loops that have checked holds another way.
func (e *Evaluator) Decide(ctx context.Context, key string, f Facts) (Decision, error) {
	holds, err := e.holds.Active(ctx, f.Subject, key)
	if err != nil {
		return Decision{}, fmt.Errorf("retention: decide: %w", err)
	}
	if len(holds) > 0 {
		f.Holds = append(holds, f.Holds...)
	}
	return e.evaluate(&f, e.clock()), nil
}
