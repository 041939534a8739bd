package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii/internal/envelope"
)

// keyEntry is an unwrapped data key, ready to use. The raw key bytes are not
// kept: only the AEADs built from them.
type keyEntry struct {
	ref     KeyRef
	gcm     cipher.AEAD
	xc      cipher.AEAD
	expires time.Time

	prev, next *keyEntry // LRU list, guarded by keyCache.mu
	// sprev, snext link the cached keys of one subject, guarded by
	// keyCache.mu.
	sprev, snext *keyEntry
}

func newKeyEntry(ref KeyRef, dek []byte) (*keyEntry, error) {
	if len(dek) != 32 {
		return nil, ErrInvalidKey
	}
	block, err := aes.NewCipher(dek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	xc, err := chacha20poly1305.NewX(dek)
	if err != nil {
		return nil, err
	}
	return &keyEntry{ref: ref, gcm: gcm, xc: xc}, nil
}

func (e *keyEntry) aead(alg envelope.Algorithm) cipher.AEAD {
	if alg == envelope.XChaCha20Poly1305 {
		return e.xc
	}
	return e.gcm
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

func (c *keyCache) get(ref KeyRef, now time.Time) *keyEntry {
	if c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	e := c.items[ref]
	if e != nil {
		if now.After(e.expires) {
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

func (c *keyCache) put(e *keyEntry, now time.Time, gen uint64) {
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
	e.expires = now.Add(c.ttl)
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
