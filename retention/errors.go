package retention

import (
	"errors"
	"strconv"
	"strings"

	"github.com/personaldata/personaldata/internal/quote"
)

// Errors reported by this package. Implementations of [HoldStore] and
// [Disposer] return or wrap them; callers check them with [errors.Is].
var (
	// ErrInvalidPolicy reports a policy that cannot be used: no rules,
	// malformed JSON, an unknown field, too many rules.
	ErrInvalidPolicy = errors.New("retention: invalid policy")
	// ErrInvalidRule reports a rule with a missing or malformed field. It
	// arrives wrapped in a [*RuleError] that names the rule.
	ErrInvalidRule = errors.New("retention: invalid rule")
	// ErrDuplicateRule reports two rules with the same ID.
	ErrDuplicateRule = errors.New("retention: duplicate rule ID")
	// ErrUnknownTrigger reports a trigger name or value this package does
	// not know.
	ErrUnknownTrigger = errors.New("retention: unknown trigger")
	// ErrUnknownAction reports an action name or value this package does not
	// know, or an action that a rule cannot take (keep).
	ErrUnknownAction = errors.New("retention: unknown action")
	// ErrInvalidPeriod reports a negative, too long or malformed period.
	ErrInvalidPeriod = errors.New("retention: invalid period")
	// ErrNoRule reports that no rule of the policy covers the data asked
	// about.
	ErrNoRule = errors.New("retention: no rule covers this data")
	// ErrNoHoldStore is returned by [New] for a nil HoldStore.
	ErrNoHoldStore = errors.New("retention: New: nil HoldStore")

	// ErrInvalidHold reports a hold without an ID, without a subject or
	// record key, or with a malformed field.
	ErrInvalidHold = errors.New("retention: invalid hold")
	// ErrHoldExists reports a hold whose ID is already stored.
	ErrHoldExists = errors.New("retention: hold already exists")
	// ErrHoldNotFound reports a hold ID that is not stored.
	ErrHoldNotFound = errors.New("retention: hold not found")
	// ErrHoldReleased reports a hold that was already released.
	ErrHoldReleased = errors.New("retention: hold already released")

	// ErrNotFound is returned (or wrapped) by an [Disposer] when the record it
	// is asked to delete or anonymise no longer exists. The sweep counts
	// such a record as done, which makes repeated sweeps idempotent.
	ErrNotFound = errors.New("retention: record not found")
	// ErrInvalidRecord reports a record without a key.
	ErrInvalidRecord = errors.New("retention: invalid record")
	// ErrOutOfOrder reports a record that arrived in a sweep out of the
	// ascending key order the cursor relies on.
	ErrOutOfOrder = errors.New("retention: records out of key order")
)

// RuleError reports what is wrong with one rule of a policy. Its message
// names the rule by ID and position, never by content.
//
// A RuleError is a plain value and safe to share.
type RuleError struct {
	RuleID string // the rule's ID, possibly empty or malformed
	Index  int    // the rule's position in the policy, from 0
	Err    error  // wraps ErrInvalidRule, ErrDuplicateRule, ErrUnknownTrigger, ...
}

func (e *RuleError) Error() string {
	return "retention: rule " + quote.String(e.RuleID) + " (#" + strconv.Itoa(e.Index) + "): " + e.Err.Error()
}

func (e *RuleError) Unwrap() error { return e.Err }

// RecordError reports a record that a sweep could not act on. Key is the
// host's record key; no other record content is kept.
//
// A RecordError is a plain value and safe to share.
type RecordError struct {
	Key     string // the host's record key
	RuleID  string // the winning rule, if any
	Verdict Action // what the sweep tried to do
	Err     error  // what went wrong
}

func (e *RecordError) Error() string {
	return "retention: record " + quote.String(e.Key) + ": " + e.Verdict.String() + ": " + e.Err.Error()
}

func (e *RecordError) Unwrap() error { return e.Err }

// SweepError reports the records a sweep could not act on, and, if the
// sweep stopped before the end, why. It keeps at most
// [SweepOptions.MaxFailures] failures and counts the rest in Omitted, so
// its size does not grow with the number of records.
//
// A sweep returns a SweepError whenever a record failed, whether it ran to
// the end (Err is nil) or stopped (Err is the cause: the context's error,
// the record iterator's error or the Checkpoint error). Failures are never
// lost to a stop: the sweep's cursor stays before the first failed record,
// so resuming from it retries them.
//
// A SweepError is a plain value and safe to share once returned.
type SweepError struct {
	Failures []*RecordError // the first failures, in sweep order
	Omitted  int            // further failures not kept
	Err      error          // why the sweep stopped early; nil if it ran to the end
}

func (e *SweepError) Error() string {
	var b strings.Builder
	b.WriteString("retention: sweep: ")
	if e.Err != nil {
		b.WriteString("stopped: " + e.Err.Error() + "; ")
	}
	n := len(e.Failures) + e.Omitted
	b.WriteString(plural(n, "record") + " failed")
	if len(e.Failures) > 0 {
		b.WriteString("; first: " + e.Failures[0].Error())
	}
	return b.String()
}

// Unwrap returns the cause of the stop, if any, then the kept failures,
// so errors.Is and errors.As look into all of them.
func (e *SweepError) Unwrap() []error {
	errs := make([]error, 0, len(e.Failures)+1)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	for _, f := range e.Failures {
		errs = append(errs, f)
	}
	return errs
}
