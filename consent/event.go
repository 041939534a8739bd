package consent

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// EventType is the kind of an event.
type EventType uint8

// The event types.
const (
	// EventGrant records consent given (or, for a purpose on legitimate
	// interests, an objection taken back).
	EventGrant EventType = iota + 1
	// EventWithdraw records consent withdrawn. It is refused for purposes
	// on contract, legal obligation or vital interests; for legitimate
	// interests and public task it counts as an objection.
	EventWithdraw
	// EventObject records an objection (GDPR Art. 21).
	EventObject
	// EventRestrict records a restriction of processing (GDPR Art. 18). With
	// no purpose it restricts every purpose of the subject.
	EventRestrict
	// EventLiftRestriction lifts a restriction of the same scope.
	EventLiftRestriction
	// EventErase records the subject's erasure. It has no purpose. Later
	// decisions answer not allowed ([ReasonErased]) for every purpose but
	// those on legal obligation, and the ledger accepts no more events for
	// the subject. It does not shred keys: the host forgets the subject in
	// its [Sealer] (pii.Protector.ForgetSubject) as part of the same erasure.
	EventErase
	// EventExpire records that a consent lapsed. Grants with an expiry
	// lapse without it; recording it makes the end explicit in the history.
	EventExpire
)

var eventTypeNames = [...]string{
	EventGrant: "grant", EventWithdraw: "withdraw", EventObject: "object",
	EventRestrict: "restrict", EventLiftRestriction: "lift-restriction",
	EventErase: "erase", EventExpire: "expire",
}

func (t EventType) valid() bool { return t >= EventGrant && t <= EventExpire }

func (t EventType) String() string {
	if !t.valid() {
		return fmt.Sprintf("EventType(%d)", uint8(t))
	}
	return eventTypeNames[t]
}

// MarshalText implements [encoding.TextMarshaler].
func (t EventType) MarshalText() ([]byte, error) {
	if !t.valid() {
		return nil, fmt.Errorf("%w: event type %d", ErrInvalidEvent, uint8(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (t *EventType) UnmarshalText(b []byte) error {
	for i := EventGrant; i <= EventExpire; i++ {
		if eventTypeNames[i] == string(b) {
			*t = i
			return nil
		}
	}
	return fmt.Errorf("%w: event type %s", ErrInvalidEvent, quote.Bytes(b))
}

// Method is how an event was collected.
type Method uint8

// The collection methods.
const (
	MethodForm          Method = iota + 1 // a form on a web site or in an app
	MethodEmailLink                       // a link in an e-mail, such as an unsubscribe link
	MethodAPI                             // a call from another system
	MethodImport                          // imported from an earlier system
	MethodPrivacySignal                   // a browser privacy signal such as Global Privacy Control
	MethodAdministrator                   // entered by an administrator, e.g. from a letter
)

var methodNames = [...]string{
	MethodForm: "form", MethodEmailLink: "email-link", MethodAPI: "api",
	MethodImport: "import", MethodPrivacySignal: "privacy-signal", MethodAdministrator: "administrator",
}

func (m Method) valid() bool { return m >= MethodForm && m <= MethodAdministrator }

func (m Method) String() string {
	if !m.valid() {
		return fmt.Sprintf("Method(%d)", uint8(m))
	}
	return methodNames[m]
}

// MarshalText implements [encoding.TextMarshaler].
func (m Method) MarshalText() ([]byte, error) {
	if !m.valid() {
		return nil, fmt.Errorf("%w: method %d", ErrInvalidEvent, uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (m *Method) UnmarshalText(b []byte) error {
	for i := MethodForm; i <= MethodAdministrator; i++ {
		if methodNames[i] == string(b) {
			*m = i
			return nil
		}
	}
	return fmt.Errorf("%w: method %s", ErrInvalidEvent, quote.Bytes(b))
}

// Actor is who caused an event.
type Actor uint8

// The actors.
const (
	ActorSubject       Actor = iota + 1 // the data subject
	ActorGuardian                       // a parent or guardian on behalf of a child
	ActorAdministrator                  // an administrator of the controller
)

var actorNames = [...]string{ActorSubject: "subject", ActorGuardian: "guardian", ActorAdministrator: "administrator"}

func (a Actor) valid() bool { return a >= ActorSubject && a <= ActorAdministrator }

func (a Actor) String() string {
	if !a.valid() {
		return fmt.Sprintf("Actor(%d)", uint8(a))
	}
	return actorNames[a]
}

// MarshalText implements [encoding.TextMarshaler].
func (a Actor) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, fmt.Errorf("%w: actor %d", ErrInvalidEvent, uint8(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (a *Actor) UnmarshalText(b []byte) error {
	for i := ActorSubject; i <= ActorAdministrator; i++ {
		if actorNames[i] == string(b) {
			*a = i
			return nil
		}
	}
	return fmt.Errorf("%w: actor %s", ErrInvalidEvent, quote.Bytes(b))
}

// Limits on the personal data an event carries.
const (
	MaxContactLen  = 1 << 10
	MaxEvidenceLen = 16 << 10
)

// PersonalData is personal data an event carries, such as the e-mail address
// a newsletter grant was made for. The ledger seals it with its [Sealer]
// under the subject's key before anything is stored; only the ciphertext is
// stored and hashed, so the chain still verifies after the key is shredded.
//
// PersonalData redacts itself in fmt and log/slog; read the fields directly
// to use them. It is a plain value, safe to share.
type PersonalData struct {
	// Contact is the address the event concerns: an e-mail address, a phone
	// number. At most MaxContactLen bytes.
	Contact string
	// Evidence is free text recorded as evidence: the words of a letter, the
	// IP address of a form. At most MaxEvidenceLen bytes.
	Evidence string
}

const redacted = "[REDACTED]"

// String returns a redacted form.
func (PersonalData) String() string { return "consent.PersonalData" + redacted }

// Format implements [fmt.Formatter] with a redacted form for every verb.
func (p PersonalData) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(p.String())) }

// LogValue implements [slog.LogValuer] with a redacted value.
func (PersonalData) LogValue() slog.Value { return slog.StringValue(redacted) }

// GoString implements [fmt.GoStringer] with a redacted form.
func (p PersonalData) GoString() string { return p.String() }

func (p *PersonalData) empty() bool { return p == nil || (p.Contact == "" && p.Evidence == "") }

// A Change is an event to record with [Ledger.Record]. The ledger fills in
// the ID, the recorded time, the sequence number and the hashes.
//
// Change redacts its personal fields (BirthDate and Personal) in fmt and
// log/slog. It is a plain value, safe to share.
type Change struct {
	Type    EventType
	Subject personaldata.SubjectID
	// Purpose the event concerns; empty for EventErase, and for
	// EventRestrict and EventLiftRestriction meaning every purpose.
	Purpose PurposeID
	// EffectiveAt is when the event takes effect; zero means now. It may be
	// in the past (an import) but not after the recorded time.
	EffectiveAt time.Time
	// NoticeVersion is the version of the privacy statement shown. It
	// defaults to the version in force at EffectiveAt, if any; a version not
	// in force then is refused, and so is a grant on a ledger with notices
	// when none in force covers its purpose.
	NoticeVersion string
	Method        Method // required
	Actor         Actor  // required
	// EvidenceHash is the SHA-256 of the text or form shown, optional.
	EvidenceHash [32]byte
	// ExpiresAt ends a grant; zero means the purpose's Validity, if any.
	ExpiresAt time.Time
	// BirthDate, if known, tells the ledger whether the subject is under the
	// age of consent when a grant takes effect. Only that fact is stored
	// (Event.Minor), never the date.
	BirthDate time.Time
	// Personal is sealed before it is stored; nil if none.
	Personal *PersonalData
}

// String returns a description without personal data.
func (c Change) String() string {
	return fmt.Sprintf("consent.Change{%s %s subject=%s purpose=%s}", c.Type, c.Method, quote.String(string(c.Subject)), quote.String(string(c.Purpose)))
}

// Format implements [fmt.Formatter] with the redacted form of String.
func (c Change) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// GoString implements [fmt.GoStringer] with the redacted form of String.
func (c Change) GoString() string { return c.String() }

// LogValue implements [slog.LogValuer] without personal data.
func (c Change) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", c.Type.String()),
		slog.String("subject", string(c.Subject)),
		slog.String("purpose", string(c.Purpose)),
		slog.String("method", c.Method.String()),
		slog.String("actor", c.Actor.String()),
	)
}

// An Event is a recorded entry of a subject's chain. It holds no personal
// data in the clear: Sealed is ciphertext, opened only by [Ledger.Reveal].
// It is a plain value, safe to share.
type Event struct {
	ID            ulid.ULID
	Subject       personaldata.SubjectID
	Seq           uint64 // 1-based position in the subject's chain
	Type          EventType
	Purpose       PurposeID
	EffectiveAt   time.Time
	RecordedAt    time.Time
	NoticeVersion string
	Method        Method
	Actor         Actor
	EvidenceHash  [32]byte
	ExpiresAt     time.Time
	// Minor reports that the subject was under the age of consent when the
	// event took effect.
	Minor bool
	// Sealed is the sealed PersonalData, nil if the event carried none.
	Sealed []byte
	// PrevHash is the Hash of the previous event, zero for the first.
	PrevHash [32]byte
	// Hash is the chain hash over this event's encoding, which includes
	// PrevHash.
	Hash [32]byte
}

// LogValue implements [slog.LogValuer]; the sealed bytes are left out.
func (e Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", e.ID.String()),
		slog.String("type", e.Type.String()),
		slog.String("subject", string(e.Subject)),
		slog.String("purpose", string(e.Purpose)),
		slog.Time("effective", e.EffectiveAt),
	)
}
