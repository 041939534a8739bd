// Package consenttest is the conformance suite of [consent.Store]: every
// implementation runs [RunConformanceTests] from its own tests.
//
//	func TestConformance(t *testing.T) {
//		consenttest.RunConformanceTests(t, func(t *testing.T) consent.Store {
//			return newMyStore(t) // empty, cleaned up with t.Cleanup
//		})
//	}
//
// # Subtests and parallelism
//
// Subtests are named Method/Behaviour, such as Append/StaleHeadConflicts,
// so that one can be run with -run. The suite calls newStore once per
// subtest and runs the subtests one after another, never in parallel: an
// SQL implementation may run the whole suite against one database by
// emptying its tables (or using a fresh table prefix) in newStore.
// Concurrency cases use goroutines on one store inside one subtest, such as
// eight Ledgers recording for one subject at once; run the suite with
// -race.
//
// The suite uses only the standard testing package and go-cmp, and checks
// errors with errors.Is against the consent sentinels.
package consenttest
