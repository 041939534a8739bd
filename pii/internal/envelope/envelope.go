// Package envelope is the wire format of a pii ciphertext: a versioned binary
// envelope that names its AEAD, and a text form with a fixed prefix for
// string fields. The byte layout is documented in package pii.
package envelope

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Algorithm identifies the AEAD that sealed an envelope.
type Algorithm byte

// Algorithms. The values are part of the wire format.
const (
	AES256GCM         Algorithm = 1
	XChaCha20Poly1305 Algorithm = 2
)

// NonceSize returns the nonce length of a, or 0 if a is unknown.
func (a Algorithm) NonceSize() int {
	switch a {
	case AES256GCM:
		return 12
	case XChaCha20Poly1305:
		return 24
	}
	return 0
}

// Format constants.
const (
	Magic0     = 'p'
	Magic1     = 'd'
	Version1   = 1
	HeaderSize = 4  // magic (2), version (1), algorithm (1)
	TagSize    = 16 // both AEADs append a 16-byte tag
	TextPrefix = "pd1:"
)

// Errors. They carry no ciphertext bytes.
var (
	ErrShort       = errors.New("envelope too short")
	ErrMagic       = errors.New("not an envelope (bad magic)")
	ErrVersion     = errors.New("unsupported envelope version")
	ErrAlgorithm   = errors.New("unknown envelope algorithm")
	ErrTextPrefix  = errors.New("text envelope lacks the pd1: prefix")
	ErrTextPayload = errors.New("text envelope payload is not base64url")
)

// Envelope is a parsed binary envelope. Its slices alias the input.
type Envelope struct {
	Alg        Algorithm
	Header     []byte // the first HeaderSize bytes, bound into the associated data
	Nonce      []byte
	Ciphertext []byte // AEAD output, tag included
}

// Parse checks every length of a binary envelope and splits it.
func Parse(b []byte) (Envelope, error) {
	if len(b) < HeaderSize {
		return Envelope{}, ErrShort
	}
	if b[0] != Magic0 || b[1] != Magic1 {
		return Envelope{}, ErrMagic
	}
	if b[2] != Version1 {
		return Envelope{}, fmt.Errorf("%w %d", ErrVersion, b[2])
	}
	alg := Algorithm(b[3])
	ns := alg.NonceSize()
	if ns == 0 {
		return Envelope{}, fmt.Errorf("%w %d", ErrAlgorithm, b[3])
	}
	if len(b) < HeaderSize+ns+TagSize {
		return Envelope{}, ErrShort
	}
	return Envelope{
		Alg:        alg,
		Header:     b[:HeaderSize],
		Nonce:      b[HeaderSize : HeaderSize+ns],
		Ciphertext: b[HeaderSize+ns:],
	}, nil
}

// Looks reports whether b starts like a binary envelope. It is a cheap
// pre-check; only opening the envelope proves it is one.
func Looks(b []byte) bool {
	return len(b) >= HeaderSize && b[0] == Magic0 && b[1] == Magic1
}

// LooksText reports whether s starts with the text prefix.
func LooksText(s string) bool {
	return len(s) >= len(TextPrefix) && s[:len(TextPrefix)] == TextPrefix
}

// SealedLen returns the length of a binary envelope for a plaintext of n bytes.
func SealedLen(alg Algorithm, n int) int {
	return HeaderSize + alg.NonceSize() + n + TagSize
}

// AppendHeader appends the header for alg to dst.
func AppendHeader(dst []byte, alg Algorithm) []byte {
	return append(dst, Magic0, Magic1, Version1, byte(alg))
}

// AppendAD appends the associated data that binds a ciphertext to its
// envelope header, subject, scope and category:
//
//	header (4) || len(subject) (1) || subject || len(scope) (1) || scope || len(category) (1) || category
//
// Each length is one byte; callers validate that none exceeds 255.
func AppendAD(dst, header []byte, subject, scope, category string) []byte {
	dst = append(dst, header...)
	dst = append(dst, byte(len(subject)))
	dst = append(dst, subject...)
	dst = append(dst, byte(len(scope)))
	dst = append(dst, scope...)
	dst = append(dst, byte(len(category)))
	dst = append(dst, category...)
	return dst
}

// b64 is strict: one spelling per envelope (unused trailing bits must be
// zero). DecodeText rejects the CR and LF that the decoder would skip.
var b64 = base64.RawURLEncoding.Strict()

// TextLen returns the length of the text form of a binary envelope of n bytes.
func TextLen(n int) int { return len(TextPrefix) + b64.EncodedLen(n) }

// AppendText appends the text form of the binary envelope bin to dst.
func AppendText(dst, bin []byte) []byte {
	dst = append(dst, TextPrefix...)
	return b64.AppendEncode(dst, bin)
}

// DecodeText appends the binary envelope of the text form s to dst. It checks
// the prefix and the base64url payload; Parse checks the rest.
func DecodeText(dst []byte, s string) ([]byte, error) {
	if !LooksText(s) {
		return dst, ErrTextPrefix
	}
	payload := s[len(TextPrefix):]
	if strings.IndexByte(payload, '\r') >= 0 || strings.IndexByte(payload, '\n') >= 0 {
		return dst, ErrTextPayload
	}
	n := b64.DecodedLen(len(payload))
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	m, err := b64.Decode(dst[start:], []byte(payload))
	if err != nil {
		return dst[:start], ErrTextPayload
	}
	return dst[:start+m], nil
}
