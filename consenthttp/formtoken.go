package consenthttp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"

	"github.com/personaldata/personaldata"
)

// A form token protects the preference centre's form against cross-site
// request forgery. It is
//
//	key ID (1) | issued, Unix seconds (8) | HMAC-SHA256 (32)
//
// in unpadded base64url, 55 characters. The HMAC, under a key derived from
// the [Key] for forms, covers the subject and every hidden field of the form
// (language, notice version, evidence hash, purposes shown), so a token
// taken from one person's page cannot be used for another person, and the
// hidden fields cannot be altered.
const (
	formTokenRaw = 1 + 8 + sha256.Size
	formTokenLen = (formTokenRaw*8 + 5) / 6
)

var (
	errFormToken   = errors.New("consenthttp: form token missing or not valid")
	errFormExpired = errors.New("consenthttp: form token expired")
)

func formMAC(key []byte, subject personaldata.SubjectID, issued []byte, fields []string) []byte {
	m := hmac.New(sha256.New, key)
	var n [4]byte
	put := func(s string) {
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	put("form")
	put(string(subject))
	m.Write(issued)
	for _, f := range fields {
		put(f)
	}
	return m.Sum(nil)
}

// formToken makes a form token for subject and the form's hidden fields.
func (kr *keyring) formToken(subject personaldata.SubjectID, now time.Time, fields ...string) string {
	k := kr.current
	raw := make([]byte, 1+8, formTokenRaw)
	raw[0] = k.id
	binary.BigEndian.PutUint64(raw[1:], uint64(now.Unix()))
	raw = append(raw, formMAC(k.form, subject, raw[1:9], fields)...)
	return b64.EncodeToString(raw)
}

// checkFormToken checks tok against subject and fields at now; a token
// older than lifetime is expired. The MAC is compared in constant time.
func (kr *keyring) checkFormToken(tok string, subject personaldata.SubjectID, now time.Time, lifetime time.Duration, fields ...string) error {
	if len(tok) != formTokenLen {
		return errFormToken
	}
	raw, err := b64.DecodeString(tok)
	if err != nil || len(raw) != formTokenRaw {
		return errFormToken
	}
	k := kr.byID[raw[0]]
	if k == nil {
		return errFormToken
	}
	if !hmac.Equal(raw[9:], formMAC(k.form, subject, raw[1:9], fields)) {
		return errFormToken
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[1:9])), 0)
	if issued.After(now.Add(time.Minute)) || !now.Before(issued.Add(lifetime)) {
		return errFormExpired
	}
	return nil
}
