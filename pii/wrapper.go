package pii

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/personaldata/personaldata/internal/quote"
)

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
		return nil, fmt.Errorf("pii: derive KEK: %w", err)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("pii: derive KEK: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("pii: derive KEK: %w", err)
	}
	return &LocalKeyWrapper{id: id, aead: aead}, nil
}

// KEKID returns the wrapper's ID.
func (w *LocalKeyWrapper) KEKID() string { return w.id }

// String names the wrapper without revealing key material.
func (w *LocalKeyWrapper) String() string { return "pii.LocalKeyWrapper(" + quote.String(w.id) + ")" }

// Wrap encrypts dek under the KEK: nonce (12 bytes) || AES-256-GCM(dek, ad).
func (w *LocalKeyWrapper) Wrap(_ context.Context, dek, ad []byte) (WrappedKey, error) {
	out := make([]byte, 12, 12+len(dek)+16)
	if _, err := rand.Read(out); err != nil {
		return WrappedKey{}, fmt.Errorf("pii: wrap: %w", err)
	}
	out = w.aead.Seal(out, out[:12], dek, ad)
	return WrappedKey{KEKID: w.id, Ciphertext: out}, nil
}

// Unwrap decrypts a key Wrap returned.
func (w *LocalKeyWrapper) Unwrap(_ context.Context, key WrappedKey, ad []byte) ([]byte, error) {
	if key.KEKID != w.id {
		return nil, fmt.Errorf("%w: key names KEK %s, wrapper is %s", ErrWrongKEK, quote.String(key.KEKID), quote.String(w.id))
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
