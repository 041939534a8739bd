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
	statePlain sealState = iota
	stateSealed
	stateErased
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
	isZero() bool
}

// Sealed holds a value of any type that is encrypted as a whole: a birth
// date (Sealed[time.Time]), an amount (Sealed[int64]), a nested document
// (Sealed[Address]). Tag it like a string field:
//
//	Birthdate pii.Sealed[time.Time] `pii:"birthdate"`
//
// Protect encodes the value with encoding/json and seals it; Reveal opens it
// again. Like an empty string, a Sealed holding the zero value of T is
// left alone: it stays plain and is written out as null. A Sealed is in one of three states: plain (readable with Get),
// sealed (Get returns ErrSealed) or erased (Get returns ErrErased, its key
// was shredded).
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
func Plain[T any](v T) Sealed[T] { return Sealed[T]{v: v} }

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
func (s *Sealed[T]) Set(v T) { s.v, s.c = v, sealedCore{} }

// IsSealed reports whether the value is encrypted.
func (s Sealed[T]) IsSealed() bool { return s.c.state == stateSealed }

// IsErased reports whether Reveal found the value's key shredded.
func (s Sealed[T]) IsErased() bool { return s.c.state == stateErased }

func (s *Sealed[T]) core() *sealedCore { return &s.c }

func (s *Sealed[T]) marshalPlain() ([]byte, error) { return json.Marshal(s.v) }

func (s *Sealed[T]) unmarshalPlain(b []byte) error {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.v = v
	return nil
}

func (s *Sealed[T]) isZero() bool {
	return s.c.state == statePlain && reflect.ValueOf(&s.v).Elem().IsZero()
}

func (s *Sealed[T]) zeroPlain() {
	var zero T
	s.v = zero
}

// errPlainToStorage is returned when a plain Sealed is written out.
var errPlainToStorage = errors.New("pii: refusing to write an unprotected Sealed value; call Protect first")

// MarshalJSON writes the ciphertext as a string in the text envelope form, or
// null once erased or while it holds the zero value. It fails while it holds
// any other plain value.
func (s Sealed[T]) MarshalJSON() ([]byte, error) {
	if s.isZero() {
		return []byte("null"), nil
	}
	switch s.c.state {
	case stateSealed:
		return json.Marshal(string(envelope.AppendText(nil, s.c.env)))
	case stateErased:
		return []byte("null"), nil
	}
	return nil, errPlainToStorage
}

// UnmarshalJSON reads what MarshalJSON wrote. null leaves a plain zero value.
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
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return s.setBinary(bin)
}

func (s *Sealed[T]) setBinary(bin []byte) error {
	if _, err := envelope.Parse(bin); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var zero T
	s.v, s.c = zero, sealedCore{state: stateSealed, env: bin}
	return nil
}

// Value implements [driver.Valuer]: the binary envelope, or NULL once erased
// or while it holds the zero value. It fails while it holds any other plain
// value.
func (s Sealed[T]) Value() (driver.Value, error) {
	if s.isZero() {
		return nil, nil
	}
	switch s.c.state {
	case stateSealed:
		return append([]byte(nil), s.c.env...), nil
	case stateErased:
		return nil, nil
	}
	return nil, errPlainToStorage
}

// Scan implements [database/sql.Scanner] for what Value wrote (binary, or
// the text form from a text column). NULL leaves a plain zero value.
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
