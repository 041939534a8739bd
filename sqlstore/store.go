package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultTablePrefix is the prefix of every table name when
// Options.TablePrefix is empty.
const DefaultTablePrefix = "personaldata_"

// Options configure a store. A nil *Options, and every zero field, means
// the documented default.
type Options struct {
	// TablePrefix starts the name of every table the store creates, so
	// that they sit beside the host's own: 1 to 32 bytes of lower-case
	// ASCII letters, digits and '_', starting with a letter. Default
	// [DefaultTablePrefix]. To put the tables in a PostgreSQL schema of
	// their own, set search_path in the connection string instead.
	TablePrefix string
	// Now is the clock that stamps applied migrations. Default time.Now.
	// Operations that store a time take it as an argument from the caller.
	Now func() time.Time
	// Isolation is the isolation level of write transactions on
	// PostgreSQL and MySQL. Default: the server's (READ COMMITTED on
	// PostgreSQL, REPEATABLE READ on InnoDB, SERIALIZABLE on
	// CockroachDB). Every level is correct; SERIALIZABLE aborts more
	// transactions, which the store retries. SQLite ignores it: its write
	// transactions are serial.
	Isolation sql.IsolationLevel
	// MaxRetries bounds how often a transaction aborted by a serialization
	// failure, a deadlock or SQLite's busy lock is run again, with
	// exponential back-off from 2ms to 250ms plus jitter. Default 10;
	// negative: never retry.
	MaxRetries int
	// BusyTimeout is how long SQLite waits for another connection's write
	// lock before it reports busy (PRAGMA busy_timeout, set by the store on
	// each connection it writes with). Default 5s.
	BusyTimeout time.Duration
}

// base is what every store of this package shares: the database, its
// dialect, the table names and the transaction runner.
type base struct {
	db      *sql.DB
	d       Dialect
	prefix  string
	now     func() time.Time
	iso     sql.IsolationLevel
	retries int
	busy    time.Duration
	closed  atomic.Bool
}

func newBase(op string, db *sql.DB, d Dialect, opts *Options) (*base, error) {
	if db == nil {
		return nil, errors.New("sqlstore: " + op + ": nil *sql.DB")
	}
	if !d.valid() {
		return nil, fmt.Errorf("%w: %s: unknown dialect %d", ErrInvalidArgument, op, uint8(d))
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	b := &base{db: db, d: d, prefix: o.TablePrefix, now: o.Now, iso: o.Isolation, retries: o.MaxRetries, busy: o.BusyTimeout}
	if b.prefix == "" {
		b.prefix = DefaultTablePrefix
	}
	if !validPrefix(b.prefix) {
		return nil, fmt.Errorf("%w: %s: table prefix must be 1 to 32 bytes of [a-z0-9_] starting with a letter", ErrInvalidArgument, op)
	}
	if b.now == nil {
		b.now = time.Now
	}
	switch {
	case b.retries == 0:
		b.retries = 10
	case b.retries < 0:
		b.retries = 0
	}
	if b.busy <= 0 {
		b.busy = 5 * time.Second
	}
	return b, nil
}

func validPrefix(p string) bool {
	if p == "" || len(p) > 32 || p[0] < 'a' || p[0] > 'z' {
		return false
	}
	for i := 1; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (b *base) table(name string) string { return b.prefix + name }

func (b *base) check(ctx context.Context) error {
	if b.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// querier is what a transaction body uses: a *sql.Tx, or the *sql.Conn
// that holds an SQLite transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// retry runs fn until it succeeds, fails with an error that is not
// retryable, or has been retried b.retries times.
func (b *base) retry(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !b.d.retryable(err) {
			return err
		}
		if attempt >= b.retries {
			return fmt.Errorf("%w (%d attempts): %w", ErrSerialization, attempt+1, err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

func backoff(attempt int) time.Duration {
	d := 2 * time.Millisecond << min(attempt, 7)
	d = min(d, 250*time.Millisecond)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// inTx runs fn in a write transaction, retried as [base.retry] says. fn
// may run several times and must not keep state across runs.
func (b *base) inTx(ctx context.Context, fn func(q querier) error) error {
	return b.retry(ctx, func() error {
		if b.d == SQLite {
			return b.sqliteTx(ctx, fn)
		}
		tx, err := b.db.BeginTx(ctx, &sql.TxOptions{Isolation: b.iso})
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	})
}

// sqliteTx runs fn in a transaction begun IMMEDIATE on a connection of its
// own, so that it holds the write lock from its first statement and never
// fails to upgrade a read lock half-way. It turns on secure_delete first:
// SQLite then overwrites deleted and updated content with zeros instead of
// leaving it in free pages.
func (b *base) sqliteTx(ctx context.Context, fn func(q querier) error) (err error) {
	conn, err := b.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.FormatInt(b.busy.Milliseconds(), 10)); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err == nil {
			return
		}
		// The transaction may be open still (a failed statement or COMMIT
		// leaves it so). Roll it back even if ctx is done; a connection
		// that cannot roll back is thrown away rather than reused.
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil && !noTransaction(rerr) {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if err := fn(conn); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// noTransaction reports SQLite's complaint about a ROLLBACK with no
// transaction open, which is what a failed COMMIT that rolled back leaves.
func noTransaction(err error) bool {
	s := err.Error()
	return strings.Contains(s, "no transaction is active") || strings.Contains(s, "cannot rollback")
}

// Times are stored as BIGINT nanoseconds since the Unix epoch (UTC), NULL
// for the zero time: one type that every dialect compares and sorts alike,
// with no time zone to lose.
var (
	minTime = time.Unix(0, -1<<63+1)
	maxTime = time.Unix(0, 1<<63-1)
)

func timeArg(t time.Time) (sql.NullInt64, error) {
	if t.IsZero() {
		return sql.NullInt64{}, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return sql.NullInt64{}, fmt.Errorf("%w: time %s outside the years 1678 to 2261", ErrInvalidArgument, t.UTC().Format(time.RFC3339))
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}, nil
}

func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// Close marks the store closed: later calls return [ErrClosed]. It does not
// close the *sql.DB, which belongs to the host. It is safe to call twice.
func (b *base) close() error {
	b.closed.Store(true)
	return nil
}
