package erasure

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/personaldata/personaldata/pii"
)

// IdentifierKind says how an identifier is normalised before hashing.
type IdentifierKind uint8

// The kinds of identifier.
const (
	IdentifierEmail IdentifierKind = iota + 1 // pii.NormalizeEmail
	IdentifierPhone                           // pii.NormalizePhone
	IdentifierOther                           // pii.NormalizeLower
)

// Identifier is a value by which an erased person could come back: an
// e-mail address, a phone number, a customer number.
type Identifier struct {
	Kind  IdentifierKind
	Value string
}

// Email returns the identifier of an e-mail address.
func Email(s string) Identifier { return Identifier{IdentifierEmail, s} }

// Phone returns the identifier of a phone number.
func Phone(s string) Identifier { return Identifier{IdentifierPhone, s} }

// Digest returns the keyed hash (HMAC-SHA256 under a key derived from
// Keys.Hash) of the identifier, normalised the way pii's blind index
// normalises it, as 43 characters of base64url. The identifier itself is
// never stored.
func (s *Service) Digest(id Identifier) (string, error) {
	var norm string
	switch id.Kind {
	case IdentifierEmail:
		norm = pii.NormalizeEmail(id.Value)
	case IdentifierPhone:
		norm = pii.NormalizePhone(id.Value)
	case IdentifierOther:
		norm = pii.NormalizeLower(id.Value)
	default:
		return "", fmt.Errorf("%w: identifier kind %d", ErrInvalidRequest, id.Kind)
	}
	if norm == "" {
		return "", fmt.Errorf("%w: empty identifier", ErrInvalidRequest)
	}
	m := hmac.New(sha256.New, s.suppKey)
	m.Write([]byte{byte(id.Kind)})
	m.Write([]byte(norm))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// Suppressed reports which of ids belong to a person who was erased: the
// suppression entries found, in the order of ids. Call it before an import,
// a sign-up or a re-subscription; an empty result means none was erased.
func (s *Service) Suppressed(ctx context.Context, ids ...Identifier) ([]SuppressionEntry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	digests := make([]string, 0, len(ids))
	for _, id := range ids {
		d, err := s.Digest(id)
		if err != nil {
			return nil, err
		}
		digests = append(digests, d)
	}
	found, err := s.st.Suppression.Lookup(ctx, digests)
	if err != nil {
		return nil, fmt.Errorf("erasure: suppression lookup: %w", err)
	}
	return found, nil
}
