package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii/internal/envelope"
)

// keyEntry is an unwrapped data key, ready to use. Only the AEAD of the
// algorithm it is first used with is set up; the other is set up from the
// key on first use, so a key that only ever seals with one algorithm never
// pays for the set-up of the other.
type keyEntry struct {
	ref     KeyRef
	key     [32]byte                   // the AEADs hold it too (or its expansion)
	aeads   [2]atomic.Pointer[aeadBox] // by algorithm - 1
	expires time.Duration              // by Protector.elapsed

	prev, next *keyEntry // LRU list, guarded by keyCache.mu
	// sprev, snext link the cached keys of one subject, guarded by
	// keyCache.mu.
	sprev, snext *keyEntry
}

type aeadBox struct{ cipher.AEAD }

// newKeyEntry returns the entry of dek, with the AEAD of alg set up.
func newKeyEntry(ref KeyRef, dek []byte, alg envelope.Algorithm) (*keyEntry, error) {
	if len(dek) != 32 {
		return nil, ErrInvalidKey
	}
	e := &keyEntry{ref: ref}
	copy(e.key[:], dek)
	if _, err := e.setup(alg); err != nil {
		return nil, err
	}
	return e, nil
}

// aead returns the AEAD of alg under e's key.
func (e *keyEntry) aead(alg envelope.Algorithm) (cipher.AEAD, error) {
	if i := uint(alg) - 1; i < uint(len(e.aeads)) {
		if b := e.aeads[i].Load(); b != nil {
			return b.AEAD, nil
		}
	}
	return e.setup(alg)
}

func (e *keyEntry) setup(alg envelope.Algorithm) (cipher.AEAD, error) {
	var a cipher.AEAD
	switch alg {
	case envelope.AES256GCM:
		block, err := aes.NewCipher(e.key[:])
		if err != nil {
			return nil, err
		}
		if a, err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	case envelope.XChaCha20Poly1305:
		var err error
		if a, err = chacha20poly1305.NewX(e.key[:]); err != nil {
			return nil, err
		}
	default:
		return nil, ErrUnsupported
	}
	i := alg - 1
	e.aeads[i].CompareAndSwap(nil, &aeadBox{a}) // the first set-up wins
	return e.aeads[i].Load().AEAD, nil
}

// keyCache is a bounded LRU of ready keys with a time to live.
type keyCache struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	items map[KeyRef]*keyEntry
	// subjects holds the first of the cached keys of each subject (linked
	// through snext), so that forgetting one subject costs the same
	// whatever else is cached.
	subjects map[personaldata.SubjectID]*keyEntry
	head     keyEntry // sentinel: head.next is the most recently used
	// gen counts evictions. A key loaded from the store is cached only if
	// no eviction happened since the load began, so forgetting racing with
	// a load never leaves the shredded key cached.
	gen uint64
}

// generation returns the eviction count, to pass to put.
func (c *keyCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func newKeyCache(max int, ttl time.Duration) *keyCache {
	c := &keyCache{max: max, ttl: ttl, items: make(map[KeyRef]*keyEntry), subjects: make(map[personaldata.SubjectID]*keyEntry)}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

func (c *keyCache) unlink(e *keyEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

// remove drops e from the cache. Callers hold c.mu.
func (c *keyCache) remove(e *keyEntry) {
	c.unlink(e)
	delete(c.items, e.ref)
	switch {
	case e.sprev != nil:
		e.sprev.snext = e.snext
	case e.snext != nil:
		c.subjects[e.ref.Subject] = e.snext
	default:
		delete(c.subjects, e.ref.Subject)
	}
	if e.snext != nil {
		e.snext.sprev = e.sprev
	}
	e.sprev, e.snext = nil, nil
}

func (c *keyCache) pushFront(e *keyEntry) {
	e.next, e.prev = c.head.next, &c.head
	c.head.next.prev = e
	c.head.next = e
}

func (c *keyCache) get(ref KeyRef, now time.Duration) *keyEntry {
	if c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	e := c.items[ref]
	if e != nil {
		if now > e.expires {
			c.remove(e)
			e = nil
		} else if c.head.next != e {
			c.unlink(e)
			c.pushFront(e)
		}
	}
	c.mu.Unlock()
	return e
}

func (c *keyCache) put(e *keyEntry, now time.Duration, gen uint64) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if old := c.items[e.ref]; old != nil {
		c.remove(old)
	}
	e.expires = now + c.ttl
	c.items[e.ref] = e
	if first := c.subjects[e.ref.Subject]; first != nil {
		e.snext, first.sprev = first, e
	}
	c.subjects[e.ref.Subject] = e
	c.pushFront(e)
	for len(c.items) > c.max {
		c.remove(c.head.prev)
	}
}

// evict drops the keys of subject in scopes, or in every scope if scopes
// is empty. Its cost depends on the number of keys of subject only.
func (c *keyCache) evict(subject personaldata.SubjectID, scopes []personaldata.Scope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if len(scopes) > 0 {
		for _, sc := range scopes {
			if e := c.items[KeyRef{subject, sc}]; e != nil {
				c.remove(e)
			}
		}
		return
	}
	for e := c.subjects[subject]; e != nil; {
		next := e.snext
		c.remove(e)
		e = next
	}
}

func (c *keyCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.items)
	clear(c.subjects)
	c.head.next, c.head.prev = &c.head, &c.head
}
