package sqlstore_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/personaldata/personaldata/sqlstore"
)

// FuzzDecodeErasureRequestRow feeds arbitrary stored request rows to the
// decoder: it must never panic, must report a bad row as ErrCorrupt, and a
// row it accepts must encode and decode again to the same request.
func FuzzDecodeErasureRequestRow(f *testing.F) {
	r := randomRequest(rand.New(rand.NewPCG(2, 10)), 7)
	body, err := sqlstore.EncodeRequestBody(r)
	if err != nil {
		f.Fatal(err)
	}
	id := r.ID.String()
	f.Add(id, "subject-1", int64(3), int64(4), true, int64(1), true, int64(2), int64(1), body)
	f.Add(id, "subject-1", int64(3), int64(4), false, int64(0), false, int64(0), int64(7), body[:len(body)/2])
	f.Add(id, "", int64(0), int64(0), false, int64(0), false, int64(0), int64(0), []byte{})
	f.Add("not a ulid", "s", int64(1), int64(1), false, int64(0), false, int64(0), int64(1), []byte(`{"v":1,"id":"not a ulid"}`))
	f.Fuzz(func(t *testing.T, id, subject string, kind, state int64, hasNext bool, next int64, hasUpdated bool, updated int64, version int64, body []byte) {
		var np, up *int64
		if hasNext {
			np = &next
		}
		if hasUpdated {
			up = &updated
		}
		got, err := sqlstore.DecodeRequestRow(id, subject, kind, state, np, up, version, body)
		if err != nil {
			if !errors.Is(err, sqlstore.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := sqlstore.EncodeRequestBody(got)
		if err != nil {
			t.Fatalf("a decoded request does not encode: %v", err)
		}
		back, err := sqlstore.DecodeRequestRow(id, subject, kind, state, np, up, version, again)
		if err != nil {
			t.Fatalf("a re-encoded request does not decode: %v", err)
		}
		if d := cmp.Diff(got, back, reqCmp); d != "" {
			t.Fatalf("decode, encode, decode changed the request (-first +second):\n%s", d)
		}
	})
}
