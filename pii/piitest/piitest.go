// Package piitest holds the conformance suite that every implementation of
// [pii.KeyStore] runs, and assertions for a host's own tests of code that
// stores personal data.
//
// # Conformance suite
//
// A key store (the in-memory one, an SQL dialect, a store on a KMS) calls
// [RunConformanceTests] from one of its tests, with a function that returns
// a fresh, empty store and registers its cleanup with t.Cleanup:
//
//	func TestKeyStoreConformance(t *testing.T) {
//		piitest.RunConformanceTests(t, func(t *testing.T) pii.KeyStore {
//			db := openTestDB(t) // an empty schema of its own, dropped by t.Cleanup
//			return sqlstore.NewKeyStore(db)
//		})
//	}
//
// The suite runs one subtest per clause of the KeyStore contract, each on a
// store of its own: look-ups, create-if-absent, tombstones, shredding one
// subject without touching another, compare-and-swap replacement, copies of
// key bytes, subject IDs a database might mangle (case, trailing spaces,
// LIKE wildcards, 255-byte UTF-8), context cancellation, concurrent use
// (run it with go test -race) and an end-to-end run of a [pii.Protector]
// over the store. Subtests do not run in parallel, so newStore may reuse one
// database as long as each store it returns starts empty.
//
// # Assertions
//
// [AssertProtected] checks that a value is encrypted before it is written
// out; [AssertErased] checks that a subject's data is gone after
// [pii.Protector.Forget]. Both report field paths, never field contents.
package piitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii/internal/envelope"
	"github.com/personaldata/personaldata/pii"
)

// AssertProtected reports a test failure unless every non-empty personal
// data field reachable from v (a struct, or a pointer, slice, array or map
// leading to structs) holds a ciphertext: string fields a text envelope
// ("pd1:..."), []byte fields a binary envelope, [pii.Sealed] fields a sealed
// (or erased) value. Empty strings, empty byte slices and nil pointers count
// as protected, as [pii.Protector.Protect] leaves them as they are. A type
// with invalid pii tags, or with no personal data fields at all, fails too.
//
// The failure lists field paths in the form of [pii.FieldError]
// ("Contacts[2].Email"; "[*]" for a map element), never their contents.
func AssertProtected(t testing.TB, v any) {
	t.Helper()
	if err := checkType(v); err != nil {
		t.Errorf("piitest: AssertProtected: %v", err)
		return
	}
	var bad []string
	walk(v, func(path string, f reflect.Value) { plaintextPaths(f, path, &bad) })
	if len(bad) > 0 {
		t.Errorf("piitest: %d personal data field(s) of %T hold no ciphertext: %s", len(bad), v, strings.Join(bad, ", "))
	}
}

// AssertErased reveals v in place with p and reports a test failure unless
// every personal data field of v that held a ciphertext was reported erased:
// Reveal must return a [*pii.RevealError] whose [pii.RevealError.OnlyErased]
// is true and which names each of those fields. Call it after
// [pii.Protector.Forget] on a value loaded from storage (or a copy of one
// protected earlier). A value holding no ciphertext fails, as it proves
// nothing.
//
// The failure lists the fields that were revealed or failed otherwise, by
// path and error, never their contents. Afterwards v holds what Reveal left
// in it: erased fields hold their replacement.
func AssertErased(t testing.TB, p *pii.Protector, v any) {
	t.Helper()
	if err := checkType(v); err != nil {
		t.Errorf("piitest: AssertErased: %v", err)
		return
	}
	if k := reflect.ValueOf(v).Kind(); k != reflect.Pointer && k != reflect.Slice && k != reflect.Map {
		t.Errorf("piitest: AssertErased: %T: want a pointer, slice or map, as Reveal works in place", v)
		return
	}
	want := map[string]int{} // path -> fields there holding a ciphertext
	n := 0
	walk(v, func(path string, f reflect.Value) {
		for _, p := range ciphertextPaths(f, path) {
			want[p]++
			n++
		}
	})
	if n == 0 {
		t.Errorf("piitest: AssertErased: %T holds no ciphertext; protect it before forgetting its subject", v)
		return
	}
	err := p.Reveal(context.Background(), v)
	var re *pii.RevealError
	if err != nil && !errors.As(err, &re) {
		t.Errorf("piitest: AssertErased: Reveal %T: %v", v, err)
		return
	}
	var problems []string
	if re != nil {
		for _, f := range re.Fields {
			if want[f.Path] > 0 {
				want[f.Path]--
			}
			if !errors.Is(f.Err, pii.ErrErased) {
				problems = append(problems, fmt.Sprintf("%s: %v", f.Path, f.Err))
			}
		}
	}
	for _, path := range slices.Sorted(maps.Keys(want)) {
		for range want[path] {
			problems = append(problems, path+": revealed (its key was not shredded)")
		}
	}
	if len(problems) > 0 {
		t.Errorf("piitest: %d of %d encrypted field(s) of %T not erased:\n\t%s", len(problems), n, v, strings.Join(problems, "\n\t"))
	}
}

// checkType validates v's tags and that it has personal data at all.
func checkType(v any) error {
	if v == nil {
		return errors.New("nil value")
	}
	fields, err := pii.Fields(v)
	if err != nil {
		return err
	}
	if len(fields) == 0 {
		return fmt.Errorf("%T has no personal data fields (no pii category tags)", v)
	}
	return nil
}

type sealer interface {
	IsSealed() bool
	IsErased() bool
}

var sealerType = reflect.TypeFor[sealer]()

func isSealedType(t reflect.Type) bool { return reflect.PointerTo(t).Implements(sealerType) }

func isText(s string) bool {
	bin, err := envelope.DecodeText(nil, s)
	if err != nil {
		return false
	}
	_, err = envelope.Parse(bin)
	return err == nil
}

func isBinary(b []byte) bool {
	_, err := envelope.Parse(b)
	return err == nil
}

// plaintextPaths appends to bad the paths under f (a tagged field) that
// hold plaintext.
func plaintextPaths(f reflect.Value, path string, bad *[]string) {
	t := f.Type()
	switch {
	case isSealedType(t):
		s := f.Addr().Interface().(sealer)
		if !s.IsSealed() && !s.IsErased() {
			*bad = append(*bad, path)
		}
	case t.Kind() == reflect.String:
		if s := f.String(); s != "" && !isText(s) {
			*bad = append(*bad, path)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		if b := f.Bytes(); len(b) > 0 && !isBinary(b) {
			*bad = append(*bad, path)
		}
	case t.Kind() == reflect.Pointer:
		if !f.IsNil() {
			plaintextPaths(f.Elem(), path, bad)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		for i := range f.Len() {
			plaintextPaths(f.Index(i), path+"["+strconv.Itoa(i)+"]", bad)
		}
	}
}

// ciphertextPaths returns the paths under f (a tagged field) that hold a
// ciphertext, as Reveal names them in a FieldError.
func ciphertextPaths(f reflect.Value, path string) []string {
	t := f.Type()
	switch {
	case isSealedType(t):
		if f.Addr().Interface().(sealer).IsSealed() {
			return []string{path}
		}
	case t.Kind() == reflect.String:
		if isText(f.String()) {
			return []string{path}
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		if isBinary(f.Bytes()) {
			return []string{path}
		}
	case t.Kind() == reflect.Pointer:
		if !f.IsNil() {
			return ciphertextPaths(f.Elem(), path)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		var out []string
		for i := range f.Len() {
			out = append(out, ciphertextPaths(f.Index(i), path+"["+strconv.Itoa(i)+"]")...)
		}
		return out
	}
	return nil
}

// walk calls fn for every field tagged with a pii category reachable from
// v, the way Protect and Reveal reach them, with the field's path. Every
// field passed to fn is addressable (map elements are copies).
func walk(v any, fn func(path string, f reflect.Value)) {
	rv := reflect.ValueOf(v)
	if !rv.CanAddr() && rv.Kind() != reflect.Pointer {
		c := reflect.New(rv.Type()).Elem()
		c.Set(rv)
		rv = c
	}
	w := walker{fn: fn, seen: map[visit]bool{}, pii: map[reflect.Type]bool{}}
	w.value("", rv)
}

type visit struct {
	ptr uintptr
	typ reflect.Type
}

type walker struct {
	fn   func(string, reflect.Value)
	seen map[visit]bool        // pointers followed, so a cyclic value ends
	pii  map[reflect.Type]bool // types known to lead to personal data
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (w *walker) value(path string, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		k := visit{v.Pointer(), v.Type()}
		if w.seen[k] {
			return
		}
		w.seen[k] = true
		w.value(path, v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			w.value(path+"["+strconv.Itoa(i)+"]", v.Index(i))
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			c := reflect.New(v.Type().Elem()).Elem()
			c.Set(it.Value())
			w.value(path+"[*]", c)
		}
	case reflect.Struct:
		w.structValue(path, v)
	}
}

func (w *walker) structValue(path string, v reflect.Value) {
	for _, sf := range reflect.VisibleFields(v.Type()) {
		if sf.Anonymous {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				continue // its fields are visible themselves
			}
		}
		f, err := v.FieldByIndexErr(sf.Index)
		if err != nil {
			continue // promoted through a nil embedded pointer
		}
		raw, tagged := sf.Tag.Lookup("pii")
		if !tagged {
			if sf.IsExported() && w.leadsToPII(sf.Type) {
				w.value(join(path, sf.Name), f)
			}
			continue
		}
		if !sf.IsExported() || raw == "-" || raw == "subject" {
			continue
		}
		w.fn(join(path, sf.Name), f)
	}
}

// leadsToPII reports whether values of t may hold tagged fields, following
// the types Protect follows.
func (w *walker) leadsToPII(t reflect.Type) bool {
	has, ok := w.pii[t]
	if !ok {
		has = typeHasPII(t, map[reflect.Type]bool{})
		w.pii[t] = has
	}
	return has
}

func typeHasPII(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		if t.Elem().Kind() == reflect.Uint8 {
			return false
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || isSealedType(t) {
		return false
	}
	seen[t] = true
	for _, sf := range reflect.VisibleFields(t) {
		if raw, ok := sf.Tag.Lookup("pii"); ok {
			if raw != "-" && raw != "subject" {
				return true
			}
			continue
		}
		if (sf.IsExported() || sf.Anonymous) && typeHasPII(sf.Type, seen) {
			return true
		}
	}
	return false
}

// RunConformanceTests checks that the stores newStore returns keep the
// [pii.KeyStore] contract. newStore is called once per subtest, with that
// subtest's t, and must return an empty store; it registers any cleanup
// with t.Cleanup. Run the suite with -race: several subtests use the store
// from many goroutines at once.
func RunConformanceTests(t *testing.T, newStore func(t *testing.T) pii.KeyStore) {
	t.Helper()
	for _, c := range conformance {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			c.fn(t, s)
		})
	}
}

var conformance = []struct {
	name string
	fn   func(*testing.T, pii.KeyStore)
}{
	{"GetKeys/NoRefs", testGetKeysNoRefs},
	{"GetKeys/Missing", testGetKeysMissing},
	{"GetKeys/OrderAndDuplicates", testGetKeysOrder},
	{"CreateKey/New", testCreateNew},
	{"CreateKey/IfAbsent", testCreateIfAbsent},
	{"CreateKey/Shredded", testCreateShredded},
	{"CreateKey/RefsIndependent", testCreateIndependent},
	{"ShredKeys/Scopes", testShredScopes},
	{"ShredKeys/NeverCreatedScope", testShredNeverCreated},
	{"ShredKeys/AllScopes", testShredAllScopes},
	{"ShredKeys/AllScopesUnknownSubject", testShredUnknownSubject},
	{"ShredKeys/Idempotent", testShredIdempotent},
	{"ReplaceKey/Swap", testReplaceSwap},
	{"ReplaceKey/Stale", testReplaceStale},
	{"ReplaceKey/Missing", testReplaceMissing},
	{"ReplaceKey/Shredded", testReplaceShredded},
	{"Keys/Empty", testKeysEmpty},
	{"Keys/ActiveOnly", testKeysActiveOnly},
	{"Keys/StopEarly", testKeysStopEarly},
	{"Copies", testCopies},
	{"SubjectIDs", testSubjectIDs},
	{"Canceled", testCanceled},
	{"Concurrent/CreateSameRef", testConcurrentCreate},
	{"Concurrent/CreateVersusShred", testConcurrentCreateShred},
	{"Concurrent/Mixed", testConcurrentMixed},
	{"Protector/RoundTrip", testProtectorRoundTrip},
	{"Protector/ConcurrentFirstUse", testProtectorFirstUse},
	{"Protector/Forget", testProtectorForget},
	{"Protector/ForgetScope", testProtectorForgetScope},
	{"Protector/Rewrap", testProtectorRewrap},
}

const (
	kekID  = "piitest-kek"
	kekID2 = "piitest-kek-2"
	fiscal = personaldata.Scope("fiscal")
)

// t0 is the time the suite passes as now; later times are offsets from it.
// Stores may round it (to microseconds, say) and keep it in any location.
var t0 = time.Date(2026, time.March, 14, 15, 9, 26, 535897932, time.UTC)

func ref(subject string, scope personaldata.Scope) pii.KeyRef {
	return pii.KeyRef{Subject: personaldata.SubjectID(subject), Scope: scope}
}

func def(subject string) pii.KeyRef { return ref(subject, personaldata.DefaultScope) }

// newWrapped returns a random stand-in for a wrapped key: opaque to stores.
func newWrapped(kek string) pii.WrappedKey {
	b := make([]byte, 60)
	_, _ = rand.Read(b)
	return pii.WrappedKey{KEKID: kek, Ciphertext: b}
}

func cloneWrapped(k pii.WrappedKey) pii.WrappedKey {
	return pii.WrappedKey{KEKID: k.KEKID, Ciphertext: bytes.Clone(k.Ciphertext)}
}

func getKeys(t *testing.T, s pii.KeyStore, refs ...pii.KeyRef) []pii.StoredKey {
	t.Helper()
	got, err := s.GetKeys(t.Context(), refs)
	require.NoError(t, err, "GetKeys")
	require.Len(t, got, len(refs), "GetKeys must return one StoredKey per ref")
	for i, r := range refs {
		require.Equal(t, r, got[i].Ref, "GetKeys result %d must name refs[%d]", i, i)
	}
	return got
}

func getKey(t *testing.T, s pii.KeyStore, r pii.KeyRef) pii.StoredKey {
	t.Helper()
	return getKeys(t, s, r)[0]
}

func create(t *testing.T, s pii.KeyStore, r pii.KeyRef, key pii.WrappedKey, now time.Time) pii.StoredKey {
	t.Helper()
	got, err := s.CreateKey(t.Context(), r, key, now)
	require.NoError(t, err, "CreateKey %v", r)
	return got
}

func shred(t *testing.T, s pii.KeyStore, subject string, now time.Time, scopes ...personaldata.Scope) {
	t.Helper()
	require.NoError(t, s.ShredKeys(t.Context(), personaldata.SubjectID(subject), scopes, now), "ShredKeys %q %v", subject, scopes)
}

func requireSameKey(t require.TestingT, want, got pii.WrappedKey, msg string) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	require.Equal(t, want.KEKID, got.KEKID, "%s: KEKID", msg)
	require.True(t, bytes.Equal(want.Ciphertext, got.Ciphertext), "%s: wrapped key bytes differ", msg)
}

func requireActive(t *testing.T, got pii.StoredKey, r pii.KeyRef, key pii.WrappedKey, created time.Time) {
	t.Helper()
	require.Equal(t, r, got.Ref, "Ref")
	require.Equal(t, pii.KeyActive, got.State, "State of %v", r)
	requireSameKey(t, key, got.Wrapped, fmt.Sprintf("key of %v", r))
	require.WithinDuration(t, created, got.CreatedAt, time.Second, "CreatedAt of %v", r)
	require.True(t, got.ShreddedAt.IsZero(), "ShreddedAt of active %v must be zero, got %v", r, got.ShreddedAt)
}

func requireShredded(t *testing.T, got pii.StoredKey, r pii.KeyRef, at time.Time) {
	t.Helper()
	require.Equal(t, r, got.Ref, "Ref")
	require.Equal(t, pii.KeyShredded, got.State, "State of %v", r)
	require.Empty(t, got.Wrapped.Ciphertext, "shredded %v must hold no key bytes", r)
	require.Empty(t, got.Wrapped.KEKID, "shredded %v must hold no wrapped key", r)
	require.WithinDuration(t, at, got.ShreddedAt, time.Second, "ShreddedAt of %v", r)
}

func requireMissing(t *testing.T, got pii.StoredKey, r pii.KeyRef) {
	t.Helper()
	require.Equal(t, r, got.Ref, "Ref")
	require.Equal(t, pii.KeyMissing, got.State, "State of %v", r)
	require.Empty(t, got.Wrapped.Ciphertext, "missing %v must hold no key bytes", r)
	require.True(t, got.CreatedAt.IsZero() && got.ShreddedAt.IsZero(), "missing %v must have zero times", r)
}

// allKeys collects what Keys yields, failing on errors, keys that are not
// active and refs yielded twice.
func allKeys(t *testing.T, s pii.KeyStore) map[pii.KeyRef]pii.StoredKey {
	t.Helper()
	out := map[pii.KeyRef]pii.StoredKey{}
	for k, err := range s.Keys(t.Context()) {
		require.NoError(t, err, "Keys")
		require.Equal(t, pii.KeyActive, k.State, "Keys yielded %v in state %s", k.Ref, k.State)
		require.NotEmpty(t, k.Wrapped.Ciphertext, "Keys yielded %v without key bytes", k.Ref)
		_, dup := out[k.Ref]
		require.False(t, dup, "Keys yielded %v twice", k.Ref)
		out[k.Ref] = k
	}
	return out
}

func testGetKeysNoRefs(t *testing.T, s pii.KeyStore) {
	create(t, s, def("someone"), newWrapped(kekID), t0)
	for _, refs := range [][]pii.KeyRef{nil, {}} {
		got, err := s.GetKeys(t.Context(), refs)
		require.NoError(t, err, "GetKeys with no refs")
		require.Empty(t, got, "GetKeys with no refs")
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
		require.ErrorIs(t, err, pii.ErrForgotten, "CreateKey on shredded %v", r)
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
	// Duplicate scopes happen: Forget(ctx, id, "", "default") names one twice.
	at := t0.Add(time.Hour)
	shred(t, s, "subject-1", at, m.Scope, d.Scope, m.Scope)
	got := getKeys(t, s, d, f, m, other)
	requireShredded(t, got[0], d, at)
	requireActive(t, got[1], f, kf, t0)
	requireShredded(t, got[2], m, at)
	requireActive(t, got[3], other, ko, t0)
	keys := allKeys(t, s)
	require.Len(t, keys, 2, "Keys after shredding")
	require.Contains(t, keys, f)
	require.Contains(t, keys, other)
}

func testShredNeverCreated(t *testing.T, s pii.KeyStore) {
	r := ref("subject-1", fiscal)
	shred(t, s, "subject-1", t0, r.Scope)
	requireShredded(t, getKey(t, s, r), r, t0)
	_, err := s.CreateKey(t.Context(), r, newWrapped(kekID), t0.Add(time.Hour))
	require.ErrorIs(t, err, pii.ErrForgotten, "CreateKey on a tombstone")
	requireShredded(t, getKey(t, s, r), r, t0)
	require.Empty(t, allKeys(t, s), "Keys must not yield tombstones")
	// A never-created subject too.
	n := def("never-seen")
	shred(t, s, "never-seen", t0, n.Scope)
	requireShredded(t, getKey(t, s, n), n, t0)
}

func testShredAllScopes(t *testing.T, s pii.KeyStore) {
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
	shred(t, s, "user-1", at) // nil scopes
	for _, sc := range scopes {
		requireShredded(t, getKey(t, s, ref("user-1", sc)), ref("user-1", sc), at)
	}
	requireShredded(t, getKey(t, s, legacy), legacy, t0.Add(time.Minute))
	for r, k := range okeys {
		if r.Subject != "user-2" {
			requireActive(t, getKey(t, s, r), r, k, t0)
		}
	}

	// An empty, non-nil slice means every scope too.
	require.NoError(t, s.ShredKeys(t.Context(), "user-2", []personaldata.Scope{}, at))
	for r, k := range okeys {
		if r.Subject == "user-2" {
			requireShredded(t, getKey(t, s, r), r, at)
		} else {
			requireActive(t, getKey(t, s, r), r, k, t0)
		}
	}
	require.Len(t, allKeys(t, s), len(okeys)-2, "Keys after shredding two subjects")
}

func testShredUnknownSubject(t *testing.T, s pii.KeyStore) {
	k := newWrapped(kekID)
	create(t, s, def("known"), k, t0)
	shred(t, s, "unknown", t0) // nothing to shred: no error
	requireActive(t, getKey(t, s, def("known")), def("known"), k, t0)
}

func testShredIdempotent(t *testing.T, s pii.KeyStore) {
	d, f := def("subject-1"), ref("subject-1", fiscal)
	create(t, s, d, newWrapped(kekID), t0)
	first := t0.Add(time.Hour)
	shred(t, s, "subject-1", first, d.Scope, f.Scope)
	shred(t, s, "subject-1", first.Add(time.Hour), d.Scope, f.Scope)
	shred(t, s, "subject-1", first.Add(2*time.Hour))
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
	require.NoError(t, s.ReplaceKey(t.Context(), r, old, nw), "ReplaceKey")
	requireActive(t, getKey(t, s, r), r, nw, t0) // CreatedAt unchanged
	requireActive(t, getKey(t, s, def("subject-1")), def("subject-1"), neighbour, t0)
	keys := allKeys(t, s)
	require.Contains(t, keys, r)
	requireSameKey(t, nw, keys[r].Wrapped, "Keys after ReplaceKey")
	// And back again: the key is compared, not a version counter.
	require.NoError(t, s.ReplaceKey(t.Context(), r, nw, old), "ReplaceKey back")
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
		require.ErrorIs(t, err, pii.ErrKeyChanged, "ReplaceKey with a stale old key (%s)", name)
		requireActive(t, getKey(t, s, r), r, cur, t0)
	}
	// Two rotations racing from the same old key: the second loses.
	a, b := newWrapped(kekID2), newWrapped(kekID2)
	require.NoError(t, s.ReplaceKey(t.Context(), r, cur, a))
	require.ErrorIs(t, s.ReplaceKey(t.Context(), r, cur, b), pii.ErrKeyChanged, "second ReplaceKey from the same old key")
	requireActive(t, getKey(t, s, r), r, a, t0)
}

func testReplaceMissing(t *testing.T, s pii.KeyStore) {
	r := def("nobody")
	err := s.ReplaceKey(t.Context(), r, newWrapped(kekID), newWrapped(kekID2))
	require.ErrorIs(t, err, pii.ErrKeyNotFound, "ReplaceKey of a missing key")
	requireMissing(t, getKey(t, s, r), r)
}

func testReplaceShredded(t *testing.T, s pii.KeyStore) {
	r, tomb := def("gone"), ref("gone", fiscal)
	old := newWrapped(kekID)
	create(t, s, r, old, t0)
	shred(t, s, "gone", t0.Add(time.Hour), r.Scope, tomb.Scope)
	err := s.ReplaceKey(t.Context(), r, old, newWrapped(kekID2))
	require.ErrorIs(t, err, pii.ErrKeyChanged, "ReplaceKey of a shredded key")
	requireShredded(t, getKey(t, s, r), r, t0.Add(time.Hour))
	err = s.ReplaceKey(t.Context(), tomb, pii.WrappedKey{}, newWrapped(kekID2))
	require.ErrorIs(t, err, pii.ErrKeyChanged, "ReplaceKey of a tombstone")
	requireShredded(t, getKey(t, s, tomb), tomb, t0.Add(time.Hour))
}

func testKeysEmpty(t *testing.T, s pii.KeyStore) {
	require.Empty(t, allKeys(t, s))
	shred(t, s, "tombstone-only", t0, personaldata.DefaultScope)
	require.Empty(t, allKeys(t, s), "Keys must not yield tombstones")
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
			shred(t, s, subject, t0.Add(time.Hour))
			delete(want, def(subject))
			delete(want, ref(subject, fiscal))
		}
	}
	shred(t, s, "subject-01", t0.Add(time.Hour), fiscal)
	delete(want, ref("subject-01", fiscal))
	got := allKeys(t, s)
	require.Len(t, got, len(want), "Keys must yield every active key and nothing else")
	for r, k := range want {
		require.Contains(t, got, r)
		requireActive(t, got[r], r, k, t0)
	}
}

func testKeysStopEarly(t *testing.T, s pii.KeyStore) {
	for i := range 10 {
		create(t, s, def(fmt.Sprintf("subject-%d", i)), newWrapped(kekID), t0)
	}
	n := 0
	for _, err := range s.Keys(t.Context()) {
		require.NoError(t, err)
		n++
		if n == 3 {
			break
		}
	}
	require.Equal(t, 3, n)
	// The store still works after an abandoned iteration.
	require.Len(t, allKeys(t, s), 10)
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
	require.NoError(t, s.ReplaceKey(t.Context(), r, want, nw))
	clear(nw.Ciphertext)
	requireActive(t, getKey(t, s, r), r, wantNew, t0)
}

func testSubjectIDs(t *testing.T, s pii.KeyStore) {
	long := strings.Repeat("é", 127) + "x" // 255 bytes of UTF-8
	require.Len(t, long, personaldata.MaxSubjectIDLen)
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
	require.NoError(t, scopes[2].Validate())
	want := map[pii.KeyRef]pii.WrappedKey{}
	var refs []pii.KeyRef
	for _, sub := range subjects {
		require.NoError(t, personaldata.SubjectID(sub).Validate(), "subject %q", sub)
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
	require.Len(t, got, len(want))
	for r, k := range want {
		require.Contains(t, got, r, "Keys must yield %q scope %s exactly as stored", r.Subject, r.Scope)
		requireSameKey(t, k, got[r].Wrapped, fmt.Sprintf("Keys: %q", r.Subject))
	}
	// Shredding each of them leaves the others alone.
	for i, sub := range subjects {
		shred(t, s, sub, t0.Add(time.Hour))
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
	require.ErrorIs(t, err, context.Canceled, "GetKeys with a canceled context")

	n := def("subject-2")
	_, err = s.CreateKey(ctx, n, newWrapped(kekID), t0)
	require.ErrorIs(t, err, context.Canceled, "CreateKey with a canceled context")
	requireMissing(t, getKey(t, s, n), n)

	err = s.ShredKeys(ctx, r.Subject, []personaldata.Scope{r.Scope}, t0)
	require.ErrorIs(t, err, context.Canceled, "ShredKeys with a canceled context")
	err = s.ShredKeys(ctx, r.Subject, nil, t0)
	require.ErrorIs(t, err, context.Canceled, "ShredKeys of all scopes with a canceled context")
	requireActive(t, getKey(t, s, r), r, key, t0)

	err = s.ReplaceKey(ctx, r, key, newWrapped(kekID2))
	require.ErrorIs(t, err, context.Canceled, "ReplaceKey with a canceled context")
	requireActive(t, getKey(t, s, r), r, key, t0)

	var errs []error
	for k, err := range s.Keys(ctx) {
		if err == nil {
			require.Failf(t, "Keys with a canceled context", "yielded %v", k.Ref)
		}
		errs = append(errs, err)
		break
	}
	require.Len(t, errs, 1, "Keys with a canceled context must yield an error")
	require.ErrorIs(t, errs[0], context.Canceled, "Keys with a canceled context")
}

// start runs n goroutines that call fn(i) all at once, and waits for them.
func start(n int, fn func(i int)) {
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			fn(i)
		})
	}
	close(gate)
	wg.Wait()
}

func testConcurrentCreate(t *testing.T, s pii.KeyStore) {
	const goroutines = 64
	for round := range 4 {
		r := ref(fmt.Sprintf("new-subject-%d", round), fiscal)
		keys := make([]pii.WrappedKey, goroutines)
		for i := range keys {
			keys[i] = newWrapped(kekID)
		}
		got := make([]pii.StoredKey, goroutines)
		errs := make([]error, goroutines)
		start(goroutines, func(i int) {
			got[i], errs[i] = s.CreateKey(t.Context(), r, keys[i], t0)
		})
		winner := -1
		for i := range keys {
			if bytes.Equal(keys[i].Ciphertext, got[0].Wrapped.Ciphertext) {
				winner = i
			}
		}
		require.NotEqual(t, -1, winner, "CreateKey returned a key no caller passed")
		for i := range got {
			require.NoError(t, errs[i], "concurrent CreateKey %d", i)
			requireActive(t, got[i], r, keys[winner], t0)
		}
		requireActive(t, getKey(t, s, r), r, keys[winner], t0)
	}
	require.Len(t, allKeys(t, s), 4)
}

func testConcurrentCreateShred(t *testing.T, s pii.KeyStore) {
	const goroutines = 32
	shredAt := t0.Add(time.Hour)
	for round := range 4 {
		r := def(fmt.Sprintf("racing-%d", round))
		got := make([]pii.StoredKey, goroutines)
		errs := make([]error, goroutines)
		var shredErr error
		start(goroutines+1, func(i int) {
			if i == goroutines {
				shredErr = s.ShredKeys(t.Context(), r.Subject, []personaldata.Scope{r.Scope}, shredAt)
				return
			}
			got[i], errs[i] = s.CreateKey(t.Context(), r, newWrapped(kekID), t0)
		})
		require.NoError(t, shredErr, "ShredKeys racing CreateKey")
		var first *pii.StoredKey
		for i := range got {
			if errs[i] != nil {
				require.ErrorIs(t, errs[i], pii.ErrForgotten, "CreateKey racing ShredKeys")
				continue
			}
			if first == nil {
				first = &got[i]
			}
			requireActive(t, got[i], r, first.Wrapped, t0) // one key ever exists
		}
		requireShredded(t, getKey(t, s, r), r, shredAt)
		_, err := s.CreateKey(t.Context(), r, newWrapped(kekID), t0)
		require.ErrorIs(t, err, pii.ErrForgotten, "CreateKey after ShredKeys returned")
	}
	require.Empty(t, allKeys(t, s))
}

// testConcurrentMixed runs every operation on many subjects at once while
// readers list and look up keys, for the race detector and for states that
// are never valid (an active key without bytes, a shredded one with some).
func testConcurrentMixed(t *testing.T, s pii.KeyStore) {
	const workers, readers = 16, 4
	subject := func(i int) string { return fmt.Sprintf("worker-%d", i) }
	var refs []pii.KeyRef
	for i := range workers {
		refs = append(refs, def(subject(i)), ref(subject(i), fiscal))
	}
	var done atomic.Bool
	var left atomic.Int32
	left.Store(workers)
	check := func(k pii.StoredKey) bool {
		switch k.State {
		case pii.KeyMissing:
			return assert.Empty(t, k.Wrapped.Ciphertext, "missing %v with key bytes", k.Ref)
		case pii.KeyActive:
			return assert.NotEmpty(t, k.Wrapped.Ciphertext, "active %v without key bytes", k.Ref)
		case pii.KeyShredded:
			return assert.Empty(t, k.Wrapped.Ciphertext, "shredded %v with key bytes", k.Ref)
		}
		return assert.Fail(t, "bad state", "%v in state %s", k.Ref, k.State)
	}
	start(workers+readers, func(i int) {
		ctx := t.Context()
		if i >= workers {
			for !done.Load() {
				ks, err := s.GetKeys(ctx, refs)
				if !assert.NoError(t, err, "GetKeys") || !assert.Len(t, ks, len(refs)) {
					return
				}
				for j, k := range ks {
					if !assert.Equal(t, refs[j], k.Ref) || !check(k) {
						return
					}
				}
				for k, err := range s.Keys(ctx) {
					if !assert.NoError(t, err, "Keys") || !assert.Equal(t, pii.KeyActive, k.State) || !check(k) {
						return
					}
				}
			}
			return
		}
		defer func() {
			if left.Add(-1) == 0 {
				done.Store(true)
			}
		}()
		d, f := def(subject(i)), ref(subject(i), fiscal)
		for round := range 3 {
			kd, kf := newWrapped(kekID), newWrapped(kekID)
			if round > 0 {
				// Shredded last round: a tombstone never gets a key.
				_, err := s.CreateKey(ctx, d, kd, t0)
				if !assert.ErrorIs(t, err, pii.ErrForgotten, "CreateKey after shred") {
					return
				}
				continue
			}
			got, err := s.CreateKey(ctx, d, kd, t0)
			if !assert.NoError(t, err) || !assert.True(t, bytes.Equal(kd.Ciphertext, got.Wrapped.Ciphertext), "CreateKey %v", d) {
				return
			}
			if _, err := s.CreateKey(ctx, f, kf, t0); !assert.NoError(t, err) {
				return
			}
			nf := newWrapped(kekID2)
			if !assert.NoError(t, s.ReplaceKey(ctx, f, kf, nf), "ReplaceKey") {
				return
			}
			if !assert.NoError(t, s.ShredKeys(ctx, d.Subject, []personaldata.Scope{d.Scope}, t0), "ShredKeys") {
				return
			}
			ks, err := s.GetKeys(ctx, []pii.KeyRef{d, f})
			if !assert.NoError(t, err) || !assert.Len(t, ks, 2) {
				return
			}
			assert.Equal(t, pii.KeyShredded, ks[0].State, "%v after ShredKeys", d)
			assert.Equal(t, pii.KeyActive, ks[1].State, "%v after ReplaceKey", f)
			assert.True(t, bytes.Equal(nf.Ciphertext, ks[1].Wrapped.Ciphertext), "%v after ReplaceKey", f)
		}
	})
	keys := allKeys(t, s)
	require.Len(t, keys, workers, "one fiscal key per worker remains")
	for i := range workers {
		requireShredded(t, getKey(t, s, def(subject(i))), def(subject(i)), t0)
	}
}

// customer is the record the Protector subtests protect: every kind of
// field, in two scopes.
type customer struct {
	ID        string                `pii:"subject"`
	Email     string                `pii:"email"`
	Name      string                `pii:"name,redact=[erased]"`
	IBAN      string                `pii:"iban,scope=fiscal"`
	Birthdate pii.Sealed[time.Time] `pii:"birthdate"`
	Photo     []byte                `pii:"photo"`
	Plan      string
}

var birthdate = time.Date(1990, time.February, 3, 0, 0, 0, 0, time.UTC)

func newCustomer(id string) *customer {
	return &customer{
		ID:        id,
		Email:     id + "@example.com",
		Name:      "Name of " + id,
		IBAN:      "NL91ABNA0417164300",
		Birthdate: pii.Plain(birthdate),
		Photo:     []byte("photo of " + id),
		Plan:      "basic",
	}
}

func (c *customer) clone() *customer {
	d := *c
	d.Photo = bytes.Clone(c.Photo)
	return &d
}

func requireRevealed(t *testing.T, want, got *customer) {
	t.Helper()
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.Email, got.Email, "Email")
	require.Equal(t, want.Name, got.Name, "Name")
	require.Equal(t, want.IBAN, got.IBAN, "IBAN")
	require.Equal(t, want.Photo, got.Photo, "Photo")
	require.Equal(t, want.Plan, got.Plan, "Plan")
	bd, err := got.Birthdate.Get()
	require.NoError(t, err, "Birthdate")
	require.True(t, bd.Equal(birthdate), "Birthdate")
}

func newWrapper(t *testing.T, id string) *pii.LocalKeyWrapper {
	t.Helper()
	master := sha256.Sum256([]byte("piitest master key " + id))
	w, err := pii.NewLocalKeyWrapper(id, master[:])
	require.NoError(t, err)
	return w
}

// newProtector returns a Protector without a key cache, so every call
// reaches the store.
func newProtector(t *testing.T, s pii.KeyStore, w pii.KeyWrapper, alg pii.Algorithm) *pii.Protector {
	t.Helper()
	p, err := pii.New(s, w, &pii.Options{CacheSize: -1, Algorithm: alg})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func testProtectorRoundTrip(t *testing.T, s pii.KeyStore) {
	w := newWrapper(t, kekID)
	for _, alg := range []pii.Algorithm{pii.AES256GCM, pii.XChaCha20Poly1305} {
		p := newProtector(t, s, w, alg)
		id := "round-trip-" + alg.String()
		c := newCustomer(id)
		want := c.clone()
		require.NoError(t, p.Protect(t.Context(), c), "Protect")
		AssertProtected(t, c)
		require.NotEqual(t, want.Email, c.Email)
		stored := c.clone()
		require.NoError(t, p.Reveal(t.Context(), c), "Reveal")
		requireRevealed(t, want, c)

		// The store holds one key per scope, wrapped by w.
		for _, k := range getKeys(t, s, def(id), ref(id, fiscal)) {
			require.Equal(t, pii.KeyActive, k.State, "%v after Protect", k.Ref)
			require.Equal(t, w.KEKID(), k.Wrapped.KEKID)
		}
		// Another process, with a Protector of its own, reads it too.
		other := newProtector(t, s, w, pii.AES256GCM)
		got := stored.clone()
		require.NoError(t, other.Reveal(t.Context(), got), "Reveal by another Protector")
		requireRevealed(t, want, got)
		// Protecting again creates no key and changes nothing.
		again := stored.clone()
		require.NoError(t, other.Protect(t.Context(), again))
		require.Equal(t, stored.Email, again.Email, "Protect of a protected value")
	}
	require.Len(t, allKeys(t, s), 4)
}

func testProtectorFirstUse(t *testing.T, s pii.KeyStore) {
	const goroutines = 32
	const id = "first-use"
	w := newWrapper(t, kekID)
	// A Protector each, as if in as many processes: the store alone
	// decides which key wins.
	ps := make([]*pii.Protector, goroutines)
	for i := range ps {
		ps[i] = newProtector(t, s, w, pii.AES256GCM)
	}
	cs := make([]*customer, goroutines)
	errs := make([]error, goroutines)
	start(goroutines, func(i int) {
		cs[i] = newCustomer(id)
		cs[i].Email = fmt.Sprintf("%d@example.com", i)
		errs[i] = ps[i].Protect(t.Context(), cs[i])
	})
	for i, err := range errs {
		require.NoError(t, err, "Protect %d", i)
	}
	n := 0
	for r := range allKeys(t, s) {
		require.Equal(t, personaldata.SubjectID(id), r.Subject)
		n++
	}
	require.Equal(t, 2, n, "one key per scope for %q", id)
	p := newProtector(t, s, w, pii.AES256GCM)
	for i, c := range cs {
		require.NoError(t, p.Reveal(t.Context(), c), "Reveal %d", i)
		want := newCustomer(id)
		want.Email = fmt.Sprintf("%d@example.com", i)
		requireRevealed(t, want, c)
	}
}

func testProtectorForget(t *testing.T, s pii.KeyStore) {
	ctx := t.Context()
	p := newProtector(t, s, newWrapper(t, kekID), pii.AES256GCM)
	const id = "forget-me"
	c, keep := newCustomer(id), newCustomer("keep-me")
	wantKeep := keep.clone()
	require.NoError(t, p.Protect(ctx, c))
	require.NoError(t, p.Protect(ctx, keep))
	sealed, err := p.Seal(ctx, id, "", "message", []byte("hello"))
	require.NoError(t, err, "Seal")

	require.NoError(t, p.Forget(ctx, id), "Forget")
	for _, k := range getKeys(t, s, def(id), ref(id, fiscal)) {
		require.Equal(t, pii.KeyShredded, k.State, "%v after Forget", k.Ref)
		require.Empty(t, k.Wrapped.Ciphertext)
	}
	AssertErased(t, p, c.clone())

	got := c.clone()
	err = p.Reveal(ctx, got)
	var re *pii.RevealError
	require.ErrorAs(t, err, &re, "Reveal after Forget")
	require.True(t, re.OnlyErased(), "Reveal after Forget: %v", err)
	require.ErrorIs(t, err, pii.ErrErased)
	require.Equal(t, "[erased]", got.Name)
	require.Empty(t, got.Email)
	require.Empty(t, got.IBAN)
	require.Empty(t, got.Photo)
	require.True(t, got.Birthdate.IsErased())

	require.ErrorIs(t, p.Protect(ctx, newCustomer(id)), pii.ErrForgotten, "Protect after Forget")
	_, err = p.Seal(ctx, id, "", "message", []byte("hello"))
	require.ErrorIs(t, err, pii.ErrForgotten, "Seal after Forget")
	_, err = p.Open(ctx, id, "", "message", sealed)
	require.ErrorIs(t, err, pii.ErrErased, "Open after Forget")

	require.NoError(t, p.Reveal(ctx, keep), "Reveal of another subject")
	requireRevealed(t, wantKeep, keep)
}

func testProtectorForgetScope(t *testing.T, s pii.KeyStore) {
	ctx := t.Context()
	p := newProtector(t, s, newWrapper(t, kekID), pii.AES256GCM)
	const id = "keep-invoices"
	c := newCustomer(id)
	want := c.clone()
	require.NoError(t, p.Protect(ctx, c))
	require.NoError(t, p.Forget(ctx, id, personaldata.DefaultScope))
	err := p.Reveal(ctx, c)
	var re *pii.RevealError
	require.ErrorAs(t, err, &re)
	require.True(t, re.OnlyErased(), "%v", err)
	require.Len(t, re.Fields, 4, "erased fields")
	require.Equal(t, want.IBAN, c.IBAN, "the fiscal scope outlives the default one")

	_, err = p.Seal(ctx, id, fiscal, "billing", []byte("invoice"))
	require.NoError(t, err, "Seal in the scope kept")
	_, err = p.Seal(ctx, id, personaldata.DefaultScope, "billing", []byte("invoice"))
	require.ErrorIs(t, err, pii.ErrForgotten, "Seal in the scope forgotten")
	require.ErrorIs(t, p.Protect(ctx, newCustomer(id)), pii.ErrForgotten, "Protect after Forget")
}

func testProtectorRewrap(t *testing.T, s pii.KeyStore) {
	ctx := t.Context()
	w1, w2 := newWrapper(t, kekID), newWrapper(t, kekID2)
	p1 := newProtector(t, s, w1, pii.AES256GCM)
	var stored []*customer
	for _, id := range []string{"rewrap-a", "rewrap-b", "rewrap-gone"} {
		c := newCustomer(id)
		require.NoError(t, p1.Protect(ctx, c))
		stored = append(stored, c)
	}
	require.NoError(t, p1.Forget(ctx, "rewrap-gone"))
	stored = stored[:2]
	n := len(allKeys(t, s))
	require.Equal(t, 4, n)

	st, err := pii.Rewrap(ctx, s, w2, w1)
	require.NoError(t, err, "Rewrap")
	require.Equal(t, pii.RewrapStats{Rewrapped: n}, st)
	for r, k := range allKeys(t, s) {
		require.Equal(t, w2.KEKID(), k.Wrapped.KEKID, "%v after Rewrap", r)
	}

	p2 := newProtector(t, s, w2, pii.AES256GCM) // knows the new KEK only
	for _, c := range stored {
		got := c.clone()
		require.NoError(t, p2.Reveal(ctx, got), "Reveal under the new KEK")
		requireRevealed(t, newCustomer(c.ID), got)
		got = c.clone()
		require.ErrorIs(t, p1.Reveal(ctx, got), pii.ErrWrongKEK, "Reveal under the old KEK only")
		require.Equal(t, c.Email, got.Email, "a field that failed keeps its ciphertext")
	}

	st, err = pii.Rewrap(ctx, s, w2, w1)
	require.NoError(t, err, "Rewrap again")
	require.Equal(t, pii.RewrapStats{Unchanged: n}, st)
}
