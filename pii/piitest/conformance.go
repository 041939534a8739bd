package piitest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
)

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
	{"ShredKeys/EmptyScopesRejected", testShredEmptyScopes},
	{"ShredKeys/Idempotent", testShredIdempotent},
	{"ShredSubject/EveryScope", testShredSubjectEveryScope},
	{"ShredSubject/ScopesNeverUsed", testShredSubjectNewScopes},
	{"ShredSubject/Idempotent", testShredSubjectIdempotent},
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
	{"Concurrent/CreateVersusShredSubject", testConcurrentCreateShredSubject},
	{"Concurrent/Mixed", testConcurrentMixed},
	{"Protector/RoundTrip", testProtectorRoundTrip},
	{"Protector/ConcurrentFirstUse", testProtectorFirstUse},
	{"Protector/ForgetSubject", testProtectorForgetSubject},
	{"Protector/ForgetScopes", testProtectorForgetScope},
	{"Protector/ForgetSubjectRacingProtect", testProtectorForgetRacing},
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
	noError(t, err, "GetKeys")
	hasLen(t, got, len(refs), "GetKeys must return one StoredKey per ref")
	for i, r := range refs {
		equal(t, r, got[i].Ref, "GetKeys result %d must name refs[%d]", i, i)
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
	noError(t, err, "CreateKey %v", r)
	return got
}

func shred(t *testing.T, s pii.KeyStore, subject string, now time.Time, scopes ...personaldata.Scope) {
	t.Helper()
	noError(t, s.ShredKeys(t.Context(), personaldata.SubjectID(subject), scopes, now), "ShredKeys %q %v", subject, scopes)
}

func shredSubject(t *testing.T, s pii.KeyStore, subject string, now time.Time) {
	t.Helper()
	noError(t, s.ShredSubject(t.Context(), personaldata.SubjectID(subject), now), "ShredSubject %q", subject)
}

func requireSameKey(t testing.TB, want, got pii.WrappedKey, msg string) {
	t.Helper()
	equal(t, want.KEKID, got.KEKID, "%s: KEKID", msg)
	isTrue(t, bytes.Equal(want.Ciphertext, got.Ciphertext), "%s: wrapped key bytes differ", msg)
}

func requireActive(t *testing.T, got pii.StoredKey, r pii.KeyRef, key pii.WrappedKey, created time.Time) {
	t.Helper()
	equal(t, r, got.Ref, "Ref")
	equal(t, pii.KeyActive, got.State, "State of %v", r)
	requireSameKey(t, key, got.Wrapped, fmt.Sprintf("key of %v", r))
	withinDuration(t, created, got.CreatedAt, time.Second, "CreatedAt of %v", r)
	isTrue(t, got.ShreddedAt.IsZero(), "ShreddedAt of active %v must be zero, got %v", r, got.ShreddedAt)
}

func requireShredded(t *testing.T, got pii.StoredKey, r pii.KeyRef, at time.Time) {
	t.Helper()
	equal(t, r, got.Ref, "Ref")
	equal(t, pii.KeyShredded, got.State, "State of %v", r)
	empty(t, got.Wrapped.Ciphertext, "shredded %v must hold no key bytes", r)
	empty(t, got.Wrapped.KEKID, "shredded %v must hold no wrapped key", r)
	withinDuration(t, at, got.ShreddedAt, time.Second, "ShreddedAt of %v", r)
}

func requireMissing(t *testing.T, got pii.StoredKey, r pii.KeyRef) {
	t.Helper()
	equal(t, r, got.Ref, "Ref")
	equal(t, pii.KeyMissing, got.State, "State of %v", r)
	empty(t, got.Wrapped.Ciphertext, "missing %v must hold no key bytes", r)
	isTrue(t, got.CreatedAt.IsZero() && got.ShreddedAt.IsZero(), "missing %v must have zero times", r)
}

// allKeys collects what Keys yields, failing on errors, keys that are not
// active and refs yielded twice.
func allKeys(t *testing.T, s pii.KeyStore) map[pii.KeyRef]pii.StoredKey {
	t.Helper()
	out := map[pii.KeyRef]pii.StoredKey{}
	for k, err := range s.Keys(t.Context()) {
		noError(t, err, "Keys")
		equal(t, pii.KeyActive, k.State, "Keys yielded %v in state %s", k.Ref, k.State)
		notEmpty(t, k.Wrapped.Ciphertext, "Keys yielded %v without key bytes", k.Ref)
		_, dup := out[k.Ref]
		isFalse(t, dup, "Keys yielded %v twice", k.Ref)
		out[k.Ref] = k
	}
	return out
}
