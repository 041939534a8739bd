package sqlstore

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
	"github.com/personaldata/personaldata/pii"
)

// Key row states, as stored in the state column.
const (
	stateActive   = 1
	stateShredded = 2
)

// keyRow is one row of the keys table as scanned, before any check.
type keyRow struct {
	Subject    string
	Scope      string
	State      int64
	KEKID      sql.NullString
	Wrapped    []byte
	Checksum   []byte
	CreatedAt  sql.NullInt64
	ShreddedAt sql.NullInt64
}

// checksumLen is the length of the checksum stored beside wrapped key
// bytes.
const checksumLen = 16

// keyChecksum binds wrapped key bytes to their row, so that a truncated,
// altered or misplaced value is reported as corrupt instead of being handed
// to a KeyWrapper. It is a hash of ciphertext, not of key material.
func keyChecksum(ref pii.KeyRef, k pii.WrappedKey) []byte {
	return appendKeyChecksum(nil, nil, string(ref.Subject), string(ref.Scope), k.KEKID, k.Ciphertext)
}

// checksumPrefix starts the hashed input of every key checksum.
const checksumPrefix = "personaldata/sqlstore/key/1\x00"

// appendKeyChecksum appends the checksum of a key row to dst. scratch, if
// not nil, is reused for the hashed input, so that checking many rows
// allocates once.
func appendKeyChecksum(dst []byte, scratch *[]byte, subject, scope, kekID string, ciphertext []byte) []byte {
	var buf []byte
	if scratch != nil {
		buf = (*scratch)[:0]
	}
	buf = append(buf, checksumPrefix...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(subject)))
	buf = append(buf, subject...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(scope)))
	buf = append(buf, scope...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(kekID)))
	buf = append(buf, kekID...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(ciphertext)))
	buf = append(buf, ciphertext...)
	if scratch != nil {
		*scratch = buf
	}
	sum := sha256.Sum256(buf)
	return append(dst, sum[:checksumLen]...)
}

// decode checks r and turns it into a StoredKey. It never panics and never
// returns key bytes with an error; the error wraps [ErrCorrupt] and names
// the row by subject and scope only.
func (r *keyRow) decode() (pii.StoredKey, error) { return r.decodeWith(nil) }

// decodeWith is decode with a scratch buffer for the checksum's input (see
// [appendKeyChecksum]). The wrapped bytes are copied once, so r.Wrapped
// may be a [sql.RawBytes].
func (r *keyRow) decodeWith(scratch *[]byte) (pii.StoredKey, error) {
	ref := pii.KeyRef{Subject: personaldata.SubjectID(r.Subject), Scope: personaldata.Scope(r.Scope)}
	bad := func(what string) (pii.StoredKey, error) {
		return pii.StoredKey{}, fmt.Errorf("%w: key of subject %s, scope %s: %s", ErrCorrupt, quote.String(r.Subject), quote.String(r.Scope), what)
	}
	switch r.State {
	case stateActive:
		if !r.KEKID.Valid || r.KEKID.String == "" {
			return bad("active key names no KEK")
		}
		if len(r.Wrapped) == 0 {
			return bad("active key has no bytes")
		}
		if !r.CreatedAt.Valid {
			return bad("active key has no creation time")
		}
		if r.ShreddedAt.Valid {
			return bad("active key has a shredding time")
		}
		var sum [checksumLen]byte
		if len(r.Checksum) != checksumLen || !bytes.Equal(r.Checksum, appendKeyChecksum(sum[:0], scratch, r.Subject, r.Scope, r.KEKID.String, r.Wrapped)) {
			return bad("wrapped key does not match its checksum (truncated or altered)")
		}
		k := pii.WrappedKey{KEKID: r.KEKID.String, Ciphertext: bytes.Clone(r.Wrapped)}
		return pii.StoredKey{Ref: ref, State: pii.KeyActive, Wrapped: k, CreatedAt: timeOf(r.CreatedAt)}, nil
	case stateShredded:
		if len(r.Wrapped) != 0 || (r.KEKID.Valid && r.KEKID.String != "") || len(r.Checksum) != 0 {
			return bad("shredded key still holds key data")
		}
		if !r.ShreddedAt.Valid {
			return bad("shredded key has no shredding time")
		}
		return pii.StoredKey{Ref: ref, State: pii.KeyShredded, CreatedAt: timeOf(r.CreatedAt), ShreddedAt: timeOf(r.ShreddedAt)}, nil
	}
	return bad(fmt.Sprintf("unknown state %d", r.State))
}
