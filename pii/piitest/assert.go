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

	"github.com/personaldata/personaldata/pii"
	"github.com/personaldata/personaldata/pii/internal/envelope"
)

// AssertProtected reports a test failure unless every non-empty personal
// data field reachable from v (a struct, or a pointer, slice, array or map
// leading to structs) holds a ciphertext: string fields a text envelope
// ("pd1:..."), []byte fields a binary envelope, [pii.Sealed] fields a sealed
// (or erased) value. Empty strings, empty byte slices and nil pointers count
// as protected, as [pii.Protector.Protect] leaves them as they are. A type
// with invalid pii tags, or with no personal data fields at all, fails too.
//
// Interface values are followed by the dynamic type of what they hold now; a
// pii.Sealed held in an interface (which Protect cannot seal, having no tag)
// counts as plaintext.
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
	n := 0
	walk(v, func(path string, f reflect.Value) { n++; plaintextPaths(f, path, &bad) })
	if n == 0 {
		// Only interfaces could have held personal data, and none did.
		t.Errorf("piitest: AssertProtected: %T holds no personal data field", v)
		return
	}
	if len(bad) > 0 {
		t.Errorf("piitest: %d personal data field(s) of %T hold no ciphertext: %s", len(bad), v, strings.Join(bad, ", "))
	}
}

// AssertErased reveals v in place with p and reports a test failure unless
// every personal data field of v that held a ciphertext was reported erased:
// Reveal must return a [*pii.OpError] whose [pii.OpError.OnlyErased]
// is true and which names each of those fields. Call it after
// [pii.Protector.ForgetSubject] or [pii.Protector.ForgetScopes] on a value
// loaded from storage (or a copy of one protected earlier). A value holding
// no ciphertext fails, as it proves nothing.
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
	var re *pii.OpError
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
