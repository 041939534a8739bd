package consent_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// tamperStore passes everything to a store, and lets a test rewrite the
// rows it reads, as someone with write access to the database would.
type tamperStore struct {
	consent.Store
	mu     sync.Mutex
	mutate func([]consent.StoredEvent) []consent.StoredEvent
}

func (s *tamperStore) Events(ctx context.Context, subject personaldata.SubjectID) ([]consent.StoredEvent, error) {
	recs, err := s.Store.Events(ctx, subject)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.mutate != nil {
		recs = s.mutate(recs)
	}
	return recs, err
}

func (s *tamperStore) set(m func([]consent.StoredEvent) []consent.StoredEvent) {
	s.mu.Lock()
	s.mutate = m
	s.mu.Unlock()
}

// rehash recomputes a row's hash the way an attacker who read the package
// docs would (no chain key).
func rehash(r *consent.StoredEvent) {
	h := sha256.New()
	h.Write([]byte("personaldata/consent/v1\x00"))
	h.Write(r.Data)
	r.Hash = h.Sum(nil)
}

func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func([]consent.StoredEvent) []consent.StoredEvent
		index   int
		problem consent.ChainProblem
	}{
		{"edited byte", func(r []consent.StoredEvent) []consent.StoredEvent { r[1].Data[20] ^= 1; return r }, 1, consent.ChainEdited},
		{"edited and rehashed", func(r []consent.StoredEvent) []consent.StoredEvent {
			r[1].Data[len(r[1].Data)-40] ^= 1 // the method byte area, still decodable or not: either is caught
			rehash(&r[1])
			return r
		}, 2, ""}, // shows where the next event no longer links to it
		{"truncated row", func(r []consent.StoredEvent) []consent.StoredEvent { r[2].Data = r[2].Data[:10]; return r }, 2, consent.ChainEdited},
		{"hash replaced", func(r []consent.StoredEvent) []consent.StoredEvent { r[0].Hash = make([]byte, 32); return r }, 0, consent.ChainEdited},
		{"deleted in the middle", func(r []consent.StoredEvent) []consent.StoredEvent { return append(r[:1:1], r[2:]...) }, 1, consent.ChainMissing},
		{"deleted at the end", func(r []consent.StoredEvent) []consent.StoredEvent { return r[:3] }, 3, consent.ChainTruncated},
		{"reordered", func(r []consent.StoredEvent) []consent.StoredEvent { r[1], r[2] = r[2], r[1]; return r }, 1, consent.ChainReordered},
		{"duplicated", func(r []consent.StoredEvent) []consent.StoredEvent {
			return append(r[:2:2], append([]consent.StoredEvent{r[1]}, r[2:]...)...)
		}, 2, consent.ChainInserted},
		{"column edited", func(r []consent.StoredEvent) []consent.StoredEvent { r[1].Purpose = "testimonials"; return r }, 1, consent.ChainMismatched},
		{"forged last event", func(r []consent.StoredEvent) []consent.StoredEvent {
			forged := r[3]
			forged.Data = append([]byte(nil), r[3].Data...)
			forged.Data[len(forged.Data)-1] ^= 1 // previous hash
			rehash(&forged)
			r[3] = forged
			return r
		}, 3, consent.ChainInserted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := &tamperStore{Store: consent.NewMemoryStore()}
			clk := &testClock{t: startAt}
			l, err := consent.New(ctx, st, &consent.Options{Clock: clk.Now, Purposes: seedPurposes(), Notices: seedNotices()})
			require.NoError(t, err)
			var evs []consent.Event
			for i, p := range []consent.PurposeID{newsletter, statistics, newsletter, testimonials} {
				typ := consent.EventGrant
				if i == 2 {
					typ = consent.EventWithdraw
				}
				e, err := l.Record(ctx, consent.Change{Type: typ, Subject: "s", Purpose: p, EffectiveAt: day(i),
					Method: consent.MethodForm, Actor: consent.ActorSubject})
				require.NoError(t, err)
				evs = append(evs, e)
			}
			require.NoError(t, l.Verify(ctx, "s"))

			st.set(tc.mutate)
			err = l.Verify(ctx, "s")
			require.ErrorIs(t, err, consent.ErrTampered)
			var ce *consent.ChainError
			require.True(t, errors.As(err, &ce))
			assert.Equal(t, personaldata.SubjectID("s"), ce.Subject)
			assert.Equal(t, tc.index, ce.Index, "index: %v", err)
			if tc.problem != "" {
				assert.Equal(t, tc.problem, ce.Problem, "%v", err)
			}
			t.Log(err)

			// Reading the history and receipts fails the same way.
			_, err = l.History(ctx, "s")
			require.ErrorIs(t, err, consent.ErrTampered)
			_, err = l.Receipt(ctx, "s", evs[0].ID)
			require.ErrorIs(t, err, consent.ErrTampered)

			// A ledger that loads the tampered store marks the subject
			// broken, refuses to decide or append, and goes on for others.
			if tc.name == "deleted at the end" {
				return // without an anchor a shorter chain is a valid chain
			}
			l2, err := consent.New(ctx, st, &consent.Options{Clock: clk.Now, Purposes: seedPurposes(), Notices: seedNotices()})
			require.NoError(t, err)
			_, err = l2.Decide(ctx, "s", newsletter, day(1))
			require.ErrorIs(t, err, consent.ErrTampered)
			_, err = l2.Record(ctx, consent.Change{Type: consent.EventWithdraw, Subject: "s", Purpose: newsletter,
				Method: consent.MethodForm, Actor: consent.ActorSubject})
			require.ErrorIs(t, err, consent.ErrTampered)
			var n int
			for s, err := range l2.Filter(ctx, newsletter, slicesValues([]personaldata.SubjectID{"s", "other"}), day(1)) {
				require.ErrorIs(t, err, consent.ErrTampered)
				assert.Equal(t, personaldata.SubjectID("s"), s)
				n++
			}
			assert.Equal(t, 1, n)
			st.set(nil)
			require.NoError(t, l2.Sync(ctx, "s"), "repaired store")
		})
	}
}

func TestChainKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &tamperStore{Store: consent.NewMemoryStore()}
	opts := &consent.Options{Purposes: seedPurposes(), ChainKey: []byte("0123456789abcdef0123456789abcdef")}
	l, err := consent.New(ctx, st, opts)
	require.NoError(t, err)
	_, err = l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter,
		Method: consent.MethodForm, Actor: consent.ActorSubject})
	require.NoError(t, err)
	require.NoError(t, l.Verify(ctx, "s"))

	// Unkeyed hashes do not verify under a key...
	st.set(func(r []consent.StoredEvent) []consent.StoredEvent { rehash(&r[0]); return r })
	l2, err := consent.New(ctx, st, opts)
	require.NoError(t, err)
	require.ErrorIs(t, l2.Verify(ctx, "s"), consent.ErrTampered)
	// ...and keyed ones not without it.
	st.set(nil)
	l3, err := consent.New(ctx, st, &consent.Options{Purposes: seedPurposes()})
	require.NoError(t, err)
	require.ErrorIs(t, l3.Verify(ctx, "s"), consent.ErrTampered)
}
