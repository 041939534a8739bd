package consent_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/consent"
)

// sampleRecords returns stored rows of events with every field set.
func sampleRecords(t testing.TB) []consent.StoredEvent {
	f := newFixture(t, func(o *consent.Options) { o.Sealer = newProtector(t) })
	f.record(t, consent.Change{Type: consent.EventGrant, Subject: "customer-1017", Purpose: newsletter, EffectiveAt: day(1),
		ExpiresAt: day(400), EvidenceHash: sha256.Sum256([]byte("form")), BirthDate: time.Date(2003, 1, 1, 0, 0, 0, 0, time.UTC),
		Actor: consent.ActorGuardian, Personal: &consent.PersonalData{Contact: "jan@example.nl", Evidence: "192.0.2.1"}})
	f.record(t, consent.Change{Type: consent.EventRestrict, Subject: "customer-1017", EffectiveAt: day(2)})
	f.record(t, consent.Change{Type: consent.EventErase, Subject: "customer-1017", EffectiveAt: day(3)})
	recs, err := f.store.Events(context.Background(), "customer-1017")
	require.NoError(t, err)
	return recs
}

// FuzzStoredEvent feeds arbitrary bytes as a stored event row to a ledger:
// loading, verifying and reading the history must never panic, and must
// either succeed or report the row as tampered.
func FuzzStoredEvent(f *testing.F) {
	for _, r := range sampleRecords(f) {
		f.Add(r.Data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		rec := consent.StoredEvent{Subject: "customer-1017", Seq: 1, Data: data}
		rehash(&rec)
		// Fill the index columns from the bytes where they would be, so
		// that well-formed input gets past the column check.
		if len(data) >= 17 {
			var id ulid.ULID
			copy(id[:], data[1:17])
			rec.ID = id.String()
		}
		store := consent.NewMemoryStore()
		require.NoError(t, store.Append(ctx, rec.Subject, 0, []consent.StoredEvent{rec}))
		for _, p := range []consent.PurposeID{"", newsletter} {
			l, err := consent.New(ctx, &tamperStore{Store: store, mutate: func(r []consent.StoredEvent) []consent.StoredEvent {
				r[0].Purpose = p
				return r
			}}, &consent.Options{Purposes: seedPurposes(), Notices: seedNotices()})
			require.NoError(t, err)
			err = l.Verify(ctx, rec.Subject)
			if err != nil {
				var ce *consent.ChainError
				require.True(t, errors.As(err, &ce), "%v", err)
				require.ErrorIs(t, err, consent.ErrTampered)
				_, err = l.Decide(ctx, rec.Subject, newsletter, startAt)
				require.ErrorIs(t, err, consent.ErrTampered)
				continue
			}
			h, err := l.History(ctx, rec.Subject)
			require.NoError(t, err)
			require.Len(t, h, 1)
			_, _ = l.Decide(ctx, rec.Subject, newsletter, h[0].EffectiveAt)
		}
	})
}
