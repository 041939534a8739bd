package erasure

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"
)

// Options configure a Service. Nil Options and zero fields mean the
// documented defaults. New copies them.
type Options struct {
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Entropy is the randomness of request and receipt IDs. Default
	// crypto/rand. It is read under a lock.
	Entropy io.Reader
	// Location is the calendar deadlines are counted in. Default UTC.
	Location *time.Location
	// PromiseDays is the host's own promise: a request is answered within
	// this many days after the requester's identity was verified ("within
	// 30 days"). The earlier of it and the legal deadline wins. Zero means
	// no promise.
	PromiseDays int
	// RepeatWindow is how long after a request was completed an identical
	// one counts as a repeat (Request.RepeatOf) that may be refused as
	// excessive. Zero means repeats are not looked for.
	RepeatWindow time.Duration
	// Systems are the host systems an erasure asks to erase rows.
	Systems []System
	// Inventory lists a subject's key scopes. Default: every subject has
	// the default scope only.
	Inventory Inventory
	// Retention decides until when a scope is kept. Default: nothing is
	// kept; every scope is shredded at once.
	Retention RetentionDecider
	// Consent records erasure, restriction and objection events; without
	// it an erasure has no consent step and restriction and objection
	// fail with ErrNoConsent.
	Consent ConsentRecorder
	// Recipients are the named recipients of the data, told of every
	// erasure through Notifier (GDPR Art. 19).
	Recipients []string
	Notifier   Notifier
	// Timeout bounds each call of an Eraser or Notifier. Default 30s.
	Timeout time.Duration
	// PageSize is the page size hint for erasers. Default 500.
	PageSize int
	// Issuer and KeyID name the controller and the signing key in
	// receipts (JWS "iss" claim and "kid" header); optional.
	Issuer, KeyID string
}

// Keys are the secrets of a Service.
type Keys struct {
	// Signing signs receipts (Ed25519). Publish its public key so that
	// anyone can verify a receipt.
	Signing ed25519.PrivateKey
	// Hash keys the pseudonymous subject references of receipts and the
	// digests of the suppression list: at least 32 random bytes, kept
	// secret and stable (a new key makes every digest new).
	Hash []byte
}

// Service handles data-subject requests: intake and deadlines, erasure
// plans and their execution, receipts, the suppression list and the
// restore guard. It is safe for concurrent use.
type Service struct {
	st       Stores
	shredder KeyShredder
	sign     ed25519.PrivateKey
	refKey   []byte
	suppKey  []byte
	o        Options

	entropyMu sync.Mutex
	locks     [64]sync.Mutex
	seed      maphash.Seed
	chainMu   sync.Mutex
	closed    atomic.Bool
}

// New returns a Service keeping its records in stores and shredding keys
// with shredder. A nil store or shredder, or a bad key, is an error.
func New(stores Stores, shredder KeyShredder, keys Keys, opts *Options) (*Service, error) {
	switch {
	case stores.Requests == nil:
		return nil, errors.New("erasure: New: nil RequestStore")
	case stores.Receipts == nil:
		return nil, errors.New("erasure: New: nil ReceiptStore")
	case stores.Suppression == nil:
		return nil, errors.New("erasure: New: nil SuppressionStore")
	case shredder == nil:
		return nil, errors.New("erasure: New: nil KeyShredder")
	case len(keys.Signing) != ed25519.PrivateKeySize:
		return nil, errors.New("erasure: New: signing key is not an Ed25519 private key")
	case len(keys.Hash) < 32:
		return nil, errors.New("erasure: New: hash key shorter than 32 bytes")
	}
	s := &Service{st: stores, shredder: shredder, sign: keys.Signing, seed: maphash.MakeSeed()}
	if opts != nil {
		s.o = *opts
	}
	o := &s.o
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Entropy == nil {
		o.Entropy = rand.Reader
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	if o.PromiseDays < 0 || o.RepeatWindow < 0 {
		return nil, fmt.Errorf("%w: negative PromiseDays or RepeatWindow", ErrInvalidRequest)
	}
	if len(o.Recipients) > 0 && o.Notifier == nil {
		return nil, errors.New("erasure: New: Recipients without a Notifier")
	}
	o.Systems = append([]System(nil), o.Systems...)
	o.Recipients = append([]string(nil), o.Recipients...)
	seen := map[string]bool{}
	for _, sys := range o.Systems {
		if sys.Name == "" || sys.Eraser == nil || seen[sys.Name] {
			return nil, fmt.Errorf("erasure: New: system %q: empty or duplicate name, or nil Eraser", sys.Name)
		}
		seen[sys.Name] = true
	}
	s.refKey = derive(keys.Hash, "personaldata/erasure subject reference v1")
	s.suppKey = derive(keys.Hash, "personaldata/erasure suppression v1")
	return s, nil
}

func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// PublicKey returns the key that verifies this Service's receipts.
func (s *Service) PublicKey() ed25519.PublicKey {
	return s.sign.Public().(ed25519.PublicKey)
}

// Close marks the Service closed; later calls return ErrClosed. It is safe
// to call twice.
func (s *Service) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *Service) check() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

func (s *Service) newID(t time.Time) (ulid.ULID, error) {
	s.entropyMu.Lock()
	defer s.entropyMu.Unlock()
	id, err := ulid.New(ulid.Timestamp(t), s.o.Entropy)
	if err != nil {
		return ulid.ULID{}, fmt.Errorf("erasure: new ID: %w", err)
	}
	return id, nil
}

// lock serialises work on one request within this process.
func (s *Service) lock(id ulid.ULID) func() {
	m := &s.locks[maphash.Bytes(s.seed, id[:])%uint64(len(s.locks))]
	m.Lock()
	return m.Unlock
}
