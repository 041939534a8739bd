package sqlstore

import "errors"

// Errors returned by this package, besides the sentinels of the interfaces
// its stores implement ([pii.ErrForgotten], [pii.ErrKeyChanged],
// [retention.ErrHoldExists], ...), which they wrap as those contracts say.
// None of them carries key material or personal data beyond a subject ID.
var (
	// ErrClosed reports a call on a closed store.
	ErrClosed = errors.New("sqlstore: store is closed")
	// ErrInvalidArgument reports an argument a store refuses before it
	// reaches the database: an invalid subject ID or scope, an empty scope
	// list, a time outside the years 1678 to 2261, an unknown dialect or a
	// malformed table prefix.
	ErrInvalidArgument = errors.New("sqlstore: invalid argument")
	// ErrCorrupt reports a stored row that fails its checks: an unknown
	// state, an active key without bytes, a shredded key with some,
	// wrapped key bytes that do not match the checksum written with them
	// (a truncated or altered row), a request body that does not decode,
	// or a consent chain head that disagrees with its events. The row is
	// left as it is. (Consent event rows are not checked here: the
	// ledger's hash chain judges them and reports consent.ErrTampered.)
	ErrCorrupt = errors.New("sqlstore: corrupt row")
	// ErrSerialization reports a transaction that the database kept
	// aborting as a serialization failure or deadlock (SQLSTATE 40001,
	// 40P01, MySQL 1213, SQLite busy) after Options.MaxRetries retries.
	// Nothing of it was written; the call may be repeated.
	ErrSerialization = errors.New("sqlstore: transaction kept failing to serialize")
	// ErrSchema reports a migration that failed, or a migrations table the
	// store cannot read. A failed migration is not recorded, so the next
	// Open tries it again.
	ErrSchema = errors.New("sqlstore: schema")
)
