package consent

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Signed notes, as C2SP signed-note specifies them (the format of Go's
// checksum database, golang.org/x/mod/sumdb/note): the text, a blank line,
// and one signature line per signer: "— " (U+2014, a space), the key name,
// a space, and base64 of the 4-byte key ID followed by the 64-byte Ed25519
// signature of the text. The key ID is the first 4 bytes of
// SHA-256(name || "\n" || 0x01 || public key).

const (
	sigPrefix   = "— "
	algEd25519  = 1
	maxNoteLen  = 1 << 12 // the note of a checkpoint is a few lines
	maxSigLines = 16
)

// validKeyName reports whether name may name a key: non-empty UTF-8
// without spaces or '+'.
func validKeyName(name string) bool {
	if name == "" || !utf8.ValidString(name) || strings.ContainsRune(name, '+') {
		return false
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func keyID(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', algEd25519})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// CheckpointVerifierKey returns the verifier key of the checkpoint key
// name and pub in the text form of signed-note implementations
// (golang.org/x/mod/sumdb/note.NewVerifier reads it): name, '+', the key ID
// in 8 hex digits, '+', base64 of 0x01 followed by the public key.
func CheckpointVerifierKey(name string, pub ed25519.PublicKey) string {
	return fmt.Sprintf("%s+%08x+%s", name, keyID(name, pub),
		base64.StdEncoding.EncodeToString(append([]byte{algEd25519}, pub...)))
}

// signNote returns text, which ends in a newline, signed by key as name.
func signNote(text []byte, name string, key ed25519.PrivateKey) []byte {
	pub := key.Public().(ed25519.PublicKey)
	sig := binary.BigEndian.AppendUint32(nil, keyID(name, pub))
	sig = append(sig, ed25519.Sign(key, text)...)
	out := bytes.Clone(text)
	out = append(out, '\n')
	out = append(out, sigPrefix+name+" "...)
	out = base64.StdEncoding.AppendEncode(out, sig)
	return append(out, '\n')
}

var errNote = errors.New("malformed signed note")

// openNote splits a signed note into its text and checks that the key
// name/pub signed it; signatures of other keys are ignored. It never panics.
func openNote(msg []byte, name string, pub ed25519.PublicKey) ([]byte, error) {
	if len(msg) > maxNoteLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", errNote, maxNoteLen)
	}
	if !utf8.Valid(msg) {
		return nil, fmt.Errorf("%w: not UTF-8", errNote)
	}
	for _, c := range msg {
		if c < 0x20 && c != '\n' {
			return nil, fmt.Errorf("%w: control character", errNote)
		}
	}
	split := bytes.LastIndex(msg, []byte("\n\n"))
	if split < 0 || len(msg) == 0 || msg[len(msg)-1] != '\n' {
		return nil, fmt.Errorf("%w: no signature block", errNote)
	}
	text, sigs := msg[:split+1], msg[split+2:]
	id := keyID(name, pub)
	lines := bytes.SplitAfter(sigs, []byte("\n"))
	lines = lines[:len(lines)-1] // the empty rest after the last newline
	if len(lines) == 0 || len(lines) > maxSigLines {
		return nil, fmt.Errorf("%w: %d signature lines", errNote, len(lines))
	}
	for _, line := range lines {
		line = line[:len(line)-1]
		rest, ok := bytes.CutPrefix(line, []byte(sigPrefix))
		if !ok {
			return nil, fmt.Errorf("%w: bad signature line", errNote)
		}
		n, b64, ok := bytes.Cut(rest, []byte(" "))
		if !ok || len(n) == 0 {
			return nil, fmt.Errorf("%w: bad signature line", errNote)
		}
		sig, err := base64.StdEncoding.DecodeString(string(b64))
		if err != nil || len(sig) < 5 {
			return nil, fmt.Errorf("%w: bad signature encoding", errNote)
		}
		if string(n) != name || binary.BigEndian.Uint32(sig) != id {
			continue // another signer
		}
		if len(sig) != 4+ed25519.SignatureSize || !ed25519.Verify(pub, text, sig[4:]) {
			return nil, fmt.Errorf("%w: invalid signature", errNote)
		}
		return text, nil
	}
	return nil, fmt.Errorf("%w: not signed by the checkpoint key", errNote)
}
