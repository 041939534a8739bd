package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
)

// GetKeys implements [pii.KeyStore]. It asks the database once per 1,000
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
			[]any{pgTextArray(refs, func(r pii.KeyRef) string { return string(r.Subject) }), pgTextArray(refs, func(r pii.KeyRef) string { return string(r.Scope) })}
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
