package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
	"github.com/personaldata/personaldata/internal/quote"
)

// ConsentStore is a [consent.Store] on database/sql: the event chains of
// a consent ledger and its purposes and notice versions, durable across
// restarts. It is safe for concurrent use by many goroutines, and by many
// Ledgers in many processes sharing one database: Append is
// compare-and-swap on the subject's chain head.
//
// Create it with [OpenConsentStore] and hand it to [consent.New].
type ConsentStore struct {
	b    *base
	q    consentQueries
	prep *prepared // MySQL only
}

var _ consent.Store = (*ConsentStore)(nil)

// consentQueries are the statements of a ConsentStore, built once for its
// dialect and table prefix.
type consentQueries struct {
	insertHead, moveHead, diagnose string
	insertEventsHead, eventsTail   string // a multi-row INSERT: head + n rows + tail
	eventRow, tailEvents           string
	events                         string
	subjectsFirst, subjectsNext    string
	purposeFirst, purposeNext      string
	pgNewHead, pgMoveHead          string // appendStatement
	pgInsertHead, pgInsertTail     string
	defLockInsert, defLock         string
	defCount, defGet, defInsert    string
	definitions                    string
}

// OpenConsentStore returns a consent store on db, after migrating its
// tables (see [Options.TablePrefix]) to the current version. db must not
// be nil; opts may be.
func OpenConsentStore(ctx context.Context, db *sql.DB, dialect Dialect, opts *Options) (*ConsentStore, error) {
	b, err := newBase("OpenConsentStore", db, dialect, opts)
	if err != nil {
		return nil, err
	}
	if err := b.migrate(ctx, consentComponent, consentMigrations); err != nil {
		return nil, err
	}
	d := b.d
	heads, events, defs := b.table("consent_heads"), b.table("consent_events"), b.table("consent_definitions")
	page := fmt.Sprint(subjectsPage)
	q := consentQueries{
		insertHead: d.rebind(d.insertIfAbsent(heads, []string{"subject"}, "subject", "last_seq", "last_hash")),
		moveHead:   d.rebind("UPDATE " + heads + " SET last_seq = ?, last_hash = ? WHERE subject = ? AND last_seq = ?"),
		diagnose: d.rebind("SELECT (SELECT last_seq FROM " + heads + " WHERE subject = ?), " +
			"(SELECT MAX(seq) FROM " + events + " WHERE subject = ?)"),
		insertEventsHead: "INSERT INTO " + events + " (subject, seq, id, purpose, data, hash) VALUES ",
		eventRow:         "(?, ?, ?, ?, ?, ?)",
		eventsTail:       d.pick(" ON CONFLICT (subject, seq) DO NOTHING", " ON CONFLICT (subject, seq) DO NOTHING", " ON DUPLICATE KEY UPDATE subject = subject"),
		tailEvents:       d.rebind("SELECT seq, id, purpose, data, hash FROM " + events + " WHERE subject = ? AND seq > ? ORDER BY seq LIMIT ?"),
		events:           d.rebind("SELECT seq, id, purpose, data, hash FROM " + events + " WHERE subject = ? ORDER BY seq"),
		subjectsFirst:    "SELECT subject FROM " + heads + " ORDER BY subject LIMIT " + page,
		subjectsNext:     d.rebind("SELECT subject FROM " + heads + " WHERE subject > ? ORDER BY subject LIMIT " + page),
		purposeFirst:     d.rebind("SELECT DISTINCT subject FROM " + events + " WHERE purpose = ? ORDER BY subject LIMIT " + page),
		purposeNext:      d.rebind("SELECT DISTINCT subject FROM " + events + " WHERE purpose = ? AND subject > ? ORDER BY subject LIMIT " + page),
		pgNewHead: "WITH h AS (INSERT INTO " + heads + " (subject, last_seq, last_hash) VALUES (?, ?, ?) " +
			"ON CONFLICT (subject) DO NOTHING RETURNING 1) ",
		pgMoveHead:    "WITH h AS (UPDATE " + heads + " SET last_seq = ?, last_hash = ? WHERE subject = ? AND last_seq = ? RETURNING 1) ",
		pgInsertHead:  "INSERT INTO " + events + " (subject, seq, id, purpose, data, hash) SELECT * FROM (VALUES ",
		pgInsertTail:  ") AS v WHERE EXISTS (SELECT 1 FROM h)",
		defLockInsert: d.rebind(d.insertIfAbsent(defs, []string{"kind", "id"}, "kind", "id", "seq", "data")),
		defLock:       "UPDATE " + defs + " SET seq = seq + 1 WHERE kind = '' AND id = ''",
		defCount:      "SELECT seq FROM " + defs + " WHERE kind = '' AND id = ''",
		defGet:        d.rebind("SELECT data FROM " + defs + " WHERE kind = ? AND id = ?"),
		defInsert:     d.rebind("INSERT INTO " + defs + " (kind, id, seq, data) VALUES (?, ?, ?, ?)"),
		definitions:   "SELECT kind, id, data FROM " + defs + " WHERE kind <> '' ORDER BY seq",
	}
	s := &ConsentStore{b: b, q: q}
	if d == MySQL {
		s.prep = &prepared{db: db}
	}
	return s, nil
}

// Close marks the store closed; later calls return [ErrClosed]. It leaves
// the *sql.DB open: the host owns it. It is safe to call twice.
func (s *ConsentStore) Close() error {
	if s.prep != nil {
		s.prep.close()
	}
	return s.b.close()
}

// Limits of the columns, checked before a value reaches the database.
const (
	maxConsentID   = 64 // event IDs, purposes, definition IDs
	maxConsentHash = 64
	maxConsentKind = 32
	// maxConsentData bounds an event's or a definition's encoding: what
	// MySQL's MEDIUMBLOB holds, far above consent.MaxDefinitionLen.
	maxConsentData = 16<<20 - 1
	// appendChunk is how many events one INSERT carries: six parameters
	// each, well below every dialect's limit on parameters.
	appendChunk = 500
)

func validConsentSubject(op string, subject personaldata.SubjectID) error {
	if err := subject.Validate(); err != nil {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, ErrInvalidArgument, err)
	}
	return nil
}

// checkEvents checks that events continue subject's chain after after and
// fit the columns.
func checkEvents(subject personaldata.SubjectID, after uint64, events []consent.StoredEvent) error {
	if after > math.MaxInt64-uint64(len(events)) {
		return fmt.Errorf("%w: sequence number past 2^63-1", ErrInvalidArgument)
	}
	for i, e := range events {
		want := after + uint64(i) + 1
		switch {
		case e.Subject != subject || e.Seq != want:
			return fmt.Errorf("%w: event %d has subject %s seq %d, want subject %s seq %d", ErrInvalidArgument,
				i, quote.String(string(e.Subject)), e.Seq, quote.String(string(subject)), want)
		case len(e.ID) > maxConsentID || len(e.Purpose) > maxConsentID:
			return fmt.Errorf("%w: event %d: ID and purpose may have at most %d bytes", ErrInvalidArgument, i, maxConsentID)
		case len(e.Hash) > maxConsentHash:
			return fmt.Errorf("%w: event %d: hash longer than %d bytes", ErrInvalidArgument, i, maxConsentHash)
		case len(e.Data) > maxConsentData:
			return fmt.Errorf("%w: event %d: data longer than %d bytes", ErrInvalidArgument, i, maxConsentData)
		}
	}
	return nil
}

// errAppended reports an Append that found its events already stored,
// so that the call returns nil; errHeadMoved one whose head row was not
// at after, which headMissed explains.
var (
	errAppended  = errors.New("sqlstore: events already appended")
	errHeadMoved = errors.New("sqlstore: consent head moved")
)

// Append implements [consent.Store]. It moves the subject's head row from
// after to after+len(events) (an UPDATE ... WHERE last_seq = after, or an
// insert-if-absent for a new subject) and inserts the events, atomically;
// if the head is elsewhere it writes nothing and returns an error wrapping
// [consent.ErrConflict]. On PostgreSQL both are one statement (a
// data-modifying WITH), so the head row is locked for one round trip; on
// the other dialects they are one transaction.
//
// A repeat of an Append that committed (the same events, byte for byte,
// already stored at those positions, as after a connection lost at COMMIT)
// returns nil and writes nothing. A head row that disagrees with the
// events table (rows deleted or altered by hand) fails the call with an
// error wrapping [ErrCorrupt], not ErrConflict, so that a Ledger does not
// retry it.
func (s *ConsentStore) Append(ctx context.Context, subject personaldata.SubjectID, after uint64, events []consent.StoredEvent) error {
	if err := s.b.check(ctx); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	if err := validConsentSubject("Append", subject); err != nil {
		return err
	}
	if err := checkEvents(subject, after, events); err != nil {
		return fmt.Errorf("sqlstore: Append: %w", err)
	}
	var err error
	if s.b.d == PostgreSQL && len(events) <= appendChunk {
		err = s.appendStatement(ctx, subject, after, events)
	} else {
		err = s.b.inTx(ctx, func(q querier) error { return s.appendTx(ctx, q, subject, after, events) })
	}
	if errors.Is(err, errHeadMoved) || uniqueViolation(err) {
		// Explained outside the transaction, which has released the head
		// row: a loser must not hold up the writer that won.
		err = s.b.retry(ctx, func() error { return s.headMissed(ctx, s.b.db, subject, after, events) })
	}
	switch {
	case errors.Is(err, errAppended):
		return nil
	case err != nil:
		return fmt.Errorf("sqlstore: Append to subject %s: %w", quote.String(string(subject)), err)
	}
	return nil
}

// appendTx moves the head and inserts the events in transaction q.
func (s *ConsentStore) appendTx(ctx context.Context, q querier, subject personaldata.SubjectID, after uint64, events []consent.StoredEvent) error {
	end, hash := int64(after)+int64(len(events)), nonNil(events[len(events)-1].Hash)
	query, args := s.q.moveHead, []any{end, hash, string(subject), int64(after)}
	if after == 0 {
		query, args = s.q.insertHead, []any{string(subject), end, hash}
	}
	st, err := s.on(ctx, q, query)
	if err != nil {
		return err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return errHeadMoved
	}
	for i := 0; i < len(events); i += appendChunk {
		chunk := events[i:min(i+appendChunk, len(events))]
		if err := s.insertEvents(ctx, q, subject, after+uint64(i), chunk); err != nil {
			return err
		}
	}
	return nil
}

// appendStatement appends events on PostgreSQL with one statement: a WITH
// that moves the head row, and an INSERT of the events that runs only if
// it did. An event already stored past the head fails the statement as a
// whole (a unique violation). It runs on its own, committed by the server,
// unless Options.Isolation asks for a transaction of another level.
func (s *ConsentStore) appendStatement(ctx context.Context, subject personaldata.SubjectID, after uint64, events []consent.StoredEvent) error {
	end, hash := int64(after)+int64(len(events)), nonNil(events[len(events)-1].Hash)
	var b strings.Builder
	var args []any
	if after == 0 {
		b.WriteString(s.q.pgNewHead)
		args = append(args, string(subject), end, hash)
	} else {
		b.WriteString(s.q.pgMoveHead)
		args = append(args, end, hash, string(subject), int64(after))
	}
	b.WriteString(s.q.pgInsertHead)
	for i, e := range events {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?::text, ?::bigint, ?::text, ?::text, ?::bytea, ?::bytea)")
		args = append(args, string(subject), int64(e.Seq), e.ID, string(e.Purpose), nonNil(e.Data), nonNil(e.Hash))
	}
	b.WriteString(s.q.pgInsertTail)
	query := s.b.d.rebind(b.String())
	var n int64
	exec := func(q querier) error {
		res, err := q.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	}
	var err error
	if s.b.iso == sql.LevelDefault {
		err = s.b.retry(ctx, func() error { return exec(s.b.db) })
	} else {
		err = s.b.inTx(ctx, exec)
	}
	switch {
	case err != nil:
		return err
	case n == 0:
		return errHeadMoved
	case n != int64(len(events)):
		return fmt.Errorf("%w: consent events of subject %s: %d of %d inserted", ErrCorrupt, quote.String(string(subject)), n, len(events))
	}
	return nil
}

// uniqueViolation reports a duplicate key (SQLSTATE 23505), which is what
// appendStatement meets when events past the head row are stored.
func uniqueViolation(err error) bool {
	for e := range walkErrors(err) {
		if s, ok := e.(interface{ SQLState() string }); ok && s.SQLState() == "23505" {
			return true
		}
	}
	return false
}

func (s *ConsentStore) insertEvents(ctx context.Context, q querier, subject personaldata.SubjectID, after uint64, events []consent.StoredEvent) error {
	var b strings.Builder
	b.WriteString(s.q.insertEventsHead)
	args := make([]any, 0, 6*len(events))
	for i, e := range events {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.q.eventRow)
		args = append(args, string(subject), int64(e.Seq), e.ID, string(e.Purpose), nonNil(e.Data), nonNil(e.Hash))
	}
	b.WriteString(s.q.eventsTail)
	var st stmtRunner = queryRunner{q, s.b.d.rebind(b.String())}
	if len(events) == 1 { // the common case: prepared, on MySQL
		var err error
		if st, err = s.on(ctx, q, s.b.d.rebind(b.String())); err != nil {
			return err
		}
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != int64(len(events)) {
		// The head row said the chain ended at after, but events past it
		// are stored.
		return fmt.Errorf("%w: consent head of subject %s says %d events, but later ones are stored", ErrCorrupt, quote.String(string(subject)), after)
	}
	return nil
}

// headMissed explains an Append whose head row was not at after: another
// writer appended first (ErrConflict), or this very append committed
// before (errAppended), or the head row and the events disagree
// (ErrCorrupt). It reads both in one statement, so it sees them as one
// commit left them, whatever commits since.
func (s *ConsentStore) headMissed(ctx context.Context, q querier, subject personaldata.SubjectID, after uint64, events []consent.StoredEvent) error {
	var head, maxSeq sql.NullInt64
	st, err := s.on(ctx, q, s.q.diagnose)
	if err != nil {
		return err
	}
	if err := st.QueryRowContext(ctx, string(subject), string(subject)).Scan(&head, &maxSeq); err != nil {
		return err
	}
	if head.Int64 != maxSeq.Int64 {
		return fmt.Errorf("%w: consent head of subject %s says %d events, the events table holds %d (rows deleted or altered)",
			ErrCorrupt, quote.String(string(subject)), head.Int64, maxSeq.Int64)
	}
	if head.Int64 >= int64(after)+int64(len(events)) {
		same, err := s.stored(ctx, q, subject, after, events)
		if err != nil {
			return err
		}
		if same {
			return errAppended
		}
	}
	return fmt.Errorf("%w: subject %s has %d events, not %d", consent.ErrConflict, quote.String(string(subject)), head.Int64, after)
}

// stored reports whether events are stored after after, byte for byte.
func (s *ConsentStore) stored(ctx context.Context, q querier, subject personaldata.SubjectID, after uint64, events []consent.StoredEvent) (bool, error) {
	st, err := s.on(ctx, q, s.q.tailEvents)
	if err != nil {
		return false, err
	}
	rows, err := st.QueryContext(ctx, string(subject), int64(after), len(events))
	if err != nil {
		return false, err
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var r eventRow
		if err := rows.Scan(&r.Seq, &r.ID, &r.Purpose, &r.Data, &r.Hash); err != nil {
			return false, err
		}
		if i >= len(events) || !r.same(events[i]) {
			return false, nil
		}
		i++
	}
	return i == len(events), rows.Err()
}
