package consent

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"

	"github.com/personaldata/personaldata/internal/jws"
)

// ReceiptTokenType is the typ header of a signed consent receipt: the
// Kantara Consent Receipt specification gives a receipt as a JSON Web
// Token.
const ReceiptTokenType = "JWT"

// Sign returns r as a compact JWS (RFC 7515) signed with Ed25519 (alg
// EdDSA, RFC 8037), the form the Kantara specification gives a consent
// receipt: a protected header {"alg":"EdDSA","kid":kid,"typ":"JWT"} and r's
// JSON as the payload. Any JOSE library that supports EdDSA verifies it; so
// does [VerifyReceipt]. kid may be empty. Ed25519 signatures are
// deterministic: the same receipt and key give the same token.
func (r *Receipt) Sign(key ed25519.PrivateKey, kid string) (string, error) {
	payload, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("consent: sign receipt: %w", err)
	}
	tok, err := jws.Sign(key, kid, ReceiptTokenType, payload)
	if err != nil {
		return "", fmt.Errorf("consent: sign receipt: %w", err)
	}
	return tok, nil
}

// VerifyReceipt checks a token made by [Receipt.Sign] with pub and returns
// the receipt it carries and the key ID of its header. The token must be a
// compact JWS with alg EdDSA and typ JWT whose signature verifies, and its
// payload exactly one receipt object with no unknown member; errors wrap
// [ErrInvalidReceipt]. Nothing of the token is echoed in an error.
func VerifyReceipt(token string, pub ed25519.PublicKey) (*Receipt, string, error) {
	t, err := jws.Verify(token, pub)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidReceipt, err)
	}
	if t.Header.Typ != ReceiptTokenType {
		return nil, "", fmt.Errorf("%w: header typ is not %s", ErrInvalidReceipt, ReceiptTokenType)
	}
	dec := json.NewDecoder(bytes.NewReader(t.Payload))
	dec.DisallowUnknownFields()
	var r Receipt
	if err := dec.Decode(&r); err != nil {
		return nil, "", fmt.Errorf("%w: payload is not a receipt", ErrInvalidReceipt)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", fmt.Errorf("%w: payload has data after the receipt", ErrInvalidReceipt)
	}
	if r.Version != ReceiptVersion {
		return nil, "", fmt.Errorf("%w: payload is not a %s receipt", ErrInvalidReceipt, ReceiptVersion)
	}
	return &r, t.Header.Kid, nil
}
