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
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/personaldata/personaldata/internal/envelope"
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
			if errors.Is(f.Err, pii.ErrErased) {
				if want[f.Path] > 0 {
					want[f.Path]--
				}
				continue
			}
			problems = append(problems, fmt.Sprintf("%s: %v", f.Path, f.Err))
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
