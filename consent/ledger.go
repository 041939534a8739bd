package consent

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
)

// Ledger is an append-only, hash-chained consent ledger over a [Store]. It
// keeps a decision index in memory, derived from the events, so that
// [Ledger.Decide] and [Ledger.Filter] never touch the store.
//
// A Ledger is safe for concurrent use. It serialises writes per subject and
// uses optimistic concurrency on the store, so several Ledgers (processes)
// may share one store: a write that loses a race waits (Options.Retry),
// reloads the subject and is validated again. Decisions of one Ledger do
// not see events another process appended until [Ledger.Sync] or its own
// next write to the subject.
type Ledger struct {
	store  Store
	opts   Options
	hasher hasher
	clock  func() time.Time
	reg    atomic.Pointer[registry]
	regMu  sync.Mutex // serialises registration
	entMu  sync.Mutex
	seed   maphash.Seed
	shards [shardCount]shard
	closed atomic.Bool
}

// New returns a Ledger over store. It loads the purposes and notices the
// store holds, registers those of opts (storing the new ones), checks the
// store against opts.Checkpoint if set, and loads the decision index. A
// subject whose stored chain is broken is loaded as broken: its decisions
// and writes fail with a [*ChainError]; New fails only when the store, the
// options or the checkpoint do. A nil store is an error.
func New(ctx context.Context, store Store, opts *Options) (*Ledger, error) {
	if store == nil {
		return nil, errors.New("consent: New: nil Store")
	}
	l := &Ledger{store: store, seed: maphash.MakeSeed()}
	if opts != nil {
		l.opts = *opts
	}
	o := &l.opts
	if o.Clock == nil {
		o.Clock = time.Now
	}
	l.clock = o.Clock
	if o.Entropy == nil {
		o.Entropy = rand.Reader
	}
	if o.NoticePeriod == 0 {
		o.NoticePeriod = DefaultNoticePeriod
	} else if o.NoticePeriod < 0 {
		o.NoticePeriod = 0
	}
	if o.AgeOfConsent == 0 {
		o.AgeOfConsent = DefaultAgeOfConsent
	}
	if o.AgeOfConsent < 0 {
		return nil, errors.New("consent: New: negative age of consent")
	}
	o.Scope = o.Scope.Normalize()
	if err := o.Scope.Validate(); err != nil {
		return nil, fmt.Errorf("consent: New: %w", err)
	}
	if o.Category == "" {
		o.Category = DefaultCategory
	}
	if err := o.Category.Validate(); err != nil {
		return nil, fmt.Errorf("consent: New: %w", err)
	}
	if o.ChainKey != nil {
		l.hasher.key = bytes.Clone(o.ChainKey)
	}
	if err := o.Retry.normalize(); err != nil {
		return nil, err
	}
	if o.CheckpointName == "" {
		o.CheckpointName = DefaultCheckpointName
	}
	if !validKeyName(o.CheckpointName) {
		return nil, errors.New("consent: New: checkpoint name is not a valid key name")
	}
	if o.CheckpointKey != nil && len(o.CheckpointKey) != 64 {
		return nil, errors.New("consent: New: checkpoint key is not an Ed25519 private key")
	}
	for i := range l.shards {
		l.shards[i].states = make(map[personaldata.SubjectID]hot)
		l.shards[i].slots = make(map[personaldata.SubjectID]*slot)
	}
	l.reg.Store(&registry{purposes: map[PurposeID]*purposeInfo{}, byVer: map[string]*Notice{}})
	if err := l.loadDefinitions(ctx); err != nil {
		return nil, err
	}
	for _, p := range o.Purposes {
		if err := l.AddPurpose(ctx, p); err != nil {
			return nil, err
		}
	}
	for _, n := range o.Notices {
		if err := l.AddNotice(ctx, n); err != nil {
			return nil, err
		}
	}
	o.Purposes, o.Notices = nil, nil
	anchors, err := l.anchors()
	if err != nil {
		return nil, err
	}
	reg := l.reg.Load()
	for subject, err := range store.Subjects(ctx, "") {
		if err != nil {
			return nil, fmt.Errorf("consent: New: load: %w", err)
		}
		a, ok := anchors[subject]
		delete(anchors, subject)
		var known *head
		if ok {
			known = &a
		}
		st, cerr, err := l.load(ctx, subject, reg, known)
		if err != nil {
			return nil, err
		}
		if cerr != nil {
			st = brokenState(cerr, known)
		}
		l.setState(subject, st)
	}
	for subject, a := range anchors {
		l.setState(subject, brokenState(&ChainError{Subject: subject, Problem: ChainTruncated, Err: ErrTampered,
			Detail: fmt.Sprintf("the store has no events, the checkpoint holds %d", a.seq)}, &a))
	}
	return l, nil
}

func (r *Retry) normalize() error {
	if r.Attempts == 0 {
		r.Attempts = DefaultRetryAttempts
	} else if r.Attempts < 0 {
		r.Attempts = 0
	}
	if r.Base == 0 {
		r.Base = DefaultRetryBase
	}
	if r.Max == 0 {
		r.Max = DefaultRetryMax
	}
	if r.Base < 0 || r.Max < r.Base {
		return errors.New("consent: New: retry back-off needs 0 < Base <= Max")
	}
	return nil
}

// Close marks the ledger closed: later calls return [ErrClosed]. It does not
// close the store, which the caller owns. Close is safe to call twice.
func (l *Ledger) Close() error {
	l.closed.Store(true)
	return nil
}

func (l *Ledger) now() time.Time { return l.clock().UTC() }

func (l *Ledger) newID(t time.Time) (ulid.ULID, error) {
	l.entMu.Lock()
	defer l.entMu.Unlock()
	id, err := ulid.New(ulid.Timestamp(t), l.opts.Entropy)
	if err != nil {
		return ulid.ULID{}, fmt.Errorf("consent: event ID: %w", err)
	}
	return id, nil
}

const shardCount = 256

// shard holds the index of some subjects. Readers look a state up in
// states under the read lock; a writer holds the subject's slot mutex and
// replaces the state under the write lock. States are immutable.
type shard struct {
	mu     sync.RWMutex
	states map[personaldata.SubjectID]hot
	slots  map[personaldata.SubjectID]*slot
}

type slot struct {
	mu sync.Mutex // serialises writers of one subject
}

func (l *Ledger) shard(subject personaldata.SubjectID) *shard {
	return &l.shards[maphash.String(l.seed, string(subject))%shardCount]
}

// slot returns the writer slot of subject, creating it.
func (l *Ledger) slot(subject personaldata.SubjectID) *slot {
	sh := l.shard(subject)
	sh.mu.RLock()
	s := sh.slots[subject]
	sh.mu.RUnlock()
	if s != nil {
		return s
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s = sh.slots[subject]; s == nil {
		s = &slot{}
		sh.slots[subject] = s
	}
	return s
}

// state returns subject's current state, nil if it has none.
func (l *Ledger) state(subject personaldata.SubjectID) *subjectState {
	sh := l.shard(subject)
	sh.mu.RLock()
	h := sh.states[subject]
	sh.mu.RUnlock()
	return h.full
}

// hot returns what a decision reads of subject; zero if it has no state.
func (l *Ledger) hot(subject personaldata.SubjectID) hot {
	sh := l.shard(subject)
	sh.mu.RLock()
	h := sh.states[subject]
	sh.mu.RUnlock()
	return h
}

func (l *Ledger) setState(subject personaldata.SubjectID, st *subjectState) {
	sh := l.shard(subject)
	sh.mu.Lock()
	sh.states[subject] = st.hot()
	sh.mu.Unlock()
}
