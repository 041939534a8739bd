package pii_test

import (
	"context"
	"errors"
	"testing"
	"unsafe"

	"github.com/personaldata/personaldata/internal/revealhook"
	"github.com/personaldata/personaldata/pii"
)

// TestRevealInto checks the reveal package export uses for records it
// copies: the same result as Reveal, strings in the memory given, which
// is replaced once full without moving strings already revealed, and
// erased fields reported as Reveal reports them.
func TestRevealInto(t *testing.T) {
	ctx := context.Background()
	p, _ := newProtector(t, nil)
	recs := make([]benchRecord, 100)
	for i := range recs {
		recs[i] = benchPlain
		recs[i].ID = "customer-" + string(rune('a'+i%26)) + "x"
	}
	if err := p.Protect(ctx, recs); err != nil {
		t.Fatal(err)
	}
	want := append([]benchRecord(nil), recs...)
	if err := p.Reveal(ctx, want); err != nil {
		t.Fatal(err)
	}
	got := append([]benchRecord(nil), recs...)
	arena := make([]byte, 0, 64)
	first := unsafe.SliceData(arena)
	if err := revealhook.Into(p, ctx, got, &arena); err != nil {
		t.Fatal(err)
	}
	if len(arena) == 0 || cap(arena) < 100*4*15 {
		t.Fatalf("arena of length %d, capacity %d after revealing 400 strings", len(arena), cap(arena))
	}
	if unsafe.StringData(got[0].Email) != first {
		t.Error("the first string was not revealed into the memory given")
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d revealed as %+v, want %+v", i, got[i], want[i])
		}
	}
	last := &got[len(got)-1]
	if s := unsafe.StringData(last.Address); uintptr(unsafe.Pointer(s)) < uintptr(unsafe.Pointer(unsafe.SliceData(arena))) ||
		uintptr(unsafe.Pointer(s)) >= uintptr(unsafe.Pointer(unsafe.SliceData(arena)))+uintptr(len(arena)) {
		t.Error("the last string is not in the arena's current memory")
	}

	// Erased fields: the same error as Reveal, naming the fields.
	if err := p.ForgetSubject(ctx, "customer-ax"); err != nil {
		t.Fatal(err)
	}
	a := append([]benchRecord(nil), recs[:2]...)
	b := append([]benchRecord(nil), recs[:2]...)
	errA := p.Reveal(ctx, a)
	errB := revealhook.Into(p, ctx, b, &arena)
	if !errors.Is(errA, pii.ErrErased) || errB == nil || errA.Error() != errB.Error() {
		t.Fatalf("errors %v and %v, want the same ErrErased", errA, errB)
	}
	if a[0] != b[0] || a[1] != b[1] {
		t.Fatalf("records %+v, want %+v", b, a)
	}
}
