package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/internal/quote"
)

// maxDigestLen bounds a suppression digest. The Service's digests are 43
// bytes of base64url.
const maxDigestLen = 64

// validDigest reports whether d can be a stored digest: 1 to 64 bytes of
// printable ASCII, without spaces.
func validDigest(d string) bool {
	if d == "" || len(d) > maxDigestLen {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] <= ' ' || d[i] > '~' {
			return false
		}
	}
	return true
}

// addChunk is how many entries one INSERT of Add carries (three
// parameters each, far below every dialect's limit).
const addChunk = 250

// lookupChunk is how many distinct digests one query of Lookup asks for.
const lookupChunk = 1000

// Add implements [erasure.SuppressionStore]: in one transaction, INSERTs
// of up to 250 rows each that skip a digest already stored, so the first
// entry of a digest is kept, also within one call. It is idempotent. A
// digest that is empty, longer than 64 bytes or not printable ASCII is
// refused with [ErrInvalidArgument], and nothing is added.
func (s *ErasureStore) Add(ctx context.Context, entries []erasure.SuppressionEntry) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	type row struct {
		digest, request string
		added           any
	}
	rows := make([]row, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		if !validDigest(e.Digest) {
			// Not quoted: a malformed digest may be the identifier itself.
			return fmt.Errorf("sqlstore: Add: %w: digest %d of %d is not 1 to %d bytes of printable ASCII", ErrInvalidArgument, i+1, len(entries), maxDigestLen)
		}
		at, err := timeArg(e.AddedAt)
		if err != nil {
			return fmt.Errorf("sqlstore: Add: %w", err)
		}
		if seen[e.Digest] {
			continue // the first entry of a digest is kept
		}
		seen[e.Digest] = true
		rows = append(rows, row{e.Digest, e.RequestID.String(), at})
	}
	if len(rows) == 0 {
		return nil
	}
	err := s.b.inTx(ctx, func(q querier) error {
		for chunk := range slices.Chunk(rows, addChunk) {
			var b strings.Builder
			b.WriteString(s.q.suppressionHead)
			args := make([]any, 0, 3*len(chunk))
			for i, r := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?)")
				args = append(args, r.digest, r.request, r.added)
			}
			b.WriteString(s.q.suppressionTail)
			if _, err := q.ExecContext(ctx, s.b.d.rebind(b.String()), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: Add suppression entries: %w", err)
	}
	return nil
}

// Lookup implements [erasure.SuppressionStore]: one query per 1,000
// distinct digests, so a thousand look-ups cost one round trip. On
// PostgreSQL the digests go as one text[] parameter and on SQLite as one
// JSON parameter, on MySQL as a list. The result follows the order of
// digests, once per occurrence.
func (s *ErasureStore) Lookup(ctx context.Context, digests []string) ([]erasure.SuppressionEntry, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, err
	}
	distinct := make([]string, 0, len(digests))
	for _, d := range digests {
		if validDigest(d) { // others cannot be stored
			distinct = append(distinct, d)
		}
	}
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	found := make(map[string]erasure.SuppressionEntry, len(distinct))
	for chunk := range slices.Chunk(distinct, lookupChunk) {
		q, args := s.lookupQuery(chunk)
		err := s.b.retry(ctx, func() error {
			rows, err := s.b.db.QueryContext(ctx, q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var digest, req string
				var added sql.NullInt64
				if err := rows.Scan(&digest, &req, &added); err != nil {
					return err
				}
				id, err := ulid.ParseStrict(strings.TrimSpace(req))
				if err != nil {
					return fmt.Errorf("%w: suppression entry %s: request ID %s", ErrCorrupt, quote.String(digest), quote.String(req))
				}
				found[digest] = erasure.SuppressionEntry{Digest: digest, RequestID: id, AddedAt: timeOf(added)}
			}
			return rows.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("sqlstore: Lookup suppression entries: %w", err)
		}
	}
	out := []erasure.SuppressionEntry{}
	for _, d := range digests {
		if e, ok := found[d]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// lookupQuery returns the query that reads the entries of digests
// (sorted, distinct, valid) and its arguments.
func (s *ErasureStore) lookupQuery(digests []string) (string, []any) {
	const cols = "SELECT digest, request_id, added_at FROM "
	t := s.b.table("suppression")
	switch s.b.d {
	case PostgreSQL:
		return cols + t + " WHERE digest = ANY($1::text[])", []any{pgTextArray(digests, func(d string) string { return d })}
	case SQLite:
		js, _ := json.Marshal(digests) // strings only: cannot fail
		return cols + t + " WHERE digest IN (SELECT value FROM json_each(?))", []any{string(js)}
	}
	args := make([]any, len(digests))
	for i, d := range digests {
		args[i] = d
	}
	return cols + t + " WHERE digest IN (" + placeholders(len(digests)) + ")", args
}
