package sqlstore

import (
	"database/sql"

	"github.com/personaldata/personaldata/erasure"
)

// DecodeRequestRow checks and decodes a stored request row, for the fuzz
// test.
func DecodeRequestRow(id, subject string, kind, state int64, nextDue, updatedAt *int64, version int64, body []byte) (erasure.Request, error) {
	r := requestRow{ID: id, Subject: subject, Kind: kind, State: state, Version: version, Body: body}
	if nextDue != nil {
		r.NextDue = sql.NullInt64{Int64: *nextDue, Valid: true}
	}
	if updatedAt != nil {
		r.UpdatedAt = sql.NullInt64{Int64: *updatedAt, Valid: true}
	}
	return r.decode()
}

// EncodeRequestBody returns the body column the store writes for r.
func EncodeRequestBody(r erasure.Request) ([]byte, error) {
	row, err := encodeRequest(&r)
	return row.Body, err
}

// Rebind writes the placeholders of query as dialect d wants them.
func Rebind(d Dialect, query string) string { return d.rebind(query) }
