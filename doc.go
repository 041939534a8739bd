// Package personaldata is the shared vocabulary of a library that lets a Go
// application keep, in code, the promises its privacy statement makes.
//
// The library is a set of packages, each built around one concrete type that
// is safe for concurrent use and reaches the host's own storage through a
// small interface:
//
//   - [github.com/personaldata/personaldata/pii]: struct tags that mark
//     personal data, envelope encryption with one data key per subject and
//     scope, crypto-shredding ("forget this person everywhere, backups
//     included"), blind indexes, pseudonyms and redaction for logs.
//   - [github.com/personaldata/personaldata/consent]: an append-only,
//     hash-chained consent ledger that answers "may we, at time T, and why".
//   - [github.com/personaldata/personaldata/retention]: retention policies
//     that decide keep, delete or anonymise, explain why, and a safe sweep.
//
// Every package speaks the vocabulary defined here: who the data is about
// ([SubjectID]), what kind of data it is ([Category]), which data key
// protects it ([Scope]) and on what ground it is processed ([LegalBasis]).
//
// # Errors
//
// Each package declares one block of sentinel errors, prefixed with the
// package name and checked with [errors.Is]. No error, String method or log
// line of this library contains personal data or key material.
//
// # Concurrency
//
// The types in this package are plain values and safe to share.
package personaldata
