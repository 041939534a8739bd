package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata/erasure"
)

// Create implements [erasure.RequestStore] with one INSERT that does
// nothing if the ID is taken; then it returns an error wrapping
// [erasure.ErrExists]. r.Version must be 1. A request the store cannot
// keep exactly (an unknown kind, state or step, an invalid subject, a
// time outside the years 1678 to 2261 for NextDue and UpdatedAt or 0 to
// 9999 for the others) is refused with [ErrInvalidArgument].
func (s *ErasureStore) Create(ctx context.Context, r erasure.Request) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	if r.Version != 1 {
		return fmt.Errorf("sqlstore: Create request %s: %w: version %d, want 1", r.ID, ErrInvalidArgument, r.Version)
	}
	row, err := encodeRequest(&r)
	if err != nil {
		return fmt.Errorf("sqlstore: Create: %w", err)
	}
	var n int64
	err = s.b.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, s.q.insertRequest, row.ID, row.Subject, row.Kind, row.State, row.NextDue, row.UpdatedAt, row.Version, row.Body)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: Create request %s: %w", r.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: Create: %w: request %s", erasure.ErrExists, r.ID)
	}
	return nil
}

// Get implements [erasure.RequestStore]. A row that fails its checks (a
// body that is not a request document, truncated or altered, or an
// unknown kind or state) is reported as an error wrapping [ErrCorrupt].
func (s *ErasureStore) Get(ctx context.Context, id ulid.ULID) (erasure.Request, error) {
	if err := s.b.check(ctx); err != nil {
		return erasure.Request{}, err
	}
	rs, err := s.queryRequests(ctx, s.q.getRequest, id.String())
	if err != nil {
		return erasure.Request{}, fmt.Errorf("sqlstore: Get request %s: %w", id, err)
	}
	if len(rs) == 0 {
		return erasure.Request{}, fmt.Errorf("sqlstore: Get: %w: request %s", erasure.ErrNotFound, id)
	}
	return rs[0].decode()
}

// Update implements [erasure.RequestStore]: one UPDATE conditional on the
// stored version being r.Version-1. If it changes no row, the same
// transaction reads the stored version to tell [erasure.ErrNotFound] from
// [erasure.ErrConflict]. Of many updates from one version, exactly one
// succeeds, across processes.
func (s *ErasureStore) Update(ctx context.Context, r erasure.Request) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	if r.Version < 2 {
		// No stored version is r.Version-1.
		if _, err := s.Get(ctx, r.ID); err != nil {
			return err
		}
		return fmt.Errorf("sqlstore: Update: %w: request %s cannot be updated to version %d", erasure.ErrConflict, r.ID, r.Version)
	}
	row, err := encodeRequest(&r)
	if err != nil {
		return fmt.Errorf("sqlstore: Update: %w", err)
	}
	const (
		updated = iota
		missing
		stale
	)
	var outcome int
	var stored int64
	err = s.b.inTx(ctx, func(q querier) error {
		outcome = updated
		res, err := q.ExecContext(ctx, s.q.updateRequest, row.Subject, row.Kind, row.State, row.NextDue, row.UpdatedAt, row.Version, row.Body,
			row.ID, row.Version-1)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		err = q.QueryRowContext(ctx, s.q.requestVersion, row.ID).Scan(&stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			outcome = missing
			return nil
		case err != nil:
			return err
		}
		outcome = stale
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: Update request %s: %w", r.ID, err)
	}
	switch outcome {
	case missing:
		return fmt.Errorf("sqlstore: Update: %w: request %s", erasure.ErrNotFound, r.ID)
	case stale:
		return fmt.Errorf("sqlstore: Update: %w: request %s is at version %d, not %d", erasure.ErrConflict, r.ID, stored, r.Version-1)
	}
	return nil
}

// listPage is how many rows List reads per query when part of a filter
// cannot be said in SQL and Filter.Match must sort out the rows.
const listPage = 100

// List implements [erasure.RequestStore]. The filter becomes a WHERE
// clause on the indexed columns (subject and kind, state, next_due,
// updated_at, id), ordered by ID with LIMIT; [erasure.Filter.Match] is the
// reference and checks every row. A time outside the years the columns
// hold (1678 to 2261) cannot be compared in SQL: that condition is left to
// Match, and List reads on in pages until it has Limit requests. A
// corrupt row fails the call with an error wrapping [ErrCorrupt].
func (s *ErasureStore) List(ctx context.Context, f erasure.Filter) ([]erasure.Request, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, err
	}
	out := []erasure.Request{}
	if f.Subject != "" && f.Subject.Validate() != nil {
		return out, nil // no stored request has it
	}
	where, args, exact := s.listWhere(f)
	after := f.After
	for {
		page := 0 // no limit
		if f.Limit > 0 {
			page = f.Limit - len(out)
			if !exact {
				page = max(page, listPage)
			}
		}
		q, qargs := s.q.listHead, args
		conds := where
		if after != (ulid.ULID{}) {
			conds = append(conds[:len(conds):len(conds)], "id > ?")
			qargs = append(qargs[:len(qargs):len(qargs)], after.String())
		}
		if len(conds) > 0 {
			q += " WHERE " + strings.Join(conds, " AND ")
		}
		q += " ORDER BY id"
		if page > 0 {
			q += " LIMIT " + strconv.Itoa(page)
		}
		rows, err := s.queryRequests(ctx, s.b.d.rebind(q), qargs...)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: List requests: %w", err)
		}
		for i := range rows {
			r, err := rows[i].decode()
			if err != nil {
				return nil, fmt.Errorf("sqlstore: List requests: %w", err)
			}
			if f.Match(&r) {
				out = append(out, r)
			}
		}
		if page == 0 || len(rows) < page || (f.Limit > 0 && len(out) >= f.Limit) {
			break
		}
		after = ulid.MustParseStrict(strings.TrimSpace(rows[len(rows)-1].ID)) // decoded above
		if err := s.b.check(ctx); err != nil {
			return nil, err
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// listWhere turns f, but for After and Limit, into conditions on the
// columns. exact is false if some condition was left to Filter.Match.
func (s *ErasureStore) listWhere(f erasure.Filter) (conds []string, args []any, exact bool) {
	exact = true
	if f.Subject != "" {
		conds, args = append(conds, "subject = ?"), append(args, string(f.Subject))
	}
	if f.Kind != 0 {
		conds, args = append(conds, "kind = ?"), append(args, int64(f.Kind))
	}
	if f.Open {
		conds = append(conds, s.q.openStates)
	}
	if !f.ScheduledBy.IsZero() {
		if by, err := timeArg(f.ScheduledBy); err == nil {
			// NULL (no scheduled step) compares as unknown: not selected.
			conds, args = append(conds, "next_due <= ?"), append(args, by)
		} else {
			exact = false
		}
	}
	if !f.UpdatedSince.IsZero() {
		if since, err := timeArg(f.UpdatedSince); err == nil {
			// A request never updated (NULL) was updated before any time.
			conds, args = append(conds, "updated_at >= ?"), append(args, since)
		} else {
			exact = false
		}
	}
	return conds, args, exact
}

// queryRequests reads the rows of a query on the requests table, retried
// on serialization failures.
func (s *ErasureStore) queryRequests(ctx context.Context, q string, args ...any) ([]requestRow, error) {
	var out []requestRow
	err := s.b.retry(ctx, func() error {
		out = out[:0]
		rows, err := s.b.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r requestRow
			if err := rows.Scan(&r.ID, &r.Subject, &r.Kind, &r.State, &r.NextDue, &r.UpdatedAt, &r.Version, &r.Body); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}
