package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/sqlstore"
)

// TestMigrateConcurrently starts many processes' worth of stores at once,
// each with a *sql.DB of its own, on one empty database: they end with one
// schema and one record per migration.
func TestMigrateConcurrently(t *testing.T) {
	const processes = 8
	type target struct {
		name    string
		dialect sqlstore.Dialect
		open    func(t *testing.T) *sql.DB
	}
	path := filepath.Join(t.TempDir(), "shared.db")
	targets := []target{{"SQLiteFile", sqlstore.SQLite, func(t *testing.T) *sql.DB { return openSQLiteFile(t, path, "wal") }}}
	for _, b := range backends(t) {
		driver, env := "pgx", envPostgres
		if b.skip != "" {
			t.Log(b.skip)
			continue
		}
		switch b.dialect {
		case sqlstore.SQLite:
			continue
		case sqlstore.MySQL:
			driver, env = "mysql", envMySQL
		}
		targets = append(targets, target{b.name, b.dialect, func(t *testing.T) *sql.DB {
			db, err := sql.Open(driver, os.Getenv(env))
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			return db
		}})
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			prefix := randomPrefix()
			dbs := make([]*sql.DB, processes)
			for i := range dbs {
				dbs[i] = tg.open(t)
			}
			t.Cleanup(func() { dropTables(t, dbs[0], prefix) })
			opts := &sqlstore.Options{TablePrefix: prefix}
			errs := make([]error, 2*processes)
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for i, db := range dbs {
				wg.Go(func() {
					<-gate
					_, errs[2*i] = sqlstore.OpenKeyStore(context.Background(), db, tg.dialect, opts)
				})
				wg.Go(func() {
					<-gate
					_, errs[2*i+1] = sqlstore.OpenHoldStore(context.Background(), db, tg.dialect, opts)
				})
			}
			close(gate)
			wg.Wait()
			for i, err := range errs {
				require.NoError(t, err, "store %d", i)
			}
			rows, err := dbs[0].QueryContext(t.Context(), "SELECT component, version FROM "+prefix+"migrations ORDER BY component, version")
			require.NoError(t, err)
			defer rows.Close()
			var got []string
			for rows.Next() {
				var c string
				var v int
				require.NoError(t, rows.Scan(&c, &v))
				got = append(got, c+"/"+string(rune('0'+v)))
			}
			require.NoError(t, rows.Err())
			assert.Equal(t, []string{"holds/1", "keys/1"}, got, "one record per migration")

			// A store opened later finds nothing to do, and works.
			s, err := sqlstore.OpenKeyStore(t.Context(), dbs[1], tg.dialect, opts)
			require.NoError(t, err)
			_, err = s.CreateKey(t.Context(), ref("after", "default"), wrapped(), t0)
			require.NoError(t, err)
		})
	}
}

// TestTablePrefix puts two stores side by side in one database, and checks
// that a store with the default prefix creates only its own tables.
func TestTablePrefix(t *testing.T) {
	ctx := t.Context()
	db := openSQLiteMemory(t)
	a, err := sqlstore.OpenKeyStore(ctx, db, sqlstore.SQLite, &sqlstore.Options{TablePrefix: "a_"})
	require.NoError(t, err)
	b, err := sqlstore.OpenKeyStore(ctx, db, sqlstore.SQLite, nil)
	require.NoError(t, err)
	_, err = a.CreateKey(ctx, ref("s", "default"), wrapped(), t0)
	require.NoError(t, err)
	got, err := b.GetKeys(ctx, []pii.KeyRef{ref("s", "default")})
	require.NoError(t, err)
	assert.Equal(t, "missing", got[0].State.String(), "stores with different prefixes share nothing")

	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	require.NoError(t, err)
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	assert.Equal(t, []string{"a_keys", "a_migrations", "a_subjects", "personaldata_keys", "personaldata_migrations", "personaldata_subjects"}, names)
}

func TestOpenRefuses(t *testing.T) {
	ctx := t.Context()
	db := openSQLiteMemory(t)
	_, err := sqlstore.OpenKeyStore(ctx, nil, sqlstore.SQLite, nil)
	assert.EqualError(t, err, "sqlstore: OpenKeyStore: nil *sql.DB")
	_, err = sqlstore.OpenHoldStore(ctx, nil, sqlstore.SQLite, nil)
	assert.EqualError(t, err, "sqlstore: OpenHoldStore: nil *sql.DB")
	_, err = sqlstore.OpenKeyStore(ctx, db, sqlstore.Dialect(0), nil)
	assert.ErrorIs(t, err, sqlstore.ErrInvalidArgument)
	for _, p := range []string{"Keys_", "1x", "x-y", "x.y", "a b", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"} {
		_, err = sqlstore.OpenKeyStore(ctx, db, sqlstore.SQLite, &sqlstore.Options{TablePrefix: p})
		assert.ErrorIs(t, err, sqlstore.ErrInvalidArgument, "prefix %q", p)
	}
	// A database that cannot take the schema.
	_, err = db.ExecContext(ctx, "CREATE TABLE bad_keys (x INTEGER)")
	require.NoError(t, err)
	_, err = sqlstore.OpenKeyStore(ctx, db, sqlstore.SQLite, &sqlstore.Options{TablePrefix: "bad_"})
	require.NoError(t, err, "CREATE TABLE IF NOT EXISTS leaves a foreign table alone")
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = sqlstore.OpenKeyStore(canceled, db, sqlstore.SQLite, &sqlstore.Options{TablePrefix: "late_"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, sqlstore.ErrSchema)
	assert.Equal(t, "SQLite", sqlstore.SQLite.String())
	assert.Equal(t, "PostgreSQL", sqlstore.PostgreSQL.String())
	assert.Equal(t, "MySQL", sqlstore.MySQL.String())
}
