package piitest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The suite's own checks, on the standard testing package and go-cmp only,
// so that a host running the suite inherits no assertion library. Each
// takes an optional message (a format string and its arguments) and stops
// the subtest on failure.

func message(args []any) string {
	if len(args) == 0 {
		return ""
	}
	if f, ok := args[0].(string); ok {
		return ": " + fmt.Sprintf(f, args[1:]...)
	}
	return ": " + fmt.Sprint(args...)
}

// exportAll lets cmp compare the unexported fields of test values.
var exportAll = cmp.Exporter(func(reflect.Type) bool { return true })

func noError(t testing.TB, err error, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v%s", err, message(args))
	}
}

func equal(t testing.TB, want, got any, args ...any) {
	t.Helper()
	if diff := cmp.Diff(want, got, exportAll); diff != "" {
		t.Fatalf("mismatch (-want +got)%s:\n%s", message(args), diff)
	}
}

func notEqual(t testing.TB, a, b any, args ...any) {
	t.Helper()
	if cmp.Equal(a, b, exportAll) {
		t.Fatalf("values are equal, want different%s", message(args))
	}
}

func errorIs(t testing.TB, err, target error, args ...any) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want one wrapping %v%s", err, target, message(args))
	}
}

func errorAs(t testing.TB, err error, target any, args ...any) {
	t.Helper()
	if !errors.As(err, target) {
		t.Fatalf("error %v, want a %s%s", err, reflect.TypeOf(target).Elem(), message(args))
	}
}

func isTrue(t testing.TB, ok bool, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf("condition false%s", message(args))
	}
}

func isFalse(t testing.TB, ok bool, args ...any) {
	t.Helper()
	if ok {
		t.Fatalf("condition true%s", message(args))
	}
}

func length(v any) int {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String, reflect.Chan:
		return rv.Len()
	}
	return -1
}

func hasLen(t testing.TB, v any, n int, args ...any) {
	t.Helper()
	if got := length(v); got != n {
		t.Fatalf("length %d, want %d%s", got, n, message(args))
	}
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	if n := length(v); n >= 0 {
		return n == 0
	}
	return reflect.ValueOf(v).IsZero()
}

func empty(t testing.TB, v any, args ...any) {
	t.Helper()
	if !isEmpty(v) {
		t.Fatalf("not empty (%d)%s", length(v), message(args))
	}
}

func notEmpty(t testing.TB, v any, args ...any) {
	t.Helper()
	if isEmpty(v) {
		t.Fatalf("empty%s", message(args))
	}
}

// contains reports whether container (a map, slice or string) holds elem:
// a key of a map, an element of a slice, a substring of a string.
func contains(t testing.TB, container, elem any, args ...any) {
	t.Helper()
	cv := reflect.ValueOf(container)
	found := false
	switch cv.Kind() {
	case reflect.Map:
		found = cv.MapIndex(reflect.ValueOf(elem)).IsValid()
	case reflect.Slice, reflect.Array:
		for i := range cv.Len() {
			if cmp.Equal(cv.Index(i).Interface(), elem, exportAll) {
				found = true
				break
			}
		}
	case reflect.String:
		found = strings.Contains(cv.String(), fmt.Sprint(elem))
	}
	if !found {
		t.Fatalf("%v not found%s", elem, message(args))
	}
}

func withinDuration(t testing.TB, want, got time.Time, d time.Duration, args ...any) {
	t.Helper()
	if dt := got.Sub(want); dt < -d || dt > d {
		t.Fatalf("time %v, want within %v of %v%s", got, d, want, message(args))
	}
}

// expect reports a failure without stopping the test, for goroutines other
// than the test's own, and returns ok.
func expect(t testing.TB, ok bool, format string, args ...any) bool {
	t.Helper()
	if !ok {
		t.Errorf(format, args...)
	}
	return ok
}
