package sqlstore_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/sqlstore"
)

// FuzzDecodeKeyRow feeds arbitrary stored rows to the key row decoder: it
// must never panic, and must return an active key only with bytes that
// match the row's checksum, a shredded one only without key data.
func FuzzDecodeKeyRow(f *testing.F) {
	good := pii.WrappedKey{KEKID: "kek-1", Ciphertext: bytes.Repeat([]byte{7}, 60)}
	sum := sqlstore.KeyChecksum(ref("alice", "default"), good)
	f.Add("alice", "default", int64(1), true, "kek-1", good.Ciphertext, sum, true, int64(1), false, int64(0))
	f.Add("alice", "default", int64(1), true, "kek-1", good.Ciphertext[:59], sum, true, int64(1), false, int64(0))
	f.Add("alice", "default", int64(2), false, "", []byte(nil), []byte(nil), true, int64(1), true, int64(2))
	f.Add("alice", "default", int64(2), true, "kek-1", good.Ciphertext, sum, true, int64(1), true, int64(2))
	f.Add("", "", int64(0), false, "", []byte{}, []byte{}, false, int64(0), false, int64(0))
	f.Add("bob", "fiscal", int64(-1), true, "k", []byte{1}, []byte{2}, false, int64(-1<<63), true, int64(1<<63-1))
	f.Fuzz(func(t *testing.T, subject, scope string, state int64, hasKEK bool, kek string, wrapped, checksum []byte,
		hasCreated bool, created int64, hasShredded bool, shredded int64) {
		var kp *string
		var cr, sh *int64
		if hasKEK {
			kp = &kek
		}
		if hasCreated {
			cr = &created
		}
		if hasShredded {
			sh = &shredded
		}
		k, err := sqlstore.DecodeKeyRow(subject, scope, state, kp, wrapped, checksum, cr, sh)
		if err != nil {
			if !errors.Is(err, sqlstore.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if len(wrapped) >= 8 && bytes.Contains([]byte(err.Error()), wrapped) {
				t.Fatalf("error holds the key bytes")
			}
			return
		}
		switch k.State {
		case pii.KeyActive:
			if len(k.Wrapped.Ciphertext) == 0 || k.Wrapped.KEKID == "" {
				t.Fatal("active key without key data")
			}
			if !bytes.Equal(sqlstore.KeyChecksum(k.Ref, k.Wrapped), checksum) {
				t.Fatal("active key whose checksum does not match")
			}
			if len(wrapped) > 0 {
				wrapped[0] ^= 1
				if k.Wrapped.Ciphertext[0] == wrapped[0] {
					t.Fatal("decoded key shares the scanned buffer")
				}
			}
		case pii.KeyShredded:
			if len(k.Wrapped.Ciphertext) != 0 || k.Wrapped.KEKID != "" || k.ShreddedAt.IsZero() {
				t.Fatal("shredded key with key data or without a time")
			}
		default:
			t.Fatalf("decoded state %s", k.State)
		}
	})
}
