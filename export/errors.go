package export

import "errors"

// Errors returned by this package. They are wrapped with an operation prefix
// and detail without personal data; check them with [errors.Is].
var (
	// ErrUnknownCategory reports a category that is not registered.
	ErrUnknownCategory = errors.New("export: unknown category")
	// ErrInvalidCategory reports a category whose metadata is incomplete
	// or whose name is not a safe path segment, or a second registration
	// of a name.
	ErrInvalidCategory = errors.New("export: invalid category")
	// ErrSource reports a source that returned an error or panicked. The
	// export fails; its bytes must be discarded.
	ErrSource = errors.New("export: source failed")
	// ErrRecordType reports a record that is not a struct, a pointer to a
	// struct or a map with string keys, or whose type differs from the
	// category's earlier records.
	ErrRecordType = errors.New("export: unsupported record type")
	// ErrSourceChanged reports a source that yielded different records
	// when it was read again for another view of the same package.
	ErrSourceChanged = errors.New("export: source yielded different records on a second read")
	// ErrReveal reports a personal data field that could not be revealed
	// for a reason other than erasure (a missing key, a wrong KEK,
	// tampering). Erased fields do not fail an export: they are marked.
	ErrReveal = errors.New("export: personal data could not be revealed")
	// ErrNoRevealer reports a record type with pii-tagged fields on an
	// Exporter without [Options.Revealer]: its ciphertext would be exported.
	ErrNoRevealer = errors.New("export: record has personal data fields but no revealer is configured")
	// ErrInvalidRequest reports a request without a valid subject, or an
	// unknown kind.
	ErrInvalidRequest = errors.New("export: invalid request")
	// ErrClosed is returned by every method of a closed Exporter.
	ErrClosed = errors.New("export: exporter closed")
)
