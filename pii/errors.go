package pii

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// Errors returned by this package. Implementations of [KeyStore] and
// [KeyWrapper] return (or wrap) the ones their contracts name. None of them
// carries personal data or key material.
var (
	// ErrErased reports a ciphertext whose data key was shredded: the data
	// it held is gone for good. Reveal fills such a field with its
	// replacement text and reports this error for it.
	ErrErased = errors.New("pii: data erased (its key was shredded)")
	// ErrForgotten reports an attempt to encrypt for a (subject, scope)
	// whose key was shredded. A forgotten scope never gets a new key.
	ErrForgotten = errors.New("pii: subject was forgotten in this scope; no new data can be encrypted for it")
	// ErrKeyNotFound reports a ciphertext whose (subject, scope) has no key
	// and no tombstone in the store: the store lost it, or the ciphertext
	// belongs to another store.
	ErrKeyNotFound = errors.New("pii: no key for this subject and scope")
	// ErrWrongKEK reports a wrapped data key that the configured key
	// wrappers cannot unwrap: an unknown KEK ID, or a KEK that fails to
	// authenticate it.
	ErrWrongKEK = errors.New("pii: key-encryption key cannot unwrap the data key")
	// ErrTampered reports a well-formed ciphertext that fails
	// authentication: it was altered, or copied from another subject,
	// scope or field category.
	ErrTampered = errors.New("pii: ciphertext failed authentication")
	// ErrMalformed reports bytes that are not a ciphertext of this package:
	// bad prefix, magic, version, algorithm or length.
	ErrMalformed = errors.New("pii: malformed ciphertext")
	// ErrNoSubject reports a value whose subject field is empty or invalid.
	ErrNoSubject = errors.New("pii: value has no valid subject")
	// ErrUnsupported reports a value Protect or Reveal cannot work on: not
	// a pointer to a struct, a slice of structs or a map of structs.
	ErrUnsupported = errors.New("pii: unsupported value")
	// ErrSealed reports reading a [Sealed] value that has not been revealed.
	ErrSealed = errors.New("pii: value is sealed; reveal it first")
	// ErrKeyChanged is returned by KeyStore.ReplaceKey when the stored key
	// differs from the one the caller expected (a concurrent rewrap).
	ErrKeyChanged = errors.New("pii: stored key changed concurrently")
	// ErrClosed reports a call on a closed Protector.
	ErrClosed = errors.New("pii: protector is closed")
	// ErrInvalidKey reports key material of the wrong length.
	ErrInvalidKey = errors.New("pii: invalid key material")
	// ErrNoScope reports a call that must name at least one scope and
	// names none: [Protector.ForgetScopes], KeyStore.ShredKeys.
	ErrNoScope = errors.New("pii: no scope given")
	// ErrNoIndexKey reports a blind index tag on a Protector configured
	// without Options.IndexKey.
	ErrNoIndexKey = errors.New("pii: blind index needs Options.IndexKey")
)

// TagError reports a struct tag or field type that this package rejects. It
// is returned the first time a type is seen, by [Validate], [Fields],
// [Protector.Protect], [Protector.Reveal] and [Redact], and cached with the
// type so every later use fails the same way.
type TagError struct {
	Type  reflect.Type // the struct type holding the field
	Field string       // the field's name
	Tag   string       // the pii tag as written
	Err   error        // what is wrong
}

func (e *TagError) Error() string {
	var b strings.Builder
	b.WriteString("pii: ")
	if e.Type != nil {
		b.WriteString(e.Type.String())
		if e.Field != "" {
			b.WriteString(".")
		}
	}
	b.WriteString(e.Field)
	if e.Tag != "" {
		fmt.Fprintf(&b, " (pii:%s)", quote.String(e.Tag))
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *TagError) Unwrap() error { return e.Err }

// FieldError reports a failure on one field of one value. Path locates the
// field ("Contacts[3].Email"); Subject, Scope and Category identify the key
// and binding. It never holds the field's content.
type FieldError struct {
	Path     string
	Subject  personaldata.SubjectID
	Scope    personaldata.Scope
	Category personaldata.Category
	Err      error
}

func (e *FieldError) Error() string {
	if e.Subject == "" && e.Scope == "" && e.Category == "" {
		// A value reached through an interface that could not be walked.
		return fmt.Sprintf("pii: value at %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("pii: field %s (subject %s, scope %s, category %s): %v", e.Path, quote.String(string(e.Subject)), quote.String(string(e.Scope)), e.Category, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// OpError is the error of [Protector.Protect] and [Protector.Reveal]: one
// [*FieldError] per field that failed, and the cause that stopped the walk
// early, if any.
//
// On Protect, the fields listed keep their plaintext. On Reveal, erased
// fields hold their replacement and fields that failed for any other
// reason keep their ciphertext, so nothing is lost. errors.Is(err,
// ErrErased) tells whether any field was erased; [OpError.OnlyErased]
// whether erasure is all that went wrong.
//
// When the context is cancelled, the walk stops between two elements of
// the value (never inside one): Stopped holds the context's error, and Done
// counts the top-level elements walked (the elements of a slice, array or
// map given to Protect or Reveal; 1 for a pointer to one struct). For a
// slice or array, elements [0, Done) were walked, each field of them
// protected (or revealed) unless listed in Fields, and the elements from
// Done on were not touched. For a map, which entries were walked is not
// known; calling Protect again protects the rest (Protect is idempotent).
type OpError struct {
	Op      string // "protect" or "reveal"
	Fields  []*FieldError
	Stopped error // the context's error if the walk stopped early, else nil
	Done    int   // top-level elements walked; meaningful when Stopped is set
}

func (e *OpError) Error() string {
	var b strings.Builder
	b.WriteString("pii: ")
	b.WriteString(e.Op)
	if e.Stopped != nil {
		fmt.Fprintf(&b, " stopped after %d elements: %v", e.Done, e.Stopped)
		if len(e.Fields) == 0 {
			return b.String()
		}
		b.WriteString("; ")
	} else {
		b.WriteString(": ")
	}
	if len(e.Fields) == 1 {
		b.WriteString(e.Fields[0].Error())
		return b.String()
	}
	counts := map[error]int{}
	var order []error
	for _, f := range e.Fields {
		k := rootCause(f.Err)
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d× %v", counts[k], k))
	}
	fmt.Fprintf(&b, "%d fields failed (%s); first: %s", len(e.Fields), strings.Join(parts, ", "), e.Fields[0].Path)
	return b.String()
}

// Unwrap returns the field errors, and the cause that stopped the walk, so
// errors.Is and errors.As see each.
func (e *OpError) Unwrap() []error {
	errs := make([]error, 0, len(e.Fields)+1)
	for _, f := range e.Fields {
		errs = append(errs, f)
	}
	if e.Stopped != nil {
		errs = append(errs, e.Stopped)
	}
	return errs
}

// OnlyErased reports whether every field failed because it was erased and
// the walk was not stopped early.
func (e *OpError) OnlyErased() bool {
	if e.Stopped != nil || len(e.Fields) == 0 {
		return false
	}
	for _, f := range e.Fields {
		if !errors.Is(f.Err, ErrErased) {
			return false
		}
	}
	return true
}

func rootCause(err error) error {
	for _, s := range []error{ErrErased, ErrTampered, ErrMalformed, ErrKeyNotFound, ErrWrongKEK, ErrForgotten, ErrNoSubject, ErrUnsupported} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}
