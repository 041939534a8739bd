package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
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
	distinct := refs // sorted, without duplicates; refs itself if it is
	if !strictlySorted(refs) {
		distinct = slices.Clone(refs)
		slices.SortFunc(distinct, compareRefs)
		distinct = slices.Compact(distinct)
	}
	g := getter{found: make([]pii.StoredKey, len(distinct))}
	for start := 0; start < len(distinct); start += getChunk {
		chunk := distinct[start:min(start+getChunk, len(distinct))]
		if err := s.b.retry(ctx, func() error { return s.getChunk(ctx, chunk, g.found[start:], &g) }); err != nil {
			return nil, fmt.Errorf("sqlstore: GetKeys: %w", err)
		}
	}
	if len(distinct) == len(refs) {
		// refs has no duplicates: each ref has a result of its own.
		out := g.found
		if &distinct[0] != &refs[0] {
			out = make([]pii.StoredKey, len(refs))
			for i, r := range refs {
				j, _ := slices.BinarySearchFunc(distinct, r, compareRefs)
				out[i] = g.found[j]
			}
		}
		for i := range out {
			out[i] = g.result(refs[i], out[i])
		}
		return out, nil
	}
	out := make([]pii.StoredKey, len(refs))
	for i, r := range refs {
		j, _ := slices.BinarySearchFunc(distinct, r, compareRefs)
		k := g.found[j]
		k.Wrapped.Ciphertext = bytes.Clone(k.Wrapped.Ciphertext) // each result owns its bytes
		out[i] = g.result(r, k)
	}
	return out, nil
}

// getChunk is the number of distinct refs GetKeys asks for in one query.
// PostgreSQL and SQLite get them as two or one parameters, so the limit only
// bounds the size of one result; MySQL gets them written into the query,
// at most about 1 MB of it.
const getChunk = 1000

// strictlySorted reports whether refs is sorted and free of duplicates.
func strictlySorted(refs []pii.KeyRef) bool {
	for i := 1; i < len(refs); i++ {
		if compareRefs(refs[i-1], refs[i]) >= 0 {
			return false
		}
	}
	return true
}

func compareRefs(a, b pii.KeyRef) int {
	if c := strings.Compare(string(a.Subject), string(b.Subject)); c != 0 {
		return c
	}
	return strings.Compare(string(a.Scope), string(b.Scope))
}

// getter gathers the rows of one GetKeys call: found[i] is the key of the
// i-th distinct ref, the zero value while none is read.
type getter struct {
	found   []pii.StoredKey
	tombs   map[personaldata.SubjectID]time.Time
	scratch []byte // the input of a checksum
	kekID   string // the last KEK ID read, shared by the keys that name it
}

// result returns what GetKeys reports for r, read as k.
func (g *getter) result(r pii.KeyRef, k pii.StoredKey) pii.StoredKey {
	if k.State == pii.KeyMissing {
		k = pii.StoredKey{Ref: r}
	}
	if at, ok := g.tombs[r.Subject]; ok {
		k = subjectShredded(k, at)
	}
	return k
}

// subjectShredded reports k as shredded by a subject tombstone placed at.
func subjectShredded(k pii.StoredKey, at time.Time) pii.StoredKey {
	if k.State == pii.KeyShredded && !k.ShreddedAt.After(at) {
		return k
	}
	return pii.StoredKey{Ref: k.Ref, State: pii.KeyShredded, CreatedAt: k.CreatedAt, ShreddedAt: at}
}

// find returns the index in chunk (sorted, no duplicates) of the ref
// whose subject and scope are the bytes read from a row, or -1.
func find(chunk []pii.KeyRef, subject, scope []byte) int {
	i, _ := slices.BinarySearchFunc(chunk, subject, func(r pii.KeyRef, s []byte) int {
		switch { // comparisons with string(s) copy nothing
		case string(r.Subject) < string(s):
			return -1
		case string(r.Subject) == string(s):
			return 0
		}
		return 1
	})
	for ; i < len(chunk) && string(chunk[i].Subject) == string(subject); i++ {
		if scope == nil || string(chunk[i].Scope) == string(scope) {
			return i
		}
	}
	return -1
}

// getChunk reads the rows of chunk (sorted, no duplicates) into found,
// found[i] for chunk[i]. Rows are scanned as raw bytes: the subject and
// scope strings of a result are those of its ref, and its wrapped bytes
// are copied once.
func (s *KeyStore) getChunk(ctx context.Context, chunk []pii.KeyRef, found []pii.StoredKey, g *getter) error {
	query, args := s.getQuery(chunk)
	rows, err := s.b.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var subject, scope, kekID, wrapped, checksum sql.RawBytes
	for rows.Next() {
		var r keyRow
		if err := rows.Scan(&subject, &scope, &r.State, &kekID, &wrapped, &checksum, &r.CreatedAt, &r.ShreddedAt); err != nil {
			return err
		}
		i := find(chunk, subject, scope)
		if i < 0 {
			continue // not asked for (the database compared otherwise)
		}
		ref := chunk[i]
		if r.State == 0 { // a subject tombstone
			if g.tombs == nil {
				g.tombs = map[personaldata.SubjectID]time.Time{}
			}
			g.tombs[ref.Subject] = timeOf(r.ShreddedAt)
			continue
		}
		if kekID != nil {
			if string(kekID) != g.kekID {
				g.kekID = string(kekID)
			}
			r.KEKID = sql.NullString{String: g.kekID, Valid: true}
		}
		r.Subject, r.Scope, r.Wrapped, r.Checksum = string(ref.Subject), string(ref.Scope), wrapped, checksum
		k, err := r.decodeWith(&g.scratch)
		if err != nil {
			return err
		}
		found[i] = k
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
// plan. The JSON is an object of subject: scope members, a subject
// repeated for each of its scopes: json_each yields every member, and the
// pair is its key and value, which takes no JSON parsing per ref. The key
// rows are joined to the members, one primary-key look-up per ref, with no
// temporary index of the list. MySQL gets them written into the query as hexadecimal literals
// (its columns are binary strings): a query without parameters is sent
// as it is, one round trip whether or not the driver interpolates
// parameters, where a statement with thousands of placeholders would be
// prepared, run and closed.
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
		return "SELECT k.subject, k.scope, k.state, k.kek_id, k.wrapped, k.checksum, k.created_at, k.shredded_at FROM json_each(?1) AS j CROSS JOIN " + keys + " AS k WHERE k.subject = j.key AND k.scope = j.value" +
			tomb + subjects + " WHERE shredded_at IS NOT NULL AND subject IN (SELECT key FROM json_each(?1))", []any{jsonRefs(refs)}
	}
	size := len(cols+keys+tomb+subjects) + 80
	for _, r := range refs {
		size += 4*len(r.Subject) + 2*len(r.Scope) + 16
	}
	q := make([]byte, 0, size)
	// One (scope = X AND subject IN (...)) term per scope: a batch
	// usually names few scopes, and a list of plain values costs the
	// server less to parse and compare than a list of row values.
	byScope := slices.Clone(refs)
	slices.SortStableFunc(byScope, func(a, b pii.KeyRef) int { return strings.Compare(string(a.Scope), string(b.Scope)) })
	q = append(q, cols+keys+" WHERE "...)
	for i, r := range byScope {
		if i == 0 || r.Scope != byScope[i-1].Scope {
			if i > 0 {
				q = append(q, ")) OR "...)
			}
			q = append(q, "(scope = X'"...)
			q = hex.AppendEncode(q, []byte(r.Scope))
			q = append(q, "' AND subject IN ("...)
		} else {
			q = append(q, ", "...)
		}
		q = append(q, "X'"...)
		q = hex.AppendEncode(q, []byte(r.Subject))
		q = append(q, '\'')
	}
	q = append(q, "))"+tomb+subjects+" WHERE shredded_at IS NOT NULL AND subject IN ("...)
	for i, r := range refs {
		if i > 0 && r.Subject == refs[i-1].Subject {
			continue // refs are sorted
		}
		if i > 0 {
			q = append(q, ", "...)
		}
		q = append(q, "X'"...)
		q = hex.AppendEncode(q, []byte(r.Subject))
		q = append(q, '\'')
	}
	q = append(q, ')')
	return string(q), nil
}

// jsonRefs writes refs as a JSON object with one "subject": "scope"
// member per ref (a subject may repeat). Subjects are UTF-8 without
// control characters and scopes are [a-z0-9._-], so only the double quote
// and the backslash need escaping.
func jsonRefs(refs []pii.KeyRef) string {
	var b strings.Builder
	n := 2
	for _, r := range refs {
		n += len(r.Subject) + len(r.Scope) + 6
	}
	b.Grow(n)
	b.WriteByte('{')
	for i, r := range refs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for j := 0; j < len(r.Subject); j++ {
			if c := r.Subject[j]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(r.Subject[j])
		}
		b.WriteString("\":\"")
		b.WriteString(string(r.Scope))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
