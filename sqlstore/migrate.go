package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"slices"
)

// A migration changes the schema of one component (the tables of one
// store) from version-1 to version. Migrations are append-only: a released
// one is never edited, a change is a new version. Each statement must be
// idempotent on its own (CREATE TABLE IF NOT EXISTS, ...), because MySQL
// commits DDL as it goes and a process may die between a statement and the
// record of its migration.
type migration struct {
	version int
	name    string
	stmts   func(b *base) []string
}

// migrationsTable creates the table that records applied migrations, one
// row per (component, version).
func (b *base) migrationsTable() string {
	d := b.d
	return "CREATE TABLE IF NOT EXISTS " + b.table("migrations") + " (" +
		"component " + d.pick("TEXT", "TEXT", "VARBINARY(32)") + " NOT NULL, " +
		"version " + d.int64Type() + " NOT NULL, " +
		"name " + d.textType() + " NOT NULL, " +
		"applied_at " + d.int64Type() + " NOT NULL, " +
		"PRIMARY KEY (component, version))" + d.tableSuffix()
}

// migrate brings component up to the last of ms. It is safe to call from
// many processes at once: they take a lock per dialect (PostgreSQL
// pg_advisory_xact_lock, MySQL GET_LOCK, SQLite BEGIN IMMEDIATE) and the
// first applies what is missing while the others wait and then find
// nothing to do. A database at a later version than ms knows (a newer
// build ran first) is left as it is.
func (b *base) migrate(ctx context.Context, component string, ms []migration) error {
	want := ms[len(ms)-1].version
	if v, err := b.applied(ctx, b.db, component); err == nil && v.max() >= want {
		return nil // the common case: no lock needed
	}
	var err error
	if b.d == MySQL {
		err = b.migrateMySQL(ctx, component, ms)
	} else {
		err = b.inTx(ctx, func(q querier) error {
			if b.d == PostgreSQL {
				if _, err := q.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", b.lockKey()); err != nil {
					return err
				}
			}
			return b.apply(ctx, q, component, ms)
		})
	}
	if err != nil {
		return fmt.Errorf("%w: migrate %s: %w", ErrSchema, component, err)
	}
	return nil
}

func (b *base) migrateMySQL(ctx context.Context, component string, ms []migration) (err error) {
	conn, err := b.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	name := b.lockName()
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 60)", name).Scan(&got); err != nil {
		return err
	}
	if got.Int64 != 1 {
		return fmt.Errorf("lock %s not obtained in 60s", name)
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "DO RELEASE_LOCK(?)", name); rerr != nil && err == nil {
			err = rerr
		}
	}()
	return b.apply(ctx, conn, component, ms)
}

// apply runs the migrations of ms that q's database lacks, under the lock.
func (b *base) apply(ctx context.Context, q querier, component string, ms []migration) error {
	if _, err := q.ExecContext(ctx, b.migrationsTable()); err != nil {
		return err
	}
	done, err := b.applied(ctx, q, component)
	if err != nil {
		return err
	}
	record := b.d.rebind(b.d.insertIfAbsent(b.table("migrations"), []string{"component", "version"}, "component", "version", "name", "applied_at"))
	for _, m := range ms {
		if slices.Contains(done, m.version) {
			continue
		}
		for _, stmt := range m.stmts(b) {
			if _, err := q.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("version %d (%s): %w", m.version, m.name, err)
			}
		}
		if _, err := q.ExecContext(ctx, record, component, m.version, m.name, b.now().UnixNano()); err != nil {
			return fmt.Errorf("version %d (%s): record: %w", m.version, m.name, err)
		}
	}
	return nil
}

type versions []int

func (v versions) max() int {
	if len(v) == 0 {
		return 0
	}
	return slices.Max(v)
}

// applied lists the versions of component recorded in the migrations
// table; it fails if there is no such table.
func (b *base) applied(ctx context.Context, q querier, component string) (versions, error) {
	rows, err := q.QueryContext(ctx, b.d.rebind("SELECT version FROM "+b.table("migrations")+" WHERE component = ?"), component)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out versions
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// lockKey is the PostgreSQL advisory lock of this table prefix.
func (b *base) lockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("personaldata/sqlstore/migrate/" + b.prefix))
	return int64(h.Sum64())
}

// lockName is the MySQL named lock of this table prefix (at most 64 bytes).
func (b *base) lockName() string { return "personaldata.migrate." + b.prefix }
