package pii

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/personaldata/personaldata"
)

// KeyStore keeps wrapped data keys and the tombstones of shredded ones. The
// [Protector] validates every argument, caches unwrapped keys and
// serialises nothing: implementations must be safe for concurrent use by
// many goroutines and, for shared stores, many processes.
//
// Implementations run the conformance suite in package
// [github.com/personaldata/personaldata/pii/piitest].
type KeyStore interface {
	// GetKeys returns one StoredKey per ref, in the order of refs, each
	// with its Ref set, and State KeyMissing for refs the store knows
	// nothing about. A ref of a subject shredded with ShredSubject is
	// KeyShredded whether or not the store ever held its scope, with
	// ShreddedAt the earlier of the scope's own shredding and the
	// subject's. An error is for the call as a whole (the store is
	// unreachable); it must not be returned for a missing or shredded key.
	GetKeys(ctx context.Context, refs []KeyRef) ([]StoredKey, error)

	// CreateKey stores key for ref if ref has neither a key nor a
	// tombstone, and returns what ref holds afterwards: the new key, or the
	// key another caller created first (create-if-absent; exactly one key
	// per ref ever exists). If ref's scope or its whole subject is
	// shredded it returns an error wrapping ErrForgotten. The key must be
	// durable when CreateKey returns: the Protector encrypts under it right
	// away.
	CreateKey(ctx context.Context, ref KeyRef, key WrappedKey, now time.Time) (StoredKey, error)

	// ShredKeys deletes the key bytes of subject in each of scopes and
	// leaves a tombstone per scope, so that the scope never gets a key
	// again. A scope with no key gets a tombstone too. scopes must not be
	// empty: for an empty list a store returns an error (wrapping
	// ErrNoScope) and shreds nothing. It is idempotent: shredding a
	// shredded scope succeeds and keeps the first ShreddedAt.
	ShredKeys(ctx context.Context, subject personaldata.SubjectID, scopes []personaldata.Scope, now time.Time) error

	// ShredSubject deletes the key bytes of every scope of subject and
	// leaves a subject-level tombstone: afterwards CreateKey fails with
	// ErrForgotten for any scope of subject, scopes never used before
	// included, and GetKeys reports every scope of subject as KeyShredded.
	// It is idempotent and keeps the time of the first call.
	ShredSubject(ctx context.Context, subject personaldata.SubjectID, now time.Time) error

	// ReplaceKey swaps the wrapped key of an active ref from old to new,
	// for KEK rotation. It returns ErrKeyChanged if the stored key is not
	// old (changed or shredded meanwhile) and ErrKeyNotFound if ref has no
	// key.
	ReplaceKey(ctx context.Context, ref KeyRef, old, new WrappedKey) error

	// Keys yields every active key, in no particular order. A store may
	// yield keys created or replaced during the iteration, or not.
	Keys(ctx context.Context) iter.Seq2[StoredKey, error]
}

// KeyRef names one data key: the key of one subject in one scope.
type KeyRef struct {
	Subject personaldata.SubjectID
	Scope   personaldata.Scope // never empty in a KeyStore call
}

// WrappedKey is a data key encrypted by a key-encryption key (KEK). It names
// the KEK, so a store may hold keys wrapped by several KEKs while they are
// rotated (see [Protector.Rewrap]).
type WrappedKey struct {
	KEKID      string // the wrapping KEK's ID, as its KeyWrapper reports it
	Ciphertext []byte // opaque to the store
}

// KeyState is the state of a (subject, scope) in a [KeyStore].
type KeyState uint8

// Key states.
const (
	KeyMissing  KeyState = iota // no key and no tombstone
	KeyActive                   // a wrapped key is stored
	KeyShredded                 // the key was shredded; a tombstone remains
)

func (s KeyState) String() string {
	switch s {
	case KeyMissing:
		return "missing"
	case KeyActive:
		return "active"
	case KeyShredded:
		return "shredded"
	}
	return fmt.Sprintf("KeyState(%d)", uint8(s))
}

// StoredKey is what a [KeyStore] holds for one [KeyRef].
type StoredKey struct {
	Ref        KeyRef
	State      KeyState
	Wrapped    WrappedKey // set when State is KeyActive
	CreatedAt  time.Time  // when the key was created; zero when missing
	ShreddedAt time.Time  // when it was shredded; zero unless shredded
}
