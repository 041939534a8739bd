package pii

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii/internal/envelope"
)

// Algorithm selects the AEAD that seals new ciphertexts. Every ciphertext
// names its algorithm, so a Protector opens both whatever it is set to.
type Algorithm uint8

// Algorithms.
const (
	// AES256GCM is AES-256 in Galois/Counter Mode with a random 96-bit
	// nonce: fast wherever the CPU has AES instructions. With one key per
	// subject and scope, no key comes near GCM's limit of 2^32 messages
	// under random nonces.
	AES256GCM Algorithm = Algorithm(envelope.AES256GCM)
	// XChaCha20Poly1305 uses a random 192-bit nonce: for hosts that want
	// the larger nonce or run without AES instructions.
	XChaCha20Poly1305 Algorithm = Algorithm(envelope.XChaCha20Poly1305)
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
	// Previous lists wrappers of earlier KEKs, to unwrap keys that
	// [Rewrap] has not rotated yet.
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
	indexer  *Indexer
	closed   atomic.Bool

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
// wrapper. It fails if an option is invalid.
func New(store KeyStore, wrapper KeyWrapper, opts *Options) (*Protector, error) {
	if store == nil || wrapper == nil {
		return nil, fmt.Errorf("%w: nil key store or wrapper", ErrUnsupported)
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
		return nil, fmt.Errorf("%w: unknown algorithm %d", ErrUnsupported, o.Algorithm)
	}
	for _, w := range o.Previous {
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
		p.now = o.Clock
	}
	if o.IndexKey != nil {
		ix, err := NewIndexer(o.IndexKey)
		if err != nil {
			return nil, err
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

func (p *Protector) check(ctx context.Context) error {
	if p.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

func validRef(subject personaldata.SubjectID, scope personaldata.Scope) (KeyRef, error) {
	if err := subject.Validate(); err != nil {
		return KeyRef{}, fmt.Errorf("%w: %w", ErrNoSubject, err)
	}
	if err := scope.Validate(); err != nil {
		return KeyRef{}, err
	}
	return KeyRef{Subject: subject, Scope: scope.Normalize()}, nil
}

// key returns the ready key of ref, from the cache or the store. With
// create, a missing key is created; without, it is ErrKeyNotFound. A
// shredded key is ErrForgotten with create and ErrErased without.
func (p *Protector) key(ctx context.Context, ref KeyRef, create bool) (*keyEntry, error) {
	if e := p.cache.get(ref, p.now()); e != nil {
		return e, nil
	}
	gen := p.cache.generation()
	ks, err := p.store.GetKeys(ctx, []KeyRef{ref})
	if err != nil {
		return nil, fmt.Errorf("pii: key store: %w", err)
	}
	if len(ks) != 1 {
		return nil, fmt.Errorf("pii: key store returned %d keys for 1 ref", len(ks))
	}
	ks[0].Ref = ref
	return p.fromStored(ctx, ks[0], create, gen)
}

func (p *Protector) fromStored(ctx context.Context, k StoredKey, create bool, gen uint64) (*keyEntry, error) {
	switch k.State {
	case KeyActive:
		return p.unwrap(ctx, k, gen)
	case KeyShredded:
		if create {
			return nil, ErrForgotten
		}
		return nil, ErrErased
	}
	if !create {
		return nil, ErrKeyNotFound
	}
	return p.create(ctx, k.Ref, gen)
}

func (p *Protector) unwrap(ctx context.Context, k StoredKey, gen uint64) (*keyEntry, error) {
	w, ok := p.wrappers[k.Wrapped.KEKID]
	if !ok {
		return nil, fmt.Errorf("%w: no wrapper for KEK %q", ErrWrongKEK, k.Wrapped.KEKID)
	}
	dek, err := w.Unwrap(ctx, k.Wrapped, wrapAD(k.Ref))
	if err != nil {
		if errors.Is(err, ErrWrongKEK) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrWrongKEK, err)
	}
	e, err := newKeyEntry(k.Ref, dek)
	clear(dek)
	if err != nil {
		return nil, fmt.Errorf("%w: unwrapped key: %w", ErrWrongKEK, err)
	}
	p.cache.put(e, p.now(), gen)
	return e, nil
}

// create makes the key of ref. Goroutines of this process asking for the
// same ref share one attempt; across processes the store's create-if-absent
// picks the winner, and everyone uses the key the store returns.
func (p *Protector) create(ctx context.Context, ref KeyRef, gen uint64) (*keyEntry, error) {
	p.createMu.Lock()
	if c, ok := p.creating[ref]; ok {
		p.createMu.Unlock()
		select {
		case <-c.done:
			return c.entry, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &creation{done: make(chan struct{})}
	p.creating[ref] = c
	p.createMu.Unlock()

	c.entry, c.err = p.createOnce(ctx, ref, gen)
	close(c.done)
	p.createMu.Lock()
	delete(p.creating, ref)
	p.createMu.Unlock()
	return c.entry, c.err
}

func (p *Protector) createOnce(ctx context.Context, ref KeyRef, gen uint64) (*keyEntry, error) {
	dek := make([]byte, 32)
	defer clear(dek)
	if _, err := rand.Read(dek); err != nil {
		return nil, err
	}
	w, err := p.wrapper.Wrap(ctx, dek, wrapAD(ref))
	if err != nil {
		return nil, fmt.Errorf("pii: wrap new key: %w", err)
	}
	stored, err := p.store.CreateKey(ctx, ref, w, p.now())
	if err != nil {
		if errors.Is(err, ErrForgotten) {
			return nil, ErrForgotten
		}
		return nil, fmt.Errorf("pii: key store: %w", err)
	}
	if stored.State == KeyActive && stored.Wrapped.KEKID == w.KEKID && bytes.Equal(stored.Wrapped.Ciphertext, w.Ciphertext) {
		e, err := newKeyEntry(ref, dek)
		if err != nil {
			return nil, err
		}
		p.cache.put(e, p.now(), gen)
		return e, nil
	}
	return p.fromStored(ctx, stored, false, gen) // another creator won
}

// keys resolves many refs with one store call for those not cached. The
// result has an entry or an error per ref.
func (p *Protector) keys(ctx context.Context, refs []KeyRef) (map[KeyRef]*keyEntry, map[KeyRef]error, error) {
	got := make(map[KeyRef]*keyEntry, len(refs))
	bad := map[KeyRef]error{}
	now := p.now()
	var miss []KeyRef
	for _, r := range refs {
		if e := p.cache.get(r, now); e != nil {
			got[r] = e
		} else {
			miss = append(miss, r)
		}
	}
	if len(miss) == 0 {
		return got, bad, nil
	}
	gen := p.cache.generation()
	ks, err := p.store.GetKeys(ctx, miss)
	if err != nil {
		return nil, nil, fmt.Errorf("pii: key store: %w", err)
	}
	if len(ks) != len(miss) {
		return nil, nil, fmt.Errorf("pii: key store returned %d keys for %d refs", len(ks), len(miss))
	}
	for i, k := range ks {
		k.Ref = miss[i]
		if e, err := p.fromStored(ctx, k, false, gen); err != nil {
			bad[k.Ref] = err
		} else {
			got[k.Ref] = e
		}
	}
	return got, bad, nil
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
	return p.sealBinary(make([]byte, 0, envelope.SealedLen(p.alg, len(plaintext))), nil, e, ref, category, plaintext)
}

// Open decrypts an envelope Seal returned for the same subject, scope and
// category. After Forget it fails with ErrErased; a ciphertext of another
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
	return fmt.Errorf("pii: %s (subject %q, scope %s, category %s): %w", op, ref.Subject, ref.Scope, category, err)
}

// sealBinary appends the binary envelope of plaintext to dst.
//
// adBuf is scratch space for the associated data; passing it avoids a heap
// allocation per call (the AEAD interface makes a local array escape).
func (p *Protector) sealBinary(dst, adBuf []byte, e *keyEntry, ref KeyRef, category personaldata.Category, plaintext []byte) ([]byte, error) {
	start := len(dst)
	dst = envelope.AppendHeader(dst, p.alg)
	ns := p.alg.NonceSize()
	dst = append(dst, make([]byte, ns)...)
	nonce := dst[len(dst)-ns:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	ad := envelope.AppendAD(adBuf[:0], dst[start:start+envelope.HeaderSize], string(ref.Subject), string(ref.Scope), string(category))
	return e.aead(p.alg).Seal(dst, nonce, plaintext, ad), nil
}

// openEnvelope appends the plaintext of env to dst, using adBuf as scratch.
func openEnvelope(dst, adBuf []byte, e *keyEntry, env envelope.Envelope, ref KeyRef, category personaldata.Category) ([]byte, error) {
	ad := envelope.AppendAD(adBuf[:0], env.Header, string(ref.Subject), string(ref.Scope), string(category))
	out, err := e.aead(env.Alg).Open(dst, env.Nonce, env.Ciphertext, ad)
	if err != nil {
		return nil, ErrTampered
	}
	return out, nil
}

// Forget crypto-shreds subject: it destroys the keys of the given scopes,
// or of every scope the store holds for subject (and the default scope)
// when none is given. From then on every ciphertext of that subject and
// scope, wherever it was copied (backups, logs, exports), reveals as
// erased, and nothing new can be encrypted for it.
//
// Forget evicts the keys from this Protector's cache. Other processes that
// cached them may still decrypt until their Options.CacheTTL runs out.
func (p *Protector) Forget(ctx context.Context, subject personaldata.SubjectID, scopes ...personaldata.Scope) error {
	if err := p.check(ctx); err != nil {
		return err
	}
	if _, err := validRef(subject, ""); err != nil {
		return err
	}
	norm := make([]personaldata.Scope, 0, len(scopes)+1)
	for _, s := range scopes {
		if err := s.Validate(); err != nil {
			return err
		}
		norm = append(norm, s.Normalize())
	}
	if len(norm) == 0 {
		// Every scope the store knows, then the default scope even if it
		// never had a key, so that a forgotten subject stays forgotten.
		if err := p.store.ShredKeys(ctx, subject, nil, p.now()); err != nil {
			return fmt.Errorf("pii: forget subject %q: %w", subject, err)
		}
		norm = append(norm, personaldata.DefaultScope)
	}
	p.cache.evict(subject, nil)
	if err := p.store.ShredKeys(ctx, subject, norm, p.now()); err != nil {
		return fmt.Errorf("pii: forget subject %q: %w", subject, err)
	}
	p.cache.evict(subject, nil)
	return nil
}
