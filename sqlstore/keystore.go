package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
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

// GetKeys implements [pii.KeyStore]. It asks the database once per 400
// distinct refs, reading key rows and subject tombstones in one query. A
// scope of a subject with a subject tombstone is reported shredded, at the
// earlier of the two tombstones' times. A row that fails its checks fails
// the call with an error wrapping [ErrCorrupt].
func (s *KeyStore) GetKeys(ctx context.Context, refs []pii.KeyRef) ([]pii.StoredKey, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return []pii.StoredKey{}, nil
	}
	for _, r := range refs {
		if err := validRef(r); err != nil {
			return nil, fmt.Errorf("sqlstore: GetKeys: %w", err)
		}
	}
	distinct := slices.Clone(refs)
	slices.SortFunc(distinct, compareRefs)
	distinct = slices.Compact(distinct)
	found := make(map[pii.KeyRef]pii.StoredKey, len(distinct))
	tombs := map[personaldata.SubjectID]time.Time{}
	for chunk := range slices.Chunk(distinct, getChunk) {
		if err := s.b.retry(ctx, func() error { return s.getChunk(ctx, chunk, found, tombs) }); err != nil {
			return nil, fmt.Errorf("sqlstore: GetKeys: %w", err)
		}
	}
	dup := len(distinct) < len(refs)
	out := make([]pii.StoredKey, len(refs))
	for i, r := range refs {
		k, ok := found[r]
		if !ok {
			k = pii.StoredKey{Ref: r}
		} else if dup {
			k.Wrapped.Ciphertext = bytes.Clone(k.Wrapped.Ciphertext) // each result owns its bytes
		}
		if at, ok := tombs[r.Subject]; ok {
			k = subjectShredded(k, at)
		}
		out[i] = k
	}
	return out, nil
}

// getChunk is the number of distinct refs GetKeys asks for in one query.
// PostgreSQL and SQLite get them as two or one parameters, so the limit only
// bounds the size of one result; MySQL gets three placeholders per ref,
// far below its limit of 65,535.
const getChunk = 1000

func compareRefs(a, b pii.KeyRef) int {
	if c := strings.Compare(string(a.Subject), string(b.Subject)); c != 0 {
		return c
	}
	return strings.Compare(string(a.Scope), string(b.Scope))
}

// subjectShredded reports k as shredded by a subject tombstone placed at.
func subjectShredded(k pii.StoredKey, at time.Time) pii.StoredKey {
	if k.State == pii.KeyShredded && !k.ShreddedAt.After(at) {
		return k
	}
	return pii.StoredKey{Ref: k.Ref, State: pii.KeyShredded, CreatedAt: k.CreatedAt, ShreddedAt: at}
}

func (s *KeyStore) getChunk(ctx context.Context, refs []pii.KeyRef, found map[pii.KeyRef]pii.StoredKey, tombs map[personaldata.SubjectID]time.Time) error {
	query, args := s.getQuery(refs)
	rows, err := s.b.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r keyRow
		var scope sql.NullString
		if err := rows.Scan(&r.Subject, &scope, &r.State, &r.KEKID, &r.Wrapped, &r.Checksum, &r.CreatedAt, &r.ShreddedAt); err != nil {
			return err
		}
		if r.State == 0 { // a subject tombstone
			tombs[personaldata.SubjectID(r.Subject)] = timeOf(r.ShreddedAt)
			continue
		}
		r.Scope = scope.String
		k, err := r.decode()
		if err != nil {
			return err
		}
		found[k.Ref] = k
	}
	return rows.Err()
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
// wrapping [ErrInvalidArgument]. See the package documentation for how the
// database drops the old row versions.
func (s *KeyStore) ShredKeys(ctx context.Context, subject personaldata.SubjectID, scopes []personaldata.Scope, now time.Time) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	if len(scopes) == 0 {
		return fmt.Errorf("sqlstore: ShredKeys: %w: no scopes (ShredSubject shreds every scope)", ErrInvalidArgument)
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

// keysPage is how many rows Keys reads per query. It holds no connection
// while it yields, so the caller may write to the store meanwhile (as
// pii.Protector.Rewrap does).
const keysPage = 256

// Keys implements [pii.KeyStore]. It reads active keys in pages ordered by
// (subject, scope), in constant memory. A corrupt row is yielded as an
// error wrapping [ErrCorrupt]; iteration goes on if the caller continues.
func (s *KeyStore) Keys(ctx context.Context) iter.Seq2[pii.StoredKey, error] {
	return func(yield func(pii.StoredKey, error) bool) {
		if err := s.b.check(ctx); err != nil {
			yield(pii.StoredKey{}, err)
			return
		}
		first := s.b.d.rebind("SELECT subject, scope, state, kek_id, wrapped, checksum, created_at, shredded_at FROM " + s.b.table("keys") +
			" WHERE state = 1 ORDER BY subject, scope LIMIT " + fmt.Sprint(keysPage))
		next := s.b.d.rebind("SELECT subject, scope, state, kek_id, wrapped, checksum, created_at, shredded_at FROM " + s.b.table("keys") +
			" WHERE state = 1 AND (subject > ? OR (subject = ? AND scope > ?)) ORDER BY subject, scope LIMIT " + fmt.Sprint(keysPage))
		var last *keyRow
		for {
			var page []keyRow
			err := s.b.retry(ctx, func() error {
				page = page[:0]
				var rows *sql.Rows
				var err error
				if last == nil {
					rows, err = s.b.db.QueryContext(ctx, first)
				} else {
					rows, err = s.b.db.QueryContext(ctx, next, last.Subject, last.Subject, last.Scope)
				}
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var r keyRow
					if err := rows.Scan(&r.Subject, &r.Scope, &r.State, &r.KEKID, &r.Wrapped, &r.Checksum, &r.CreatedAt, &r.ShreddedAt); err != nil {
						return err
					}
					page = append(page, r)
				}
				return rows.Err()
			})
			if err != nil {
				yield(pii.StoredKey{}, fmt.Errorf("sqlstore: Keys: %w", err))
				return
			}
			for i := range page {
				k, err := page[i].decode()
				if err != nil {
					err = fmt.Errorf("sqlstore: Keys: %w", err)
				}
				if !yield(k, err) {
					return
				}
			}
			if len(page) < keysPage {
				return
			}
			last = &page[len(page)-1]
			if err := s.b.check(ctx); err != nil {
				yield(pii.StoredKey{}, err)
				return
			}
		}
	}
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

// getQuery returns the query that reads the key rows of refs (sorted, no
// duplicates) and the tombstones of their subjects, and its arguments.
// PostgreSQL and SQLite get the refs as arrays (text[] literals) or JSON,
// so a statement of one shape serves every batch and takes no time to
// plan; MySQL gets a list of row values.
func (s *KeyStore) getQuery(refs []pii.KeyRef) (string, []any) {
	keys, subjects := s.b.table("keys"), s.b.table("subjects")
	const cols = "SELECT subject, scope, state, kek_id, wrapped, checksum, created_at, shredded_at FROM "
	const tomb = " UNION ALL SELECT subject, NULL, 0, NULL, NULL, NULL, NULL, shredded_at FROM "
	switch s.b.d {
	case PostgreSQL:
		return cols + keys + " WHERE (subject, scope) IN (SELECT * FROM unnest($1::text[], $2::text[]))" +
				tomb + subjects + " WHERE shredded_at IS NOT NULL AND subject = ANY($1::text[])",
			[]any{pgArray(refs, func(r pii.KeyRef) string { return string(r.Subject) }), pgArray(refs, func(r pii.KeyRef) string { return string(r.Scope) })}
	case SQLite:
		b := make([][2]string, len(refs))
		for i, r := range refs {
			b[i] = [2]string{string(r.Subject), string(r.Scope)}
		}
		js, _ := json.Marshal(b) // strings only: cannot fail
		return cols + keys + " WHERE (subject, scope) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))" +
			tomb + subjects + " WHERE shredded_at IS NOT NULL AND subject IN (SELECT json_extract(value, '$[0]') FROM json_each(?1))", []any{string(js)}
	}
	var q strings.Builder
	args := make([]any, 0, 3*len(refs))
	q.WriteString(cols + keys + " WHERE (subject, scope) IN (")
	for i, r := range refs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?)")
		args = append(args, string(r.Subject), string(r.Scope))
	}
	q.WriteString(")" + tomb + subjects + " WHERE shredded_at IS NOT NULL AND subject IN (")
	n := 0
	for i, r := range refs {
		if i > 0 && r.Subject == refs[i-1].Subject {
			continue // refs are sorted
		}
		if n > 0 {
			q.WriteString(", ")
		}
		q.WriteString("?")
		args = append(args, string(r.Subject))
		n++
	}
	q.WriteString(")")
	return q.String(), args
}

// pgArray writes a PostgreSQL text[] literal of one field of refs: every
// element double-quoted, with backslash and double quote escaped. Any
// PostgreSQL driver passes it as a string.
func pgArray(refs []pii.KeyRef, field func(pii.KeyRef) string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, r := range refs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		v := field(r)
		for j := 0; j < len(v); j++ {
			if v[j] == '"' || v[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[j])
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
