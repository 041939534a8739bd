package consent_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// slowStore is a store with the latency of a database round trip.
type slowStore struct {
	consent.Store
	delay time.Duration
}

func (s *slowStore) Events(ctx context.Context, subject personaldata.SubjectID) ([]consent.StoredEvent, error) {
	time.Sleep(s.delay)
	return s.Store.Events(ctx, subject)
}

func (s *slowStore) Append(ctx context.Context, subject personaldata.SubjectID, after uint64, recs []consent.StoredEvent) error {
	time.Sleep(s.delay)
	return s.Store.Append(ctx, subject, after, recs)
}

func contend(t *testing.T, retry consent.Retry) (failed int64) {
	t.Helper()
	ctx := context.Background()
	st := &slowStore{Store: consent.NewMemoryStore(), delay: 300 * time.Microsecond}
	var ls []*consent.Ledger
	for range 8 {
		l, err := consent.New(ctx, st, &consent.Options{Purposes: seedPurposes(), Retry: retry})
		require.NoError(t, err)
		ls = append(ls, l)
	}
	var fails atomic.Int64
	var wg sync.WaitGroup
	for _, l := range ls {
		for range 2 {
			wg.Go(func() {
				for range 6 {
					_, err := l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "hot", Purpose: newsletter,
						Method: consent.MethodAPI, Actor: consent.ActorSubject})
					if err != nil {
						require.ErrorIs(t, err, consent.ErrConflict)
						fails.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	return fails.Load()
}

func TestRecordBacksOffUnderContention(t *testing.T) {
	t.Parallel()
	if n := contend(t, consent.Retry{}); n != 0 {
		t.Fatalf("%d of 96 writes gave up with the default back-off", n)
	}
}

func TestRecordRetryIsBounded(t *testing.T) {
	t.Parallel()
	// No retries: writers that lose a race get ErrConflict at once.
	if n := contend(t, consent.Retry{Attempts: -1}); n == 0 {
		t.Log("no conflict happened; nothing to check")
	}
}

func TestRetryOptionsValidated(t *testing.T) {
	t.Parallel()
	_, err := consent.New(context.Background(), consent.NewMemoryStore(), &consent.Options{Retry: consent.Retry{Base: time.Second, Max: time.Millisecond}})
	require.Error(t, err)
}
