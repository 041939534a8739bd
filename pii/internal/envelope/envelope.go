// Package envelope is the wire format of a pii ciphertext: a versioned binary
// envelope that names its AEAD, and a text form with a fixed prefix for
// string fields. The byte layout is documented in package pii.
package envelope

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
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

// The text payload is unpadded base64url (RFC 4648 §5), strict: one
// spelling per envelope (unused trailing bits must be zero), no padding, no
// line breaks. It is coded here rather than with encoding/base64, which
// costs about as much as the AEAD on short fields; the tests check both
// agree on every input.
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// decodeMap maps a character to its 6-bit value, or 0xff if it is not in
// the alphabet.
var decodeMap = func() (m [256]byte) {
	for i := range m {
		m[i] = 0xff
	}
	for i := range len(alphabet) {
		m[alphabet[i]] = byte(i)
	}
	return m
}()

// encodedLen is the length of the base64url text of n bytes.
func encodedLen(n int) int { return n/3*4 + (n%3*8+5)/6 }

// OpenedLen returns at most the length of the plaintext in a text envelope
// of n bytes (for the shortest nonce), or less than 0 if it holds none.
func OpenedLen(n int) int {
	return (n-len(TextPrefix))*6/8 - HeaderSize - AES256GCM.NonceSize() - TagSize
}

// TextLen returns the length of the text form of a binary envelope of n bytes.
func TextLen(n int) int { return len(TextPrefix) + encodedLen(n) }

// AppendText appends the text form of the binary envelope bin to dst.
// It may write over bin in place: bin may lie in the spare capacity of
// dst, starting TextLen(len(bin))-len(bin) bytes or more after len(dst),
// since each group of bytes is read before its text is written and the
// text never catches up with the bytes still to read.
func AppendText(dst, bin []byte) []byte {
	dst = append(dst, TextPrefix...)
	dst = slices.Grow(dst, encodedLen(len(bin)))
	for len(bin) >= 3 {
		v := uint(bin[0])<<16 | uint(bin[1])<<8 | uint(bin[2])
		dst = append(dst, alphabet[v>>18&0x3f], alphabet[v>>12&0x3f], alphabet[v>>6&0x3f], alphabet[v&0x3f])
		bin = bin[3:]
	}
	switch len(bin) {
	case 2:
		v := uint(bin[0])<<16 | uint(bin[1])<<8
		dst = append(dst, alphabet[v>>18&0x3f], alphabet[v>>12&0x3f], alphabet[v>>6&0x3f])
	case 1:
		dst = append(dst, alphabet[bin[0]>>2], alphabet[bin[0]<<4&0x3f])
	}
	return dst
}

// DecodeText appends the binary envelope of the text form s to dst. It checks
// the prefix and the base64url payload; Parse checks the rest. On error dst
// is returned as it was.
func DecodeText(dst []byte, s string) ([]byte, error) {
	if !LooksText(s) {
		return dst, ErrTextPrefix
	}
	out, ok := decode(dst, s[len(TextPrefix):])
	if !ok {
		return dst, ErrTextPayload
	}
	return out, nil
}

func decode(dst []byte, s string) ([]byte, bool) {
	start := len(dst)
	if len(s)%4 == 1 {
		return dst, false
	}
	n := len(s) / 4 * 3 // bytes of the whole groups of 4 characters
	// Two spare bytes: groups of 8 characters are written as 8 bytes,
	// the last 2 of them overwritten by the next group or cut off.
	dst = slices.Grow(dst, n+2+2)
	out := dst[start : start+n+2+2]
	o := 0
	var bad byte // any character outside the alphabet sets its high bits
	for len(s) >= 8 {
		c0, c1, c2, c3 := decodeMap[s[0]], decodeMap[s[1]], decodeMap[s[2]], decodeMap[s[3]]
		c4, c5, c6, c7 := decodeMap[s[4]], decodeMap[s[5]], decodeMap[s[6]], decodeMap[s[7]]
		bad |= c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7
		v := uint64(c0)<<58 | uint64(c1)<<52 | uint64(c2)<<46 | uint64(c3)<<40 |
			uint64(c4)<<34 | uint64(c5)<<28 | uint64(c6)<<22 | uint64(c7)<<16
		binary.BigEndian.PutUint64(out[o:o+8], v)
		o += 6
		s = s[8:]
	}
	if len(s) >= 4 {
		c0, c1, c2, c3 := decodeMap[s[0]], decodeMap[s[1]], decodeMap[s[2]], decodeMap[s[3]]
		bad |= c0 | c1 | c2 | c3
		v := uint(c0)<<18 | uint(c1)<<12 | uint(c2)<<6 | uint(c3)
		out[o], out[o+1], out[o+2] = byte(v>>16), byte(v>>8), byte(v)
		o += 3
		s = s[4:]
	}
	switch len(s) {
	case 2:
		a, b := decodeMap[s[0]], decodeMap[s[1]]
		if b&0x0f != 0 {
			return dst[:start], false // unused bits set: not the canonical spelling
		}
		bad |= a | b
		out[o] = a<<2 | b>>4
		o++
	case 3:
		a, b, c := decodeMap[s[0]], decodeMap[s[1]], decodeMap[s[2]]
		if c&0x03 != 0 {
			return dst[:start], false
		}
		bad |= a | b | c
		v := uint(a)<<12 | uint(b)<<6 | uint(c)
		out[o], out[o+1] = byte(v>>10), byte(v>>2)
		o += 2
	}
	if bad&0xc0 != 0 {
		return dst[:start], false
	}
	return dst[:start+o], true
}
