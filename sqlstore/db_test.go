package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/personaldata/personaldata/sqlstore"
)

// The database servers the tests run against are named by these
// environment variables; .ci/run sets them and starts the servers. Without
// them the server tests skip, saying so; with PERSONALDATA_REQUIRE_DATABASES=1
// (set by .ci/run under CI) a server that is not set or not reachable fails
// the run instead.
const (
	envPostgres = "PERSONALDATA_TEST_POSTGRES" // e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable
	envMySQL    = "PERSONALDATA_TEST_MYSQL"    // e.g. root@tcp(127.0.0.1:3306)/test
	envRequire  = "PERSONALDATA_REQUIRE_DATABASES"
)

// backend is one database the stores are tested on.
type backend struct {
	name    string
	dialect sqlstore.Dialect
	// fresh returns a database and a table prefix that no other test
	// uses; the tables are dropped (or the database removed) by
	// t.Cleanup.
	fresh func(t testing.TB) (*sql.DB, string)
	// skip, if set, says why this backend is not tested here.
	skip string
}

// run runs fn as t's subtest for b, or skips that subtest saying why.
func (b backend) run(t *testing.T, fn func(t *testing.T)) {
	t.Run(b.name, func(t *testing.T) {
		if b.skip != "" {
			t.Skip(b.skip)
		}
		fn(t)
	})
}

func (b backend) opts(prefix string) *sqlstore.Options {
	return &sqlstore.Options{TablePrefix: prefix}
}

// backends returns every database to test on: SQLite in a file and in
// memory always, PostgreSQL and MySQL/MariaDB when their servers are
// configured, and otherwise a backend that says why it is skipped.
func backends(t testing.TB) []backend {
	t.Helper()
	bs := []backend{
		{name: "SQLiteFile", dialect: sqlstore.SQLite, fresh: func(t testing.TB) (*sql.DB, string) {
			// synchronous(normal): WAL commits survive a crash of the
			// process but not of the machine; enough for tests, and a
			// common choice in production.
			return openSQLiteFile(t, filepath.Join(t.TempDir(), "store.db"), "wal", "synchronous(normal)"), "pd_"
		}},
		{name: "SQLiteMemory", dialect: sqlstore.SQLite, fresh: func(t testing.TB) (*sql.DB, string) {
			return openSQLiteMemory(t), "pd_"
		}},
	}
	for _, sv := range []struct {
		name, driver, env string
		dialect           sqlstore.Dialect
	}{{"PostgreSQL", "pgx", envPostgres, sqlstore.PostgreSQL}, {"MySQL", "mysql", envMySQL, sqlstore.MySQL}} {
		db, why := serverDB(t, sv.driver, sv.env, sv.name)
		bs = append(bs, backend{name: sv.name, dialect: sv.dialect, skip: why, fresh: func(t testing.TB) (*sql.DB, string) {
			return db, freshPrefix(t, db)
		}})
	}
	return bs
}

// serverBackend returns the one backend of a server, skipping the test
// (or failing it under CI) when it is not configured.
func serverBackend(t testing.TB, dialect sqlstore.Dialect) backend {
	t.Helper()
	for _, b := range backends(t) {
		if b.dialect == dialect && dialect != sqlstore.SQLite {
			if b.skip != "" {
				t.Skip(b.skip)
			}
			return b
		}
	}
	t.Skipf("no %s server configured", dialect)
	return backend{}
}

func openSQLiteFile(t testing.TB, path, journal string, pragmas ...string) *sql.DB {
	t.Helper()
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(" + journal + ")"
	for _, p := range pragmas {
		dsn += "&_pragma=" + p
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// openSQLiteMemory returns a private in-memory database. It lives as long
// as its one connection, so the pool is held to one, never closed idle.
func openSQLiteMemory(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// serverDB opens the database named by env, or says why the tests of that
// server are skipped. Under PERSONALDATA_REQUIRE_DATABASES=1 it fails t
// instead. Messages name the variable, never its value (it may hold a
// password).
func serverDB(t testing.TB, driver, env, name string) (*sql.DB, string) {
	t.Helper()
	required := os.Getenv(envRequire) == "1"
	dsn := os.Getenv(env)
	if dsn == "" {
		if required {
			t.Fatalf("%s=1 but %s is not set: cannot test on %s", envRequire, env, name)
		}
		return nil, fmt.Sprintf("%s not set: %s tests skipped (.ci/run sets it and starts the server)", env, name)
	}
	db, err := sql.Open(driver, dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if db != nil {
			_ = db.Close()
		}
		if required {
			t.Fatalf("%s (%s) is not reachable: %v", name, env, err)
		}
		return nil, fmt.Sprintf("%s (%s) is not reachable: %v: %s tests skipped", name, env, err, name)
	}
	db.SetMaxOpenConns(24)
	db.SetMaxIdleConns(24)
	t.Cleanup(func() { _ = db.Close() })
	return db, ""
}

// freshPrefix returns a table prefix of its own and drops its tables when
// t ends.
func freshPrefix(t testing.TB, db *sql.DB) string {
	t.Helper()
	prefix := randomPrefix()
	t.Cleanup(func() { dropTables(t, db, prefix) })
	return prefix
}

func randomPrefix() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b) + "_"
}

// tables lists every table a store may create under a prefix.
var tables = []string{"keys", "subjects", "holds", "consent_heads", "consent_events", "consent_definitions", "migrations", "requests", "receipts", "suppression"}

func dropTables(t testing.TB, db *sql.DB, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range tables {
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+prefix+n); err != nil {
			t.Errorf("drop table %s%s: %v", prefix, n, err)
		}
	}
}

func openKeyStore(t testing.TB, b backend) (*sqlstore.KeyStore, *sql.DB, string) {
	t.Helper()
	db, prefix := b.fresh(t)
	s, err := sqlstore.OpenKeyStore(context.Background(), db, b.dialect, b.opts(prefix))
	if err != nil {
		t.Fatalf("OpenKeyStore on %s: %v", b.name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, db, prefix
}

func must(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}
