package consent_test

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// dropStore is a store whose rows a test can delete, as someone with write
// access to the database would.
type dropStore struct {
	consent.Store
	mu      sync.Mutex
	dropped map[personaldata.SubjectID]int
}

func (s *dropStore) Events(ctx context.Context, subject personaldata.SubjectID) ([]consent.StoredEvent, error) {
	recs, err := s.Store.Events(ctx, subject)
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.dropped[subject]; err == nil && n > 0 {
		recs = recs[:len(recs)-n]
	}
	return recs, err
}

func (s *dropStore) Append(ctx context.Context, subject personaldata.SubjectID, after uint64, recs []consent.StoredEvent) error {
	s.mu.Lock()
	n := s.dropped[subject]
	s.mu.Unlock()
	if n > 0 {
		// The store's chain is shorter now: a writer that knows the real
		// head conflicts, one that appends onto the shorter chain wins.
		full, _ := s.Store.Events(ctx, subject)
		if after != uint64(len(full)-n) {
			return consent.ErrConflict
		}
		return nil // accepted onto the truncated chain
	}
	return s.Store.Append(ctx, subject, after, recs)
}

func (s *dropStore) drop(subject personaldata.SubjectID, n int) {
	s.mu.Lock()
	if s.dropped == nil {
		s.dropped = map[personaldata.SubjectID]int{}
	}
	s.dropped[subject] = n
	s.mu.Unlock()
}

func fourChoices(t *testing.T, l *consent.Ledger, subject personaldata.SubjectID) {
	t.Helper()
	for i, typ := range []consent.EventType{consent.EventGrant, consent.EventWithdraw, consent.EventGrant, consent.EventWithdraw} {
		_, err := l.Record(context.Background(), consent.Change{Type: typ, Subject: subject, Purpose: newsletter,
			EffectiveAt: day(i), Method: consent.MethodForm, Actor: consent.ActorSubject})
		require.NoError(t, err)
	}
}

func requireTruncated(t *testing.T, err error, index int) {
	t.Helper()
	require.ErrorIs(t, err, consent.ErrTampered)
	var ce *consent.ChainError
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, index, ce.Index, "%v", err)
	assert.Contains(t, err.Error(), "truncated")
}

func TestRunningLedgerRefusesTruncatedChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &dropStore{Store: consent.NewMemoryStore()}
	clk := &testClock{t: startAt}
	opts := &consent.Options{Clock: clk.Now, Purposes: seedPurposes(), Notices: seedNotices()}
	l, err := consent.New(ctx, st, opts)
	require.NoError(t, err)
	fourChoices(t, l, "s")
	require.False(t, decideAt(t, l, "s", day(5)).Allowed)

	st.drop("s", 1)
	requireTruncated(t, l.Sync(ctx, "s"), 3)
	requireTruncated(t, l.Verify(ctx, "s"), 3)
	d, err := l.Decide(ctx, "s", newsletter, day(5))
	if err == nil {
		assert.False(t, d.Allowed, "the decision keeps the last verified state")
		assert.Equal(t, consent.ReasonWithdrawn, d.Reason)
	}
	_, err = l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter,
		Method: consent.MethodForm, Actor: consent.ActorSubject})
	requireTruncated(t, err, 3)
}

func TestRecordRetryRefusesTruncatedChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &dropStore{Store: consent.NewMemoryStore()}
	clk := &testClock{t: startAt}
	opts := &consent.Options{Clock: clk.Now, Purposes: seedPurposes(), Notices: seedNotices()}
	l, err := consent.New(ctx, st, opts)
	require.NoError(t, err)
	fourChoices(t, l, "s")
	st.drop("s", 1)
	_, err = l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter,
		Method: consent.MethodForm, Actor: consent.ActorSubject})
	requireTruncated(t, err, 3)
	d := decideAt(t, l, "s", day(5))
	assert.Equal(t, consent.ReasonWithdrawn, d.Reason, "the decision keeps the last verified state")
}

func TestVerifyWithoutKeyChecksKnownHeadInLongerChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	newLedger := func(st consent.Store) *consent.Ledger {
		clk := &testClock{t: startAt}
		l, err := consent.New(ctx, st, &consent.Options{Clock: clk.Now, Entropy: rand.NewChaCha8([32]byte{7}),
			Purposes: seedPurposes(), Notices: seedNotices()})
		require.NoError(t, err)
		return l
	}
	st := &tamperStore{Store: consent.NewMemoryStore()}
	l := newLedger(st)
	rec := func(l *consent.Ledger, typ consent.EventType, d int) {
		_, err := l.Record(ctx, consent.Change{Type: typ, Subject: "s", Purpose: newsletter, EffectiveAt: day(d),
			Method: consent.MethodForm, Actor: consent.ActorSubject})
		require.NoError(t, err)
	}
	rec(l, consent.EventGrant, 0)
	rec(l, consent.EventWithdraw, 1)
	// The forger drops the withdrawal and appends two grants, with
	// consistent hashes: the same first event, then forged ones.
	forgeStore := consent.NewMemoryStore()
	f := newLedger(forgeStore)
	rec(f, consent.EventGrant, 0)
	rec(f, consent.EventGrant, 2)
	rec(f, consent.EventGrant, 3)
	forged, err := forgeStore.Events(ctx, "s")
	require.NoError(t, err)
	st.set(func([]consent.StoredEvent) []consent.StoredEvent { return slices.Clone(forged) })
	err = l.Verify(ctx, "s")
	require.ErrorIs(t, err, consent.ErrTampered)
	var ce *consent.ChainError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 1, ce.Index)
	require.ErrorIs(t, l.Sync(ctx, "s"), consent.ErrTampered)
	assert.Equal(t, consent.ReasonWithdrawn, decideAt(t, l, "s", day(5)).Reason)
}

func decideAt(t *testing.T, l *consent.Ledger, s personaldata.SubjectID, at time.Time) consent.Decision {
	t.Helper()
	d, err := l.Decide(context.Background(), s, newsletter, at)
	require.NoError(t, err)
	return d
}

func TestSubjectWithoutEventsFollowsBasis(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		purpose consent.PurposeID
		allowed bool
		reason  consent.Reason
	}{
		{announcements, true, consent.ReasonContract},
		{invoices, true, consent.ReasonLegalObligation},
		{statistics, true, consent.ReasonLegitimateInterests},
		{offers, true, consent.ReasonLegitimateInterests},
		{newsletter, false, consent.ReasonNoConsent},
		{testimonials, false, consent.ReasonNoConsent},
	}
	for _, tc := range tests {
		d := f.decide(t, "never-seen", tc.purpose, day(3))
		assert.Equal(t, tc.allowed, d.Allowed, "%s", tc.purpose)
		assert.Equal(t, tc.reason, d.Reason, "%s", tc.purpose)
		// Filter over host-given subjects answers the same.
		var got []personaldata.SubjectID
		for s, err := range f.l.Filter(context.Background(), tc.purpose, slices.Values([]personaldata.SubjectID{"c-1", "c-2"}), day(3)) {
			require.NoError(t, err)
			got = append(got, s)
		}
		if tc.allowed {
			assert.Equal(t, []personaldata.SubjectID{"c-1", "c-2"}, got, "%s", tc.purpose)
		} else {
			assert.Empty(t, got, "%s", tc.purpose)
		}
	}
	// An objection still counts for a subject with events.
	f.record(t, consent.Change{Type: consent.EventObject, Subject: "o", Purpose: statistics, EffectiveAt: day(1)})
	assert.Equal(t, consent.ReasonObjected, f.decide(t, "o", statistics, day(3)).Reason)
}

func TestObjectionAbsoluteForDirectMarketingOnConsent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, EffectiveAt: day(1)})
	f.record(t, consent.Change{Type: consent.EventObject, Subject: "s", Purpose: newsletter, EffectiveAt: day(2)})
	f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, EffectiveAt: day(3),
		Method: consent.MethodAdministrator, Actor: consent.ActorAdministrator})
	d := f.decide(t, "s", newsletter, day(4))
	assert.False(t, d.Allowed)
	assert.Equal(t, consent.ReasonObjected, d.Reason)
	// The subject's own grant lifts it.
	f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, EffectiveAt: day(5)})
	assert.True(t, f.decide(t, "s", newsletter, day(6)).Allowed)
}

func TestDecideRangeChecksTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.record(t, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, EffectiveAt: day(1)})
	for _, at := range []time.Time{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err := f.l.Decide(context.Background(), "s", newsletter, at)
		require.Error(t, err, "%v", at)
		require.ErrorIs(t, err, consent.ErrTimeRange)
		for _, err := range f.l.Filter(context.Background(), newsletter, slices.Values([]personaldata.SubjectID{"s"}), at) {
			require.ErrorIs(t, err, consent.ErrTimeRange)
		}
	}
}

func TestErrorsDoNotEchoHugeInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	huge := strings.Repeat("x", 10<<20)
	check := func(name string, err error) {
		t.Helper()
		require.Error(t, err, name)
		assert.Less(t, len(err.Error()), 512, "%s: %.200s", name, err.Error())
	}
	_, err := f.l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: consent.PurposeID(huge),
		Method: consent.MethodForm, Actor: consent.ActorSubject})
	check("Record purpose", err)
	_, err = f.l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter,
		NoticeVersion: huge, Method: consent.MethodForm, Actor: consent.ActorSubject})
	check("Record notice version", err)
	_, err = f.l.Decide(ctx, "s", consent.PurposeID(huge), day(1))
	check("Decide", err)
	for _, err := range f.l.Filter(ctx, consent.PurposeID(huge), slices.Values([]personaldata.SubjectID{"s"}), day(1)) {
		check("Filter", err)
	}
	check("AddPurpose", f.l.AddPurpose(ctx, consent.Purpose{ID: consent.PurposeID(huge), Basis: personaldata.Consent}))
	check("AddNotice", f.l.AddNotice(ctx, consent.Notice{Version: huge}))
	_, err = f.l.NoticeVersion(huge)
	check("NoticeVersion", err)
	_, err = f.l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: personaldata.SubjectID(huge), Purpose: newsletter,
		Method: consent.MethodForm, Actor: consent.ActorSubject})
	check("Record subject", err)
	var ut consent.EventType
	check("UnmarshalText", ut.UnmarshalText([]byte(huge)))
}

var _ iter.Seq[int]

// editStore hands out one subject's first stored event with a flipped byte
// in its data, as a row edited on disk would read.
type editStore struct {
	consent.Store
	mu     sync.Mutex
	edited map[personaldata.SubjectID]bool
}

func (s *editStore) edit(subject personaldata.SubjectID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.edited == nil {
		s.edited = map[personaldata.SubjectID]bool{}
	}
	s.edited[subject] = true
}

func (s *editStore) Events(ctx context.Context, subject personaldata.SubjectID) ([]consent.StoredEvent, error) {
	recs, err := s.Store.Events(ctx, subject)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.edited[subject] && len(recs) > 0 {
		recs[0].Data = bytes.Clone(recs[0].Data)
		recs[0].Data[len(recs[0].Data)-1] ^= 1
	}
	return recs, err
}

// A chain edited in the middle keeps its length, so an append onto the
// head the ledger verified would be accepted by the store: once Sync has
// seen the edit, the ledger itself must refuse to write for the subject,
// while its decisions keep the last verified state.
func TestSyncedEditBlocksWritesUntilRepaired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &editStore{Store: consent.NewMemoryStore()}
	clk := &testClock{t: startAt}
	l, err := consent.New(ctx, st, &consent.Options{Clock: clk.Now, Purposes: seedPurposes(), Notices: seedNotices()})
	require.NoError(t, err)
	fourChoices(t, l, "s")
	before := decideAt(t, l, "s", day(5))

	st.edit("s")
	err = l.Sync(ctx, "s")
	require.ErrorIs(t, err, consent.ErrTampered)
	assert.Equal(t, before, decideAt(t, l, "s", day(5)), "decisions keep the last verified state")

	grant := consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter,
		Method: consent.MethodForm, Actor: consent.ActorSubject}
	_, err = l.Record(ctx, grant)
	require.ErrorIs(t, err, consent.ErrTampered, "no event is written onto a chain known to be edited")
	var ce *consent.ChainError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 0, ce.Index)

	// Repaired: Sync succeeds again and writes resume.
	st.mu.Lock()
	st.edited["s"] = false
	st.mu.Unlock()
	require.NoError(t, l.Sync(ctx, "s"))
	_, err = l.Record(ctx, grant)
	require.NoError(t, err)
}
