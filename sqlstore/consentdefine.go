package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/internal/quote"
)

// errDefined ends a Define transaction that found the definition stored,
// so that it rolls back.
var errDefined = errors.New("sqlstore: already defined")

// Define implements [consent.Store]. A definition already stored is
// answered by one SELECT. Otherwise, in one transaction, it takes the lock
// row of the definitions table (kind and id empty; it is created if
// absent) and counts up its seq, which becomes the new definition's
// place in the order; checks again that the definition is absent; and
// inserts it. Defines run one at a time, so the order needs no sequence or
// auto-increment, and no clock that processes may disagree on.
func (s *ConsentStore) Define(ctx context.Context, d consent.StoredDefinition) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	if d.Kind == "" || len(d.Kind) > maxConsentKind || d.ID == "" || len(d.ID) > maxConsentID || len(d.Data) > maxConsentData {
		return fmt.Errorf("sqlstore: Define: %w: kind of 1 to %d bytes, ID of 1 to %d bytes, data up to %d bytes",
			ErrInvalidArgument, maxConsentKind, maxConsentID, maxConsentData)
	}
	err := s.b.retry(ctx, func() error { return s.defined(ctx, s.b.db, d) })
	if err == nil {
		err = s.b.inTx(ctx, func(q querier) error {
			if _, err := q.ExecContext(ctx, s.q.defLockInsert, "", "", 0, []byte{}); err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, s.q.defLock); err != nil {
				return err
			}
			var n int64
			if err := q.QueryRowContext(ctx, s.q.defCount).Scan(&n); err != nil {
				return err
			}
			if err := s.defined(ctx, q, d); err != nil {
				return err
			}
			_, err := q.ExecContext(ctx, s.q.defInsert, string(d.Kind), d.ID, n, nonNil(d.Data))
			return err
		})
	}
	switch {
	case errors.Is(err, errDefined):
		return nil
	case err != nil:
		return fmt.Errorf("sqlstore: Define %s %s: %w", quote.String(string(d.Kind)), quote.String(d.ID), err)
	}
	return nil
}

// defined returns errDefined if d is stored, an error wrapping
// consent.ErrConflict if another definition has its kind and ID, and nil
// if none does.
func (s *ConsentStore) defined(ctx context.Context, q querier, d consent.StoredDefinition) error {
	var data []byte
	err := q.QueryRowContext(ctx, s.q.defGet, string(d.Kind), d.ID).Scan(&data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case bytes.Equal(data, d.Data):
		return errDefined
	}
	return fmt.Errorf("%w: defined otherwise", consent.ErrConflict)
}
