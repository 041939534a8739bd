package consent

import (
	"context"
	"iter"

	"github.com/personaldata/personaldata"
)

// Store keeps what a [Ledger] must not lose: the event chains of the
// subjects, and the definitions (purposes and notice versions) that give
// the events their meaning. [MemoryStore] is one in memory; a database
// implementation keeps one row per [StoredEvent] with a unique key on
// (Subject, Seq), and one row per [StoredDefinition] with a unique key on
// (Kind, ID) and a column that keeps the order of insertion.
//
// Implementations must be safe for concurrent use. They need no validation
// beyond what each method says: the Ledger validates, encodes and hashes
// before it calls them, and serialises the writes of one subject within
// one Ledger (not across Ledgers: several Ledgers, in several processes,
// may share a store, which is why Append is conditional). Every method
// returns ctx.Err(), wrapped or not, when ctx is done before it completes.
// [github.com/personaldata/personaldata/consent/consenttest] checks this
// contract.
type Store interface {
	// Append atomically appends events to subject's chain, if and only if
	// the chain currently holds exactly after events (0 for a subject
	// without events). Otherwise it appends nothing and returns an error
	// wrapping [ErrConflict]. events carry Subject == subject and the
	// consecutive sequence numbers after+1, after+2, ...; a store returns
	// an error (not ErrConflict) and appends nothing if they do not.
	// Appending no events is a no-op that returns nil. A store must not
	// retain events' byte slices after it returns (copy them).
	Append(ctx context.Context, subject personaldata.SubjectID, after uint64, events []StoredEvent) error

	// Events returns subject's events in sequence order, byte for byte as
	// appended; an empty slice and nil for a subject without events. The
	// caller may modify the result.
	Events(ctx context.Context, subject personaldata.SubjectID) ([]StoredEvent, error)

	// Subjects yields, once each, the subjects with at least one event
	// whose Purpose is purpose, or with empty purpose every subject with
	// events. Order is unspecified but stable for an unchanged store.
	// Events appended while iterating may or may not be seen. An error
	// ends the iteration after it is yielded.
	Subjects(ctx context.Context, purpose PurposeID) iter.Seq2[personaldata.SubjectID, error]

	// Define stores d unless a definition with its Kind and ID exists. It
	// is idempotent: if one exists with the same Data it returns nil; with
	// other Data it returns an error wrapping [ErrConflict] and changes
	// nothing (definitions are immutable). A store must not retain d.Data
	// after it returns.
	Define(ctx context.Context, d StoredDefinition) error

	// Definitions returns every stored definition in the order they were
	// first stored, byte for byte; an empty slice and nil for none. The
	// caller may modify the result.
	Definitions(ctx context.Context) ([]StoredDefinition, error)
}

// A StoredEvent is an event as a [Store] keeps it: a plain row of strings,
// integers and bytes. Data is the event's canonical encoding and Hash its
// chain hash; Subject, Seq, ID and Purpose repeat fields of Data so a store
// can index them. A store keeps events as given and returns them byte for
// byte; the ledger checks that the columns match Data. A StoredEvent is a
// plain value, safe to share once built.
type StoredEvent struct {
	Subject personaldata.SubjectID
	Seq     uint64    // 1-based position in the subject's chain
	ID      string    // the event's ULID, 26 characters
	Purpose PurposeID // empty for events that concern every purpose
	Data    []byte
	Hash    []byte // 32 bytes
}

// DefinitionKind says what a [StoredDefinition] defines.
type DefinitionKind string

// The kinds of definitions.
const (
	DefinitionPurpose DefinitionKind = "purpose" // ID is the PurposeID
	DefinitionNotice  DefinitionKind = "notice"  // ID is the notice version
)

// A StoredDefinition is a registered [Purpose] or [Notice] as a [Store]
// keeps it. Data is its encoding (JSON, at most [MaxDefinitionLen] bytes),
// opaque to the store. It is a plain value, safe to share once built.
type StoredDefinition struct {
	Kind DefinitionKind
	ID   string // at most 64 bytes
	Data []byte
}
