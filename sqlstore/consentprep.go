package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// prepared holds the statements of the consent store's hot path (append
// and read a chain) prepared once per connection, on MySQL only. Without
// interpolateParams the MySQL driver prepares, runs and closes a statement
// for every query with arguments: two round trips where one will do, and
// an append that holds its subject's head row longer, so that contending
// writers lose more often. PostgreSQL drivers (pgx) cache prepared
// statements themselves, and SQLite prepares in process.
type prepared struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	closed bool
}

// stmt returns query prepared on the database, preparing it the first time.
func (p *prepared) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.m[query]; ok {
		return st, nil
	}
	if p.closed {
		return nil, ErrClosed
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if p.m == nil {
		p.m = make(map[string]*sql.Stmt)
	}
	p.m[query] = st
	return st, nil
}

// close closes every statement. It is safe to call twice.
func (p *prepared) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.m {
		_ = st.Close()
	}
	p.m, p.closed = nil, true
}

// on returns what runs query on q: q itself, or with a prepared store
// the statement prepared for query, within q's transaction if q is one.
func (s *ConsentStore) on(ctx context.Context, q querier, query string) (stmtRunner, error) {
	if s.prep == nil {
		return queryRunner{q, query}, nil
	}
	st, err := s.prep.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if tx, ok := q.(*sql.Tx); ok {
		st = tx.StmtContext(ctx, st)
	}
	return st, nil
}

// stmtRunner is what *sql.Stmt does, and queryRunner does for a query
// on a querier.
type stmtRunner interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

type queryRunner struct {
	q     querier
	query string
}

func (r queryRunner) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return r.q.ExecContext(ctx, r.query, args...)
}

func (r queryRunner) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, r.query, args...)
}

func (r queryRunner) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, r.query, args...)
}
