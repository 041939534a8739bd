package consenthttp

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// MinSecretLen is the least number of bytes of a [Key]'s Secret.
const MinSecretLen = 32

// MaxTokenLen is the longest link token, in characters, that a [Handler]
// reads; a longer one is refused before it is decoded. The longest token
// this package makes (a 255-byte subject ID and a 64-byte purpose) is 506
// characters.
const MaxTokenLen = 512

// A Key is a secret that link tokens and form tokens are made with. The
// first key given to [New] makes new tokens; every key given is accepted
// when a token is read, so that links sent before a key rotation keep
// working.
//
// To rotate, put a new key first and keep the old one with RetiredAt set to
// the time of the rotation. Tokens of a retired key are accepted until
// RetiredAt plus the link lifetime (Options.LinkLifetime), which is when the
// last link it made expires; after that the key may be removed. A token that
// claims to be made by a key after its RetiredAt is refused.
//
// A Key is a plain value; [New] copies it.
type Key struct {
	// ID names the key inside tokens, so that the right key opens them.
	// IDs must be unique among the keys given to [New].
	ID byte
	// Secret is at least [MinSecretLen] random bytes, kept by the host as
	// it keeps any other secret. Encryption and form keys are derived from
	// it with HKDF-SHA256; it is never used directly.
	Secret []byte
	// RetiredAt, if not zero, is when the key stopped making new tokens.
	RetiredAt time.Time
}

// Token layout; see the package documentation.
const (
	tokenVersion  = 0x01
	tokenHeader   = 2 // version, key ID
	tokenNonceLen = chacha20poly1305.NonceSizeX
	tokenTagLen   = chacha20poly1305.Overhead
	// plaintext: kind, issued (8), expires (8), purpose length, purpose, subject
	plainFixed   = 1 + 8 + 8 + 1
	minTokenRaw  = tokenHeader + tokenNonceLen + plainFixed + 1 + tokenTagLen
	maxTokenRaw  = tokenHeader + tokenNonceLen + plainFixed + 64 + personaldata.MaxSubjectIDLen + tokenTagLen
	hkdfLinkInfo = "personaldata consenthttp v1 link token"
	hkdfFormInfo = "personaldata consenthttp v1 form token"
)

// Token kinds: what a token lets its holder do.
const (
	kindUnsubscribe byte = 1 // withdraw from one purpose
	kindPreferences byte = 2 // open the preference centre
)

var b64 = base64.RawURLEncoding.Strict()

// claims is what a token says.
type claims struct {
	kind    byte
	subject personaldata.SubjectID
	purpose consent.PurposeID // empty for kindPreferences
	issued  time.Time
	expires time.Time
}

type ringKey struct {
	id      byte
	aead    cipher.AEAD
	form    []byte // HMAC key of form tokens
	retired time.Time
}

// keyring holds the derived keys; it is read-only after newKeyring.
type keyring struct {
	current *ringKey
	byID    map[byte]*ringKey
}

func newKeyring(keys []Key) (*keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("consenthttp: New: no Key")
	}
	kr := &keyring{byID: make(map[byte]*ringKey, len(keys))}
	for i, k := range keys {
		if len(k.Secret) < MinSecretLen {
			return nil, fmt.Errorf("%w: key %d: secret of %d bytes, want at least %d", ErrInvalidKey, k.ID, len(k.Secret), MinSecretLen)
		}
		if kr.byID[k.ID] != nil {
			return nil, fmt.Errorf("%w: key ID %d given twice", ErrInvalidKey, k.ID)
		}
		if i == 0 && !k.RetiredAt.IsZero() {
			return nil, fmt.Errorf("%w: key %d makes new tokens but is retired", ErrInvalidKey, k.ID)
		}
		lk, err := hkdf.Key(sha256.New, k.Secret, nil, hkdfLinkInfo, chacha20poly1305.KeySize)
		if err != nil {
			return nil, fmt.Errorf("consenthttp: New: key %d: %w", k.ID, err)
		}
		aead, err := chacha20poly1305.NewX(lk)
		if err != nil {
			return nil, fmt.Errorf("consenthttp: New: key %d: %w", k.ID, err)
		}
		fk, err := hkdf.Key(sha256.New, k.Secret, nil, hkdfFormInfo, sha256.Size)
		if err != nil {
			return nil, fmt.Errorf("consenthttp: New: key %d: %w", k.ID, err)
		}
		rk := &ringKey{id: k.ID, aead: aead, form: fk, retired: k.RetiredAt}
		kr.byID[k.ID] = rk
		if i == 0 {
			kr.current = rk
		}
	}
	return kr, nil
}

// seal makes a token for c with the current key, drawing the nonce from
// rand.
func (kr *keyring) seal(rand io.Reader, c claims) (string, error) {
	if err := c.subject.Validate(); err != nil {
		return "", err
	}
	if len(c.purpose) > 64 {
		return "", fmt.Errorf("%w: purpose too long", consent.ErrUnknownPurpose)
	}
	k := kr.current
	plain := make([]byte, 0, plainFixed+len(c.purpose)+len(c.subject))
	plain = append(plain, c.kind)
	plain = binary.BigEndian.AppendUint64(plain, uint64(c.issued.Unix()))
	plain = binary.BigEndian.AppendUint64(plain, uint64(c.expires.Unix()))
	plain = append(plain, byte(len(c.purpose)))
	plain = append(plain, c.purpose...)
	plain = append(plain, c.subject...)

	raw := make([]byte, tokenHeader+tokenNonceLen, tokenHeader+tokenNonceLen+len(plain)+tokenTagLen)
	raw[0], raw[1] = tokenVersion, k.id
	if _, err := io.ReadFull(rand, raw[tokenHeader:]); err != nil {
		return "", fmt.Errorf("consenthttp: reading randomness: %w", err)
	}
	raw = k.aead.Seal(raw, raw[tokenHeader:], plain, raw[:tokenHeader])
	return b64.EncodeToString(raw), nil
}

// open reads a token made for kind, checking it at now against
// lifetime (the link lifetime, for retired keys). Every failure of a token
// that does not authenticate is the same ErrInvalidToken; the tag is
// checked in constant time by the AEAD.
func (kr *keyring) open(tok string, kind byte, now time.Time, lifetime time.Duration) (claims, error) {
	var c claims
	if len(tok) > MaxTokenLen || len(tok) < b64.EncodedLen(minTokenRaw) {
		return c, ErrInvalidToken
	}
	raw, err := b64.DecodeString(tok)
	if err != nil || len(raw) < minTokenRaw || len(raw) > maxTokenRaw || raw[0] != tokenVersion {
		return c, ErrInvalidToken
	}
	k := kr.byID[raw[1]]
	if k == nil {
		return c, ErrInvalidToken
	}
	nonce := raw[tokenHeader : tokenHeader+tokenNonceLen]
	plain, err := k.aead.Open(nil, nonce, raw[tokenHeader+tokenNonceLen:], raw[:tokenHeader])
	if err != nil {
		return c, ErrInvalidToken
	}
	// From here on the token is authentic: it was made by this package
	// with this key, so a malformed plaintext is a bug, still refused.
	if len(plain) < plainFixed+1 {
		return c, ErrInvalidToken
	}
	c.kind = plain[0]
	c.issued = time.Unix(int64(binary.BigEndian.Uint64(plain[1:9])), 0).UTC()
	c.expires = time.Unix(int64(binary.BigEndian.Uint64(plain[9:17])), 0).UTC()
	plen := int(plain[17])
	rest := plain[plainFixed:]
	if plen > len(rest)-1 {
		return c, ErrInvalidToken
	}
	c.purpose = consent.PurposeID(rest[:plen])
	c.subject = personaldata.SubjectID(rest[plen:])
	if c.kind != kind || c.subject.Validate() != nil || c.expires.Before(c.issued) {
		return c, ErrInvalidToken
	}
	switch kind {
	case kindUnsubscribe:
		if c.purpose.Validate() != nil {
			return c, ErrInvalidToken
		}
	case kindPreferences:
		if plen != 0 {
			return c, ErrInvalidToken
		}
	}
	if !k.retired.IsZero() {
		if c.issued.After(k.retired) {
			return c, ErrInvalidToken
		}
		if !now.Before(k.retired.Add(lifetime)) {
			return c, ErrExpiredToken
		}
	}
	if !now.Before(c.expires) {
		return c, ErrExpiredToken
	}
	return c, nil
}
