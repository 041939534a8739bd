package erasure

import (
	"errors"
	"fmt"
	"strings"

	"github.com/oklog/ulid/v2"
)

// Errors returned by this package. Store implementations return (or wrap)
// the ones their contracts name; callers check them with errors.Is.
var (
	// ErrNotFound reports an unknown request or receipt. Stores return it.
	ErrNotFound = errors.New("erasure: not found")
	// ErrExists reports a request or receipt whose ID is already stored.
	ErrExists = errors.New("erasure: already exists")
	// ErrConflict reports a write that lost a race: the stored request
	// changed since it was read, or the receipt chain grew meanwhile.
	// Stores return it; the Service retries or passes it on.
	ErrConflict = errors.New("erasure: concurrent update")
	// ErrUnknownSubject reports a subject of whom the host's Inventory
	// knows no data, or a subject ID that does not validate.
	ErrUnknownSubject = errors.New("erasure: unknown subject")
	// ErrInvalidRequest reports a submission or argument that cannot be
	// accepted: an unknown kind, a missing actor or reason, an extension
	// longer than two months.
	ErrInvalidRequest = errors.New("erasure: invalid request")
	// ErrWrongState reports a transition the request's state does not
	// allow, such as executing an erasure before the identity was
	// verified or extending twice. Nothing is recorded.
	ErrWrongState = errors.New("erasure: transition not allowed in this state")
	// ErrWrongKind reports an operation that does not apply to the
	// request's kind, such as executing an access request.
	ErrWrongKind = errors.New("erasure: operation does not apply to this kind of request")
	// ErrClockBackwards reports a clock reading earlier than the last
	// time recorded on a request or the receipt chain. Nothing is recorded.
	ErrClockBackwards = errors.New("erasure: clock went backwards")
	// ErrNoConsent reports a restriction or objection on a Service
	// configured without Options.Consent.
	ErrNoConsent = errors.New("erasure: no consent recorder configured")
	// ErrEraserPanicked reports a host Eraser or Notifier that panicked.
	// The panic is contained; its value is not kept, it may hold personal
	// data.
	ErrEraserPanicked = errors.New("erasure: host system panicked")
	// ErrTimeout reports a host Eraser or Notifier that did not return
	// within its timeout.
	ErrTimeout = errors.New("erasure: host system timed out")
	// ErrInvalidReceipt reports a receipt that does not verify: a bad
	// signature, an edited payload, a malformed token or a broken chain.
	ErrInvalidReceipt = errors.New("erasure: invalid receipt")
	// ErrClosed reports a call on a closed Service.
	ErrClosed = errors.New("erasure: service closed")
)

// StepError reports one step of an execution that failed: which kind of
// step, which system, scope or recipient, and why.
type StepError struct {
	RequestID ulid.ULID
	Step      StepKind
	Name      string // the system, recipient or scopes of the step
	Err       error
}

// Error describes the failed step without personal data.
func (e *StepError) Error() string {
	return fmt.Sprintf("erasure: request %s: %s %s: %v", e.RequestID, e.Step, e.Name, e.Err)
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// ExecuteError lists the steps that failed when a request was executed. The
// steps that succeeded are recorded as done and are not repeated; running
// Execute (or RunDue) again retries only the failed ones.
type ExecuteError struct {
	RequestID ulid.ULID
	Steps     []*StepError
}

// Error lists up to four failed steps.
func (e *ExecuteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "erasure: request %s: %d step(s) failed", e.RequestID, len(e.Steps))
	for i, s := range e.Steps {
		if i == 4 {
			fmt.Fprintf(&b, "; and %d more", len(e.Steps)-i)
			break
		}
		fmt.Fprintf(&b, "; %s %s: %v", s.Step, s.Name, s.Err)
	}
	return b.String()
}

// Unwrap returns the step errors, so errors.Is and errors.As see each.
func (e *ExecuteError) Unwrap() []error {
	out := make([]error, len(e.Steps))
	for i, s := range e.Steps {
		out[i] = s
	}
	return out
}
