package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
	"github.com/personaldata/personaldata/pii"
)

// KeyStore is a [pii.KeyStore] on database/sql. It is safe for concurrent
// use by many goroutines and by many processes sharing one database.
//
// Create it with [OpenKeyStore]; keep it in a database of its own, apart
// from the data it protects (see the package documentation, "Key
// placement").
type KeyStore struct {
	b *base
	q keyQueries
}

var _ pii.KeyStore = (*KeyStore)(nil)

// keyQueries are the statements of a KeyStore, built once for its dialect
// and table prefix.
type keyQueries struct {
	lockSubjectInsert string
	lockSubjectSelect string
	insertKey         string
	selectKey         string
	shredScopesHead   string
	insertTombstone   string
	shredSubject      string
	shredSubjectKeys  string
	replace           string
	purge             []string
}

// OpenKeyStore returns a key store on db, after migrating its tables (see
// [Options.TablePrefix]) to the current version. db must not be nil; opts
// may be.
func OpenKeyStore(ctx context.Context, db *sql.DB, dialect Dialect, opts *Options) (*KeyStore, error) {
	b, err := newBase("OpenKeyStore", db, dialect, opts)
	if err != nil {
		return nil, err
	}
	if err := b.migrate(ctx, "keys", keyMigrations); err != nil {
		return nil, err
	}
	d, keys, subjects := b.d, b.table("keys"), b.table("subjects")
	cols := "subject, scope, state, kek_id, wrapped, checksum, created_at, shredded_at"
	q := keyQueries{
		lockSubjectInsert: d.rebind(d.insertIfAbsent(subjects, []string{"subject"}, "subject")),
		lockSubjectSelect: d.rebind("SELECT shredded_at FROM " + subjects + " WHERE subject = ?" + d.forUpdate()),
		insertKey:         d.rebind(d.insertIfAbsent(keys, []string{"subject", "scope"}, "subject", "scope", "state", "kek_id", "wrapped", "checksum", "created_at")),
		selectKey:         d.rebind("SELECT " + cols + " FROM " + keys + " WHERE subject = ? AND scope = ?"),
		shredScopesHead:   "UPDATE " + keys + " SET state = 2, kek_id = NULL, wrapped = NULL, checksum = NULL, shredded_at = ? WHERE state <> 2 AND subject = ? AND scope IN (",
		insertTombstone:   d.rebind(d.insertIfAbsent(keys, []string{"subject", "scope"}, "subject", "scope", "state", "shredded_at")),
		shredSubject:      d.rebind("UPDATE " + subjects + " SET shredded_at = ? WHERE subject = ? AND shredded_at IS NULL"),
		shredSubjectKeys:  d.rebind("UPDATE " + keys + " SET state = 2, kek_id = NULL, wrapped = NULL, checksum = NULL, shredded_at = ? WHERE state <> 2 AND subject = ?"),
		replace: d.rebind("UPDATE " + keys + " SET kek_id = ?, wrapped = ?, checksum = ? " +
			"WHERE subject = ? AND scope = ? AND state = 1 AND kek_id = ? AND wrapped = ?"),
	}
	switch d {
	case SQLite:
		q.purge = []string{"PRAGMA wal_checkpoint(TRUNCATE)"}
	case PostgreSQL:
		q.purge = []string{"VACUUM " + keys + ", " + subjects}
	}
	return &KeyStore{b: b, q: q}, nil
}

// Close marks the store closed; later calls return [ErrClosed]. It leaves
// the *sql.DB open: the host owns it. It is safe to call twice.
func (s *KeyStore) Close() error { return s.b.close() }

func validRef(r pii.KeyRef) error {
	if err := r.Subject.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if r.Scope == "" {
		return fmt.Errorf("%w: empty scope", ErrInvalidArgument)
	}
	if err := r.Scope.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return nil
}

// lockSubject makes sure subject has a row in the subjects table and locks
// it for the rest of the transaction, so that writes on one subject's keys
// run one at a time across processes. It returns the subject tombstone's
// time, or the zero time.
func (s *KeyStore) lockSubject(ctx context.Context, q querier, subject personaldata.SubjectID) (time.Time, error) {
	if _, err := q.ExecContext(ctx, s.q.lockSubjectInsert, string(subject)); err != nil {
		return time.Time{}, err
	}
	var at sql.NullInt64
	if err := q.QueryRowContext(ctx, s.q.lockSubjectSelect, string(subject)).Scan(&at); err != nil {
		return time.Time{}, err
	}
	return timeOf(at), nil
}

func (s *KeyStore) selectKey(ctx context.Context, q querier, ref pii.KeyRef) (pii.StoredKey, error) {
	var r keyRow
	err := q.QueryRowContext(ctx, s.q.selectKey, string(ref.Subject), string(ref.Scope)).
		Scan(&r.Subject, &r.Scope, &r.State, &r.KEKID, &r.Wrapped, &r.Checksum, &r.CreatedAt, &r.ShreddedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return pii.StoredKey{Ref: ref}, nil
	}
	if err != nil {
		return pii.StoredKey{}, err
	}
	return r.decode()
}

// CreateKey implements [pii.KeyStore]. In one transaction it locks the
// subject's row, refuses a subject or scope tombstone with an error
// wrapping [pii.ErrForgotten], inserts the key if the scope has none and
// reads back what the scope holds. The key is committed when it returns.
func (s *KeyStore) CreateKey(ctx context.Context, ref pii.KeyRef, key pii.WrappedKey, now time.Time) (pii.StoredKey, error) {
	if err := s.b.check(ctx); err != nil {
		return pii.StoredKey{}, err
	}
	if err := validRef(ref); err != nil {
		return pii.StoredKey{}, fmt.Errorf("sqlstore: CreateKey: %w", err)
	}
	if key.KEKID == "" || len(key.KEKID) > 255 || len(key.Ciphertext) == 0 {
		return pii.StoredKey{}, fmt.Errorf("sqlstore: CreateKey: %w: wrapped key needs a KEK ID of 1 to 255 bytes and some bytes", ErrInvalidArgument)
	}
	created, err := timeArg(now)
	if err != nil || !created.Valid {
		return pii.StoredKey{}, fmt.Errorf("sqlstore: CreateKey: %w: bad creation time", ErrInvalidArgument)
	}
	sum := keyChecksum(ref, key)
	var got pii.StoredKey
	err = s.b.inTx(ctx, func(q querier) error {
		tomb, err := s.lockSubject(ctx, q, ref.Subject)
		if err != nil {
			return err
		}
		if !tomb.IsZero() {
			return forgotten(ref)
		}
		if _, err := q.ExecContext(ctx, s.q.insertKey, string(ref.Subject), string(ref.Scope), stateActive, key.KEKID, key.Ciphertext, sum, created); err != nil {
			return err
		}
		got, err = s.selectKey(ctx, q, ref)
		if err != nil {
			return err
		}
		if got.State != pii.KeyActive {
			return forgotten(ref)
		}
		return nil
	})
	if err != nil {
		return pii.StoredKey{}, fmt.Errorf("sqlstore: CreateKey: %w", err)
	}
	return got, nil
}

func forgotten(ref pii.KeyRef) error {
	return fmt.Errorf("%w (subject %s, scope %s)", pii.ErrForgotten, quote.String(string(ref.Subject)), ref.Scope)
}

// ShredKeys implements [pii.KeyStore]: in one transaction it sets the key
// bytes of each of scopes to NULL and leaves a tombstone, keeping the first
// shredding time. scopes must not be empty (use [KeyStore.ShredSubject]
// for every scope); an empty list shreds nothing and returns an error
// wrapping [pii.ErrNoScope] and [ErrInvalidArgument]. See the package documentation for how the
// database drops the old row versions.
func (s *KeyStore) ShredKeys(ctx context.Context, subject personaldata.SubjectID, scopes []personaldata.Scope, now time.Time) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	if len(scopes) == 0 {
		return fmt.Errorf("sqlstore: ShredKeys: %w: %w (ShredSubject shreds every scope)", pii.ErrNoScope, ErrInvalidArgument)
	}
	scopes = slices.Clone(scopes)
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	for _, sc := range scopes {
		if err := validRef(pii.KeyRef{Subject: subject, Scope: sc}); err != nil {
			return fmt.Errorf("sqlstore: ShredKeys: %w", err)
		}
	}
	at, err := timeArg(now)
	if err != nil || !at.Valid {
		return fmt.Errorf("sqlstore: ShredKeys: %w: bad shredding time", ErrInvalidArgument)
	}
	update := s.b.d.rebind(s.q.shredScopesHead + placeholders(len(scopes)) + ")")
	args := []any{at, string(subject)}
	for _, sc := range scopes {
		args = append(args, string(sc))
	}
	err = s.b.inTx(ctx, func(q querier) error {
		tomb, err := s.lockSubject(ctx, q, subject)
		if err != nil || !tomb.IsZero() {
			return err // a subject tombstone covers every scope already
		}
		if _, err := q.ExecContext(ctx, update, args...); err != nil {
			return err
		}
		for _, sc := range scopes {
			if _, err := q.ExecContext(ctx, s.q.insertTombstone, string(subject), string(sc), stateShredded, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: ShredKeys: %w", err)
	}
	return nil
}

// ShredSubject deletes the key bytes of every scope of subject and leaves
// a subject tombstone, in one transaction. Afterwards CreateKey fails with
// [pii.ErrForgotten] for every scope of subject, known or not, and GetKeys
// reports every scope of subject shredded. It is idempotent: the first
// shredding time is kept.
func (s *KeyStore) ShredSubject(ctx context.Context, subject personaldata.SubjectID, now time.Time) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	if err := subject.Validate(); err != nil {
		return fmt.Errorf("sqlstore: ShredSubject: %w: %w", ErrInvalidArgument, err)
	}
	at, err := timeArg(now)
	if err != nil || !at.Valid {
		return fmt.Errorf("sqlstore: ShredSubject: %w: bad shredding time", ErrInvalidArgument)
	}
	err = s.b.inTx(ctx, func(q querier) error {
		tomb, err := s.lockSubject(ctx, q, subject)
		if err != nil || !tomb.IsZero() {
			return err
		}
		if _, err := q.ExecContext(ctx, s.q.shredSubject, at, string(subject)); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, s.q.shredSubjectKeys, at, string(subject))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: ShredSubject: %w", err)
	}
	return nil
}

// ReplaceKey implements [pii.KeyStore] with one conditional UPDATE that
// compares the stored KEK ID and bytes with old. The checksum of the row is
// replaced with the key.
func (s *KeyStore) ReplaceKey(ctx context.Context, ref pii.KeyRef, old, new pii.WrappedKey) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	if err := validRef(ref); err != nil {
		return fmt.Errorf("sqlstore: ReplaceKey: %w", err)
	}
	if new.KEKID == "" || len(new.KEKID) > 255 || len(new.Ciphertext) == 0 {
		return fmt.Errorf("sqlstore: ReplaceKey: %w: wrapped key needs a KEK ID of 1 to 255 bytes and some bytes", ErrInvalidArgument)
	}
	// A transaction of its own, although it is one statement: on SQLite
	// that is what runs it with secure_delete on, so the bytes wrapped by
	// the old KEK do not stay behind in a free page.
	var n int64
	err := s.b.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, s.q.replace, new.KEKID, new.Ciphertext, keyChecksum(ref, new),
			string(ref.Subject), string(ref.Scope), old.KEKID, nonNil(old.Ciphertext))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: ReplaceKey: %w", err)
	}
	if n == 1 {
		return nil
	}
	// Nothing changed: a stale old, no key, or (MySQL counts changed rows,
	// not matched ones) old and new alike.
	ks, err := s.GetKeys(ctx, []pii.KeyRef{ref})
	if err != nil {
		return fmt.Errorf("sqlstore: ReplaceKey: %w", err)
	}
	k := ks[0]
	switch {
	case k.State == pii.KeyMissing:
		return fmt.Errorf("sqlstore: ReplaceKey: %w (subject %s, scope %s)", pii.ErrKeyNotFound, quote.String(string(ref.Subject)), ref.Scope)
	case k.State == pii.KeyActive && sameKey(k.Wrapped, old) && sameKey(old, new):
		return nil
	}
	return fmt.Errorf("sqlstore: ReplaceKey: %w (subject %s, scope %s)", pii.ErrKeyChanged, quote.String(string(ref.Subject)), ref.Scope)
}

func sameKey(a, b pii.WrappedKey) bool {
	return a.KEKID == b.KEKID && bytes.Equal(a.Ciphertext, b.Ciphertext)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Purge asks the database to let go of the old versions of shredded key
// rows where it can do so on demand:
//
//   - SQLite: every write of the store runs with secure_delete on, so
//     shredded bytes are overwritten in the database file at once; Purge
//     checkpoints and truncates the write-ahead log (PRAGMA
//     wal_checkpoint(TRUNCATE)), which in WAL mode still holds the pages
//     written when the key was created.
//   - PostgreSQL: runs VACUUM on the key tables, which removes the dead
//     tuples an UPDATE leaves behind (autovacuum does the same, later).
//     It cannot run inside a transaction.
//   - MySQL/MariaDB: does nothing. InnoDB's purge thread removes old row
//     versions from the undo log by itself once no transaction can see
//     them.
//
// None of this reaches copies made before: WAL archives, replicas'
// history, backups and free disk blocks. See the package documentation,
// "Shredding and old row versions".
func (s *KeyStore) Purge(ctx context.Context) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	for _, q := range s.q.purge {
		if _, err := s.b.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlstore: Purge: %w", err)
		}
	}
	return nil
}
