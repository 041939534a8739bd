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
	h := sha256.New()
	h.Write([]byte("personaldata/sqlstore/key/1\x00"))
	for _, p := range [][]byte{[]byte(ref.Subject), []byte(ref.Scope), []byte(k.KEKID), k.Ciphertext} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	return h.Sum(nil)[:checksumLen]
}

// decode checks r and turns it into a StoredKey. It never panics and never
// returns key bytes with an error; the error wraps [ErrCorrupt] and names
// the row by subject and scope only.
func (r *keyRow) decode() (pii.StoredKey, error) {
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
		k := pii.WrappedKey{KEKID: r.KEKID.String, Ciphertext: bytes.Clone(r.Wrapped)}
		if len(r.Checksum) != checksumLen || !bytes.Equal(r.Checksum, keyChecksum(ref, k)) {
			return bad("wrapped key does not match its checksum (truncated or altered)")
		}
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
