package sqlstore

import (
	"database/sql"

	"github.com/personaldata/personaldata/pii"
)

// DecodeKeyRow checks and decodes a stored key row, for the fuzz test.
func DecodeKeyRow(subject, scope string, state int64, kekID *string, wrapped, checksum []byte, created, shredded *int64) (pii.StoredKey, error) {
	r := keyRow{Subject: subject, Scope: scope, State: state, Wrapped: wrapped, Checksum: checksum}
	if kekID != nil {
		r.KEKID = sql.NullString{String: *kekID, Valid: true}
	}
	if created != nil {
		r.CreatedAt = sql.NullInt64{Int64: *created, Valid: true}
	}
	if shredded != nil {
		r.ShreddedAt = sql.NullInt64{Int64: *shredded, Valid: true}
	}
	return r.decode()
}

// KeyChecksum is the checksum stored beside a wrapped key.
var KeyChecksum = keyChecksum

// Retryable reports whether the store retries a transaction that failed
// with err.
func Retryable(d Dialect, err error) bool { return d.retryable(err) }
