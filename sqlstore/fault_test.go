package sqlstore_test

import (
	"database/sql"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/sqlstore"
)

// faultRig is a key store on a server reached through a cutting proxy,
// and a second store on the same tables, reached directly, to see what
// the database really holds.
type faultRig struct {
	proxy   *proxy
	store   *sqlstore.KeyStore // through the proxy
	direct  *sqlstore.KeyStore
	dialect sqlstore.Dialect
}

func newFaultRig(t *testing.T, b backend) *faultRig {
	t.Helper()
	direct, _, prefix := openKeyStore(t, b)
	db, p := proxiedDB(t, b)
	s, err := sqlstore.OpenKeyStore(t.Context(), db, b.dialect, b.opts(prefix))
	require.NoError(t, err)
	return &faultRig{proxy: p, store: s, direct: direct, dialect: b.dialect}
}

func serverBackends(t *testing.T) []backend {
	var out []backend
	for _, b := range backends(t) {
		if b.dialect != sqlstore.SQLite && b.skip == "" {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Skip("no database server configured")
	}
	return out
}

// TestFaultConnectionCutMidBatch cuts the connection while GetKeys sends
// its third query of a 2,500-ref batch: the call fails as a whole, with no
// partial result, and the next call works on a new connection.
func TestFaultConnectionCutMidBatch(t *testing.T) {
	for _, b := range serverBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t, b)
			ctx := t.Context()
			var refs []pii.KeyRef
			for i := range 2500 {
				refs = append(refs, ref(fmt.Sprintf("subject-%04d", i), "default"))
				if i%100 == 0 {
					_, err := r.direct.CreateKey(ctx, refs[i], wrapped(), t0)
					require.NoError(t, err)
				}
			}
			// subject-2499 is sent only with the last of three queries
			// (on MySQL as a hex literal: refs are written into the query).
			marker := "subject-2499"
			if b.dialect == sqlstore.MySQL {
				marker = hex.EncodeToString([]byte(marker))
			}
			r.proxy.cutOn(marker, 1)
			got, err := r.store.GetKeys(ctx, refs)
			require.Error(t, err, "GetKeys over a cut connection")
			require.Nil(t, got, "no partial result")
			require.Equal(t, int32(1), r.proxy.cuts.Load(), "the proxy cut once")
			assert.NotErrorIs(t, err, sqlstore.ErrSerialization)
			t.Logf("GetKeys over a cut connection: %v", err)

			got, err = r.store.GetKeys(ctx, refs)
			require.NoError(t, err, "GetKeys on a new connection")
			for i, k := range got {
				want := pii.KeyMissing
				if i%100 == 0 {
					want = pii.KeyActive
				}
				require.Equal(t, want, k.State, "%v", k.Ref)
			}
		})
	}
}

// TestFaultTransactionCutHalfWay cuts the connection of a ShredKeys
// transaction after its UPDATE has run and before its last INSERT, and
// then at COMMIT: the database keeps all of the transaction or none of it.
func TestFaultTransactionCutHalfWay(t *testing.T) {
	for _, b := range serverBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t, b)
			commit := map[sqlstore.Dialect]string{sqlstore.PostgreSQL: "commit", sqlstore.MySQL: "COMMIT"}[b.dialect]
			for _, c := range []struct {
				name, marker string
				n            int
			}{
				{"LastStatement", "marketing", 2}, // the UPDATE names it first, the last INSERT second
				{"Commit", commit, 1},
			} {
				t.Run(c.name, func(t *testing.T) {
					ctx := t.Context()
					subject := personaldata.SubjectID("cut-" + c.name)
					scopes := []personaldata.Scope{"default", "fiscal", "marketing"}
					refs := []pii.KeyRef{ref(string(subject), "default"), ref(string(subject), "fiscal"), ref(string(subject), "marketing")}
					keys := []pii.WrappedKey{wrapped(), wrapped()}
					for i, k := range keys {
						_, err := r.direct.CreateKey(ctx, refs[i], k, t0)
						require.NoError(t, err)
					}
					r.proxy.cutOn(c.marker, c.n)
					err := r.store.ShredKeys(ctx, subject, scopes, t0.Add(time.Hour))
					require.Equal(t, int32(1), r.proxy.cuts.Load(), "the proxy cut")
					r.proxy.cuts.Store(0)
					got, gerr := r.direct.GetKeys(ctx, refs)
					require.NoError(t, gerr)
					if err == nil {
						// A cut at COMMIT may come after the server committed.
						require.Equal(t, "Commit", c.name, "ShredKeys over a cut connection succeeded")
					}
					switch got[0].State {
					case pii.KeyActive: // nothing written
						require.Error(t, err)
						t.Logf("ShredKeys over a cut connection: %v", err)
						for i, k := range keys {
							require.Equal(t, pii.KeyActive, got[i].State)
							require.Equal(t, k.Ciphertext, got[i].Wrapped.Ciphertext)
						}
						require.Equal(t, pii.KeyMissing, got[2].State, "no tombstone")
					case pii.KeyShredded: // everything written
						require.Equal(t, "Commit", c.name, "only a cut at COMMIT may leave the transaction committed")
						for _, k := range got {
							require.Equal(t, pii.KeyShredded, k.State)
						}
					default:
						t.Fatalf("state %s after a cut transaction", got[0].State)
					}
					// Repeating the call completes it.
					require.NoError(t, r.store.ShredKeys(ctx, subject, scopes, t0.Add(2*time.Hour)))
					got, err = r.direct.GetKeys(ctx, refs)
					require.NoError(t, err)
					for _, k := range got {
						require.Equal(t, pii.KeyShredded, k.State)
					}
				})
			}
		})
	}
}

// TestFaultTransactionFailsHalfWay makes SQLite abort a ShredKeys
// transaction at its last statement, through a trigger: nothing of it
// stays.
func TestFaultTransactionFailsHalfWay(t *testing.T) {
	for _, b := range backends(t)[:2] {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			s, db, prefix := openKeyStore(t, b)
			k := wrapped()
			_, err := s.CreateKey(ctx, ref("half", "default"), k, t0)
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, "CREATE TRIGGER fail_marketing BEFORE INSERT ON "+prefix+"keys "+
				"WHEN NEW.scope = 'marketing' BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
			require.NoError(t, err)
			err = s.ShredKeys(ctx, "half", []personaldata.Scope{"default", "marketing"}, t0)
			require.ErrorContains(t, err, "injected failure")
			got, err := s.GetKeys(ctx, []pii.KeyRef{ref("half", "default"), ref("half", "marketing")})
			require.NoError(t, err)
			require.Equal(t, pii.KeyActive, got[0].State, "the UPDATE before the failure was rolled back")
			require.Equal(t, k.Ciphertext, got[0].Wrapped.Ciphertext)
			require.Equal(t, pii.KeyMissing, got[1].State)
			// The connection went back to the pool clean.
			_, err = db.ExecContext(ctx, "DROP TRIGGER fail_marketing")
			require.NoError(t, err)
			require.NoError(t, s.ShredKeys(ctx, "half", []personaldata.Scope{"default", "marketing"}, t0))
		})
	}
}

// TestSerializationRetry races the store against another transaction on
// PostgreSQL at SERIALIZABLE: the other one updates the subject's row and
// commits while the store's transaction waits for it, which aborts the
// store's with SQLSTATE 40001. Without retries the call fails with
// ErrSerialization and writes nothing; with them it succeeds.
func TestSerializationRetry(t *testing.T) {
	b := serverBackend(t, sqlstore.PostgreSQL)
	for _, c := range []struct {
		name    string
		retries int
	}{{"NoRetry", -1}, {"Retried", 0}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			db, prefix := b.fresh(t)
			s, err := sqlstore.OpenKeyStore(ctx, db, b.dialect, &sqlstore.Options{
				TablePrefix: prefix, Isolation: sql.LevelSerializable, MaxRetries: c.retries,
			})
			require.NoError(t, err)
			_, err = s.CreateKey(ctx, ref("racer", "default"), wrapped(), t0)
			require.NoError(t, err)

			other, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
			require.NoError(t, err)
			defer func() { _ = other.Rollback() }()
			_, err = other.ExecContext(ctx, "UPDATE "+prefix+"subjects SET shredded_at = NULL WHERE subject = 'racer'")
			require.NoError(t, err)

			done := make(chan error, 1)
			go func() {
				done <- s.ShredKeys(ctx, "racer", []personaldata.Scope{"default"}, t0.Add(time.Hour))
			}()
			waitForLockWait(t, db, prefix+"subjects")
			require.NoError(t, other.Commit())
			err = <-done

			got, gerr := s.GetKeys(ctx, []pii.KeyRef{ref("racer", "default")})
			require.NoError(t, gerr)
			if c.retries < 0 {
				require.ErrorIs(t, err, sqlstore.ErrSerialization)
				var pe *pgconn.PgError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, "40001", pe.Code)
				require.Equal(t, pii.KeyActive, got[0].State, "nothing written")
				return
			}
			require.NoError(t, err, "ShredKeys retried after a serialization failure")
			require.Equal(t, pii.KeyShredded, got[0].State)
		})
	}
}

// waitForLockWait waits until a PostgreSQL backend waits for a lock on a
// query that names table.
func waitForLockWait(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0", table).Scan(&n)
		require.NoError(t, err)
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the store's transaction never waited for the lock")
}
