package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata/erasure"
	"github.com/personaldata/personaldata/internal/quote"
)

// Append implements [erasure.ReceiptStore]. In one transaction it reads
// the chain's last Seq and whether r.ID is stored (one query), and inserts
// r if its Seq is the next; the primary key on seq settles a race between
// processes: of two appends of one Seq, one inserts and the other gets
// [erasure.ErrConflict]. A stored ID gets [erasure.ErrExists].
//
// The Seq is one global sequence, the position in the Service's one hash
// chain. Appends are serial by nature (each receipt names the hash of the
// one before) and rare (one per completed or refused request, and one per
// scope shredded later), so a single hot spot at the end of the chain is
// acceptable here, as it would not be for keys or requests.
func (s *ErasureStore) Append(ctx context.Context, r erasure.StoredReceipt) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	if r.Seq > math.MaxInt64 {
		return fmt.Errorf("sqlstore: Append: %w: receipt chain cannot reach %d", erasure.ErrConflict, r.Seq)
	}
	if r.Token == "" || len(r.Token) > maxBodyLen {
		return fmt.Errorf("sqlstore: Append: %w: receipt %s: token of %d bytes", ErrInvalidArgument, r.ID, len(r.Token))
	}
	issued, err := timeArg(r.IssuedAt)
	if err != nil {
		return fmt.Errorf("sqlstore: Append: receipt %s: %w", r.ID, err)
	}
	const (
		appended = iota
		exists
		conflict
	)
	var outcome int
	var last sql.NullInt64
	err = s.b.inTx(ctx, func(q querier) error {
		outcome, last = appended, sql.NullInt64{}
		var n int64
		if err := q.QueryRowContext(ctx, s.q.receiptHead, r.ID.String()).Scan(&last, &n); err != nil {
			return err
		}
		switch {
		case n > 0:
			outcome = exists
			return nil
		case uint64(last.Int64)+1 != r.Seq:
			outcome = conflict
			return nil
		}
		res, err := q.ExecContext(ctx, s.q.insertReceipt, int64(r.Seq), r.ID.String(), r.RequestID.String(), issued, []byte(r.Token))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		// Another transaction took this Seq meanwhile, or stored this ID.
		outcome = conflict
		if err := q.QueryRowContext(ctx, s.q.receiptExists, r.ID.String()).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			outcome = exists
		}
		return nil
	})
	switch {
	case err != nil:
		return fmt.Errorf("sqlstore: Append receipt %s: %w", r.ID, err)
	case outcome == exists:
		return fmt.Errorf("sqlstore: Append: %w: receipt %s", erasure.ErrExists, r.ID)
	case outcome == conflict:
		return fmt.Errorf("sqlstore: Append: %w: receipt chain is at %d, not %d", erasure.ErrConflict, last.Int64, r.Seq-1)
	}
	return nil
}

// Last implements [erasure.ReceiptStore]: the row with the highest seq,
// read through the primary key.
func (s *ErasureStore) Last(ctx context.Context) (erasure.StoredReceipt, error) {
	if err := s.b.check(ctx); err != nil {
		return erasure.StoredReceipt{}, err
	}
	rs, err := s.queryReceipts(ctx, s.q.lastReceipt)
	if err != nil {
		return erasure.StoredReceipt{}, fmt.Errorf("sqlstore: Last receipt: %w", err)
	}
	if len(rs) == 0 {
		return erasure.StoredReceipt{}, fmt.Errorf("sqlstore: Last: %w: no receipts", erasure.ErrNotFound)
	}
	return rs[0], nil
}

// ByRequest implements [erasure.ReceiptStore], through the index on
// (request_id, seq).
func (s *ErasureStore) ByRequest(ctx context.Context, id ulid.ULID) ([]erasure.StoredReceipt, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, err
	}
	rs, err := s.queryReceipts(ctx, s.q.receiptsByRequest, id.String())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: receipts of request %s: %w", id, err)
	}
	return rs, nil
}

// Since implements [erasure.ReceiptStore]: a range of the primary key.
func (s *ErasureStore) Since(ctx context.Context, after uint64, limit int) ([]erasure.StoredReceipt, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, err
	}
	if after >= math.MaxInt64 {
		return []erasure.StoredReceipt{}, nil
	}
	q := s.q.receiptsSince
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	rs, err := s.queryReceipts(ctx, s.b.d.rebind(q), int64(after))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: receipts since %d: %w", after, err)
	}
	return rs, nil
}

func (s *ErasureStore) queryReceipts(ctx context.Context, q string, args ...any) ([]erasure.StoredReceipt, error) {
	out := []erasure.StoredReceipt{}
	err := s.b.retry(ctx, func() error {
		out = out[:0]
		rows, err := s.b.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				seq     int64
				id, req string
				issued  sql.NullInt64
				token   []byte
				rc      erasure.StoredReceipt
			)
			if err := rows.Scan(&seq, &id, &req, &issued, &token); err != nil {
				return err
			}
			if rc.ID, err = ulid.ParseStrict(strings.TrimSpace(id)); err != nil || seq < 1 {
				return fmt.Errorf("%w: receipt %d: ID %s", ErrCorrupt, seq, quote.String(id))
			}
			if rc.RequestID, err = ulid.ParseStrict(strings.TrimSpace(req)); err != nil {
				return fmt.Errorf("%w: receipt %s: request ID %s", ErrCorrupt, rc.ID, quote.String(req))
			}
			if len(token) == 0 {
				return fmt.Errorf("%w: receipt %s: empty token", ErrCorrupt, rc.ID)
			}
			rc.Seq, rc.IssuedAt, rc.Token = uint64(seq), timeOf(issued), string(token)
			out = append(out, rc)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
