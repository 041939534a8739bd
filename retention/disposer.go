package retention

import (
	"context"
)

// Disposer carries out a sweep's decisions on the host's records: it
// deletes or anonymises one record at a time. The host implements it over
// its own storage; [Evaluator.Sweep] calls it.
//
// Contract, for every method:
//
//   - Idempotent: asked to delete or anonymise a record that no longer
//     exists (or is already anonymised), a method returns an error wrapping
//     [ErrNotFound]; the sweep counts the record as done. Any other error
//     counts as a failure of that record, which a later or resumed sweep
//     retries.
//   - A method that returns because ctx is done should return ctx.Err()
//     (or wrap it): the sweep then stops before the record and does not
//     count it as failed.
//   - One sweep calls its Disposer from the goroutine that called Sweep,
//     one record at a time; several sweeps running at once call it
//     concurrently.
//   - The sweep has re-checked legal holds right before the call; the
//     Disposer need not.
type Disposer interface {
	// Delete deletes the record.
	Delete(ctx context.Context, r Record) error
	// Anonymise removes what identifies the subject from the record.
	Anonymise(ctx context.Context, r Record) error
}

// Record is one host record as a sweep sees it: the host's key and the
// facts the policy needs. The key identifies the record to the [Disposer]
// and in reports and errors; it must not itself be personal data. A Record
// is a plain value and safe to share.
type Record struct {
	Key   string
	Facts Facts
}
