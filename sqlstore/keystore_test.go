package sqlstore_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/sqlstore"
)

var t0 = time.Date(2026, time.May, 4, 10, 30, 0, 123456789, time.UTC)

const fiscal = personaldata.Scope("fiscal")

func ref(subject string, scope personaldata.Scope) pii.KeyRef {
	return pii.KeyRef{Subject: personaldata.SubjectID(subject), Scope: scope}
}

func wrapped() pii.WrappedKey {
	b := make([]byte, 60)
	_, _ = rand.Read(b)
	return pii.WrappedKey{KEKID: "kek-1", Ciphertext: b}
}

// forEachBackend runs fn on a store of its own per backend, in parallel.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends(t) {
		b.run(t, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

func TestShredSubject(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, _, _ := openKeyStore(t, b)
		d, f, never := ref("ann", personaldata.DefaultScope), ref("ann", fiscal), ref("ann", "marketing")
		other := ref("anna", personaldata.DefaultScope)
		kOther := wrapped()
		_, err := s.CreateKey(ctx, d, wrapped(), t0)
		require.NoError(t, err)
		_, err = s.CreateKey(ctx, other, kOther, t0)
		require.NoError(t, err)
		// The fiscal scope was shredded on its own, earlier.
		require.NoError(t, s.ShredKeys(ctx, "ann", []personaldata.Scope{fiscal}, t0.Add(time.Minute)))

		at := t0.Add(time.Hour)
		require.NoError(t, s.ShredSubject(ctx, "ann", at))
		require.NoError(t, s.ShredSubject(ctx, "ann", at.Add(time.Hour)), "idempotent")

		got, err := s.GetKeys(ctx, []pii.KeyRef{d, f, never, other})
		require.NoError(t, err)
		for i, want := range []time.Time{at, t0.Add(time.Minute), at} {
			assert.Equal(t, pii.KeyShredded, got[i].State, "%v", got[i].Ref)
			assert.Empty(t, got[i].Wrapped.Ciphertext, "%v", got[i].Ref)
			assert.Empty(t, got[i].Wrapped.KEKID, "%v", got[i].Ref)
			assert.True(t, want.Equal(got[i].ShreddedAt), "%v shredded at %v, want %v", got[i].Ref, got[i].ShreddedAt, want)
		}
		assert.Equal(t, pii.KeyActive, got[3].State, "a subject whose ID extends the shredded one")
		assert.Equal(t, kOther.Ciphertext, got[3].Wrapped.Ciphertext)

		for _, r := range []pii.KeyRef{d, f, never, ref("ann", "scope-never-seen")} {
			_, err := s.CreateKey(ctx, r, wrapped(), at)
			assert.ErrorIs(t, err, pii.ErrForgotten, "CreateKey %v after ShredSubject", r)
		}
		// A subject never seen can be shredded too, and then never gets a key.
		require.NoError(t, s.ShredSubject(ctx, "never-seen", at))
		_, err = s.CreateKey(ctx, ref("never-seen", fiscal), wrapped(), at)
		assert.ErrorIs(t, err, pii.ErrForgotten)
		got, err = s.GetKeys(ctx, []pii.KeyRef{ref("never-seen", fiscal)})
		require.NoError(t, err)
		assert.Equal(t, pii.KeyShredded, got[0].State)
		assert.True(t, at.Equal(got[0].ShreddedAt))
		// ShredKeys after ShredSubject changes nothing.
		require.NoError(t, s.ShredKeys(ctx, "ann", []personaldata.Scope{personaldata.DefaultScope}, at.Add(time.Hour)))
		got, err = s.GetKeys(ctx, []pii.KeyRef{d})
		require.NoError(t, err)
		assert.True(t, at.Equal(got[0].ShreddedAt))

		n := 0
		for k, err := range s.Keys(ctx) {
			require.NoError(t, err)
			assert.Equal(t, other, k.Ref)
			n++
		}
		assert.Equal(t, 1, n, "Keys after ShredSubject")
	})
}

func TestShredSubjectRacesCreate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, _, _ := openKeyStore(t, b)
		const creators = 16
		for round := range 3 {
			subject := fmt.Sprintf("racer-%d", round)
			errs := make(chan error, creators)
			gate := make(chan struct{})
			done := make(chan error, 1)
			for i := range creators {
				go func() {
					<-gate
					scope := personaldata.Scope(fmt.Sprintf("scope-%d", i%4))
					_, err := s.CreateKey(ctx, ref(subject, scope), wrapped(), t0)
					errs <- err
				}()
			}
			go func() { <-gate; done <- s.ShredSubject(ctx, personaldata.SubjectID(subject), t0.Add(time.Hour)) }()
			close(gate)
			require.NoError(t, <-done)
			for range creators {
				if err := <-errs; err != nil {
					require.ErrorIs(t, err, pii.ErrForgotten)
				}
			}
			refs := []pii.KeyRef{ref(subject, "scope-0"), ref(subject, "scope-1"), ref(subject, "scope-2"), ref(subject, "scope-3")}
			got, err := s.GetKeys(ctx, refs)
			require.NoError(t, err)
			for _, k := range got {
				require.Equal(t, pii.KeyShredded, k.State, "%v: no key survives ShredSubject", k.Ref)
			}
		}
		for k, err := range s.Keys(ctx) {
			require.NoError(t, err)
			t.Errorf("key %v active after ShredSubject", k.Ref)
		}
	})
}

// TestGetKeysBatchShapes reads, in one call, subjects that need escaping
// in the query's literals, several scopes of one subject, and refs given
// sorted with duplicates, which the call must leave as they are.
func TestGetKeysBatchShapes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, _, _ := openKeyStore(t, b)
		subjects := []string{`quote"d`, `back\slash`, "caf\u00e9 \u2028", "a", "a'b", "x"}
		keys := map[pii.KeyRef]pii.WrappedKey{}
		var refs []pii.KeyRef
		for _, sub := range subjects {
			for _, sc := range []personaldata.Scope{"default", "fiscal", "zz.other"} {
				r := ref(sub, sc)
				refs = append(refs, r, r)
				if sub == "x" && sc == "fiscal" {
					continue // missing
				}
				w := wrapped()
				_, err := s.CreateKey(ctx, r, w, t0)
				require.NoError(t, err)
				keys[r] = w
			}
		}
		require.NoError(t, s.ShredSubject(ctx, "a'b", t0.Add(time.Hour)))
		slices.SortFunc(refs, func(a, b pii.KeyRef) int {
			return strings.Compare(string(a.Subject)+"\x00"+string(a.Scope), string(b.Subject)+"\x00"+string(b.Scope))
		})
		given := slices.Clone(refs)
		for _, batch := range [][]pii.KeyRef{refs, slices.Compact(slices.Clone(refs)), {refs[len(refs)-1], refs[0]}} {
			got, err := s.GetKeys(ctx, batch)
			require.NoError(t, err)
			require.Len(t, got, len(batch))
			for i, k := range got {
				r := batch[i]
				require.Equal(t, r, k.Ref)
				w, ok := keys[r]
				switch {
				case r.Subject == "a'b":
					require.Equal(t, pii.KeyShredded, k.State, "%v", r)
				case !ok:
					require.Equal(t, pii.KeyMissing, k.State, "%v", r)
				default:
					require.Equal(t, pii.KeyActive, k.State, "%v", r)
					require.Equal(t, w, k.Wrapped, "%v", r)
				}
			}
		}
		require.Equal(t, given, refs, "GetKeys changed its argument")
	})
}

func TestKeyStoreRefusesBadArguments(t *testing.T) {
	b := backends(t)[1] // SQLite in memory
	s, _, _ := openKeyStore(t, b)
	ctx := t.Context()
	_, err := s.CreateKey(ctx, ref("x", "default"), wrapped(), t0)
	require.NoError(t, err)
	for name, err := range map[string]error{
		"ShredKeys no scopes":    s.ShredKeys(ctx, "x", nil, t0),
		"ShredKeys empty scopes": s.ShredKeys(ctx, "x", []personaldata.Scope{}, t0),
		"ShredKeys empty scope":  s.ShredKeys(ctx, "x", []personaldata.Scope{""}, t0),
		"ShredKeys bad subject":  s.ShredKeys(ctx, "", []personaldata.Scope{"default"}, t0),
		"ShredKeys zero time":    s.ShredKeys(ctx, "x", []personaldata.Scope{"default"}, time.Time{}),
		"ShredKeys far future":   s.ShredKeys(ctx, "x", []personaldata.Scope{"default"}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)),
		"ShredSubject bad":       s.ShredSubject(ctx, "a\nb", t0),
		"ReplaceKey empty new":   s.ReplaceKey(ctx, ref("x", "default"), wrapped(), pii.WrappedKey{}),
	} {
		assert.ErrorIs(t, err, sqlstore.ErrInvalidArgument, name)
	}
	_, err = s.CreateKey(ctx, ref(strings.Repeat("x", 256), "default"), wrapped(), t0)
	assert.ErrorIs(t, err, sqlstore.ErrInvalidArgument, "CreateKey long subject")
	_, err = s.CreateKey(ctx, ref("y", "Default"), wrapped(), t0)
	assert.ErrorIs(t, err, sqlstore.ErrInvalidArgument, "CreateKey bad scope")
	_, err = s.GetKeys(ctx, []pii.KeyRef{ref("y", "")})
	assert.ErrorIs(t, err, sqlstore.ErrInvalidArgument, "GetKeys empty scope")
	got, err := s.GetKeys(ctx, []pii.KeyRef{ref("x", "default")})
	require.NoError(t, err)
	assert.Equal(t, pii.KeyActive, got[0].State, "nothing was shredded by a refused call")
}

func TestClosed(t *testing.T) {
	b := backends(t)[1]
	s, db, prefix := openKeyStore(t, b)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")
	ctx := t.Context()
	_, err := s.GetKeys(ctx, []pii.KeyRef{ref("x", "default")})
	assert.ErrorIs(t, err, sqlstore.ErrClosed)
	_, err = s.CreateKey(ctx, ref("x", "default"), wrapped(), t0)
	assert.ErrorIs(t, err, sqlstore.ErrClosed)
	assert.ErrorIs(t, s.ShredSubject(ctx, "x", t0), sqlstore.ErrClosed)
	for _, err := range s.Keys(ctx) {
		assert.ErrorIs(t, err, sqlstore.ErrClosed)
	}
	h, err := sqlstore.OpenHoldStore(ctx, db, b.dialect, b.opts(prefix))
	require.NoError(t, err)
	require.NoError(t, h.Close())
	_, err = h.List(ctx, true)
	assert.ErrorIs(t, err, sqlstore.ErrClosed)
	require.NoError(t, db.PingContext(ctx), "Close leaves the *sql.DB open")
}

// TestCorruptRow damages stored rows behind the store's back, as a disk or
// a hand-made UPDATE might: a truncated wrapped key, a key moved to another
// subject, an unknown state. Every read reports ErrCorrupt, names no key
// bytes, panics nowhere and changes nothing.
func TestCorruptRow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, db, prefix := openKeyStore(t, b)
		keys := prefix + "keys"
		good, bad, moved, odd := ref("good", "default"), ref("bad", "default"), ref("moved", "default"), ref("odd", "default")
		kGood, kBad := wrapped(), wrapped()
		for r, k := range map[pii.KeyRef]pii.WrappedKey{good: kGood, bad: kBad, moved: wrapped(), odd: wrapped()} {
			_, err := s.CreateKey(ctx, r, k, t0)
			require.NoError(t, err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if b.dialect == sqlstore.PostgreSQL {
				for i := 1; strings.Contains(q, "?"); i++ {
					q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
				}
			}
			_, err := db.ExecContext(ctx, q, args...)
			require.NoError(t, err, q)
		}
		exec("UPDATE "+keys+" SET wrapped = ? WHERE subject = ?", kBad.Ciphertext[:len(kBad.Ciphertext)-7], "bad")
		exec("UPDATE "+keys+" SET wrapped = ?, checksum = ? WHERE subject = ?", kGood.Ciphertext,
			sqlstore.KeyChecksum(good, kGood), "moved") // a valid row of another subject, copied
		exec("UPDATE "+keys+" SET state = 7 WHERE subject = ?", "odd")

		for _, r := range []pii.KeyRef{bad, moved, odd} {
			_, err := s.GetKeys(ctx, []pii.KeyRef{good, r})
			require.ErrorIs(t, err, sqlstore.ErrCorrupt, "GetKeys %v", r)
			assert.NotContains(t, err.Error(), string(kBad.Ciphertext[:8]))
			assert.Contains(t, err.Error(), string(r.Subject), "the error names the row")
			_, err = s.CreateKey(ctx, r, wrapped(), t0)
			require.ErrorIs(t, err, sqlstore.ErrCorrupt, "CreateKey %v", r)
		}
		got, err := s.GetKeys(ctx, []pii.KeyRef{good})
		require.NoError(t, err, "other rows still read")
		assert.Equal(t, kGood.Ciphertext, got[0].Wrapped.Ciphertext)

		var corrupt, active int
		for k, err := range s.Keys(ctx) {
			if err != nil {
				require.ErrorIs(t, err, sqlstore.ErrCorrupt)
				corrupt++
				continue
			}
			active++
			assert.Equal(t, good, k.Ref)
		}
		assert.Equal(t, 2, corrupt, "Keys reports the truncated and the moved key (state 7 is not active)")
		assert.Equal(t, 1, active)

		// Shredding repairs a corrupt row the only safe way: no key at all.
		require.NoError(t, s.ShredKeys(ctx, "bad", []personaldata.Scope{"default"}, t0.Add(time.Hour)))
		got, err = s.GetKeys(ctx, []pii.KeyRef{bad})
		require.NoError(t, err)
		assert.Equal(t, pii.KeyShredded, got[0].State)
	})
}

// TestSQLiteShredLeavesNoKeyBytes reads the SQLite database files after a
// shred and looks for the wrapped key's bytes, in both journal modes. With
// secure_delete off it fails: the page splits that later rows cause leave
// copies of the key in free space.
func TestSQLiteShredLeavesNoKeyBytes(t *testing.T) {
	for _, journal := range []string{"delete", "wal"} {
		for _, how := range []string{"ShredKeys", "ShredSubject", "ReplaceKey"} {
			t.Run(journal+"/"+how, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				path := filepath.Join(t.TempDir(), "keys.db")
				db := openSQLiteFile(t, path, journal, "synchronous(off)") // for speed only
				s, err := sqlstore.OpenKeyStore(ctx, db, sqlstore.SQLite, nil)
				require.NoError(t, err)
				// Neighbours on the same page, before and after.
				for i := range 20 {
					_, err := s.CreateKey(ctx, ref(fmt.Sprintf("n%02d", i), "default"), wrapped(), t0)
					require.NoError(t, err)
				}
				r := ref("n10x", "default")
				k := wrapped()
				_, err = s.CreateKey(ctx, r, k, t0)
				require.NoError(t, err)
				require.NoError(t, s.Purge(ctx))
				require.True(t, filesContain(t, path, k.Ciphertext), "the key is on disk before it is shredded")
				// Rows that arrive later split the page and move the key:
				// copies of it may now sit in free space.
				for i := range 200 {
					_, err := s.CreateKey(ctx, ref(fmt.Sprintf("n10%03d", i), "default"), wrapped(), t0)
					require.NoError(t, err)
				}

				switch how {
				case "ShredKeys":
					require.NoError(t, s.ShredKeys(ctx, r.Subject, []personaldata.Scope{r.Scope}, t0))
				case "ShredSubject":
					require.NoError(t, s.ShredSubject(ctx, r.Subject, t0))
				case "ReplaceKey": // the bytes wrapped by a retired KEK go too
					require.NoError(t, s.ReplaceKey(ctx, r, k, wrapped()))
				}
				require.NoError(t, s.Purge(ctx))
				require.False(t, filesContain(t, path, k.Ciphertext), "key bytes left in the database files")
			})
		}
	}
}

// filesContain reports whether the database file or its journal or WAL
// holds b.
func filesContain(t *testing.T, path string, b []byte) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal", path + "-journal"} {
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		if bytes.Contains(data, b) {
			return true
		}
	}
	return false
}

func TestPurgeOnServers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s, _, _ := openKeyStore(t, b)
		_, err := s.CreateKey(t.Context(), ref("x", "default"), wrapped(), t0)
		require.NoError(t, err)
		require.NoError(t, s.ShredSubject(t.Context(), "x", t0))
		require.NoError(t, s.Purge(t.Context()))
	})
}

func TestGetKeysLargeBatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, _, _ := openKeyStore(t, b)
		var refs []pii.KeyRef
		want := map[pii.KeyRef][]byte{}
		for i := range 2500 {
			r := ref(fmt.Sprintf("subject-%04d", i), "default")
			refs = append(refs, r)
			if i%97 == 0 {
				k := wrapped()
				_, err := s.CreateKey(ctx, r, k, t0)
				require.NoError(t, err)
				want[r] = k.Ciphertext
			}
		}
		require.NoError(t, s.ShredSubject(ctx, "subject-0500", t0))
		refs = append(refs, refs[:1500]...) // duplicates, across chunks
		got, err := s.GetKeys(ctx, refs)
		require.NoError(t, err)
		require.Len(t, got, len(refs))
		for i, k := range got {
			require.Equal(t, refs[i], k.Ref)
			switch {
			case k.Ref.Subject == "subject-0500":
				require.Equal(t, pii.KeyShredded, k.State)
			case want[k.Ref] != nil:
				require.Equal(t, pii.KeyActive, k.State, "%v", k.Ref)
				require.Equal(t, want[k.Ref], k.Wrapped.Ciphertext)
			default:
				require.Equal(t, pii.KeyMissing, k.State, "%v", k.Ref)
			}
		}
		got[0].Wrapped.Ciphertext[0] ^= 1
		require.Equal(t, want[refs[0]], got[2500].Wrapped.Ciphertext, "duplicates own their bytes")
	})
}

// TestReplaceKeyWithItself replaces a key with the same bytes: a rotation
// rerun after a crash. MySQL reports no changed row for it, which must
// not read as a stale key.
func TestReplaceKeyWithItself(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, _, _ := openKeyStore(t, b)
		r, k := ref("same", "default"), wrapped()
		_, err := s.CreateKey(ctx, r, k, t0)
		require.NoError(t, err)
		require.NoError(t, s.ReplaceKey(ctx, r, k, k))
		require.ErrorIs(t, s.ReplaceKey(ctx, r, wrapped(), wrapped()), pii.ErrKeyChanged)
		got, err := s.GetKeys(ctx, []pii.KeyRef{r})
		require.NoError(t, err)
		require.Equal(t, k.Ciphertext, got[0].Wrapped.Ciphertext)
	})
}
