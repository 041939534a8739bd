package envelope_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/personaldata/personaldata/pii/internal/envelope"
)

// minimal returns the shortest well-formed envelope of alg, its body filled
// with fill.
func minimal(alg envelope.Algorithm, fill byte, extra int) []byte {
	b := envelope.AppendHeader(nil, alg)
	return append(b, bytes.Repeat([]byte{fill}, alg.NonceSize()+envelope.TagSize+extra)...)
}

// FuzzParse checks that Parse never panics, that what it accepts splits
// the input exactly, and that the text form of any bytes decodes back to
// them.
func FuzzParse(f *testing.F) {
	for _, alg := range []envelope.Algorithm{envelope.AES256GCM, envelope.XChaCha20Poly1305} {
		f.Add(minimal(alg, 0, 0))
		f.Add(minimal(alg, 0xff, 5))
		f.Add(minimal(alg, 0xff, 0)[:envelope.SealedLen(alg, 0)-1])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		env, err := envelope.Parse(b)
		if !bytes.Equal(in, b) {
			t.Fatal("Parse changed its input")
		}
		if err != nil {
			if !errors.Is(err, envelope.ErrShort) && !errors.Is(err, envelope.ErrMagic) &&
				!errors.Is(err, envelope.ErrVersion) && !errors.Is(err, envelope.ErrAlgorithm) {
				t.Fatalf("Parse: error %v is none of the package's", err)
			}
			if env.Header != nil || env.Nonce != nil || env.Ciphertext != nil || env.Alg != 0 {
				t.Fatal("Parse returned parts with an error")
			}
		} else {
			ns := env.Alg.NonceSize()
			switch {
			case ns == 0:
				t.Fatalf("Parse accepted algorithm %d", env.Alg)
			case !envelope.Looks(b):
				t.Fatal("Parse accepted what Looks rejects")
			case len(env.Header) != envelope.HeaderSize || len(env.Nonce) != ns || len(env.Ciphertext) < envelope.TagSize:
				t.Fatalf("Parse split %d bytes into %d/%d/%d", len(b), len(env.Header), len(env.Nonce), len(env.Ciphertext))
			case len(env.Header)+len(env.Nonce)+len(env.Ciphertext) != len(b):
				t.Fatal("Parse parts do not add up to the input")
			case &env.Header[0] != &b[0] || &env.Nonce[0] != &b[envelope.HeaderSize] ||
				&env.Ciphertext[0] != &b[envelope.HeaderSize+ns]:
				t.Fatal("Parse parts do not partition the input in order")
			case b[2] != envelope.Version1 || env.Alg != envelope.Algorithm(b[3]):
				t.Fatal("Parse accepted a header it does not name")
			case len(env.Ciphertext)-envelope.TagSize+envelope.SealedLen(env.Alg, 0) != len(b):
				t.Fatal("SealedLen disagrees with Parse")
			}
		}

		text := envelope.AppendText([]byte("prefix"), b)
		if !bytes.HasPrefix(text, []byte("prefix"+envelope.TextPrefix)) || len(text) != len("prefix")+envelope.TextLen(len(b)) {
			t.Fatal("AppendText: wrong prefix or length")
		}
		back, err := envelope.DecodeText([]byte("dst"), string(text[len("prefix"):]))
		if err != nil || !bytes.Equal(back, append([]byte("dst"), b...)) {
			t.Fatalf("text round trip: %v", err)
		}
	})
}

// FuzzDecodeText checks that DecodeText never panics, keeps dst intact,
// and accepts only what has the prefix and a base64url payload.
func FuzzDecodeText(f *testing.F) {
	f.Add(string(envelope.AppendText(nil, minimal(envelope.AES256GCM, 0, 3))))
	f.Add(string(envelope.AppendText(nil, minimal(envelope.XChaCha20Poly1305, 7, 0))))
	f.Fuzz(func(t *testing.T, s string) {
		dst := []byte("dst")
		out, err := envelope.DecodeText(dst, s)
		if !bytes.HasPrefix(out, []byte("dst")) {
			t.Fatal("DecodeText lost dst")
		}
		if err != nil {
			if !errors.Is(err, envelope.ErrTextPrefix) && !errors.Is(err, envelope.ErrTextPayload) {
				t.Fatalf("DecodeText: error %v is none of the package's", err)
			}
			if len(out) != len(dst) {
				t.Fatal("DecodeText appended to dst on error")
			}
			if errors.Is(err, envelope.ErrTextPrefix) == envelope.LooksText(s) {
				t.Fatal("DecodeText and LooksText disagree on the prefix")
			}
			return
		}
		if !envelope.LooksText(s) {
			t.Fatal("DecodeText accepted a string without the prefix")
		}
		bin := out[len(dst):]
		if len(bin) > len(s) {
			t.Fatal("DecodeText produced more bytes than it read")
		}
		// The canonical text form of what was decoded decodes the same.
		again, err := envelope.DecodeText(nil, string(envelope.AppendText(nil, bin)))
		if err != nil || !bytes.Equal(again, bin) {
			t.Fatalf("canonical form does not round-trip: %v", err)
		}
		if env, err := envelope.Parse(bin); err == nil && len(env.Nonce) != env.Alg.NonceSize() {
			t.Fatal("Parse of decoded text split it wrongly")
		}
	})
}

// FuzzTextMatchesBase64 checks the text form against encoding/base64's
// strict unpadded base64url: the same text for any bytes, and the same
// bytes, or a failure, for any payload (line breaks, which that decoder
// skips, are rejected).
func FuzzTextMatchesBase64(f *testing.F) {
	for _, s := range []string{"", "A", "AA", "AB", "AAA", "AAB", "AAAA", "-_-_", "+/+/", "AA==", "AAAA\nAAAA", "QUJD\r", "\x00\xff", "pd1:AAAA"} {
		f.Add(s)
	}
	b64 := base64.RawURLEncoding.Strict()
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(envelope.AppendText(nil, []byte(s))), envelope.TextPrefix+b64.EncodeToString([]byte(s)); got != want {
			t.Fatalf("AppendText(%q) = %q, encoding/base64 gives %q", s, got, want)
		}
		got, err := envelope.DecodeText(nil, envelope.TextPrefix+s)
		want, werr := b64.DecodeString(s)
		if strings.ContainsAny(s, "\r\n") {
			werr = errors.New("line break")
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("DecodeText(%q): error %v, encoding/base64: %v", s, err, werr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("DecodeText(%q) = %x, encoding/base64 gives %x", s, got, want)
		}
	})
}
