package erasure

import (
	"context"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
)

// Eraser is a host system that holds rows of a subject: a CRM, a mail
// archive, a search index. Register each with Options.Systems.
//
// Erase deletes or anonymises the subject's rows and blind-index entries,
// one page at a time: the Service calls it with an empty Cursor, then with
// each Next it returns, until Next is empty. Cursors are persisted between
// calls, so an erasure interrupted on page 40 of 100 resumes there.
//
// Erase runs after the subject's keys were shredded (see the package
// documentation, "Execution order"): it must find rows by subject ID or
// blind index, never by decrypting them. It must be idempotent (a page
// erased twice removes nothing the second time), honour ctx, and keep
// personal data out of its errors. A panic or a call that outlives the
// timeout is contained and reported as a failure of the step.
type Eraser interface {
	Erase(ctx context.Context, call EraseCall) (EraseResult, error)
}

// EraserFunc adapts a function to the Eraser interface.
type EraserFunc func(ctx context.Context, call EraseCall) (EraseResult, error)

// Erase calls f.
func (f EraserFunc) Erase(ctx context.Context, call EraseCall) (EraseResult, error) {
	return f(ctx, call)
}

// EraseCall asks an Eraser for one page of work.
type EraseCall struct {
	RequestID ulid.ULID
	Subject   personaldata.SubjectID
	Cursor    string // "" for the first page
	PageSize  int    // a hint: rows per page
}

// EraseResult is what one page did.
type EraseResult struct {
	Removed      int        // rows deleted
	Anonymised   int        // rows kept with what identifies the subject removed
	IndexEntries int        // blind-index entries deleted
	Retained     []Retained // rows kept, and why
	Next         string     // cursor of the next page; "" when done
}

// System is a host system registered with a Service.
type System struct {
	// Name identifies the system in plans, requests and receipts
	// ("crm", "mail-archive"). It must be unique and not personal data.
	Name string
	// Does describes what the system will be asked, for the plan:
	// "delete the account row and the e-mail blind index".
	Does   string
	Eraser Eraser
	// Timeout bounds each Erase call; zero means Options.Timeout.
	Timeout time.Duration
}

// Notifier tells a recipient to whom the data was disclosed about an
// erasure, restriction or rectification (GDPR Art. 19). It must be
// idempotent per (recipient, request).
type Notifier interface {
	Notify(ctx context.Context, recipient string, requestID ulid.ULID, subject personaldata.SubjectID) error
}

// ScopeFacts describes one key scope of a subject for the retention
// decision: the facts of the latest record kept under that scope. See the
// package documentation, "Scopes for periods".
type ScopeFacts struct {
	Scope personaldata.Scope
	// Facts as retention sees them; the Service sets Subject, and
	// ErasureRequested to the request's receipt time if zero.
	Facts RetentionFacts
}

// Inventory tells the Service which key scopes a subject has data in.
// It must not change anything.
type Inventory interface {
	// Scopes returns the subject's scopes, or an empty list for a subject
	// the host does not know (then the Service reports ErrUnknownSubject).
	Scopes(ctx context.Context, subject personaldata.SubjectID) ([]ScopeFacts, error)
}

// InventoryFunc adapts a function to the Inventory interface.
type InventoryFunc func(ctx context.Context, subject personaldata.SubjectID) ([]ScopeFacts, error)

// Scopes calls f.
func (f InventoryFunc) Scopes(ctx context.Context, subject personaldata.SubjectID) ([]ScopeFacts, error) {
	return f(ctx, subject)
}

// KeyShredder crypto-shreds a subject's data keys. *pii.Protector
// implements it.
type KeyShredder interface {
	// ForgetScopes shreds the keys of the given scopes (at least one).
	// It is idempotent.
	ForgetScopes(ctx context.Context, subject personaldata.SubjectID, scopes ...personaldata.Scope) error
	// ForgetSubject shreds every scope of subject and leaves a subject
	// tombstone, so no scope of the subject gets a key again. Idempotent.
	ForgetSubject(ctx context.Context, subject personaldata.SubjectID) error
}
