package consent

import (
	"errors"
	"fmt"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// Errors returned by this package. They are wrapped with an operation prefix
// and more detail; check them with [errors.Is]. No error of this package
// contains personal data: subject IDs, purpose IDs, notice versions and event
// IDs are pseudonymous identifiers and may appear, sealed personal data never
// does.
var (
	// ErrUnknownPurpose reports a purpose that was never registered.
	ErrUnknownPurpose = errors.New("consent: unknown purpose")
	// ErrInvalidPurpose reports a purpose that fails validation at
	// registration, or a second registration of a purpose ID with other
	// settings.
	ErrInvalidPurpose = errors.New("consent: invalid purpose")
	// ErrInvalidNotice reports a notice version that fails validation at
	// registration, or a second registration of a version with other
	// contents: versions are immutable.
	ErrInvalidNotice = errors.New("consent: invalid notice")
	// ErrNoticePeriod reports a notice version that takes effect less than
	// the configured notice period after its announcement.
	ErrNoticePeriod = errors.New("consent: notice period too short")
	// ErrUnknownNotice reports a notice version that was never registered.
	ErrUnknownNotice = errors.New("consent: unknown notice version")
	// ErrNoticeNotInForce reports an event under a notice version that was
	// not in force at the event's effective time, or that does not cover the
	// event's purpose.
	ErrNoticeNotInForce = errors.New("consent: notice version not in force")
	// ErrInvalidEvent reports an event that is malformed: an unknown type,
	// method or actor, a missing subject, a time out of range, a grant by a
	// browser privacy signal.
	ErrInvalidEvent = errors.New("consent: invalid event")
	// ErrBeforePurpose reports an event that takes effect before its purpose
	// existed.
	ErrBeforePurpose = errors.New("consent: event before the purpose existed")
	// ErrWithdrawalRefused reports a withdrawal of, or objection to, a
	// purpose whose legal basis does not depend on the subject's choice
	// (contract, legal obligation, vital interests).
	ErrWithdrawalRefused = errors.New("consent: withdrawal refused")
	// ErrErased reports an event for, or personal data of, a subject whose
	// erasure the ledger has recorded.
	ErrErased = errors.New("consent: subject erased")
	// ErrNoSealer reports an event that carries personal data on a ledger
	// without a [Sealer]: personal data is never stored in the clear.
	ErrNoSealer = errors.New("consent: personal data but no sealer")
	// ErrNotFound reports an event ID that is not in the subject's history,
	// or that has no receipt.
	ErrNotFound = errors.New("consent: not found")
	// ErrInvalidReceipt reports a signed receipt that [VerifyReceipt]
	// rejects: not a compact JWS signed by the given key, or a payload that
	// is not one receipt.
	ErrInvalidReceipt = errors.New("consent: invalid signed receipt")
	// ErrConflict is returned by [Store.Append] when the subject's chain no
	// longer ends where the caller expected: another writer appended first;
	// and by [Store.Define] for a definition stored otherwise. The Ledger
	// retries an append with back-off (Options.Retry); a caller sees it
	// only when the retries are exhausted.
	ErrConflict = errors.New("consent: concurrent append conflict")
	// ErrTampered reports a stored event that does not decode, does not
	// match its hash or does not link to its predecessor, a chain shorter
	// than, or not extending, the head this ledger saw or a checkpoint
	// holds, and a stored definition that does not decode. For a chain it
	// is wrapped in a [*ChainError] that says where.
	ErrTampered = errors.New("consent: event chain tampered")
	// ErrClosed is returned by every method of a Ledger after Close.
	ErrClosed = errors.New("consent: ledger closed")
	// ErrTimeRange reports a time outside the range the ledger holds
	// (1680 to 2260), in an event or a question.
	ErrTimeRange = errors.New("consent: time out of range")
	// ErrBadCheckpoint reports a checkpoint that does not parse, is not
	// signed by the checkpoint key, or whose leaves do not match its root.
	ErrBadCheckpoint = errors.New("consent: bad checkpoint")
)

// ChainProblem says what is wrong at the first broken link of a chain.
type ChainProblem string

// The problems [Ledger.Verify] detects.
const (
	ChainEdited     ChainProblem = "edited"     // an event's bytes no longer match its hash, or do not decode
	ChainMissing    ChainProblem = "missing"    // one or more events were deleted here
	ChainTruncated  ChainProblem = "truncated"  // the chain ends before the head this ledger saw or a checkpoint holds
	ChainRewritten  ChainProblem = "rewritten"  // the chain no longer passes through the head this ledger saw or a checkpoint holds
	ChainReordered  ChainProblem = "reordered"  // events appear out of order
	ChainInserted   ChainProblem = "inserted"   // an event was added that does not belong to the chain
	ChainMismatched ChainProblem = "mismatched" // a row's columns disagree with its hashed contents
)

// ChainError reports the first broken link in a subject's event chain. It
// wraps [ErrTampered]. It is a plain value, safe to share.
type ChainError struct {
	Subject personaldata.SubjectID
	// Index is the 0-based position in the stored chain where the problem
	// shows; for a truncated chain it is the length of the stored chain,
	// where the missing events begin.
	Index   int
	EventID ulid.ULID // the event at Index, zero if none
	Problem ChainProblem
	Detail  string // more detail, without personal data
	Err     error  // ErrTampered
}

func (e *ChainError) Error() string {
	s := fmt.Sprintf("consent: chain of subject %s broken at event %d", quote.String(string(e.Subject)), e.Index)
	if e.EventID != (ulid.ULID{}) {
		s += " (" + e.EventID.String() + ")"
	}
	s += ": " + string(e.Problem)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *ChainError) Unwrap() error { return e.Err }
