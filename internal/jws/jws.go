// Package jws signs and verifies compact JSON Web Signatures (RFC 7515)
// with EdDSA over Ed25519 (RFC 8037), the only algorithm it knows.
//
// A token is three base64url parts without padding, joined by dots:
//
//	BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)
//
// The signature is Ed25519 over the ASCII bytes of the first two parts and
// the dot between them (the JWS signing input). Any JOSE library that
// supports EdDSA verifies what Sign produces.
//
// Parse is strict, because its input comes from outside: at most [MaxLen]
// bytes, exactly three parts, canonical unpadded base64url, a header that is
// one JSON object with alg "EdDSA" and only the members alg, kid and typ
// (no crit, no embedded keys), and a 64-byte signature.
package jws

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// MaxLen is the longest token Parse accepts, in bytes.
const MaxLen = 1 << 20

// Alg is the only algorithm this package signs and accepts.
const Alg = "EdDSA"

// Errors returned by this package.
var (
	// ErrMalformed reports a token that is not a compact JWS this
	// package accepts: too long, wrong number of parts, bad base64url,
	// a header that is not the expected JSON.
	ErrMalformed = errors.New("jws: malformed token")
	// ErrAlgorithm reports a header whose alg is not EdDSA.
	ErrAlgorithm = errors.New("jws: unsupported algorithm")
	// ErrSignature reports a signature that does not verify.
	ErrSignature = errors.New("jws: signature does not verify")
	// ErrKey reports a key of the wrong length.
	ErrKey = errors.New("jws: invalid Ed25519 key")
)

// Header is the protected header of a token.
type Header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

// Token is a parsed compact JWS.
type Token struct {
	Header    Header
	Payload   []byte
	Signature []byte
	// SigningInput is the exact text the signature covers: the first two
	// parts of the token and the dot between them.
	SigningInput string
}

var b64 = base64.RawURLEncoding.Strict()

// Sign returns the compact JWS of payload signed by key, with a protected
// header holding alg "EdDSA" and, if not empty, kid and typ (in that order,
// so that the header bytes are predictable).
func Sign(key ed25519.PrivateKey, kid, typ string, payload []byte) (string, error) {
	if len(key) != ed25519.PrivateKeySize {
		return "", ErrKey
	}
	h, err := json.Marshal(Header{Alg: Alg, Kid: kid, Typ: typ})
	if err != nil {
		return "", fmt.Errorf("jws: encode header: %w", err)
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(payload)
	sig := ed25519.Sign(key, []byte(input))
	return input + "." + b64.EncodeToString(sig), nil
}

// Parse splits and decodes token without verifying its signature. It
// checks everything the package documentation lists; errors wrap
// ErrMalformed or ErrAlgorithm.
func Parse(token string) (Token, error) {
	if len(token) > MaxLen {
		return Token{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxLen)
	}
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')
	if first < 0 || first == last || strings.Count(token, ".") != 2 {
		return Token{}, fmt.Errorf("%w: want three dot-separated parts", ErrMalformed)
	}
	hb, err := decodePart(token[:first], "header")
	if err != nil {
		return Token{}, err
	}
	payload, err := decodePart(token[first+1:last], "payload")
	if err != nil {
		return Token{}, err
	}
	sig, err := decodePart(token[last+1:], "signature")
	if err != nil {
		return Token{}, err
	}
	if len(sig) != ed25519.SignatureSize {
		return Token{}, fmt.Errorf("%w: signature is %d bytes, want %d", ErrMalformed, len(sig), ed25519.SignatureSize)
	}
	h, err := parseHeader(hb)
	if err != nil {
		return Token{}, err
	}
	return Token{Header: h, Payload: payload, Signature: sig, SigningInput: token[:last]}, nil
}

func decodePart(s, what string) ([]byte, error) {
	if s == "" && what != "payload" {
		return nil, fmt.Errorf("%w: empty %s", ErrMalformed, what)
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not unpadded base64url", ErrMalformed, what)
	}
	return b, nil
}

func parseHeader(b []byte) (Header, error) {
	if !json.Valid(b) || len(bytes.TrimSpace(b)) == 0 || bytes.TrimSpace(b)[0] != '{' {
		return Header{}, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	// Reject duplicate members: two alg members read differently by two
	// libraries are a classic confusion.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Header{}, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	if n, err := countMembers(b); err != nil || n != len(raw) {
		return Header{}, fmt.Errorf("%w: duplicate header member", ErrMalformed)
	}
	var h Header
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return Header{}, fmt.Errorf("%w: header has an unsupported member or type", ErrMalformed)
	}
	if _, ok := raw["alg"]; !ok {
		return Header{}, fmt.Errorf("%w: header has no alg", ErrMalformed)
	}
	if h.Alg != Alg {
		return Header{}, ErrAlgorithm
	}
	return h, nil
}

// countMembers counts the members of the top-level JSON object b.
func countMembers(b []byte) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return 0, err
	}
	n := 0
	for dec.More() {
		if _, err := dec.Token(); err != nil { // key
			return 0, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// Verify parses token and checks its signature with pub. It returns the
// token only if the signature verifies; errors wrap ErrMalformed,
// ErrAlgorithm, ErrSignature or ErrKey.
func Verify(token string, pub ed25519.PublicKey) (Token, error) {
	if len(pub) != ed25519.PublicKeySize {
		return Token{}, ErrKey
	}
	t, err := Parse(token)
	if err != nil {
		return Token{}, err
	}
	if !ed25519.Verify(pub, []byte(t.SigningInput), t.Signature) {
		return Token{}, ErrSignature
	}
	return t, nil
}
