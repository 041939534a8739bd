package erasure

import (
	"fmt"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// Kind is the right a data-subject request exercises.
type Kind uint8

// The kinds of request of GDPR Art. 15 to 21.
const (
	KindAccess        Kind = iota + 1 // Art. 15: a copy of the data
	KindRectification                 // Art. 16: correct the data; the host confirms
	KindErasure                       // Art. 17: erase the data
	KindRestriction                   // Art. 18: stop processing but storage
	KindObjection                     // Art. 21: stop processing for some purposes
	KindPortability                   // Art. 20: the data in a portable format
)

var kindNames = [...]string{"", "access", "rectification", "erasure", "restriction", "objection", "portability"}

// String returns the kind's name, such as "erasure".
func (k Kind) String() string { return enumString(kindNames[:], uint8(k), "Kind") }

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return enumMarshal(kindNames[:], uint8(k), "kind") }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	return enumUnmarshal(kindNames[:], (*uint8)(k), b, "kind")
}

// State is where a request is in its lifecycle.
//
//	received ──► identity-verified ──► in-progress ──► completed
//	    │              │  │                 │  ▲
//	    │              │  └──► extended ◄───┘  │ (once)
//	    ▼              ▼          │            │
//	 refused ◄─────────┴──────────┴────────────┘
//
// Completed and refused are final. A request is extended at most once.
type State uint8

// The states of a request.
const (
	StateReceived         State = iota + 1 // submitted, identity not yet checked
	StateIdentityVerified                  // the requester was identified as the subject
	StateInProgress                        // being carried out
	StateExtended                          // deadline extended (Art. 12(3)), with a reason
	StateCompleted                         // done
	StateRefused                           // refused, with a reason and evidence
)

var stateNames = [...]string{"", "received", "identity-verified", "in-progress", "extended", "completed", "refused"}

// String returns the state's name, such as "identity-verified".
func (s State) String() string { return enumString(stateNames[:], uint8(s), "State") }

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return enumMarshal(stateNames[:], uint8(s), "state") }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *State) UnmarshalText(b []byte) error {
	return enumUnmarshal(stateNames[:], (*uint8)(s), b, "state")
}

// Final reports whether s is completed or refused.
func (s State) Final() bool { return s == StateCompleted || s == StateRefused }

var allowed = map[State][]State{
	StateReceived:         {StateIdentityVerified, StateRefused},
	StateIdentityVerified: {StateInProgress, StateExtended, StateCompleted, StateRefused},
	StateInProgress:       {StateExtended, StateCompleted, StateRefused},
	StateExtended:         {StateInProgress, StateCompleted, StateRefused},
}

func canMove(from, to State) bool { return slices.Contains(allowed[from], to) }

// Transition is one recorded change of a request's state.
type Transition struct {
	From, To State
	At       time.Time
	// Actor says who made the change: a staff ID, "subject", "system".
	// It must not be personal data.
	Actor string
	// Reason is the extension or refusal reason told to the person.
	Reason string
	// Evidence supports a refusal, such as the ID of the earlier,
	// identical request that makes this one excessive.
	Evidence string
}

// Request is a data-subject request and everything done about it. It holds
// no personal data: the subject by its ID, identifiers only as keyed
// hashes. A Request is a plain value; the Service returns copies.
type Request struct {
	ID      ulid.ULID
	Subject personaldata.SubjectID
	Kind    Kind
	// Purposes an objection or restriction concerns; empty means every
	// purpose (restriction only).
	Purposes []string
	State    State
	// ReceivedAt and VerifiedAt are when the request arrived and when the
	// requester's identity was verified (zero until then).
	ReceivedAt time.Time
	VerifiedAt time.Time
	// Due is the deadline in force (see Service.Submit).
	Due time.Time
	// ExtendedMonths is the extension granted (0, 1 or 2).
	ExtendedMonths int
	// RepeatOf is the earlier identical request completed within
	// Options.RepeatWindow, if any: evidence for a refusal as excessive.
	RepeatOf ulid.ULID
	// Digests are the keyed hashes of the identifiers the submission
	// named, added to the suppression list when the subject is erased.
	Digests []string
	// History lists every transition, oldest first.
	History []Transition
	// Steps is the execution plan of an erasure, in execution order, with
	// the state of each step. Empty until first executed.
	Steps []Step
	// NextDue is the earliest Due of a scheduled step; zero if none.
	NextDue time.Time
	// UpdatedAt is when the request was last changed.
	UpdatedAt time.Time
	// Version counts the stored changes: Create stores version 1, and each
	// Update carries the stored version plus one (see RequestStore.Update).
	Version uint64
}

// Clone returns a deep copy of r.
func (r Request) Clone() Request {
	r.Purposes = slices.Clone(r.Purposes)
	r.Digests = slices.Clone(r.Digests)
	r.History = slices.Clone(r.History)
	r.Steps = slices.Clone(r.Steps)
	for i := range r.Steps {
		r.Steps[i].Scopes = slices.Clone(r.Steps[i].Scopes)
		r.Steps[i].Retained = slices.Clone(r.Steps[i].Retained)
		r.Steps[i].Failures = slices.Clone(r.Steps[i].Failures)
	}
	return r
}

// String describes r without personal data.
func (r Request) String() string {
	return fmt.Sprintf("%s request %s of subject %s: %s, due %s", r.Kind, r.ID, quote.String(string(r.Subject)), r.State, r.Due.Format(time.DateOnly))
}

// Overdue reports whether r is open and its deadline has passed at now.
func (r Request) Overdue(now time.Time) bool { return !r.State.Final() && now.After(r.Due) }

// StepKind is what a step of an erasure does.
type StepKind uint8

// The kinds of step, in the order execution takes them (see the package
// documentation, "Execution order").
const (
	StepSuppress      StepKind = iota + 1 // add identifier digests to the suppression list
	StepConsent                           // record the erasure in the consent ledger
	StepShred                             // crypto-shred key scopes due now
	StepErase                             // a host system deletes or anonymises rows and blind-index entries
	StepNotify                            // tell a recipient (Art. 19)
	StepShredLater                        // shred a kept scope when its retention ends
	StepForgetSubject                     // shred every scope and leave a subject tombstone
)

var stepNames = [...]string{"", "suppress", "consent", "shred", "erase", "notify", "shred-later", "forget-subject"}

// String returns the step kind's name, such as "shred".
func (k StepKind) String() string { return enumString(stepNames[:], uint8(k), "StepKind") }

// MarshalText implements encoding.TextMarshaler.
func (k StepKind) MarshalText() ([]byte, error) {
	return enumMarshal(stepNames[:], uint8(k), "step kind")
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *StepKind) UnmarshalText(b []byte) error {
	return enumUnmarshal(stepNames[:], (*uint8)(k), b, "step kind")
}

// StepState is the progress of a step.
type StepState uint8

// The states of a step.
const (
	StepPending   StepState = iota + 1 // not tried yet
	StepDone                           // done; never repeated (except by Service.Reapply)
	StepFailed                         // tried and failed; retried by the next Execute
	StepScheduled                      // waits for Due (a kept scope, or the subject tombstone)
)

var stepStateNames = [...]string{"", "pending", "done", "failed", "scheduled"}

// String returns the step state's name, such as "done".
func (s StepState) String() string { return enumString(stepStateNames[:], uint8(s), "StepState") }

// MarshalText implements encoding.TextMarshaler.
func (s StepState) MarshalText() ([]byte, error) {
	return enumMarshal(stepStateNames[:], uint8(s), "step state")
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *StepState) UnmarshalText(b []byte) error {
	return enumUnmarshal(stepStateNames[:], (*uint8)(s), b, "step state")
}

// MaxFailures is how many failure messages a step keeps.
const MaxFailures = 5

// Step is one step of an erasure and its outcome.
type Step struct {
	Kind  StepKind
	State StepState
	// Name is the host system (StepErase) or recipient (StepNotify).
	Name string
	// Scopes are the key scopes of StepShred and StepShredLater.
	Scopes []personaldata.Scope
	// Due is when a scheduled step falls due; zero for the subject
	// tombstone, which waits for every StepShredLater.
	Due time.Time
	// RuleID, Citation and Explanation say why a scope is kept until Due.
	RuleID, Citation, Explanation string
	// Cursor is where a paged eraser resumes.
	Cursor string
	// Removed, Anonymised and IndexEntries count rows deleted, rows
	// anonymised and blind-index entries deleted; Retained lists what the
	// system kept and why.
	Removed, Anonymised, IndexEntries int
	Retained                          []Retained
	// Attempts counts tries; Failures keeps the first MaxFailures error
	// messages (without personal data, capped in length).
	Attempts int
	Failures []string
	DoneAt   time.Time
}

// Retained is data a host system kept, and why.
type Retained struct {
	Count  int    `json:"count"`
	Reason string `json:"reason"`
}

func enumString(names []string, v uint8, typ string) string {
	if v == 0 || int(v) >= len(names) {
		return fmt.Sprintf("%s(%d)", typ, v)
	}
	return names[v]
}

func enumMarshal(names []string, v uint8, what string) ([]byte, error) {
	if v == 0 || int(v) >= len(names) {
		return nil, fmt.Errorf("%w: %s %d", ErrInvalidRequest, what, v)
	}
	return []byte(names[v]), nil
}

func enumUnmarshal(names []string, v *uint8, b []byte, what string) error {
	for i := 1; i < len(names); i++ {
		if names[i] == string(b) {
			*v = uint8(i)
			return nil
		}
	}
	return fmt.Errorf("%w: unknown %s %s", ErrInvalidRequest, what, quote.Bytes(b))
}
