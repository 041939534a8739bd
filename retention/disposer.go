package retention

import (
	"context"
)

// Actor carries out decisions on the host's records. Implementations must
// be idempotent: asked to delete or anonymise a record that no longer
// exists (or is already anonymised), they return an error wrapping
// [ErrNotFound], which the sweep counts as done. They may be called from
// one goroutine at a time by each sweep; running several sweeps at once
// makes concurrent calls.
type Actor interface {
	// Delete deletes the record.
	Delete(ctx context.Context, r Record) error
	// Anonymise removes what identifies the subject from the record.
	Anonymise(ctx context.Context, r Record) error
}

// Record is one host record as a sweep sees it: the host's key and the
// facts the policy needs. The key identifies the record to the [Actor] and
// in reports; it must not itself be personal data. A Record is a plain
// value and safe to share.
type Record struct {
	Key   string
	Facts Facts
}
