package envelope

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"
)

func TestParseLengths(t *testing.T) {
	for _, alg := range []Algorithm{AES256GCM, XChaCha20Poly1305} {
		min := SealedLen(alg, 0)
		b := AppendHeader(nil, alg)
		b = append(b, make([]byte, min-HeaderSize)...)
		env, err := Parse(b)
		if err != nil {
			t.Fatalf("alg %d: minimal envelope: %v", alg, err)
		}
		if len(env.Nonce) != alg.NonceSize() || len(env.Ciphertext) != TagSize {
			t.Fatalf("alg %d: split %d/%d", alg, len(env.Nonce), len(env.Ciphertext))
		}
		for n := 0; n < min; n++ {
			if _, err := Parse(b[:n]); err == nil {
				t.Fatalf("alg %d: truncated to %d parsed", alg, n)
			}
		}
	}
}

func TestTextRoundTrip(t *testing.T) {
	bin := AppendHeader(nil, AES256GCM)
	bin = append(bin, bytes.Repeat([]byte{0xfe}, 40)...)
	text := AppendText(nil, bin)
	if len(text) != TextLen(len(bin)) {
		t.Fatalf("TextLen %d, got %d", TextLen(len(bin)), len(text))
	}
	back, err := DecodeText(nil, string(text))
	if err != nil || !bytes.Equal(back, bin) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := DecodeText(nil, "pd1:***"); err != ErrTextPayload {
		t.Fatalf("bad payload: %v", err)
	}
	if _, err := DecodeText(nil, "xx1:AAAA"); err != ErrTextPrefix {
		t.Fatalf("bad prefix: %v", err)
	}
}

func TestTextIsStrict(t *testing.T) {
	bin := AppendHeader(nil, AES256GCM)
	bin = append(bin, bytes.Repeat([]byte{0x01}, 29)...)
	text := string(AppendText(nil, bin))
	if _, err := DecodeText(nil, text[:10]+"\r\n"+text[10:]); err != ErrTextPayload {
		t.Fatalf("CR LF accepted: %v", err)
	}
	// Flip the unused low bits of the last character: another spelling of
	// the same bytes must be rejected.
	last := text[len(text)-1]
	alt := text[:len(text)-1] + string(rune(last+1))
	if b, err := DecodeText(nil, alt); err == nil && bytes.Equal(b, bin) {
		t.Fatal("non-canonical text accepted")
	}
}

// BenchmarkText codes the text form of a 53-byte envelope (a 21-byte
// field under AES-256-GCM) against encoding/base64 in the same loop; ratio
// is this package's time over encoding/base64's.
func BenchmarkText(b *testing.B) {
	bin := AppendHeader(nil, AES256GCM)
	bin = append(bin, bytes.Repeat([]byte{0xa5, 0x3c, 0x0f, 0x96}, 13)[:49]...)
	text := string(AppendText(nil, bin))
	std := base64.RawURLEncoding.Strict()
	buf := make([]byte, 0, 128)
	b.Run("encode", func(b *testing.B) {
		var ours, theirs time.Duration
		for b.Loop() {
			t0 := time.Now()
			for range 16 {
				buf = AppendText(buf[:0], bin)
			}
			t1 := time.Now()
			for range 16 {
				buf = std.AppendEncode(append(buf[:0], TextPrefix...), bin)
			}
			t2 := time.Now()
			ours, theirs = ours+t1.Sub(t0), theirs+t2.Sub(t1)
		}
		b.ReportMetric(float64(ours)/float64(theirs), "ratio")
	})
	b.Run("decode", func(b *testing.B) {
		var ours, theirs time.Duration
		for b.Loop() {
			t0 := time.Now()
			for range 16 {
				buf, _ = DecodeText(buf[:0], text)
			}
			t1 := time.Now()
			for range 16 {
				buf, _ = std.AppendDecode(buf[:0], []byte(text[len(TextPrefix):]))
			}
			t2 := time.Now()
			ours, theirs = ours+t1.Sub(t0), theirs+t2.Sub(t1)
		}
		b.ReportMetric(float64(ours)/float64(theirs), "ratio")
	})
}

// AppendText writes over its input in place when the input ends where the
// text does, or further on.
func TestAppendTextInPlace(t *testing.T) {
	for n := range 80 {
		bin := make([]byte, n)
		for i := range bin {
			bin[i] = byte(i*37 + n)
		}
		want := AppendText(nil, bin)
		for extra := range 4 {
			buf := make([]byte, len(want)+extra)
			start := len(buf) - n
			copy(buf[start:], bin)
			got := AppendText(buf[:0], buf[start:])
			if !bytes.Equal(got, want) {
				t.Fatalf("n %d, %d bytes after the text: %q, want %q", n, extra, got, want)
			}
			if &got[0] != &buf[0] {
				t.Fatalf("n %d: text not written in place", n)
			}
		}
	}
}
