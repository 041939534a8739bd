package pii

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
	"github.com/personaldata/personaldata/pii/internal/envelope"
)

// Algorithm selects the AEAD that seals new ciphertexts. Every ciphertext
// names its algorithm, so a Protector opens both whatever it is set to.
type Algorithm uint8

// Algorithms. The values are the algorithm byte of the envelope.
const (
	// AES256GCM is AES-256 in Galois/Counter Mode with a random 96-bit
	// nonce: fast wherever the CPU has AES instructions. With one key per
	// subject and scope, no key comes near GCM's limit of 2^32 messages
	// under random nonces.
	AES256GCM Algorithm = 1
	// XChaCha20Poly1305 uses a random 192-bit nonce: for hosts that want
	// the larger nonce or run without AES instructions.
	XChaCha20Poly1305 Algorithm = 2
)

func (a Algorithm) String() string {
	switch a {
	case AES256GCM:
		return "AES-256-GCM"
	case XChaCha20Poly1305:
		return "XChaCha20-Poly1305"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

// Options configure a [Protector]. The zero value, or nil, gives the
// defaults each field documents. Randomness (data keys and nonces) always
// comes from crypto/rand and is deliberately not an option: a repeatable
// source would repeat nonces under one key.
type Options struct {
	// Algorithm seals new data. Default AES256GCM.
	Algorithm Algorithm
	// Previous lists wrappers of other KEKs, to unwrap keys that
	// [Protector.Rewrap] has not rotated yet (or has rotated to a KEK this
	// Protector does not wrap with yet).
	Previous []KeyWrapper
	// CacheSize bounds the number of unwrapped keys kept ready. Default
	// 10,000; negative disables the cache.
	CacheSize int
	// CacheTTL is how long an unwrapped key stays cached. It bounds how
	// long this process can still decrypt after another process shreds
	// the key. Default 5 minutes.
	CacheTTL time.Duration
	// Clock returns the current time. Default time.Now.
	Clock func() time.Time
	// IndexKey is the 32-byte key of blind indexes (the index= tag
	// option). Required only if a protected type uses one. Keep it apart
	// from the KEK: it cannot be rotated without recomputing every index.
	IndexKey []byte
}

// Protector encrypts and decrypts the personal data fields of host values
// with one data key per subject and scope, and shreds those keys. It is
// safe for concurrent use by multiple goroutines.
type Protector struct {
	store    KeyStore
	wrapper  KeyWrapper
	wrappers map[string]KeyWrapper
	alg      envelope.Algorithm
	cache    *keyCache
	now      func() time.Time
	clocked  bool      // now is Options.Clock
	epoch    time.Time // when the Protector was made, by now
	indexer  *Indexer
	closed   atomic.Bool
	lastRoot atomic.Pointer[rootInfo] // the type Protect or Reveal last met

	createMu sync.Mutex
	creating map[KeyRef]*creation
}

// creation lets goroutines that need the same new key wait for one
// creator instead of each wrapping and storing a key of its own.
type creation struct {
	done  chan struct{}
	entry *keyEntry
	err   error
}

// New returns a Protector that keeps keys in store and wraps them with
// wrapper. A nil store or wrapper is an error ("pii: New: nil KeyStore"), as
// is an invalid option; nil opts means the defaults.
func New(store KeyStore, wrapper KeyWrapper, opts *Options) (*Protector, error) {
	if store == nil {
		return nil, errors.New("pii: New: nil KeyStore")
	}
	if wrapper == nil {
		return nil, errors.New("pii: New: nil KeyWrapper")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	p := &Protector{
		store:    store,
		wrapper:  wrapper,
		wrappers: map[string]KeyWrapper{wrapper.KEKID(): wrapper},
		alg:      envelope.AES256GCM,
		now:      time.Now,
		creating: map[KeyRef]*creation{},
	}
	switch o.Algorithm {
	case 0, AES256GCM:
	case XChaCha20Poly1305:
		p.alg = envelope.XChaCha20Poly1305
	default:
		return nil, fmt.Errorf("pii: New: %w: unknown algorithm %d", ErrUnsupported, o.Algorithm)
	}
	for _, w := range o.Previous {
		if w == nil {
			return nil, errors.New("pii: New: nil KeyWrapper in Options.Previous")
		}
		if _, dup := p.wrappers[w.KEKID()]; !dup {
			p.wrappers[w.KEKID()] = w
		}
	}
	size, ttl := o.CacheSize, o.CacheTTL
	if size == 0 {
		size = 10_000
	}
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	p.cache = newKeyCache(size, ttl)
	if o.Clock != nil {
		p.now, p.clocked = o.Clock, true
	}
	p.epoch = p.now()
	if o.IndexKey != nil {
		ix, err := NewIndexer(o.IndexKey)
		if err != nil {
			return nil, fmt.Errorf("pii: New: %w", err)
		}
		p.indexer = ix
	}
	return p, nil
}

// Close drops every cached key. It is safe to call twice; other methods
// return ErrClosed after it.
func (p *Protector) Close() error {
	p.closed.Store(true)
	p.cache.purge()
	return nil
}

// elapsed returns the time since the Protector was made, by its clock. The
// default clock reads the monotonic clock alone, at about half the cost of
// time.Now, since the key cache reads it on every call.
func (p *Protector) elapsed() time.Duration {
	if p.clocked {
		return p.now().Sub(p.epoch)
	}
	return time.Since(p.epoch)
}

func (p *Protector) check(ctx context.Context) error {
	if p.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// checkArgs validates the arguments of Seal and Open.
func (p *Protector) checkArgs(ctx context.Context, subject personaldata.SubjectID, scope personaldata.Scope, category personaldata.Category) (KeyRef, error) {
	if err := p.check(ctx); err != nil {
		return KeyRef{}, err
	}
	ref, err := validRef(subject, scope)
	if err != nil {
		return KeyRef{}, err
	}
	return ref, category.Validate()
}

// Seal encrypts plaintext for subject under the key of scope, binding it to
// category, and returns a binary envelope. It creates the key if the
// subject has none in scope, and fails with ErrForgotten if the scope was
// shredded. Use it for personal data outside tagged structs: a consent
// ledger's evidence, a file, a message body.
func (p *Protector) Seal(ctx context.Context, subject personaldata.SubjectID, scope personaldata.Scope, category personaldata.Category, plaintext []byte) ([]byte, error) {
	ref, err := p.checkArgs(ctx, subject, scope, category)
	if err != nil {
		return nil, err
	}
	e, err := p.key(ctx, ref, true)
	if err != nil {
		return nil, p.refErr("seal", ref, category, err)
	}
	return p.sealBinary(make([]byte, 0, envelope.SealedLen(p.alg, len(plaintext))), nil, e, ref, category, plaintext, nil)
}

// Open decrypts an envelope Seal returned for the same subject, scope and
// category. After the key is shredded it fails with ErrErased; a ciphertext of another
// subject, scope or category, or one altered, fails with ErrTampered; bytes
// that are not an envelope fail with ErrMalformed.
func (p *Protector) Open(ctx context.Context, subject personaldata.SubjectID, scope personaldata.Scope, category personaldata.Category, env []byte) ([]byte, error) {
	ref, err := p.checkArgs(ctx, subject, scope, category)
	if err != nil {
		return nil, err
	}
	parsed, err := envelope.Parse(env)
	if err != nil {
		return nil, p.refErr("open", ref, category, fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	e, err := p.key(ctx, ref, false)
	if err != nil {
		return nil, p.refErr("open", ref, category, err)
	}
	pt, err := openEnvelope(nil, nil, e, parsed, ref, category)
	if err != nil {
		return nil, p.refErr("open", ref, category, err)
	}
	return pt, nil
}

func (p *Protector) refErr(op string, ref KeyRef, category personaldata.Category, err error) error {
	return fmt.Errorf("pii: %s (subject %s, scope %s, category %s): %w", op, quote.String(string(ref.Subject)), ref.Scope, category, err)
}

// sealBinary appends the binary envelope of plaintext to dst, with the
// nonce nonce, which must be fresh bytes from crypto/rand, used for this
// seal only; nil reads one.
//
// adBuf is scratch space for the associated data; passing it avoids a heap
// allocation per call (the AEAD interface makes a local array escape).
func (p *Protector) sealBinary(dst, adBuf []byte, e *keyEntry, ref KeyRef, category personaldata.Category, plaintext, nonce []byte) ([]byte, error) {
	a, err := e.aead(p.alg)
	if err != nil {
		return nil, err
	}
	start := len(dst)
	dst = envelope.AppendHeader(dst, p.alg)
	ns := p.alg.NonceSize()
	if nonce != nil {
		dst = append(dst, nonce[:ns]...)
	} else {
		dst = append(dst, make([]byte, ns)...)
		if _, err := rand.Read(dst[len(dst)-ns:]); err != nil {
			return nil, err
		}
	}
	ad := envelope.AppendAD(adBuf[:0], dst[start:start+envelope.HeaderSize], string(ref.Subject), string(ref.Scope), string(category))
	return a.Seal(dst, dst[len(dst)-ns:], plaintext, ad), nil
}

// openEnvelope appends the plaintext of env to dst, using adBuf as scratch.
func openEnvelope(dst, adBuf []byte, e *keyEntry, env envelope.Envelope, ref KeyRef, category personaldata.Category) ([]byte, error) {
	a, err := e.aead(env.Alg)
	if err != nil {
		return nil, err
	}
	ad := envelope.AppendAD(adBuf[:0], env.Header, string(ref.Subject), string(ref.Scope), string(category))
	out, err := a.Open(dst, env.Nonce, env.Ciphertext, ad)
	if err != nil {
		return nil, ErrTampered
	}
	return out, nil
}
