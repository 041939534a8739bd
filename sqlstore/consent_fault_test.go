package sqlstore_test

import (
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/sqlstore"
)

// ledgerOn returns a ledger over s with the test purposes.
func ledgerOn(t *testing.T, s consent.Store) *consent.Ledger {
	t.Helper()
	l, err := consent.New(t.Context(), s, &consent.Options{Purposes: consentPurposes()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// TestConsentFaultTamperedRow alters one stored event of a subject behind
// the store's back, as someone with write access to the database might:
// the ledger reports that subject's chain broken at that event, as a
// *consent.ChainError wrapping consent.ErrTampered, and every other
// subject is served as before; a ledger started afterwards starts.
func TestConsentFaultTamperedRow(t *testing.T) {
	for _, c := range []struct {
		name   string
		alter  func(data, hash []byte) (newData, newHash []byte)
		detail string
	}{
		{"BrokenHash", func(d, h []byte) ([]byte, []byte) {
			h = append([]byte(nil), h...)
			h[5] ^= 0x20
			return d, h
		}, "hash"},
		{"RehashedGarbage", func(d, h []byte) ([]byte, []byte) { return []byte("not an event"), make([]byte, 32) }, ""},
		{"EditedData", func(d, h []byte) ([]byte, []byte) {
			d = append([]byte(nil), d...)
			d[len(d)/2] ^= 1
			return d, h
		}, ""},
		{"TruncatedData", func(d, h []byte) ([]byte, []byte) { return d[:len(d)/2], h }, ""},
		{"TruncatedHash", func(d, h []byte) ([]byte, []byte) { return d, h[:16] }, "hash"},
		{"EmptyData", func(d, h []byte) ([]byte, []byte) { return []byte{}, h }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			forEachBackend(t, func(t *testing.T, b backend) {
				ctx := t.Context()
				db, prefix := b.fresh(t)
				s, err := sqlstore.OpenConsentStore(ctx, db, b.dialect, b.opts(prefix))
				require.NoError(t, err)
				l := ledgerOn(t, s)
				for i := range 3 {
					_, err := l.Record(ctx, grant("ann", consentSince.AddDate(0, i, 0)))
					require.NoError(t, err)
				}
				_, err = l.Record(ctx, grant("bob", consentSince))
				require.NoError(t, err)

				var data, hash []byte
				sel := rebind(b.dialect, "SELECT data, hash FROM "+prefix+"consent_events WHERE subject = ? AND seq = ?")
				require.NoError(t, db.QueryRowContext(ctx, sel, "ann", 2).Scan(&data, &hash))
				data, hash = c.alter(data, hash)
				upd := rebind(b.dialect, "UPDATE "+prefix+"consent_events SET data = ?, hash = ? WHERE subject = ? AND seq = ?")
				_, err = db.ExecContext(ctx, upd, data, hash, "ann", 2)
				require.NoError(t, err)

				check := func(err error, what string) {
					t.Helper()
					require.ErrorIs(t, err, consent.ErrTampered, what)
					var ce *consent.ChainError
					require.ErrorAs(t, err, &ce, what)
					require.Equal(t, personaldata.SubjectID("ann"), ce.Subject)
					require.Equal(t, 1, ce.Index, "%s: the second event is the one altered", what)
				}
				check(l.Verify(ctx, "ann"), "Verify")
				check(l.Sync(ctx, "ann"), "Sync")
				require.NoError(t, l.Verify(ctx, "bob"))

				restarted := ledgerOn(t, s) // starts: one broken chain is that subject's problem
				_, err = restarted.Decide(ctx, "ann", "newsletter", consentSince.AddDate(1, 0, 0))
				check(err, "Decide after a restart")
				check(restarted.Verify(ctx, "ann"), "Verify after a restart")
				d, err := restarted.Decide(ctx, "bob", "newsletter", consentSince.AddDate(1, 0, 0))
				require.NoError(t, err)
				require.True(t, d.Allowed)
				t.Logf("%s: %v", c.name, restarted.Verify(ctx, "ann"))
			})
		})
	}
}

// TestConsentFaultHeadDisagrees deletes the last event of a chain and
// leaves its head row: a ledger started without a checkpoint cannot see
// the loss (see consent.Options.Checkpoint), but the next append for that
// subject fails at once with sqlstore.ErrCorrupt, instead of conflicting
// forever.
func TestConsentFaultHeadDisagrees(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		db, prefix := b.fresh(t)
		s, err := sqlstore.OpenConsentStore(ctx, db, b.dialect, b.opts(prefix))
		require.NoError(t, err)
		l := ledgerOn(t, s)
		for i := range 3 {
			_, err := l.Record(ctx, grant("ann", consentSince.AddDate(0, i, 0)))
			require.NoError(t, err)
		}
		_, err = db.ExecContext(ctx, rebind(b.dialect, "DELETE FROM "+prefix+"consent_events WHERE subject = ? AND seq = ?"), "ann", 3)
		require.NoError(t, err)

		restarted := ledgerOn(t, s)
		start := time.Now()
		_, err = restarted.Record(ctx, grant("ann", consentSince.AddDate(1, 0, 0)))
		require.ErrorIs(t, err, sqlstore.ErrCorrupt)
		require.NotErrorIs(t, err, consent.ErrConflict)
		require.Less(t, time.Since(start), 5*time.Second, "no retries")
		t.Logf("append after a deleted tail: %v", err)
		evs, err := s.Events(ctx, "ann")
		require.NoError(t, err)
		require.Len(t, evs, 2, "nothing appended")
	})
}

// proxiedConsentStore opens a consent store on b's tables, reached through
// a proxy that cuts connections on demand.
func proxiedConsentStore(t *testing.T, b backend, prefix string, opts sqlstore.Options) (*sqlstore.ConsentStore, *proxy) {
	t.Helper()
	db, p := proxiedDB(t, b)
	opts.TablePrefix = prefix
	s, err := sqlstore.OpenConsentStore(t.Context(), db, b.dialect, &opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, p
}

func randomID(t *testing.T) string {
	b := make([]byte, 13)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return fmt.Sprintf("%X", b)
}

// TestConsentFaultConnectionCut cuts the store's connection while it
// sends an append's events, and at COMMIT: the head row and the events
// agree afterwards, the chain holds all of the batch or none of it, and
// repeating the Append settles it.
func TestConsentFaultConnectionCut(t *testing.T) {
	for _, b := range serverBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range []struct {
				name   string
				commit bool
				iso    sql.IsolationLevel
			}{
				{"Events", false, sql.LevelDefault},
				// PostgreSQL appends in one statement, committed by the
				// server; at SERIALIZABLE it is a transaction with a COMMIT.
				{"Commit", true, sql.LevelSerializable},
			} {
				t.Run(c.name, func(t *testing.T) {
					ctx := t.Context()
					db, prefix := b.fresh(t)
					direct, err := sqlstore.OpenConsentStore(ctx, db, b.dialect, b.opts(prefix))
					require.NoError(t, err)
					s, p := proxiedConsentStore(t, b, prefix, sqlstore.Options{Isolation: c.iso})
					subject := personaldata.SubjectID("cut")
					first := []consent.StoredEvent{consentEvent(subject, 1, "newsletter")}
					require.NoError(t, s.Append(ctx, subject, 0, first))
					batch := []consent.StoredEvent{consentEvent(subject, 2, "newsletter"), consentEvent(subject, 3, ""), consentEvent(subject, 4, "newsletter")}
					for i := range batch {
						batch[i].ID = randomID(t)
					}
					marker := batch[2].ID
					if c.commit {
						marker = map[sqlstore.Dialect]string{sqlstore.PostgreSQL: "commit", sqlstore.MySQL: "COMMIT"}[b.dialect]
					}
					p.cutOn(marker, 1)
					err = s.Append(ctx, subject, 1, batch)
					require.Equal(t, int32(1), p.cuts.Load(), "the proxy cut")
					if err == nil {
						require.True(t, c.commit, "an append over a cut connection succeeded")
					} else {
						require.NotErrorIs(t, err, consent.ErrConflict)
						t.Logf("Append over a cut connection: %v", err)
					}

					var head, maxSeq, count int64
					q := rebind(b.dialect, "SELECT (SELECT last_seq FROM "+prefix+"consent_heads WHERE subject = ?), "+
						"(SELECT MAX(seq) FROM "+prefix+"consent_events WHERE subject = ?), (SELECT COUNT(*) FROM "+prefix+"consent_events WHERE subject = ?)")
					require.NoError(t, db.QueryRowContext(ctx, q, "cut", "cut", "cut").Scan(&head, &maxSeq, &count))
					require.Equal(t, head, maxSeq, "the head row and the events agree")
					require.Equal(t, head, count)
					got, err := direct.Events(ctx, subject)
					require.NoError(t, err)
					switch len(got) {
					case 1: // nothing written
						require.Empty(t, cmp.Diff(first, got))
					case 4: // everything written: only a cut at COMMIT may leave that
						require.True(t, c.commit, "a cut before COMMIT left the batch written")
						require.Empty(t, cmp.Diff(append(first, batch...), got))
					default:
						t.Fatalf("%d events after a cut append", len(got))
					}
					// Repeating the call settles it, whichever it was.
					require.NoError(t, s.Append(ctx, subject, 1, batch))
					got, err = direct.Events(ctx, subject)
					require.NoError(t, err)
					require.Empty(t, cmp.Diff(append(first, batch...), got))
				})
			}
		})
	}
}

// TestConsentSerializationRetry makes PostgreSQL at SERIALIZABLE abort an
// append with SQLSTATE 40001: another transaction touches the subject's
// head row and commits while the append waits for it. Without retries the
// append fails with ErrSerialization and writes nothing; with them it
// succeeds.
func TestConsentSerializationRetry(t *testing.T) {
	b := serverBackend(t, sqlstore.PostgreSQL)
	for _, c := range []struct {
		name    string
		retries int
	}{{"NoRetry", -1}, {"Retried", 0}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			db, prefix := b.fresh(t)
			s, err := sqlstore.OpenConsentStore(ctx, db, b.dialect, &sqlstore.Options{
				TablePrefix: prefix, Isolation: sql.LevelSerializable, MaxRetries: c.retries,
			})
			require.NoError(t, err)
			require.NoError(t, s.Append(ctx, "racer", 0, []consent.StoredEvent{consentEvent("racer", 1, "newsletter")}))

			other, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
			require.NoError(t, err)
			defer func() { _ = other.Rollback() }()
			_, err = other.ExecContext(ctx, "UPDATE "+prefix+"consent_heads SET last_hash = last_hash WHERE subject = 'racer'")
			require.NoError(t, err)

			done := make(chan error, 1)
			go func() {
				done <- s.Append(ctx, "racer", 1, []consent.StoredEvent{consentEvent("racer", 2, "newsletter")})
			}()
			waitForLockWait(t, db, prefix+"consent_heads")
			require.NoError(t, other.Commit())
			err = <-done
			evs, gerr := s.Events(ctx, "racer")
			require.NoError(t, gerr)
			if c.retries < 0 {
				require.ErrorIs(t, err, sqlstore.ErrSerialization)
				var pe *pgconn.PgError
				require.True(t, errors.As(err, &pe))
				require.Equal(t, "40001", pe.Code)
				require.Len(t, evs, 1, "nothing written")
				return
			}
			require.NoError(t, err, "Append retried after a serialization failure")
			require.Len(t, evs, 2)
		})
	}
}
