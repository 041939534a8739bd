package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

// HoldStore is a [retention.HoldStore] on database/sql: legal holds that
// outlive a restart. It is safe for concurrent use by many goroutines and
// by many processes sharing one database; a hold placed by one process is
// seen by every call that starts after Place returns, in any process.
//
// Create it with [OpenHoldStore].
type HoldStore struct {
	b *base
	q holdQueries
}

var _ retention.HoldStore = (*HoldStore)(nil)

type holdQueries struct {
	insert, release, get, active, list, listActive string
}

const holdCols = "id, subject, record_key, reason, citation, placed_by, placed_at, released_at, released_by"

// OpenHoldStore returns a hold store on db, after migrating its table to
// the current version. db must not be nil; opts may be.
func OpenHoldStore(ctx context.Context, db *sql.DB, dialect Dialect, opts *Options) (*HoldStore, error) {
	b, err := newBase("OpenHoldStore", db, dialect, opts)
	if err != nil {
		return nil, err
	}
	if err := b.migrate(ctx, "holds", holdMigrations); err != nil {
		return nil, err
	}
	d, t := b.d, b.table("holds")
	return &HoldStore{b: b, q: holdQueries{
		insert:     d.rebind(d.insertIfAbsent(t, []string{"id"}, strings.Split(holdCols, ", ")...)),
		release:    d.rebind("UPDATE " + t + " SET released_at = ?, released_by = ? WHERE id = ? AND released_at IS NULL"),
		get:        d.rebind("SELECT " + holdCols + " FROM " + t + " WHERE id = ?"),
		active:     d.rebind("SELECT " + holdCols + " FROM " + t + " WHERE released_at IS NULL AND (subject = ? OR record_key = ?) ORDER BY id"),
		list:       "SELECT " + holdCols + " FROM " + t + " ORDER BY id",
		listActive: "SELECT " + holdCols + " FROM " + t + " WHERE released_at IS NULL ORDER BY id",
	}}, nil
}

// Close marks the store closed; later calls return [ErrClosed]. It leaves
// the *sql.DB open. It is safe to call twice.
func (s *HoldStore) Close() error { return s.b.close() }

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// Place implements [retention.HoldStore] with one INSERT that does nothing
// if the ID is taken.
func (s *HoldStore) Place(ctx context.Context, h retention.Hold) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	if err := h.Validate(); err != nil {
		return err
	}
	if !h.ReleasedAt.IsZero() || h.ReleasedBy != "" {
		return fmt.Errorf("%w: a new hold cannot be released", retention.ErrInvalidHold)
	}
	placed, err := timeArg(h.PlacedAt)
	if err != nil {
		return fmt.Errorf("%w: %w", retention.ErrInvalidHold, err)
	}
	var n int64
	err = s.b.retry(ctx, func() error {
		res, err := s.b.db.ExecContext(ctx, s.q.insert, h.ID.String(), nullString(string(h.Subject)), nullString(h.RecordKey),
			h.Reason, h.Citation, h.PlacedBy, placed, sql.NullInt64{}, sql.NullString{})
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: Place hold %s: %w", h.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", retention.ErrHoldExists, h.ID)
	}
	return nil
}

// Release implements [retention.HoldStore]: it reads the hold, then
// releases it with one conditional UPDATE, so that of two releases racing
// exactly one wins.
func (s *HoldStore) Release(ctx context.Context, id ulid.ULID, at time.Time, by string) (retention.Hold, error) {
	if err := s.b.check(ctx); err != nil {
		return retention.Hold{}, err
	}
	if at.IsZero() {
		return retention.Hold{}, fmt.Errorf("%w: release time is zero", retention.ErrInvalidHold)
	}
	// Hold.Validate checks ReleasedBy as it checks every text field.
	probe := retention.Hold{ID: id, Subject: "x", Reason: "x", ReleasedBy: by}
	if err := probe.Validate(); err != nil {
		return retention.Hold{}, fmt.Errorf("%w: released-by is malformed", retention.ErrInvalidHold)
	}
	released, err := timeArg(at)
	if err != nil {
		return retention.Hold{}, fmt.Errorf("%w: %w", retention.ErrInvalidHold, err)
	}
	// Read first: a hold that is unknown, released or corrupt is not
	// touched.
	h, err := s.Get(ctx, id)
	if err != nil {
		return retention.Hold{}, err
	}
	if !h.ReleasedAt.IsZero() {
		return h, fmt.Errorf("%w: %s", retention.ErrHoldReleased, id)
	}
	var n int64
	err = s.b.retry(ctx, func() error {
		res, err := s.b.db.ExecContext(ctx, s.q.release, released, by, id.String())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return retention.Hold{}, fmt.Errorf("sqlstore: Release hold %s: %w", id, err)
	}
	if n == 0 { // released by another call meanwhile
		if h, err = s.Get(ctx, id); err != nil {
			return retention.Hold{}, err
		}
		return h, fmt.Errorf("%w: %s", retention.ErrHoldReleased, id)
	}
	h.ReleasedAt, h.ReleasedBy = timeOf(released), by
	return h, nil
}

// Get implements [retention.HoldStore].
func (s *HoldStore) Get(ctx context.Context, id ulid.ULID) (retention.Hold, error) {
	if err := s.b.check(ctx); err != nil {
		return retention.Hold{}, err
	}
	hs, err := s.query(ctx, "Get hold "+id.String(), s.q.get, id.String())
	if err != nil {
		return retention.Hold{}, err
	}
	if len(hs) == 0 {
		return retention.Hold{}, fmt.Errorf("%w: %s", retention.ErrHoldNotFound, id)
	}
	return hs[0], nil
}

// Active implements [retention.HoldStore], with one indexed query.
func (s *HoldStore) Active(ctx context.Context, subject personaldata.SubjectID, recordKey string) ([]retention.Hold, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, err
	}
	if subject == "" && recordKey == "" {
		return []retention.Hold{}, nil
	}
	// NULL never equals anything, so an empty subject or key matches no
	// hold.
	return s.query(ctx, "Active holds", s.q.active, nullString(string(subject)), nullString(recordKey))
}

// List implements [retention.HoldStore].
func (s *HoldStore) List(ctx context.Context, includeReleased bool) ([]retention.Hold, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, err
	}
	q := s.q.listActive
	if includeReleased {
		q = s.q.list
	}
	return s.query(ctx, "List holds", q)
}

func (s *HoldStore) query(ctx context.Context, op, q string, args ...any) ([]retention.Hold, error) {
	var out []retention.Hold
	err := s.b.retry(ctx, func() error {
		out = []retention.Hold{}
		rows, err := s.b.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			h, err := scanHold(rows)
			if err != nil {
				return err
			}
			out = append(out, h)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	return out, nil
}

func scanHold(rows *sql.Rows) (retention.Hold, error) {
	var (
		id                          string
		subject, record, releasedBy sql.NullString
		h                           retention.Hold
		placed, released            sql.NullInt64
	)
	if err := rows.Scan(&id, &subject, &record, &h.Reason, &h.Citation, &h.PlacedBy, &placed, &released, &releasedBy); err != nil {
		return retention.Hold{}, err
	}
	var err error
	if h.ID, err = ulid.ParseStrict(strings.TrimSpace(id)); err != nil {
		return retention.Hold{}, fmt.Errorf("%w: hold ID: %w", ErrCorrupt, err)
	}
	h.Subject, h.RecordKey, h.ReleasedBy = personaldata.SubjectID(subject.String), record.String, releasedBy.String
	h.PlacedAt, h.ReleasedAt = timeOf(placed), timeOf(released)
	if err := h.Validate(); err != nil {
		return retention.Hold{}, fmt.Errorf("%w: hold %s: %w", ErrCorrupt, h.ID, err)
	}
	return h, nil
}
