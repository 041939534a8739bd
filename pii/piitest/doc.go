// Package piitest holds the conformance suite that every implementation of
// [pii.KeyStore] runs, and assertions for a host's own tests of code that
// stores personal data.
//
// # Conformance suite
//
// A key store (the in-memory one, an SQL dialect, a store on a KMS) calls
// [RunConformanceTests] from one of its tests, with a function that returns
// a fresh, empty store and registers its cleanup with t.Cleanup:
//
//	func TestKeyStoreConformance(t *testing.T) {
//		piitest.RunConformanceTests(t, func(t *testing.T) pii.KeyStore {
//			db := openTestDB(t) // an empty schema of its own, dropped by t.Cleanup
//			return sqlstore.NewKeyStore(db)
//		})
//	}
//
// The suite runs one subtest per clause of the KeyStore contract, each on a
// store of its own: look-ups, create-if-absent, tombstones, shredding one
// subject without touching another, compare-and-swap replacement, copies of
// key bytes, subject IDs a database might mangle (case, trailing spaces,
// LIKE wildcards, 255-byte UTF-8), context cancellation, concurrent use
// (run it with go test -race) and an end-to-end run of a [pii.Protector]
// over the store.
//
// Subtests are named Method/Behaviour (CreateKey/IfAbsent,
// ShredSubject/ScopesNeverUsed), so one can be run alone with go test
// -run.
//
// # Parallelism
//
// The suite calls newStore once per subtest and runs the subtests one after
// another, never in parallel, so an SQL implementation may run the whole
// suite against one database by emptying its tables (or using a fresh table
// prefix) in newStore. Concurrency cases use many goroutines on one store
// inside one subtest, and must pass under go test -race.
//
// The suite checks with the standard testing package and go-cmp only: a host
// running it inherits no assertion library.
//
// # Assertions
//
// [AssertProtected] checks that a value is encrypted before it is written
// out; [AssertErased] checks that a subject's data is gone after
// [pii.Protector.ForgetSubject] or [pii.Protector.ForgetScopes]. Both report
// field paths, never field contents. They follow interface values (a field
// of type any, a []any) by the dynamic type of what they hold when called,
// as Protect does: what a type may hold through an interface cannot be
// known from the type alone, so only the value given is checked.
package piitest
