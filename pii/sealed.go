package pii

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"

	"github.com/personaldata/personaldata/pii/internal/envelope"
)

type sealState uint8

const (
	stateEmpty  sealState = iota // never set: the zero Sealed, or read from null
	statePlain                   // set, in the clear
	stateSealed                  // encrypted
	stateErased                  // its key was shredded
)

// sealedCore is the part of a Sealed that does not depend on T.
type sealedCore struct {
	state sealState
	env   []byte // binary envelope while sealed
}

// sealedValue is implemented by *Sealed[T] for every T.
type sealedValue interface {
	core() *sealedCore
	marshalPlain() ([]byte, error)
	unmarshalPlain([]byte) error
	zeroPlain()
	isEmpty() bool
}

// Sealed holds a value of any type that is encrypted as a whole: a birth
// date (Sealed[time.Time]), an amount (Sealed[int64]), a nested document
// (Sealed[Address]). Tag it like a string field:
//
//	Birthdate pii.Sealed[time.Time] `pii:"birthdate"`
//
// Protect encodes the value with encoding/json and seals it; Reveal opens it
// again. A Sealed that was set (by [Plain], [Sealed.Set] or Reveal) is
// sealed whatever its value, the zero value of T included: a false, a 0 or
// an empty time is encrypted like any other, so a stored row does not
// show which values are zero. Only a Sealed that was never set (its zero
// value, or one read from JSON null or SQL NULL) is left alone and written
// out as null; [Sealed.IsEmpty] tells it apart from a set zero value.
//
// A Sealed is in one of four states: empty (never set; Get returns the zero
// value), plain (readable with Get), sealed (Get returns ErrSealed) or
// erased (Get returns ErrErased, its key was shredded).
//
// A Sealed never prints or logs its content: String, Format and LogValue
// give a redacted placeholder. It writes itself to JSON and database/sql as
// its ciphertext, and refuses to do either while plain, so a value that was
// not protected cannot reach storage by accident.
//
// A Sealed is a value like any other: it is not safe for concurrent use
// while Protect or Reveal changes it.
type Sealed[T any] struct {
	c sealedCore
	v T
}

// Plain returns a Sealed holding v in the clear, ready to be protected.
func Plain[T any](v T) Sealed[T] { return Sealed[T]{c: sealedCore{state: statePlain}, v: v} }

// Get returns the value. It fails with ErrSealed while the value is sealed
// and ErrErased once its key has been shredded.
func (s Sealed[T]) Get() (T, error) {
	switch s.c.state {
	case stateSealed:
		var zero T
		return zero, ErrSealed
	case stateErased:
		var zero T
		return zero, ErrErased
	}
	return s.v, nil
}

// Set replaces the value with v in the clear.
func (s *Sealed[T]) Set(v T) { s.v, s.c = v, sealedCore{state: statePlain} }

// IsEmpty reports whether the value was never set: the zero Sealed, or one
// read from JSON null or SQL NULL. Protect leaves it as it is. A Sealed set
// to the zero value of T is not empty.
func (s Sealed[T]) IsEmpty() bool { return s.c.state == stateEmpty }

// IsSealed reports whether the value is encrypted.
func (s Sealed[T]) IsSealed() bool { return s.c.state == stateSealed }

// IsErased reports whether Reveal found the value's key shredded.
func (s Sealed[T]) IsErased() bool { return s.c.state == stateErased }

func (s *Sealed[T]) core() *sealedCore { return &s.c }

// marshalPlain encodes the value. Its error names the type only: the
// encoder's messages may quote the value.
func (s *Sealed[T]) marshalPlain() ([]byte, error) {
	b, err := json.Marshal(s.v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s does not encode as JSON (%T)", ErrUnsupported, reflect.TypeFor[Sealed[T]](), err)
	}
	return b, nil
}

// unmarshalPlain decodes a revealed value. Its error names the type only:
// the decoder's messages may quote the plaintext.
func (s *Sealed[T]) unmarshalPlain(b []byte) error {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%w: the plaintext does not decode as %s (%T)", ErrMalformed, reflect.TypeFor[T](), err)
	}
	s.v = v
	return nil
}

func (s *Sealed[T]) isEmpty() bool { return s.c.state == stateEmpty }

func (s *Sealed[T]) zeroPlain() {
	var zero T
	s.v = zero
}

// errPlainToStorage is returned when a plain Sealed is written out.
var errPlainToStorage = errors.New("pii: refusing to write an unprotected Sealed value; call Protect first")

// MarshalJSON writes the ciphertext as a string in the text envelope form, or
// null once erased or while empty. It fails while it holds a plain value,
// zero or not.
func (s Sealed[T]) MarshalJSON() ([]byte, error) {
	switch s.c.state {
	case stateEmpty, stateErased:
		return []byte("null"), nil
	case stateSealed:
		return json.Marshal(string(envelope.AppendText(nil, s.c.env)))
	}
	return nil, errPlainToStorage
}

// UnmarshalJSON reads what MarshalJSON wrote. null leaves an empty Sealed.
func (s *Sealed[T]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = Sealed[T]{}
		return nil
	}
	var text string
	if err := json.Unmarshal(b, &text); err != nil {
		return fmt.Errorf("%w: Sealed JSON must be a string", ErrMalformed)
	}
	return s.setText(text)
}

func (s *Sealed[T]) setText(text string) error {
	bin, err := envelope.DecodeText(nil, text)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return s.setBinary(bin)
}

func (s *Sealed[T]) setBinary(bin []byte) error {
	if _, err := envelope.Parse(bin); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	var zero T
	s.v, s.c = zero, sealedCore{state: stateSealed, env: bin}
	return nil
}

// Value implements [driver.Valuer]: the binary envelope, or NULL once erased
// or while empty. It fails while it holds a plain value, zero or not.
func (s Sealed[T]) Value() (driver.Value, error) {
	switch s.c.state {
	case stateEmpty, stateErased:
		return nil, nil
	case stateSealed:
		return append([]byte(nil), s.c.env...), nil
	}
	return nil, errPlainToStorage
}

// Scan implements [database/sql.Scanner] for what Value wrote (binary, or
// the text form from a text column). NULL leaves an empty Sealed.
func (s *Sealed[T]) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s = Sealed[T]{}
		return nil
	case []byte:
		if envelope.LooksText(string(v)) {
			return s.setText(string(v))
		}
		return s.setBinary(append([]byte(nil), v...))
	case string:
		return s.setText(v)
	}
	return fmt.Errorf("%w: cannot scan %T into a Sealed", ErrMalformed, src)
}

// String returns a placeholder, never the value.
func (s Sealed[T]) String() string {
	switch s.c.state {
	case stateSealed:
		return "[sealed]"
	case stateErased:
		return "[erased]"
	}
	return "[redacted]"
}

// Format prints String for every verb, %#v included.
func (s Sealed[T]) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue implements [slog.LogValuer] with the placeholder String returns.
func (s Sealed[T]) LogValue() slog.Value { return slog.StringValue(s.String()) }
