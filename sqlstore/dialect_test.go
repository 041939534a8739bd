package sqlstore_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/personaldata/personaldata/sqlstore"
)

func TestRetryable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		dialect sqlstore.Dialect
		err     error
		want    bool
	}{
		{"pg serialization", sqlstore.PostgreSQL, &pgconn.PgError{Code: "40001"}, true},
		{"pg deadlock", sqlstore.PostgreSQL, &pgconn.PgError{Code: "40P01"}, true},
		{"pg wrapped", sqlstore.PostgreSQL, fmt.Errorf("x: %w", &pgconn.PgError{Code: "40001"}), true},
		{"pg joined", sqlstore.PostgreSQL, errors.Join(errors.New("x"), &pgconn.PgError{Code: "40001"}), true},
		{"pg unique", sqlstore.PostgreSQL, &pgconn.PgError{Code: "23505"}, false},
		{"mysql deadlock", sqlstore.MySQL, &mysql.MySQLError{Number: 1213}, true},
		{"mysql lock wait", sqlstore.MySQL, &mysql.MySQLError{Number: 1205}, true},
		{"mysql duplicate", sqlstore.MySQL, &mysql.MySQLError{Number: 1062}, false},
		{"plain", sqlstore.SQLite, errors.New("database is locked"), false},
		{"sqlite busy (mattn)", sqlstore.SQLite, Error{Code: 5}, true},
		{"sqlite locked, extended (mattn)", sqlstore.SQLite, Error{Code: 6 | 1<<8}, true},
		{"sqlite constraint (mattn)", sqlstore.SQLite, Error{Code: 19}, false},
		{"sqlite code on another dialect", sqlstore.PostgreSQL, Error{Code: 5}, false},
		{"nil", sqlstore.SQLite, nil, false},
	} {
		if got := sqlstore.Retryable(c.dialect, c.err); got != c.want {
			t.Errorf("%s: Retryable = %v, want %v", c.name, got, c.want)
		}
	}
}

// Error has the shape of mattn/go-sqlite3's sqlite3.Error.
type Error struct{ Code int }

func (e Error) Error() string { return "sqlite error" }
