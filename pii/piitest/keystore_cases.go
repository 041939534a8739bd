package piitest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
)

func testGetKeysNoRefs(t *testing.T, s pii.KeyStore) {
	create(t, s, def("someone"), newWrapped(kekID), t0)
	for _, refs := range [][]pii.KeyRef{nil, {}} {
		got, err := s.GetKeys(t.Context(), refs)
		noError(t, err, "GetKeys with no refs")
		empty(t, got, "GetKeys with no refs")
	}
}

func testGetKeysMissing(t *testing.T, s pii.KeyStore) {
	refs := []pii.KeyRef{def("nobody"), ref("nobody", fiscal), def("nobody-else")}
	for i, k := range getKeys(t, s, refs...) {
		requireMissing(t, k, refs[i])
	}
	// A key of one subject or scope says nothing about another.
	create(t, s, def("somebody"), newWrapped(kekID), t0)
	requireMissing(t, getKey(t, s, ref("somebody", fiscal)), ref("somebody", fiscal))
	requireMissing(t, getKey(t, s, def("somebody-else")), def("somebody-else"))
}

func testGetKeysOrder(t *testing.T, s pii.KeyStore) {
	a, b, c, m := def("a"), ref("b", fiscal), def("c"), def("missing")
	ka, kb := newWrapped(kekID), newWrapped(kekID)
	create(t, s, a, ka, t0)
	create(t, s, b, kb, t0)
	create(t, s, c, newWrapped(kekID), t0)
	shred(t, s, "c", t0.Add(time.Hour), c.Scope)
	got := getKeys(t, s, b, m, a, c, b, a, m)
	requireActive(t, got[0], b, kb, t0)
	requireMissing(t, got[1], m)
	requireActive(t, got[2], a, ka, t0)
	requireShredded(t, got[3], c, t0.Add(time.Hour))
	requireActive(t, got[4], b, kb, t0)
	requireActive(t, got[5], a, ka, t0)
	requireMissing(t, got[6], m)
}

func testCreateNew(t *testing.T, s pii.KeyStore) {
	r := def("subject-1")
	key := newWrapped(kekID)
	// A now in another location: stores may keep times in UTC.
	now := t0.In(time.FixedZone("UTC+1", 3600))
	requireActive(t, create(t, s, r, key, now), r, key, t0)
	requireActive(t, getKey(t, s, r), r, key, t0)
}

func testCreateIfAbsent(t *testing.T, s pii.KeyStore) {
	r := ref("subject-1", fiscal)
	first := newWrapped(kekID)
	create(t, s, r, first, t0)
	for i, other := range []pii.WrappedKey{newWrapped(kekID), newWrapped(kekID2), first} {
		got := create(t, s, r, other, t0.Add(time.Duration(i+1)*time.Hour))
		requireActive(t, got, r, first, t0) // the first key, unchanged
	}
	requireActive(t, getKey(t, s, r), r, first, t0)
}

func testCreateShredded(t *testing.T, s pii.KeyStore) {
	shredded, tomb := def("gone"), ref("gone", fiscal)
	create(t, s, shredded, newWrapped(kekID), t0)
	shred(t, s, "gone", t0.Add(time.Hour), shredded.Scope, tomb.Scope)
	for _, r := range []pii.KeyRef{shredded, tomb} {
		_, err := s.CreateKey(t.Context(), r, newWrapped(kekID), t0.Add(2*time.Hour))
		errorIs(t, err, pii.ErrForgotten, "CreateKey on shredded %v", r)
		requireShredded(t, getKey(t, s, r), r, t0.Add(time.Hour))
	}
}

func testCreateIndependent(t *testing.T, s pii.KeyStore) {
	refs := []pii.KeyRef{def("s1"), ref("s1", fiscal), def("s2"), ref("s2", "marketing")}
	keys := make([]pii.WrappedKey, len(refs))
	for i, r := range refs {
		keys[i] = newWrapped(kekID)
		requireActive(t, create(t, s, r, keys[i], t0), r, keys[i], t0)
	}
	for i, k := range getKeys(t, s, refs...) {
		requireActive(t, k, refs[i], keys[i], t0)
	}
}

func testShredScopes(t *testing.T, s pii.KeyStore) {
	d, f, m := def("subject-1"), ref("subject-1", fiscal), ref("subject-1", "marketing")
	kf := newWrapped(kekID)
	create(t, s, d, newWrapped(kekID), t0)
	create(t, s, f, kf, t0)
	create(t, s, m, newWrapped(kekID), t0)
	other := def("subject-2")
	ko := newWrapped(kekID)
	create(t, s, other, ko, t0)
	// Duplicate scopes happen: ForgetScopes(ctx, id, "", "default") names one twice.
	at := t0.Add(time.Hour)
	shred(t, s, "subject-1", at, m.Scope, d.Scope, m.Scope)
	got := getKeys(t, s, d, f, m, other)
	requireShredded(t, got[0], d, at)
	requireActive(t, got[1], f, kf, t0)
	requireShredded(t, got[2], m, at)
	requireActive(t, got[3], other, ko, t0)
	keys := allKeys(t, s)
	hasLen(t, keys, 2, "Keys after shredding")
	contains(t, keys, f)
	contains(t, keys, other)
}

func testShredNeverCreated(t *testing.T, s pii.KeyStore) {
	r := ref("subject-1", fiscal)
	shred(t, s, "subject-1", t0, r.Scope)
	requireShredded(t, getKey(t, s, r), r, t0)
	_, err := s.CreateKey(t.Context(), r, newWrapped(kekID), t0.Add(time.Hour))
	errorIs(t, err, pii.ErrForgotten, "CreateKey on a tombstone")
	requireShredded(t, getKey(t, s, r), r, t0)
	empty(t, allKeys(t, s), "Keys must not yield tombstones")
	// A never-created subject too.
	n := def("never-seen")
	shred(t, s, "never-seen", t0, n.Scope)
	requireShredded(t, getKey(t, s, n), n, t0)
}

func testShredEmptyScopes(t *testing.T, s pii.KeyStore) {
	d := def("subject-1")
	k := newWrapped(kekID)
	create(t, s, d, k, t0)
	for _, scopes := range [][]personaldata.Scope{nil, {}} {
		err := s.ShredKeys(t.Context(), d.Subject, scopes, t0.Add(time.Hour))
		errorIs(t, err, pii.ErrNoScope, "ShredKeys with no scope must fail, not shred every scope")
	}
	requireActive(t, getKey(t, s, d), d, k, t0)
	_, err := s.CreateKey(t.Context(), ref("subject-1", fiscal), newWrapped(kekID), t0)
	noError(t, err, "CreateKey after a rejected ShredKeys")
}

func testShredSubjectEveryScope(t *testing.T, s pii.KeyStore) {
	// Subjects a store might confuse with "user-1": by prefix, case,
	// trailing space or a LIKE wildcard.
	others := []string{"user-10", "User-1", "user-1 ", " user-1", "user-%", "user-_", "user-2"}
	okeys := map[pii.KeyRef]pii.WrappedKey{}
	for _, o := range others {
		for _, sc := range []personaldata.Scope{personaldata.DefaultScope, fiscal} {
			k := newWrapped(kekID)
			create(t, s, ref(o, sc), k, t0)
			okeys[ref(o, sc)] = k
		}
	}
	scopes := []personaldata.Scope{personaldata.DefaultScope, fiscal, "marketing", "x.y-z_0"}
	for _, sc := range scopes {
		create(t, s, ref("user-1", sc), newWrapped(kekID), t0)
	}
	legacy := ref("user-1", "legacy")
	shred(t, s, "user-1", t0.Add(time.Minute), legacy.Scope)

	at := t0.Add(time.Hour)
	shredSubject(t, s, "user-1", at)
	for _, sc := range scopes {
		requireShredded(t, getKey(t, s, ref("user-1", sc)), ref("user-1", sc), at)
	}
	requireShredded(t, getKey(t, s, legacy), legacy, t0.Add(time.Minute))
	for r, k := range okeys {
		requireActive(t, getKey(t, s, r), r, k, t0)
	}
	hasLen(t, allKeys(t, s), len(okeys), "Keys after shredding a subject")
}

func testShredSubjectNewScopes(t *testing.T, s pii.KeyStore) {
	create(t, s, def("user-1"), newWrapped(kekID), t0)
	at := t0.Add(time.Hour)
	shredSubject(t, s, "user-1", at)
	// Scopes the store never held for the subject are shredded too, and
	// never get a key.
	for _, sc := range []personaldata.Scope{fiscal, "marketing", "never-used"} {
		r := ref("user-1", sc)
		requireShredded(t, getKey(t, s, r), r, at)
		_, err := s.CreateKey(t.Context(), r, newWrapped(kekID), at.Add(time.Hour))
		errorIs(t, err, pii.ErrForgotten, "CreateKey of a new scope of a shredded subject")
		requireShredded(t, getKey(t, s, r), r, at)
	}
	empty(t, allKeys(t, s), "Keys must not yield tombstones")
	// A subject the store never saw.
	shredSubject(t, s, "unknown", t0)
	r := ref("unknown", fiscal)
	requireShredded(t, getKey(t, s, r), r, t0)
	_, err := s.CreateKey(t.Context(), r, newWrapped(kekID), t0)
	errorIs(t, err, pii.ErrForgotten, "CreateKey for a subject shredded before its first key")
}

func testShredSubjectIdempotent(t *testing.T, s pii.KeyStore) {
	d, f := def("subject-1"), ref("subject-1", fiscal)
	create(t, s, d, newWrapped(kekID), t0)
	first := t0.Add(time.Hour)
	shredSubject(t, s, "subject-1", first)
	shredSubject(t, s, "subject-1", first.Add(time.Hour))
	shred(t, s, "subject-1", first.Add(2*time.Hour), d.Scope, f.Scope)
	for _, r := range []pii.KeyRef{d, f, ref("subject-1", "other")} {
		requireShredded(t, getKey(t, s, r), r, first)
	}
}

func testShredIdempotent(t *testing.T, s pii.KeyStore) {
	d, f := def("subject-1"), ref("subject-1", fiscal)
	create(t, s, d, newWrapped(kekID), t0)
	first := t0.Add(time.Hour)
	shred(t, s, "subject-1", first, d.Scope, f.Scope)
	shred(t, s, "subject-1", first.Add(time.Hour), d.Scope, f.Scope)
	shredSubject(t, s, "subject-1", first.Add(2*time.Hour))
	for _, r := range []pii.KeyRef{d, f} {
		requireShredded(t, getKey(t, s, r), r, first)
	}
}

func testReplaceSwap(t *testing.T, s pii.KeyStore) {
	r := ref("subject-1", fiscal)
	old, nw := newWrapped(kekID), newWrapped(kekID2)
	create(t, s, r, old, t0)
	neighbour := newWrapped(kekID)
	create(t, s, def("subject-1"), neighbour, t0)
	noError(t, s.ReplaceKey(t.Context(), r, old, nw), "ReplaceKey")
	requireActive(t, getKey(t, s, r), r, nw, t0) // CreatedAt unchanged
	requireActive(t, getKey(t, s, def("subject-1")), def("subject-1"), neighbour, t0)
	keys := allKeys(t, s)
	contains(t, keys, r)
	requireSameKey(t, nw, keys[r].Wrapped, "Keys after ReplaceKey")
	// And back again: the key is compared, not a version counter.
	noError(t, s.ReplaceKey(t.Context(), r, nw, old), "ReplaceKey back")
	requireActive(t, getKey(t, s, r), r, old, t0)
}

func testReplaceStale(t *testing.T, s pii.KeyStore) {
	r := def("subject-1")
	cur := newWrapped(kekID)
	create(t, s, r, cur, t0)
	otherBytes := newWrapped(kekID)
	otherKEK := pii.WrappedKey{KEKID: kekID2, Ciphertext: bytes.Clone(cur.Ciphertext)}
	shorter := pii.WrappedKey{KEKID: kekID, Ciphertext: cur.Ciphertext[:len(cur.Ciphertext)-1]}
	for name, stale := range map[string]pii.WrappedKey{"other bytes": otherBytes, "other KEK": otherKEK, "prefix": shorter, "empty": {}} {
		err := s.ReplaceKey(t.Context(), r, stale, newWrapped(kekID2))
		errorIs(t, err, pii.ErrKeyChanged, "ReplaceKey with a stale old key (%s)", name)
		requireActive(t, getKey(t, s, r), r, cur, t0)
	}
	// Two rotations racing from the same old key: the second loses.
	a, b := newWrapped(kekID2), newWrapped(kekID2)
	noError(t, s.ReplaceKey(t.Context(), r, cur, a))
	errorIs(t, s.ReplaceKey(t.Context(), r, cur, b), pii.ErrKeyChanged, "second ReplaceKey from the same old key")
	requireActive(t, getKey(t, s, r), r, a, t0)
}

func testReplaceMissing(t *testing.T, s pii.KeyStore) {
	r := def("nobody")
	err := s.ReplaceKey(t.Context(), r, newWrapped(kekID), newWrapped(kekID2))
	errorIs(t, err, pii.ErrKeyNotFound, "ReplaceKey of a missing key")
	requireMissing(t, getKey(t, s, r), r)
}

func testReplaceShredded(t *testing.T, s pii.KeyStore) {
	r, tomb := def("gone"), ref("gone", fiscal)
	old := newWrapped(kekID)
	create(t, s, r, old, t0)
	shred(t, s, "gone", t0.Add(time.Hour), r.Scope, tomb.Scope)
	err := s.ReplaceKey(t.Context(), r, old, newWrapped(kekID2))
	errorIs(t, err, pii.ErrKeyChanged, "ReplaceKey of a shredded key")
	requireShredded(t, getKey(t, s, r), r, t0.Add(time.Hour))
	err = s.ReplaceKey(t.Context(), tomb, pii.WrappedKey{}, newWrapped(kekID2))
	errorIs(t, err, pii.ErrKeyChanged, "ReplaceKey of a tombstone")
	requireShredded(t, getKey(t, s, tomb), tomb, t0.Add(time.Hour))
}

func testKeysEmpty(t *testing.T, s pii.KeyStore) {
	empty(t, allKeys(t, s))
	shred(t, s, "tombstone-only", t0, personaldata.DefaultScope)
	empty(t, allKeys(t, s), "Keys must not yield tombstones")
}

func testKeysActiveOnly(t *testing.T, s pii.KeyStore) {
	want := map[pii.KeyRef]pii.WrappedKey{}
	for i := range 20 {
		for _, sc := range []personaldata.Scope{personaldata.DefaultScope, fiscal} {
			r := ref(fmt.Sprintf("subject-%02d", i), sc)
			k := newWrapped(kekID)
			create(t, s, r, k, t0)
			want[r] = k
		}
	}
	for i := range 20 {
		if i%3 == 0 {
			subject := fmt.Sprintf("subject-%02d", i)
			shredSubject(t, s, subject, t0.Add(time.Hour))
			delete(want, def(subject))
			delete(want, ref(subject, fiscal))
		}
	}
	shred(t, s, "subject-01", t0.Add(time.Hour), fiscal)
	delete(want, ref("subject-01", fiscal))
	got := allKeys(t, s)
	hasLen(t, got, len(want), "Keys must yield every active key and nothing else")
	for r, k := range want {
		contains(t, got, r)
		requireActive(t, got[r], r, k, t0)
	}
}

func testKeysStopEarly(t *testing.T, s pii.KeyStore) {
	for i := range 10 {
		create(t, s, def(fmt.Sprintf("subject-%d", i)), newWrapped(kekID), t0)
	}
	n := 0
	for _, err := range s.Keys(t.Context()) {
		noError(t, err)
		n++
		if n == 3 {
			break
		}
	}
	equal(t, 3, n)
	// The store still works after an abandoned iteration.
	hasLen(t, allKeys(t, s), 10)
	create(t, s, def("after"), newWrapped(kekID), t0)
}

func testCopies(t *testing.T, s pii.KeyStore) {
	r := def("subject-1")
	key := newWrapped(kekID)
	want := cloneWrapped(key)
	got := create(t, s, r, key, t0)
	// The caller reuses its buffer, and scribbles on what it got back.
	clear(key.Ciphertext)
	clear(got.Wrapped.Ciphertext)
	requireActive(t, getKey(t, s, r), r, want, t0)

	k := getKey(t, s, r)
	clear(k.Wrapped.Ciphertext)
	again := create(t, s, r, newWrapped(kekID), t0)
	clear(again.Wrapped.Ciphertext)
	for k := range s.Keys(t.Context()) {
		clear(k.Wrapped.Ciphertext)
	}
	requireActive(t, getKey(t, s, r), r, want, t0)

	nw := newWrapped(kekID2)
	wantNew := cloneWrapped(nw)
	noError(t, s.ReplaceKey(t.Context(), r, want, nw))
	clear(nw.Ciphertext)
	requireActive(t, getKey(t, s, r), r, wantNew, t0)
}

func testSubjectIDs(t *testing.T, s pii.KeyStore) {
	long := strings.Repeat("é", 127) + "x" // 255 bytes of UTF-8
	hasLen(t, long, personaldata.MaxSubjectIDLen)
	subjects := []string{
		"Zoë Ñúñez 北京 🙂",
		long,
		long[:252] + "xyz", // differs from long in its last bytes only
		"o'brien\"; DROP TABLE keys; --",
		`back\slash`,
		"100%", "1000",
		"a_c", "abc",
		"alice", "Alice", "ALICE", "alice ", "alice  ",
		"\u00e9", "e\u0301", // é composed and decomposed: different subjects
		"0", "00", "1",
	}
	scopes := []personaldata.Scope{personaldata.DefaultScope, fiscal, personaldata.Scope("s" + strings.Repeat("0.-_z", 12) + "abc")}
	noError(t, scopes[2].Validate())
	want := map[pii.KeyRef]pii.WrappedKey{}
	var refs []pii.KeyRef
	for _, sub := range subjects {
		noError(t, personaldata.SubjectID(sub).Validate(), "subject %q", sub)
		for _, sc := range scopes {
			r := ref(sub, sc)
			k := newWrapped(kekID)
			requireActive(t, create(t, s, r, k, t0), r, k, t0)
			want[r] = k
			refs = append(refs, r)
		}
	}
	for i, k := range getKeys(t, s, refs...) {
		requireActive(t, k, refs[i], want[refs[i]], t0)
	}
	got := allKeys(t, s)
	hasLen(t, got, len(want))
	for r, k := range want {
		contains(t, got, r, "Keys must yield %q scope %s exactly as stored", r.Subject, r.Scope)
		requireSameKey(t, k, got[r].Wrapped, fmt.Sprintf("Keys: %q", r.Subject))
	}
	// Shredding each of them leaves the others alone.
	for i, sub := range subjects {
		shredSubject(t, s, sub, t0.Add(time.Hour))
		for j, other := range subjects {
			for _, sc := range scopes {
				r := ref(other, sc)
				if j <= i {
					requireShredded(t, getKey(t, s, r), r, t0.Add(time.Hour))
				} else {
					requireActive(t, getKey(t, s, r), r, want[r], t0)
				}
			}
		}
	}
}

func testCanceled(t *testing.T, s pii.KeyStore) {
	r := def("subject-1")
	key := newWrapped(kekID)
	create(t, s, r, key, t0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := s.GetKeys(ctx, []pii.KeyRef{r})
	errorIs(t, err, context.Canceled, "GetKeys with a canceled context")

	n := def("subject-2")
	_, err = s.CreateKey(ctx, n, newWrapped(kekID), t0)
	errorIs(t, err, context.Canceled, "CreateKey with a canceled context")
	requireMissing(t, getKey(t, s, n), n)

	err = s.ShredKeys(ctx, r.Subject, []personaldata.Scope{r.Scope}, t0)
	errorIs(t, err, context.Canceled, "ShredKeys with a canceled context")
	err = s.ShredSubject(ctx, r.Subject, t0)
	errorIs(t, err, context.Canceled, "ShredSubject with a canceled context")
	requireActive(t, getKey(t, s, r), r, key, t0)

	err = s.ReplaceKey(ctx, r, key, newWrapped(kekID2))
	errorIs(t, err, context.Canceled, "ReplaceKey with a canceled context")
	requireActive(t, getKey(t, s, r), r, key, t0)

	var errs []error
	for k, err := range s.Keys(ctx) {
		if err == nil {
			t.Fatalf("Keys with a canceled context yielded %v", k.Ref)
		}
		errs = append(errs, err)
		break
	}
	hasLen(t, errs, 1, "Keys with a canceled context must yield an error")
	errorIs(t, errs[0], context.Canceled, "Keys with a canceled context")
}
