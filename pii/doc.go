// Package pii protects the personal data fields of Go values with one
// encryption key per person, so that a person can be forgotten everywhere at
// once by destroying their key (crypto-shredding): the database, its
// backups, log lines and exports made earlier all become unreadable for
// that person, while everyone else's data stays as it was.
//
// The host marks fields with struct tags, calls [Protector.Protect] before
// storing a value and [Protector.Reveal] after loading it, and
// [Protector.ForgetSubject] when the person asks to be erased (or
// [Protector.ForgetScopes] to erase some scopes and keep others, such as
// invoices a tax law says to keep):
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
//     is nested in a struct that has one and inherits its subject. An empty
//     string and an integer left at 0 are no subject: their fields fail with
//     [ErrNoSubject] (an unsaved record never shares the key of subject
//     "0").
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
//     receives a blind index of the plaintext on Protect ([Indexer]). Look a
//     value up with [Protector.BlindIndex], which reads the category and
//     normaliser from this same tag.
//   - normalize=email|phone|lower|none: how the value is normalised before
//     indexing (with index= only).
//
// Supported field types: string (and named string types), []byte, *string,
// *[]byte, []string (each element) and [Sealed][T] for any other type
// (time.Time, integers, nested structs: encoded with encoding/json and
// sealed as a whole). Untagged struct, pointer, slice, array and map fields
// that lead to tagged structs are followed.
//
// Untagged interface fields (any, map[string]any, []any, and interface
// values given to Protect directly) are followed too, by the dynamic type of
// what they hold when Protect or Reveal runs, with the same cycle
// protection; a struct reached so inherits the enclosing subject like any
// nested struct. The tags of a dynamic type are checked when it is first
// met: invalid tags, or a [Sealed] held directly in an interface (it has no
// tag naming its category), fail at that path instead of leaving plaintext.
// Validate cannot check what an interface will hold; [Fields] lists such
// fields as Dynamic.
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
// bytes and leaves a tombstone that never gets a new key: per scope
// (ShredKeys) or for the whole subject (ShredSubject), in which case no
// scope of that subject, even one never used, gets a key again.
// [MemoryKeyStore] is the in-memory implementation; package
// [github.com/personaldata/personaldata/pii/piitest] holds the
// conformance suite every implementation runs.
//
// Forgetting takes one of two explicit calls, and neither has a default
// that destroys more than it names:
//
//   - [Protector.ForgetScopes](ctx, subject, scopes...) shreds the named
//     scopes (at least one) and keeps the others: forget scope "default"
//     and invoices under scope "fiscal" stay readable for the tax law.
//   - [Protector.ForgetSubject](ctx, subject) shreds every scope, fiscal
//     included, and leaves a subject-level tombstone, so that a scope first
//     used afterwards never gets a key either.
//
// Each is one key-store call, and its cost does not depend on how many
// keys are cached. A Protect running at the same time as ForgetSubject may
// have loaded the key before the tombstone and write ciphertexts under it
// after ForgetSubject returns: they reveal as erased, since the key is gone;
// no key is created after the tombstone, so nothing readable can appear
// later.
//
// Unwrapped keys are cached (Options.CacheSize, Options.CacheTTL).
// ForgetScopes and ForgetSubject evict them from the Protector's own cache
// at once. Another process that cached a key before the shredding can still
// decrypt with it until its entry expires: at most Options.CacheTTL after it
// loaded the key (5 minutes by default). Set a shorter CacheTTL, or
// disable the cache (a negative CacheSize), where that window matters.
// Rotate the KEK with [Protector.Rewrap]: it rewraps every DEK without
// touching the data.
//
// After a key is shredded, Reveal fills the field with its replacement and
// reports [ErrErased] for it. That is distinct from [ErrKeyNotFound] (the
// store has no key and no tombstone), [ErrWrongKEK] (the key cannot be
// unwrapped) and [ErrTampered] (the ciphertext does not authenticate).
//
// A [Sealed] that was set is sealed whatever its value, false and 0
// included, so stored rows do not show which values are zero. Only a
// Sealed never set (or read from null) stays empty; [Sealed.IsEmpty] tells
// the two apart.
//
// Blind indexes survive shredding: the host must delete or overwrite them
// when it erases a subject; [Fields] reports where they are.
//
// # Errors
//
// Sentinels: [ErrErased], [ErrForgotten], [ErrKeyNotFound], [ErrWrongKEK],
// [ErrTampered], [ErrMalformed], [ErrNoSubject], [ErrUnsupported],
// [ErrSealed], [ErrKeyChanged], [ErrClosed], [ErrInvalidKey], [ErrNoScope]
// and [ErrNoIndexKey]; check them with errors.Is. [*TagError] reports a bad
// tag; [*FieldError] a failure on one field (use errors.As); Protect and
// Reveal both fail with an [*OpError] listing the fields that failed, with
// Unwrap() []error, [OpError.OnlyErased], and how far a cancelled walk got.
// A nil required dependency is an error, never a panic ("pii: New: nil
// KeyStore").
//
// No error, String method or log value holds plaintext or key bytes: a
// Sealed value that does not encode or decode is reported by type, never by
// content. Echoed input (a subject ID, a KEK ID, a field name) is quoted and
// cut to 64 bytes. Use [Redact] to log values that carry personal data.
//
// # Concurrency
//
// [Protector], [MemoryKeyStore], [LocalKeyWrapper], [Indexer] and
// [Pseudonymizer] are safe for concurrent use. Protect and Reveal change
// the value they are given, which must not be used by other goroutines
// meanwhile.
package pii
