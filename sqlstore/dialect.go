package sqlstore

import (
	"reflect"
	"strconv"
	"strings"
)

// Dialect names the SQL dialect of a database. The host chooses it
// explicitly, as database/sql does not say which server is behind a
// *sql.DB.
type Dialect uint8

// The dialects this package speaks.
const (
	// SQLite, 3.38 or later, or earlier builds with the JSON1 functions
	// (modernc.org/sqlite, mattn/go-sqlite3).
	SQLite Dialect = iota + 1
	// PostgreSQL, 12 or later (github.com/jackc/pgx/v5/stdlib, lib/pq),
	// and the PostgreSQL-compatible distributed databases CockroachDB and
	// YugabyteDB.
	PostgreSQL
	// MySQL 8.0 or later and MariaDB 10.5 or later
	// (github.com/go-sql-driver/mysql).
	MySQL
)

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "SQLite"
	case PostgreSQL:
		return "PostgreSQL"
	case MySQL:
		return "MySQL"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

func (d Dialect) valid() bool { return d >= SQLite && d <= MySQL }

// Column types. MySQL gets binary strings throughout, so that comparisons
// are byte for byte (no case folding, no trailing-space padding) whatever
// the server's default character set and collation.
func (d Dialect) subjectType() string { return d.pick("TEXT", "TEXT", "VARBINARY(255)") }
func (d Dialect) scopeType() string   { return d.pick("TEXT", "TEXT", "VARBINARY(64)") }
func (d Dialect) kekType() string     { return d.pick("TEXT", "TEXT", "VARBINARY(255)") }
func (d Dialect) blobType() string    { return d.pick("BLOB", "BYTEA", "BLOB") }
func (d Dialect) ulidType() string    { return d.pick("TEXT", "CHAR(26)", "VARBINARY(26)") }
func (d Dialect) recordType() string  { return d.pick("TEXT", "TEXT", "VARBINARY(512)") }
func (d Dialect) textType() string    { return d.pick("TEXT", "TEXT", "VARBINARY(1024)") }
func (d Dialect) int64Type() string   { return d.pick("INTEGER", "BIGINT", "BIGINT") }
func (d Dialect) int16Type() string   { return d.pick("INTEGER", "SMALLINT", "SMALLINT") }

// tableSuffix ends every CREATE TABLE.
func (d Dialect) tableSuffix() string { return d.pick("", "", " ENGINE=InnoDB") }

func (d Dialect) pick(sqlite, postgres, mysql string) string {
	switch d {
	case PostgreSQL:
		return postgres
	case MySQL:
		return mysql
	}
	return sqlite
}

// rebind turns the ? placeholders of query into $1, $2, ... for
// PostgreSQL. Queries of this package hold no literal question marks.
func (d Dialect) rebind(query string) string {
	if d != PostgreSQL {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// insertIfAbsent returns an INSERT of cols into table that does nothing
// when a row with the same primary key exists. MySQL's INSERT IGNORE is not
// used: it turns other errors (a value too long) into warnings.
func (d Dialect) insertIfAbsent(table string, pk []string, cols ...string) string {
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(len(cols)) + ")"
	if d == MySQL {
		return q + " ON DUPLICATE KEY UPDATE " + pk[0] + " = " + pk[0]
	}
	return q + " ON CONFLICT (" + strings.Join(pk, ", ") + ") DO NOTHING"
}

// forUpdate locks the rows a SELECT reads, where the dialect has row locks.
// SQLite needs none: its write transactions begin IMMEDIATE and so run one
// at a time.
func (d Dialect) forUpdate() string { return d.pick("", " FOR UPDATE", " FOR UPDATE") }

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// retryable reports whether err aborted a transaction that may simply be
// run again: a serialization failure or deadlock, or SQLite's busy and
// locked. It looks at the error types of the common drivers through their
// methods and fields, without importing them.
func (d Dialect) retryable(err error) bool {
	for e := range walkErrors(err) {
		if s, ok := e.(interface{ SQLState() string }); ok { // pgx, pq via Code
			switch s.SQLState() {
			case "40001", "40P01":
				return true
			}
		}
		if d == SQLite {
			code, ok := int64(0), false
			if c, is := e.(interface{ Code() int }); is { // modernc.org/sqlite
				code, ok = int64(c.Code()), true
			} else { // mattn/go-sqlite3: sqlite3.Error{Code: ErrNo}
				code, ok = intField(e, "Error", "Code")
			}
			if ok && (code&0xff == 5 || code&0xff == 6) { // SQLITE_BUSY, SQLITE_LOCKED
				return true
			}
		}
		if n, ok := intField(e, "MySQLError", "Number"); ok {
			switch n {
			case 1213, 1205: // deadlock, lock wait timeout
				return true
			}
		}
	}
	return false
}

// intField reads the integer field of a driver's error struct, such as
// the Number of a *mysql.MySQLError, without importing the driver.
func intField(err error, typeName, field string) (int64, bool) {
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return 0, false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || v.Type().Name() != typeName {
		return 0, false
	}
	f := v.FieldByName(field)
	switch f.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return f.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(f.Uint()), true
	}
	return 0, false
}

// walkErrors yields err and every error it wraps.
func walkErrors(err error) func(func(error) bool) {
	return func(yield func(error) bool) {
		var walk func(error) bool
		walk = func(e error) bool {
			if e == nil {
				return true
			}
			if !yield(e) {
				return false
			}
			switch u := e.(type) {
			case interface{ Unwrap() error }:
				return walk(u.Unwrap())
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					if !walk(x) {
						return false
					}
				}
			}
			return true
		}
		walk(err)
	}
}

// pgTextArray writes a PostgreSQL text[] literal of field(v) for each of
// vs: every element double-quoted, with backslash and double quote
// escaped. Any PostgreSQL driver passes it as a string, and one array
// parameter plans fast where hundreds of placeholders do not.
func pgTextArray[T any](vs []T, field func(T) string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, x := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		v := field(x)
		for j := 0; j < len(v); j++ {
			if v[j] == '"' || v[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[j])
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
