package consent

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
)

// Sealer seals the personal data events carry under the subject's key and
// opens it again. *pii.Protector implements it. Implementations must be safe
// for concurrent use. Open of an envelope whose key was shredded returns an
// error; the ledger passes it on wrapped, so callers can test it with
// errors.Is (for pii: pii.ErrErased).
type Sealer interface {
	Seal(ctx context.Context, subject personaldata.SubjectID, scope personaldata.Scope, category personaldata.Category, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, subject personaldata.SubjectID, scope personaldata.Scope, category personaldata.Category, envelope []byte) ([]byte, error)
}

// Defaults of [Options].
const (
	DefaultNoticePeriod = 30 * 24 * time.Hour
	DefaultAgeOfConsent = 16
	// DefaultCategory is the category personal data of events is sealed
	// under.
	DefaultCategory personaldata.Category = "consent-record"
)

// Options configure a [Ledger]. Nil Options and zero fields mean the
// documented defaults. New copies them; do not change them concurrently
// with New.
type Options struct {
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Entropy is the randomness of event IDs; default crypto/rand. The
	// ledger serialises reads from it.
	Entropy io.Reader
	// NoticePeriod is the least time between a notice version's
	// announcement and its effective date; default 30 days. Negative means
	// none.
	NoticePeriod time.Duration
	// AgeOfConsent is the age under which a grant counts only when a
	// guardian gives it (GDPR Art. 8); default 16.
	AgeOfConsent int
	// Sealer seals the personal data of events. Without one, recording an
	// event with personal data fails with ErrNoSealer.
	Sealer Sealer
	// Scope and Category personal data is sealed under; defaults
	// personaldata.DefaultScope and DefaultCategory.
	Scope    personaldata.Scope
	Category personaldata.Category
	// ChainKey, if set, keys the chain hashes (HMAC-SHA256), so that
	// someone who can write the store but does not hold the key cannot
	// rewrite a chain consistently. It must stay the same for a store.
	ChainKey []byte
	// Purposes and Notices are registered by New, purposes first, in order.
	Purposes []Purpose
	Notices  []Notice
	// Receipts describes the controller in consent receipts.
	Receipts ReceiptOptions
}

const shardCount = 256

// Ledger is an append-only, hash-chained consent ledger over a [Store]. It
// keeps a decision index in memory, derived from the events, so that
// [Ledger.Decide] and [Ledger.Filter] never touch the store.
//
// A Ledger is safe for concurrent use. It serialises writes per subject and
// uses optimistic concurrency on the store, so several Ledgers (processes)
// may share one store: a write that loses a race reloads the subject and is
// validated again. Decisions of one Ledger do not see events another
// process appended until [Ledger.Sync] or its own next write to the subject.
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

// shard holds the index of some subjects. Readers look a state up in
// states under the read lock; a writer holds the subject's slot mutex and
// replaces the state under the write lock. States are immutable.
type shard struct {
	mu     sync.RWMutex
	states map[personaldata.SubjectID]*subjectState
	slots  map[personaldata.SubjectID]*slot
}

type slot struct {
	mu sync.Mutex // serialises writers of one subject
}

// New returns a Ledger over store, registers the purposes and notices of
// opts, and loads the decision index from the store. A subject whose stored
// chain is broken is loaded as broken: its decisions and writes fail with
// a [*ChainError]; New fails only when the store or the options do.
func New(ctx context.Context, store Store, opts *Options) (*Ledger, error) {
	if store == nil {
		return nil, errors.New("consent: nil store")
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
		return nil, errors.New("consent: negative age of consent")
	}
	o.Scope = o.Scope.Normalize()
	if err := o.Scope.Validate(); err != nil {
		return nil, fmt.Errorf("consent: options: %w", err)
	}
	if o.Category == "" {
		o.Category = DefaultCategory
	}
	if err := o.Category.Validate(); err != nil {
		return nil, fmt.Errorf("consent: options: %w", err)
	}
	if o.ChainKey != nil {
		l.hasher.key = bytes.Clone(o.ChainKey)
	}
	for i := range l.shards {
		l.shards[i].states = make(map[personaldata.SubjectID]*subjectState)
		l.shards[i].slots = make(map[personaldata.SubjectID]*slot)
	}
	l.reg.Store(&registry{purposes: map[PurposeID]*purposeInfo{}, byVer: map[string]*Notice{}})
	for _, p := range o.Purposes {
		if err := l.AddPurpose(p); err != nil {
			return nil, err
		}
	}
	for _, n := range o.Notices {
		if err := l.AddNotice(n); err != nil {
			return nil, err
		}
	}
	o.Purposes, o.Notices = nil, nil
	reg := l.reg.Load()
	for subject, err := range store.Subjects(ctx, "") {
		if err != nil {
			return nil, fmt.Errorf("consent: load: %w", err)
		}
		st, err := l.load(ctx, subject, reg, nil)
		if err != nil {
			return nil, err
		}
		l.setState(subject, st)
	}
	return l, nil
}

func (l *Ledger) now() time.Time { return l.clock().UTC() }

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
	st := sh.states[subject]
	sh.mu.RUnlock()
	return st
}

func (l *Ledger) setState(subject personaldata.SubjectID, st *subjectState) {
	sh := l.shard(subject)
	sh.mu.Lock()
	sh.states[subject] = st
	sh.mu.Unlock()
}

// load reads subject's chain from the store and builds its state. A broken
// chain yields a state that records the break; only store errors are
// returned.
func (l *Ledger) load(ctx context.Context, subject personaldata.SubjectID, reg *registry, known *subjectState) (*subjectState, error) {
	recs, err := l.store.Events(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("consent: load subject %q: %w", string(subject), err)
	}
	evs, cerr := l.verifyChain(subject, recs, known)
	if cerr != nil {
		return &subjectState{broken: cerr}, nil
	}
	return (&subjectState{}).with(evs, reg), nil
}

// AddPurpose registers p. Registering an identical purpose again is a no-op;
// the same ID with other settings is an error wrapping [ErrInvalidPurpose].
func (l *Ledger) AddPurpose(p Purpose) error {
	if l.closed.Load() {
		return ErrClosed
	}
	l.regMu.Lock()
	defer l.regMu.Unlock()
	r, err := l.reg.Load().addPurpose(p, l.now())
	if err != nil {
		return fmt.Errorf("consent: add purpose: %w", err)
	}
	l.reg.Store(r)
	return nil
}

// AddNotice registers a version of the privacy statement. Versions are
// registered in the order they take effect and are immutable; one that
// takes effect less than the notice period after its announcement is
// rejected with [ErrNoticePeriod] (the first version excepted: it changes
// nothing). Registering an identical version again is a no-op.
func (l *Ledger) AddNotice(n Notice) error {
	if l.closed.Load() {
		return ErrClosed
	}
	l.regMu.Lock()
	defer l.regMu.Unlock()
	r, err := l.reg.Load().addNotice(n, l.opts.NoticePeriod)
	if err != nil {
		return fmt.Errorf("consent: add notice: %w", err)
	}
	l.reg.Store(r)
	return nil
}

// Purpose returns the registered purpose id.
func (l *Ledger) Purpose(id PurposeID) (Purpose, bool) {
	p, ok := l.reg.Load().purposes[id]
	if !ok {
		return Purpose{}, false
	}
	out := p.Purpose
	out.Categories = slices.Clone(out.Categories)
	return out, true
}

// Purposes returns the registered purposes in registration order.
func (l *Ledger) Purposes() []Purpose {
	r := l.reg.Load()
	out := make([]Purpose, 0, len(r.order))
	for _, id := range r.order {
		p, _ := l.Purpose(id)
		out = append(out, p)
	}
	return out
}

// Notices returns every registered notice version, the archive, in the
// order they take effect.
func (l *Ledger) Notices() []Notice {
	r := l.reg.Load()
	out := make([]Notice, len(r.notices))
	for i, n := range r.notices {
		out[i] = *n
		out[i].Purposes = slices.Clone(n.Purposes)
		out[i].FreshConsent = slices.Clone(n.FreshConsent)
	}
	return out
}

// NoticeAt returns the notice version in force at t.
func (l *Ledger) NoticeAt(t time.Time) (Notice, bool) {
	n := l.reg.Load().noticeAt(t.UnixNano())
	if n == nil {
		return Notice{}, false
	}
	out := *n
	out.Purposes = slices.Clone(n.Purposes)
	out.FreshConsent = slices.Clone(n.FreshConsent)
	return out, true
}

// Close marks the ledger closed: later calls return [ErrClosed]. It does not
// close the store, which the caller owns. Close is safe to call twice.
func (l *Ledger) Close() error {
	l.closed.Store(true)
	return nil
}

func (l *Ledger) newID(t time.Time) (ulid.ULID, error) {
	l.entMu.Lock()
	defer l.entMu.Unlock()
	id, err := ulid.New(ulid.Timestamp(t), l.opts.Entropy)
	if err != nil {
		return ulid.ULID{}, fmt.Errorf("consent: event ID: %w", err)
	}
	return id, nil
}

// Record validates c, seals its personal data and appends it to the
// subject's chain. Nothing is appended when it returns an error.
func (l *Ledger) Record(ctx context.Context, c Change) (Event, error) {
	evs, err := l.RecordBatch(ctx, []Change{c})
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

// RecordBatch records changes of one subject atomically: all are appended,
// or none. Each change is validated against the chain as it stands after the
// changes before it.
func (l *Ledger) RecordBatch(ctx context.Context, changes []Change) ([]Event, error) {
	if l.closed.Load() {
		return nil, ErrClosed
	}
	if len(changes) == 0 {
		return nil, nil
	}
	subject := changes[0].Subject
	if err := subject.Validate(); err != nil {
		return nil, fmt.Errorf("consent: record: %w: %w", ErrInvalidEvent, err)
	}
	reg := l.reg.Load()
	now := l.now()
	evs := make([]Event, len(changes))
	for i := range changes {
		if changes[i].Subject != subject {
			return nil, fmt.Errorf("consent: record: %w: a batch holds events of one subject", ErrInvalidEvent)
		}
		if err := l.prepare(ctx, reg, now, &changes[i], &evs[i]); err != nil {
			return nil, fmt.Errorf("consent: record %s for subject %q: %w", changes[i].Type, string(subject), err)
		}
	}
	s := l.slot(subject)
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; ; attempt++ {
		st := l.state(subject)
		if st == nil {
			st = &subjectState{}
		}
		if st.broken != nil {
			return nil, fmt.Errorf("consent: record: %w", st.broken)
		}
		recs := make([]Record, len(evs))
		prev, seq := st.head, st.seq
		erased := st.erased
		for i := range evs {
			e := &evs[i]
			if erased {
				return nil, fmt.Errorf("consent: record %s for subject %q: %w", e.Type, string(subject), ErrErased)
			}
			erased = e.Type == EventErase
			seq++
			e.Seq, e.PrevHash = seq, prev
			recs[i] = e.record()
			e.Hash = l.hasher.sum(recs[i].Data)
			recs[i].Hash = bytes.Clone(e.Hash[:])
			prev = e.Hash
		}
		err := l.store.Append(ctx, subject, st.seq, recs)
		if errors.Is(err, ErrConflict) && attempt < 8 && ctx.Err() == nil {
			// Another writer appended first: catch up and try again.
			nst, lerr := l.load(ctx, subject, l.reg.Load(), nil)
			if lerr != nil {
				return nil, lerr
			}
			l.setState(subject, nst)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("consent: record for subject %q: %w", string(subject), err)
		}
		l.setState(subject, st.with(evs, reg))
		return evs, nil
	}
}

// prepare validates c and fills e, apart from the chain fields.
func (l *Ledger) prepare(ctx context.Context, reg *registry, now time.Time, c *Change, e *Event) error {
	if !c.Type.valid() {
		return fmt.Errorf("%w: unknown type %d", ErrInvalidEvent, uint8(c.Type))
	}
	if !c.Method.valid() {
		return fmt.Errorf("%w: unknown method %d", ErrInvalidEvent, uint8(c.Method))
	}
	if !c.Actor.valid() {
		return fmt.Errorf("%w: unknown actor %d", ErrInvalidEvent, uint8(c.Actor))
	}
	eff := c.EffectiveAt.UTC()
	if c.EffectiveAt.IsZero() {
		eff = now
	}
	if !validTime(eff) || !validTime(c.ExpiresAt) || !validTime(c.BirthDate) {
		return fmt.Errorf("%w: time out of range", ErrInvalidEvent)
	}
	if eff.After(now) {
		return fmt.Errorf("%w: takes effect after it is recorded", ErrInvalidEvent)
	}
	var p *purposeInfo
	switch {
	case c.Type == EventErase:
		if c.Purpose != "" {
			return fmt.Errorf("%w: erasure concerns the subject, not one purpose", ErrInvalidEvent)
		}
	case c.Purpose == "" && (c.Type == EventRestrict || c.Type == EventLiftRestriction):
	default:
		p = reg.purposes[c.Purpose]
		if p == nil {
			if c.Purpose == "" {
				return fmt.Errorf("%w: no purpose", ErrInvalidEvent)
			}
			return fmt.Errorf("%w: %q", ErrUnknownPurpose, c.Purpose)
		}
		if eff.UnixNano() < p.since {
			return fmt.Errorf("%w: %q exists since %s", ErrBeforePurpose, c.Purpose, p.Since.Format(time.RFC3339))
		}
	}
	if p != nil && (c.Type == EventWithdraw || c.Type == EventObject) {
		switch p.Basis {
		case personaldata.Contract, personaldata.LegalObligation, personaldata.VitalInterests:
			return fmt.Errorf("%w: purpose %q rests on %s (%s), not on the subject's choice",
				ErrWithdrawalRefused, c.Purpose, p.Basis, p.Basis.Article())
		}
	}
	if c.Type == EventGrant && c.Method == MethodPrivacySignal {
		return fmt.Errorf("%w: a privacy signal can only withdraw or object", ErrInvalidEvent)
	}
	notice := c.NoticeVersion
	if notice != "" {
		n := reg.byVer[notice]
		if n == nil {
			return fmt.Errorf("%w: %q", ErrUnknownNotice, notice)
		}
		if reg.noticeAt(eff.UnixNano()) != n {
			return fmt.Errorf("%w: version %q is not in force at %s", ErrNoticeNotInForce, notice, eff.Format(time.RFC3339))
		}
		if c.Type == EventGrant && !n.covers(c.Purpose) {
			return fmt.Errorf("%w: version %q does not cover purpose %q", ErrNoticeNotInForce, notice, c.Purpose)
		}
	} else if c.Type == EventGrant && len(reg.notices) > 0 {
		n := reg.noticeAt(eff.UnixNano())
		if n == nil {
			return fmt.Errorf("%w: no version in force at %s", ErrNoticeNotInForce, eff.Format(time.RFC3339))
		}
		if !n.covers(c.Purpose) {
			return fmt.Errorf("%w: version %q in force does not cover purpose %q", ErrNoticeNotInForce, n.Version, c.Purpose)
		}
		notice = n.Version
	} else if n := reg.noticeAt(eff.UnixNano()); n != nil {
		notice = n.Version
	}
	expires := c.ExpiresAt.UTC()
	if c.ExpiresAt.IsZero() {
		expires = time.Time{}
		if c.Type == EventGrant && p != nil && p.Validity > 0 {
			expires = eff.Add(p.Validity)
			if !validTime(expires) {
				return fmt.Errorf("%w: expiry out of range", ErrInvalidEvent)
			}
		}
	} else {
		if c.Type != EventGrant {
			return fmt.Errorf("%w: only a grant expires", ErrInvalidEvent)
		}
		if !expires.After(eff) {
			return fmt.Errorf("%w: expires before it takes effect", ErrInvalidEvent)
		}
	}
	minor := false
	if !c.BirthDate.IsZero() {
		bd := c.BirthDate.UTC()
		if bd.After(eff) {
			return fmt.Errorf("%w: birth date after the event", ErrInvalidEvent)
		}
		minor = age(bd, eff) < l.opts.AgeOfConsent
	}
	var sealed []byte
	if !c.Personal.empty() {
		if len(c.Personal.Contact) > MaxContactLen || len(c.Personal.Evidence) > MaxEvidenceLen {
			return fmt.Errorf("%w: personal data too long", ErrInvalidEvent)
		}
		if l.opts.Sealer == nil {
			return ErrNoSealer
		}
		var err error
		sealed, err = l.opts.Sealer.Seal(ctx, c.Subject, l.opts.Scope, l.opts.Category, encodePersonal(c.Personal))
		if err != nil {
			return fmt.Errorf("seal personal data: %w", err)
		}
		if len(sealed) == 0 || len(sealed) > maxSealedLen {
			return fmt.Errorf("seal personal data: sealer returned %d bytes", len(sealed))
		}
	}
	id, err := l.newID(now)
	if err != nil {
		return err
	}
	*e = Event{
		ID: id, Subject: c.Subject, Type: c.Type, Purpose: c.Purpose,
		EffectiveAt: eff, RecordedAt: now, NoticeVersion: notice,
		Method: c.Method, Actor: c.Actor, EvidenceHash: c.EvidenceHash,
		ExpiresAt: expires, Minor: minor, Sealed: sealed,
	}
	return nil
}

// age returns the age in whole years at t of someone born at bd.
func age(bd, t time.Time) int {
	y := t.Year() - bd.Year()
	if t.Month() < bd.Month() || (t.Month() == bd.Month() && t.Day() < bd.Day()) {
		y--
	}
	return y
}

// Sync reloads subject's events from the store, for events another process
// appended. It verifies the chain; a broken chain is returned as a
// [*ChainError] and leaves the subject broken.
func (l *Ledger) Sync(ctx context.Context, subject personaldata.SubjectID) error {
	if l.closed.Load() {
		return ErrClosed
	}
	s := l.slot(subject)
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := l.load(ctx, subject, l.reg.Load(), nil)
	if err != nil {
		return err
	}
	l.setState(subject, st)
	if st.broken != nil {
		return st.broken
	}
	return nil
}

// History returns subject's events in the order they were recorded, read
// from the store and verified: a broken chain is returned as a
// [*ChainError]. An unknown subject has an empty history. Personal data
// stays sealed; see [Ledger.Reveal].
func (l *Ledger) History(ctx context.Context, subject personaldata.SubjectID) ([]Event, error) {
	if l.closed.Load() {
		return nil, ErrClosed
	}
	recs, err := l.store.Events(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("consent: history of subject %q: %w", string(subject), err)
	}
	evs, cerr := l.verifyChain(subject, recs, l.state(subject))
	if cerr != nil {
		return nil, cerr
	}
	return evs, nil
}

// Verify checks subject's stored chain: every event decodes, matches its
// hash, links to its predecessor, and the chain ends where this ledger last
// saw it end. The first broken link is reported as a [*ChainError] wrapping
// [ErrTampered]; nil means the chain is intact.
func (l *Ledger) Verify(ctx context.Context, subject personaldata.SubjectID) error {
	_, err := l.History(ctx, subject)
	return err
}

// Reveal opens the personal data of e, an event from [Ledger.History]. It
// returns an error wrapping [ErrNotFound] if e carries none, [ErrErased] if
// the ledger recorded the subject's erasure, and otherwise wraps the
// Sealer's error — after the subject's key was shredded, pii.ErrErased.
func (l *Ledger) Reveal(ctx context.Context, e Event) (PersonalData, error) {
	if l.closed.Load() {
		return PersonalData{}, ErrClosed
	}
	if len(e.Sealed) == 0 {
		return PersonalData{}, fmt.Errorf("consent: reveal event %s: %w: no personal data", e.ID, ErrNotFound)
	}
	if st := l.state(e.Subject); st != nil && st.erased {
		return PersonalData{}, fmt.Errorf("consent: reveal event %s: %w", e.ID, ErrErased)
	}
	if l.opts.Sealer == nil {
		return PersonalData{}, fmt.Errorf("consent: reveal event %s: %w", e.ID, ErrNoSealer)
	}
	b, err := l.opts.Sealer.Open(ctx, e.Subject, l.opts.Scope, l.opts.Category, e.Sealed)
	if err != nil {
		return PersonalData{}, fmt.Errorf("consent: reveal event %s: %w", e.ID, err)
	}
	p, err := decodePersonal(b)
	if err != nil {
		return PersonalData{}, fmt.Errorf("consent: reveal event %s: %w: %w", e.ID, ErrTampered, err)
	}
	return p, nil
}

// verifyChain decodes and checks recs, and compares the end of the chain
// with known, the state this ledger holds, if any.
func (l *Ledger) verifyChain(subject personaldata.SubjectID, recs []Record, known *subjectState) ([]Event, *ChainError) {
	fail := func(i int, id ulid.ULID, p ChainProblem, detail string) *ChainError {
		return &ChainError{Subject: subject, Index: i, EventID: id, Problem: p, Detail: detail, Err: ErrTampered}
	}
	evs := make([]Event, 0, len(recs))
	var prev [32]byte
	for i, r := range recs {
		rid, _ := ulid.ParseStrict(r.ID)
		e, err := decodeEvent(r.Data)
		if err != nil {
			return nil, fail(i, rid, ChainEdited, err.Error())
		}
		h := l.hasher.sum(r.Data)
		if !bytes.Equal(h[:], r.Hash) {
			return nil, fail(i, e.ID, ChainEdited, "contents do not match the hash")
		}
		if e.Subject != subject || r.Subject != subject || r.Seq != e.Seq || r.ID != e.ID.String() || r.Purpose != e.Purpose {
			return nil, fail(i, e.ID, ChainMismatched, "row columns disagree with the hashed contents")
		}
		want := uint64(i) + 1
		switch {
		case e.Seq > want:
			for _, later := range recs[i+1:] {
				if later.Seq == want {
					return nil, fail(i, e.ID, ChainReordered, fmt.Sprintf("event %d found where %d belongs", e.Seq, want))
				}
			}
			return nil, fail(i, e.ID, ChainMissing, fmt.Sprintf("events %d to %d are missing", want, e.Seq-1))
		case e.Seq < want:
			return nil, fail(i, e.ID, ChainInserted, fmt.Sprintf("second event with number %d", e.Seq))
		}
		if e.PrevHash != prev {
			return nil, fail(i, e.ID, ChainInserted, "does not link to the previous event: this event was inserted, or the previous one edited and rehashed")
		}
		e.Hash = h
		prev = h
		evs = append(evs, e)
	}
	if known != nil && known.broken == nil {
		n := uint64(len(evs))
		switch {
		case n < known.seq:
			return nil, fail(len(evs), ulid.ULID{}, ChainMissing, fmt.Sprintf("the chain ends after %d events, this ledger saw %d", n, known.seq))
		case n == known.seq && n > 0 && prev != known.head:
			return nil, fail(len(evs)-1, evs[n-1].ID, ChainEdited, "the chain was rewritten: it no longer ends in the head this ledger saw")
		}
	}
	return evs, nil
}
