// Package personaldata is the shared vocabulary of a library that lets a Go
// application keep, in code, the promises its privacy statement makes.
//
// The library is a set of packages, each built around one concrete type that
// is safe for concurrent use and reaches the host's own storage through a
// small interface, with an in-memory implementation beside it:
//
//   - [github.com/personaldata/personaldata/pii]: struct tags that mark
//     personal data, envelope encryption with one data key per subject and
//     scope, crypto-shredding ("forget this person everywhere, backups
//     included"), blind indexes, pseudonyms and redaction for logs.
//     Type: pii.Protector over a pii.KeyStore.
//   - [github.com/personaldata/personaldata/consent]: an append-only,
//     hash-chained consent ledger that answers "may we, at time T, and why",
//     with signed checkpoints. Type: consent.Ledger over a consent.Store.
//   - [github.com/personaldata/personaldata/retention]: retention policies
//     that decide keep, delete or anonymise, explain why, honour legal holds,
//     and a resumable sweep. Type: retention.Evaluator over a
//     retention.HoldStore.
//   - [github.com/personaldata/personaldata/export]: a person's copy of their
//     data (access and portability), streamed into a zip with a manifest,
//     JSON, CSV and a page to read. Type: export.Exporter over export.Source.
//   - [github.com/personaldata/personaldata/erasure]: data-subject requests
//     with legal deadlines, erasure planned before it acts, signed receipts, a
//     suppression list and a restore guard. Type: erasure.Service over
//     erasure.Stores.
//   - [github.com/personaldata/personaldata/sqlstore]: the storage
//     interfaces above on database/sql, for SQLite, PostgreSQL and
//     MySQL/MariaDB.
//   - [github.com/personaldata/personaldata/consenthttp]: the consent ledger
//     on the web: one-click unsubscribe links (RFC 8058), a preference centre
//     and the browser privacy signal.
//
// Each storage interface has an exported conformance suite in a package
// named after it (pii/piitest, consent/consenttest, retention/retentiontest,
// erasure/erasuretest) that the in-memory stores, the SQL stores and any
// host implementation run.
//
// # Floors
//
// The packages are layered, and a package imports only from the floors
// below it:
//
//  1. this package: the vocabulary every other package speaks;
//  2. pii, consent and retention: siblings that never import each other. A
//     need across them goes through a small interface owned by the package
//     that needs it: consent seals the personal data in its events through
//     consent.Sealer, which a *pii.Protector implements;
//  3. export and erasure, which compose the three (erasure reaches pii
//     through erasure.KeyShredder, retention through
//     erasure.RetentionDecider and consent through erasure.ConsentRecorder);
//  4. beside them, sqlstore, which implements the storage interfaces of the
//     floors below, and consenthttp, which serves a consent.Ledger.
//
// Wire formats, tag parsing and other code that hosts never call live in an
// internal package under the package that owns it (pii/internal/...); the
// module's own internal packages hold what several packages share.
//
// Every package speaks the vocabulary defined here: who the data is about
// ([SubjectID]), what kind of data it is ([Category]), which data key
// protects it ([Scope]) and on what ground it is processed ([LegalBasis]).
//
// # Errors
//
// Each package declares one block of sentinel errors, prefixed with the
// package name and checked with [errors.Is]. No error, String method or log
// line of this library contains personal data or key material, and input
// echoed in an error is quoted and cut to 64 bytes.
//
// # Concurrency
//
// The types in this package are plain values and safe to share.
package personaldata
