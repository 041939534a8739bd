package sqlstore

import (
	"bytes"
	"context"
	"fmt"
	"iter"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/internal/quote"
)

// eventRow is one row of the consent events table as scanned.
type eventRow struct {
	Seq     int64
	ID      string
	Purpose string
	Data    []byte
	Hash    []byte
}

// decode turns r into subject's StoredEvent. It checks nothing: the Ledger
// verifies every event against its hash chain and reports a row that was
// truncated, altered or renumbered as a [*consent.ChainError] of that
// subject alone, where an error here would fail the Ledger's start-up as a
// whole. A negative seq, which no Append writes, becomes 0, which no
// chain holds either.
func (r *eventRow) decode(subject personaldata.SubjectID) consent.StoredEvent {
	return consent.StoredEvent{
		Subject: subject,
		Seq:     uint64(max(r.Seq, 0)),
		ID:      r.ID,
		Purpose: consent.PurposeID(r.Purpose),
		Data:    nonNil(r.Data),
		Hash:    nonNil(r.Hash),
	}
}

// same reports whether r holds e, byte for byte.
func (r *eventRow) same(e consent.StoredEvent) bool {
	return r.Seq >= 0 && uint64(r.Seq) == e.Seq && r.ID == e.ID && r.Purpose == string(e.Purpose) &&
		bytes.Equal(r.Data, e.Data) && bytes.Equal(r.Hash, e.Hash)
}

// Events implements [consent.Store] with one query on the primary key.
func (s *ConsentStore) Events(ctx context.Context, subject personaldata.SubjectID) ([]consent.StoredEvent, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, err
	}
	if err := validConsentSubject("Events", subject); err != nil {
		return nil, err
	}
	var out []consent.StoredEvent
	err := s.b.retry(ctx, func() error {
		out = []consent.StoredEvent{}
		st, err := s.on(ctx, s.b.db, s.q.events)
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, string(subject))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r eventRow
			if err := rows.Scan(&r.Seq, &r.ID, &r.Purpose, &r.Data, &r.Hash); err != nil {
				return err
			}
			out = append(out, r.decode(subject))
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: Events of subject %s: %w", quote.String(string(subject)), err)
	}
	return out, nil
}

// subjectsPage is how many subjects Subjects reads per query.
const subjectsPage = 1000

// Subjects implements [consent.Store]. It reads subjects in pages of
// 1,000, in byte order of their IDs, each page one indexed query that
// starts after the last subject of the one before (keyset paging): memory
// stays flat however many subjects there are, and no connection is held
// while the caller works. With an empty purpose it reads the head rows;
// otherwise the (purpose, subject) index of the events.
func (s *ConsentStore) Subjects(ctx context.Context, purpose consent.PurposeID) iter.Seq2[personaldata.SubjectID, error] {
	return func(yield func(personaldata.SubjectID, error) bool) {
		var last *string
		for {
			if err := s.b.check(ctx); err != nil {
				yield("", err)
				return
			}
			page, err := s.subjectsPage(ctx, purpose, last)
			if err != nil {
				yield("", fmt.Errorf("sqlstore: Subjects: %w", err))
				return
			}
			for _, subj := range page {
				if !yield(personaldata.SubjectID(subj), nil) {
					return
				}
			}
			if len(page) < subjectsPage {
				return
			}
			last = &page[len(page)-1]
		}
	}
}

func (s *ConsentStore) subjectsPage(ctx context.Context, purpose consent.PurposeID, last *string) ([]string, error) {
	var query string
	var args []any
	switch {
	case purpose == "" && last == nil:
		query = s.q.subjectsFirst
	case purpose == "":
		query, args = s.q.subjectsNext, []any{*last}
	case last == nil:
		query, args = s.q.purposeFirst, []any{string(purpose)}
	default:
		query, args = s.q.purposeNext, []any{string(purpose), *last}
	}
	page := make([]string, 0, subjectsPage)
	err := s.b.retry(ctx, func() error {
		page = page[:0]
		rows, err := s.b.db.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var subj string
			if err := rows.Scan(&subj); err != nil {
				return err
			}
			page = append(page, subj)
		}
		return rows.Err()
	})
	return page, err
}

// Definitions implements [consent.Store]: every definition, in the order
// Define first stored them.
func (s *ConsentStore) Definitions(ctx context.Context) ([]consent.StoredDefinition, error) {
	if err := s.b.check(ctx); err != nil {
		return nil, err
	}
	var out []consent.StoredDefinition
	err := s.b.retry(ctx, func() error {
		out = []consent.StoredDefinition{}
		rows, err := s.b.db.QueryContext(ctx, s.q.definitions)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var kind string
			var d consent.StoredDefinition
			if err := rows.Scan(&kind, &d.ID, &d.Data); err != nil {
				return err
			}
			d.Kind, d.Data = consent.DefinitionKind(kind), nonNil(d.Data)
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: Definitions: %w", err)
	}
	return out, nil
}
