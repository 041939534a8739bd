// Package pii protects the personal data fields of Go values with one
// encryption key per person, so that a person can be forgotten everywhere at
// once by destroying their key (crypto-shredding): the database, its
// backups, log lines and exports made earlier all become unreadable for
// that person, while everyone else's data stays as it was.
//
// The host marks fields with struct tags, calls [Protector.Protect] before
// storing a value and [Protector.Reveal] after loading it, and
// [Protector.Forget] when the person asks to be erased:
//
//	type Customer struct {
//		ID         int64                   `pii:"subject"`
//		Email      string                  `pii:"email,index=EmailIndex,normalize=email"`
//		EmailIndex string                  // blind index, for look-ups
//		Name       string                  `pii:"name,redact=[erased]"`
//		Birthdate  pii.Sealed[time.Time]   `pii:"birthdate"`
//		IBAN       string                  `pii:"iban,scope=fiscal"`
//		Invoices   []Invoice               // followed: Invoice's fields belong to the customer
//		Plan       string                  // not personal data
//	}
//
// # Struct tags
//
// One key, pii, in encoding/json's grammar: a name, then options
// separated by commas.
//
//   - pii:"subject" marks the field that identifies the data subject (a
//     string or integer field). Every struct with personal data has one, or
//     is nested in a struct that has one and inherits its subject.
//   - pii:"<category>[,options]" marks personal data of that
//     [personaldata.Category] ("email", "name", "billing", ...). Category
//     and scope names are lower-case ASCII.
//   - pii:"-" ignores the field.
//
// Options of a category tag:
//
//   - scope=<scope>: the key scope (default [personaldata.DefaultScope]).
//     Data in a scope of its own can outlive the erasure of the rest, e.g.
//     invoices under scope=fiscal kept for tax law.
//   - redact=<text>: what a string field holds once erased (default the
//     empty string). The text cannot contain a comma.
//   - subject=<Field>: the field of the same struct that holds this
//     field's subject, for a record about two people (a message's sender
//     and recipient).
//   - index=<Field>: the untagged string field of the same struct that
//     receives a blind index of the plaintext on Protect ([Indexer]).
//   - normalize=email|phone|lower|none: how the value is normalised before
//     indexing (with index= only).
//
// Supported field types: string (and named string types), []byte, *string,
// *[]byte, []string (each element) and [Sealed][T] for any other type
// (time.Time, integers, nested structs: encoded with encoding/json and
// sealed as a whole). Untagged struct, pointer, slice, array and map fields
// that lead to tagged structs are followed.
//
// Parsing is strict and happens once per type: an unknown option ("redcat"),
// a duplicate option, a category one typo away from a well-known one
// ("emial"), a tag on a type that cannot hold ciphertext (an int), a
// subject= or index= naming no field, a pii.Sealed without a tag, or a
// struct with personal data but no subject is a [*TagError], returned by
// every call that meets the type. Use [Validate] in a unit test to check
// every model, and [Fields] to list them for a data inventory.
//
// # Cryptography
//
// Each (subject, scope) has one 256-bit data key (DEK), created on first use
// and stored only wrapped by a key-encryption key (KEK) behind a
// [KeyWrapper]. Fields are sealed with AES-256-GCM (random 96-bit nonce) by
// default, or XChaCha20-Poly1305 (random 192-bit nonce) with
// Options.Algorithm. Every ciphertext names its algorithm, so both open
// whatever a Protector is set to.
//
// The associated data binds each ciphertext to the envelope header, the
// subject, the scope and the category: a ciphertext copied into another
// subject's record, another scope or a field of another category fails to
// open with [ErrTampered].
//
// # Envelope format
//
// A binary envelope (for []byte fields, Sealed values and [Protector.Seal]):
//
//	offset  size  content
//	0       2     magic "pd" (0x70 0x64)
//	2       1     format version, 0x01
//	3       1     algorithm: 0x01 AES-256-GCM, 0x02 XChaCha20-Poly1305
//	4       N     nonce: N = 12 (AES-256-GCM) or 24 (XChaCha20-Poly1305)
//	4+N     L+16  AEAD ciphertext of the L-byte plaintext, then the 16-byte tag
//
// String fields hold the text form: the prefix "pd1:" followed by the
// binary envelope in unpadded base64url (RFC 4648 §5).
//
// The associated data is
//
//	header (bytes 0-3) || len(subject) || subject || len(scope) || scope || len(category) || category
//
// with each length in one byte and names in UTF-8; the scope is never
// empty ("default" when the tag names none). Wrapped DEKs from
// [LocalKeyWrapper] are nonce (12) || AES-256-GCM(DEK) under a KEK derived
// with HKDF-SHA256 (info "personaldata/pii local KEK v1") from the master
// key, with associated data "personaldata/dek/1" || len(subject) || subject
// || len(scope) || scope.
//
// # Keys and shredding
//
// A [KeyStore] keeps wrapped DEKs. Its contract: create-if-absent (many
// goroutines or processes encrypting for a new subject at once end up with
// exactly one key, and every ciphertext opens), durable before any
// ciphertext under the key is returned, and shredding deletes the key
// bytes and leaves a tombstone that never gets a new key. [MemoryKeyStore]
// is the in-memory implementation; package
// [github.com/personaldata/personaldata/pii/piitest] holds the
// conformance suite every implementation runs.
//
// Unwrapped keys are cached (Options.CacheSize, Options.CacheTTL).
// [Protector.Forget] evicts them from its own cache at once; another
// process that cached a key can decrypt with it until its TTL ends (5
// minutes by default). Rotate the KEK with [Rewrap]: it rewraps every DEK
// without touching the data.
//
// After Forget, Reveal fills the field with its replacement and reports
// [ErrErased] for it. That is distinct from [ErrKeyNotFound] (the store has
// no key and no tombstone), [ErrWrongKEK] (the key cannot be unwrapped) and
// [ErrTampered] (the ciphertext does not authenticate).
//
// Blind indexes survive shredding: the host must delete or overwrite them
// when it erases a subject; [Fields] reports where they are.
//
// # Errors
//
// Sentinels: [ErrErased], [ErrForgotten], [ErrKeyNotFound], [ErrWrongKEK],
// [ErrTampered], [ErrMalformed], [ErrNoSubject], [ErrUnsupported],
// [ErrSealed], [ErrKeyChanged], [ErrClosed], [ErrInvalidKey] and
// [ErrNoIndexKey]. [*TagError] reports a bad tag; [*FieldError] a failure
// on one field; [*OpError] lists the fields Reveal could not open. No
// error, String method or log value holds plaintext or key bytes. Use
// [Redact] to log values that carry personal data.
//
// # Concurrency
//
// [Protector], [MemoryKeyStore], [LocalKeyWrapper], [Indexer] and
// [Pseudonymizer] are safe for concurrent use. Protect and Reveal change
// the value they are given, which must not be used by other goroutines
// meanwhile.
package pii
