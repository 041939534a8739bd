package pii

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/personaldata/personaldata"
)

// KeyRef names one data key: the key of one subject in one scope.
type KeyRef struct {
	Subject personaldata.SubjectID
	Scope   personaldata.Scope // never empty in a KeyStore call
}

// WrappedKey is a data key encrypted by a key-encryption key (KEK). It names
// the KEK, so a store may hold keys wrapped by several KEKs while they are
// rotated (see [Rewrap]).
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
	// nothing about. An error is
	// for the call as a whole (the store is unreachable); it must not be
	// returned for a missing or shredded key.
	GetKeys(ctx context.Context, refs []KeyRef) ([]StoredKey, error)

	// CreateKey stores key for ref if ref has neither a key nor a
	// tombstone, and returns what ref holds afterwards: the new key, or the
	// key another caller created first (create-if-absent; exactly one key
	// per ref ever exists). If ref is shredded it returns ErrForgotten. The
	// key must be durable when CreateKey returns: the Protector encrypts
	// under it right away.
	CreateKey(ctx context.Context, ref KeyRef, key WrappedKey, now time.Time) (StoredKey, error)

	// ShredKeys deletes the key bytes of subject in each of scopes and
	// leaves a tombstone, so that the scope never gets a key again. A
	// scope with no key gets a tombstone too. An empty scopes shreds every
	// scope the store holds for subject. It is idempotent: shredding a
	// shredded scope succeeds and keeps the first ShreddedAt.
	ShredKeys(ctx context.Context, subject personaldata.SubjectID, scopes []personaldata.Scope, now time.Time) error

	// ReplaceKey swaps the wrapped key of an active ref from old to new,
	// for KEK rotation. It returns ErrKeyChanged if the stored key is not
	// old (changed or shredded meanwhile) and ErrKeyNotFound if ref has no
	// key.
	ReplaceKey(ctx context.Context, ref KeyRef, old, new WrappedKey) error

	// Keys yields every active key, in no particular order. A store may
	// yield keys created or replaced during the iteration, or not.
	Keys(ctx context.Context) iter.Seq2[StoredKey, error]
}

// KeyWrapper encrypts data keys with a key-encryption key (KEK) that lives
// elsewhere: in this process ([NewLocalKeyWrapper]), a KMS or Vault.
// Implementations must be safe for concurrent use.
type KeyWrapper interface {
	// KEKID names the KEK. It is stored with every key it wraps and must be
	// stable and unique among the wrappers a Protector is given.
	KEKID() string
	// Wrap encrypts dek, binding it to ad.
	Wrap(ctx context.Context, dek, ad []byte) (WrappedKey, error)
	// Unwrap decrypts a key Wrap returned for the same ad. It returns
	// ErrWrongKEK if the key was not wrapped by this KEK with this ad.
	Unwrap(ctx context.Context, key WrappedKey, ad []byte) ([]byte, error)
}

// LocalKeyWrapper is a [KeyWrapper] whose KEK is derived from a 32-byte
// master key held in process memory. It wraps with AES-256-GCM. It is safe
// for concurrent use.
type LocalKeyWrapper struct {
	id   string
	aead cipher.AEAD
}

var _ KeyWrapper = (*LocalKeyWrapper)(nil)

// NewLocalKeyWrapper returns a wrapper named id whose KEK is derived from
// master (32 bytes, e.g. from a secret manager; generate one with
// crypto/rand). master is not retained.
func NewLocalKeyWrapper(id string, master []byte) (*LocalKeyWrapper, error) {
	if len(master) != 32 {
		return nil, fmt.Errorf("%w: master key must be 32 bytes, got %d", ErrInvalidKey, len(master))
	}
	if id == "" || len(id) > 255 {
		return nil, fmt.Errorf("%w: KEK ID must be 1 to 255 bytes", ErrInvalidKey)
	}
	kek, err := hkdf.Key(sha256.New, master, nil, "personaldata/pii local KEK v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &LocalKeyWrapper{id: id, aead: aead}, nil
}

// KEKID returns the wrapper's ID.
func (w *LocalKeyWrapper) KEKID() string { return w.id }

// String names the wrapper without revealing key material.
func (w *LocalKeyWrapper) String() string { return "pii.LocalKeyWrapper(" + w.id + ")" }

// Wrap encrypts dek under the KEK: nonce (12 bytes) || AES-256-GCM(dek, ad).
func (w *LocalKeyWrapper) Wrap(_ context.Context, dek, ad []byte) (WrappedKey, error) {
	out := make([]byte, 12, 12+len(dek)+16)
	if _, err := rand.Read(out); err != nil {
		return WrappedKey{}, err
	}
	out = w.aead.Seal(out, out[:12], dek, ad)
	return WrappedKey{KEKID: w.id, Ciphertext: out}, nil
}

// Unwrap decrypts a key Wrap returned.
func (w *LocalKeyWrapper) Unwrap(_ context.Context, key WrappedKey, ad []byte) ([]byte, error) {
	if key.KEKID != w.id {
		return nil, fmt.Errorf("%w: key names KEK %q, wrapper is %q", ErrWrongKEK, key.KEKID, w.id)
	}
	if len(key.Ciphertext) < 12+16 {
		return nil, fmt.Errorf("%w: wrapped key too short", ErrWrongKEK)
	}
	dek, err := w.aead.Open(nil, key.Ciphertext[:12], key.Ciphertext[12:], ad)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrWrongKEK)
	}
	return dek, nil
}

// wrapAD binds a wrapped key to its ref, so a wrapped key copied to another
// subject's row does not unwrap.
func wrapAD(ref KeyRef) []byte {
	ad := make([]byte, 0, 16+2+len(ref.Subject)+len(ref.Scope))
	ad = append(ad, "personaldata/dek/1"...)
	ad = append(ad, byte(len(ref.Subject)))
	ad = append(ad, ref.Subject...)
	ad = append(ad, byte(len(ref.Scope)))
	ad = append(ad, ref.Scope...)
	return ad
}

// RewrapStats counts what [Rewrap] did.
type RewrapStats struct {
	Rewrapped int // keys now wrapped by the new KEK
	Unchanged int // keys already wrapped by it
	Skipped   int // keys changed or shredded concurrently; nothing to do
}

// Rewrap rotates the key-encryption key: every active key in store that is
// not wrapped by to is unwrapped by the wrapper in from that names its KEK
// and wrapped again by to. Ciphertexts of personal data are untouched. It is
// idempotent and can be resumed after a failure by running it again. Keys
// shredded or replaced concurrently are skipped. A key that no wrapper in
// from can unwrap stops the rotation with an error wrapping ErrWrongKEK.
//
// Protectors in other processes keep working during the rotation if their
// Options.Previous holds the old wrappers.
func Rewrap(ctx context.Context, store KeyStore, to KeyWrapper, from ...KeyWrapper) (RewrapStats, error) {
	var st RewrapStats
	byID := map[string]KeyWrapper{}
	for _, w := range from {
		byID[w.KEKID()] = w
	}
	for k, err := range store.Keys(ctx) {
		if err != nil {
			return st, fmt.Errorf("pii: rewrap: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if k.State != KeyActive {
			continue
		}
		if k.Wrapped.KEKID == to.KEKID() {
			st.Unchanged++
			continue
		}
		old, ok := byID[k.Wrapped.KEKID]
		if !ok {
			return st, fmt.Errorf("pii: rewrap subject %q scope %s: %w: no wrapper for KEK %q", k.Ref.Subject, k.Ref.Scope, ErrWrongKEK, k.Wrapped.KEKID)
		}
		ad := wrapAD(k.Ref)
		dek, err := old.Unwrap(ctx, k.Wrapped, ad)
		if err != nil {
			return st, fmt.Errorf("pii: rewrap subject %q scope %s: %w", k.Ref.Subject, k.Ref.Scope, err)
		}
		nw, err := to.Wrap(ctx, dek, ad)
		clear(dek)
		if err != nil {
			return st, fmt.Errorf("pii: rewrap: %w", err)
		}
		switch err := store.ReplaceKey(ctx, k.Ref, k.Wrapped, nw); {
		case err == nil:
			st.Rewrapped++
		case errors.Is(err, ErrKeyChanged), errors.Is(err, ErrKeyNotFound):
			st.Skipped++
		default:
			return st, fmt.Errorf("pii: rewrap: %w", err)
		}
	}
	return st, nil
}
